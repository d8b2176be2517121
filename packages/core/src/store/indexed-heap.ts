import { SlottedHeap } from './slotted-heap.js';

/** Where an entry sits in an {@link IndexedHeap}: a time, then a string to break ties. */
export interface HeapPriority {
  /** Primary order, usually epoch milliseconds. */
  readonly at: number;
  /** Secondary order among equal times, usually an id, so iteration order is deterministic. */
  readonly tie: string;
}

interface HeapEntry extends HeapPriority {
  readonly key: string;
  slot: number;
}

/** An entry not yet visited by an in-order walk, and its place in the heap's array. */
interface FrontierItem {
  readonly entry: HeapEntry;
  readonly index: number;
  slot: number;
}

/** Whether `a` comes before `b`. */
export function isLower(a: HeapPriority, b: HeapPriority): boolean {
  return a.at < b.at || (a.at === b.at && a.tie < b.tie);
}

const frontierOrder = (a: FrontierItem, b: FrontierItem): boolean => isLower(a.entry, b.entry);

/**
 * A binary min-heap of string keys that also knows where each key sits, so a key's priority can be
 * changed or the key removed in O(log n). The in-memory store keeps its "what is due next" indexes
 * in these, so finding due work never scans every job or run.
 */
export class IndexedHeap {
  readonly #heap = new SlottedHeap<HeapEntry>(isLower);
  /** Each key's entry, which knows its own slot: a move updates the entry, not this map. */
  readonly #byKey = new Map<string, HeapEntry>();

  /** Number of keys held. */
  get size(): number {
    return this.#heap.size;
  }

  /** Whether `key` is held. */
  has(key: string): boolean {
    return this.#byKey.has(key);
  }

  /** Inserts `key`, or moves it if present, to `priority`. */
  set(key: string, priority: HeapPriority): void {
    const entry: HeapEntry = { key, at: priority.at, tie: priority.tie, slot: -1 };
    const held = this.#byKey.get(key);
    this.#byKey.set(key, entry);
    if (held === undefined) this.#heap.push(entry);
    else this.#heap.replace(held, entry);
  }

  /** Removes `key`; false when it was not held. */
  delete(key: string): boolean {
    const entry = this.#byKey.get(key);
    if (entry === undefined) return false;
    this.#byKey.delete(key);
    this.#heap.remove(entry);
    return true;
  }

  /** The lowest entry, or undefined when empty. */
  peek(): (HeapPriority & { key: string }) | undefined {
    return this.#heap.peek();
  }

  /**
   * Up to `limit` lowest entries, in order, while `accept` holds (it must hold for a prefix of the
   * order, e.g. `at <= now`), leaving out the keys `keep` refuses (default: none). Visits
   * O(limit · log limit) entries, and the refused ones, and changes nothing.
   */
  lowest(limit: number, accept: (entry: HeapPriority) => boolean, keep?: (key: string) => boolean): string[] {
    const found: string[] = [];
    if (limit <= 0) return found;
    this.#inOrder(accept, (entry) => {
      if (keep === undefined || keep(entry.key)) found.push(entry.key);
      return found.length < limit;
    });
    return found;
  }

  /** The lowest entry whose key `keep` accepts, or undefined. */
  first(keep: (key: string) => boolean): (HeapPriority & { key: string }) | undefined {
    let match: HeapEntry | undefined;
    this.#inOrder(
      () => true,
      (entry) => {
        if (keep(entry.key)) match = entry;
        return match === undefined;
      },
    );
    return match;
  }

  /**
   * Visits entries lowest first while `accept` holds and `visit` returns true. The entries not yet
   * visited whose parent was make up a small heap of their own (the frontier), so only the entries
   * visited and their children are looked at.
   */
  #inOrder(accept: (entry: HeapPriority) => boolean, visit: (entry: HeapEntry) => boolean): void {
    const entries = this.#heap.items;
    const root = entries[0];
    if (root === undefined || !accept(root)) return;
    // The common case, a root that answers the question, allocates nothing.
    if (!visit(root)) return;
    const frontier = new SlottedHeap<FrontierItem>(frontierOrder);
    const reach = (index: number) => {
      const entry = entries[index];
      if (entry !== undefined && accept(entry)) frontier.push({ entry, index, slot: -1 });
    };
    reach(1);
    reach(2);
    for (let next = frontier.pop(); next !== undefined; next = frontier.pop()) {
      if (!visit(next.entry)) return;
      reach(2 * next.index + 1);
      reach(2 * next.index + 2);
    }
  }
}
