/** Where an entry sits in an {@link IndexedHeap}: a time, then a string to break ties. */
export interface HeapPriority {
  /** Primary order, usually epoch milliseconds. */
  readonly at: number;
  /** Secondary order among equal times, usually an id, so iteration order is deterministic. */
  readonly tie: string;
}

interface HeapEntry extends HeapPriority {
  readonly key: string;
  /** Where the entry sits in the heap's array. */
  slot: number;
}

/** Whether `a` comes before `b`. */
export function isLower(a: HeapPriority, b: HeapPriority): boolean {
  return a.at < b.at || (a.at === b.at && a.tie < b.tie);
}

/**
 * A binary min-heap of string keys that also knows where each key sits, so a key's priority can be
 * changed or the key removed in O(log n). The in-memory store keeps its "what is due next" indexes
 * in these, so finding due work never scans every job or run.
 */
export class IndexedHeap {
  #entries: HeapEntry[] = [];
  /** Each key's entry, which knows its own slot: a move updates the entry, not this map. */
  #byKey = new Map<string, HeapEntry>();

  /** Number of keys held. */
  get size(): number {
    return this.#entries.length;
  }

  /** Whether `key` is held. */
  has(key: string): boolean {
    return this.#byKey.has(key);
  }

  /** Inserts `key`, or moves it if present, to `priority`. */
  set(key: string, priority: HeapPriority): void {
    const held = this.#byKey.get(key);
    const entry: HeapEntry = { key, at: priority.at, tie: priority.tie, slot: held?.slot ?? this.#entries.length };
    this.#byKey.set(key, entry);
    if (held === undefined) {
      this.#entries.push(entry);
      this.#up(entry.slot);
      return;
    }
    this.#entries[entry.slot] = entry;
    this.#down(this.#up(entry.slot));
  }

  /** Removes `key`; false when it was not held. */
  delete(key: string): boolean {
    const entry = this.#byKey.get(key);
    if (entry === undefined) return false;
    this.#byKey.delete(key);
    const last = this.#entries.pop() as HeapEntry;
    if (entry !== last) {
      this.#entries[entry.slot] = last;
      last.slot = entry.slot;
      this.#down(this.#up(entry.slot));
    }
    return true;
  }

  /** The lowest entry, or undefined when empty. */
  peek(): (HeapPriority & { key: string }) | undefined {
    return this.#entries[0];
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
   * visited whose parent was are kept in a small heap of their positions (the frontier), so only
   * the entries visited and their children are looked at.
   */
  #inOrder(accept: (entry: HeapPriority) => boolean, visit: (entry: HeapEntry) => boolean): void {
    const entries = this.#entries;
    const root = entries[0];
    if (root === undefined || !accept(root)) return;
    // The common case, a root that answers the question, allocates nothing.
    if (!visit(root)) return;
    const frontier: number[] = [];
    const reach = (index: number) => {
      const entry = entries[index];
      if (entry !== undefined && accept(entry)) pushPosition(frontier, entries, index);
    };
    reach(1);
    reach(2);
    while (frontier.length > 0) {
      const index = popPosition(frontier, entries);
      if (!visit(entries[index] as HeapEntry)) return;
      reach(2 * index + 1);
      reach(2 * index + 2);
    }
  }

  #up(index: number): number {
    const entries = this.#entries;
    const entry = entries[index] as HeapEntry;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = entries[parentIndex] as HeapEntry;
      if (!isLower(entry, parent)) break;
      entries[index] = parent;
      parent.slot = index;
      index = parentIndex;
    }
    entries[index] = entry;
    entry.slot = index;
    return index;
  }

  #down(index: number): void {
    const entries = this.#entries;
    const entry = entries[index] as HeapEntry;
    const length = entries.length;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      let child = left;
      if (right < length && isLower(entries[right] as HeapEntry, entries[left] as HeapEntry)) child = right;
      const childEntry = entries[child] as HeapEntry;
      if (!isLower(childEntry, entry)) break;
      entries[index] = childEntry;
      childEntry.slot = index;
      index = child;
    }
    entries[index] = entry;
    entry.slot = index;
  }
}

/** Adds `position` to `frontier`, a binary min-heap of positions in `entries` ordered by their entries. */
function pushPosition(frontier: number[], entries: readonly HeapEntry[], position: number): void {
  let index = frontier.length;
  frontier.push(position);
  const entry = entries[position] as HeapEntry;
  while (index > 0) {
    const parentIndex = (index - 1) >> 1;
    const parent = frontier[parentIndex] as number;
    if (!isLower(entry, entries[parent] as HeapEntry)) break;
    frontier[index] = parent;
    index = parentIndex;
  }
  frontier[index] = position;
}

/** Removes and returns the position of the lowest entry in a non-empty `frontier` (see {@link pushPosition}). */
function popPosition(frontier: number[], entries: readonly HeapEntry[]): number {
  const top = frontier[0] as number;
  const last = frontier.pop() as number;
  if (frontier.length === 0) return top;
  const entry = entries[last] as HeapEntry;
  let index = 0;
  for (;;) {
    const left = 2 * index + 1;
    if (left >= frontier.length) break;
    const right = left + 1;
    let child = left;
    if (right < frontier.length && isLower(entries[frontier[right] as number] as HeapEntry, entries[frontier[left] as number] as HeapEntry)) child = right;
    if (!isLower(entries[frontier[child] as number] as HeapEntry, entry)) break;
    frontier[index] = frontier[child] as number;
    index = child;
  }
  frontier[index] = last;
  return top;
}
