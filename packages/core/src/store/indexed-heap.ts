/** Where an entry sits in an {@link IndexedHeap}: a time, then a string to break ties. */
export interface HeapPriority {
  /** Primary order, usually epoch milliseconds. */
  readonly at: number;
  /** Secondary order among equal times, usually an id, so iteration order is deterministic. */
  readonly tie: string;
}

interface HeapEntry extends HeapPriority {
  readonly key: string;
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
  #positions = new Map<string, number>();

  /** Number of keys held. */
  get size(): number {
    return this.#entries.length;
  }

  /** Whether `key` is held. */
  has(key: string): boolean {
    return this.#positions.has(key);
  }

  /** Inserts `key`, or moves it if present, to `priority`. */
  set(key: string, priority: HeapPriority): void {
    const entry: HeapEntry = { key, at: priority.at, tie: priority.tie };
    const position = this.#positions.get(key);
    if (position === undefined) {
      this.#entries.push(entry);
      this.#positions.set(key, this.#entries.length - 1);
      this.#up(this.#entries.length - 1);
      return;
    }
    this.#entries[position] = entry;
    this.#down(this.#up(position));
  }

  /** Removes `key`; false when it was not held. */
  delete(key: string): boolean {
    const position = this.#positions.get(key);
    if (position === undefined) return false;
    const last = this.#entries.pop() as HeapEntry;
    this.#positions.delete(key);
    if (position < this.#entries.length) {
      this.#entries[position] = last;
      this.#positions.set(last.key, position);
      this.#down(this.#up(position));
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

  /** Visits entries lowest first while `accept` holds and `visit` returns true. */
  #inOrder(accept: (entry: HeapPriority) => boolean, visit: (entry: HeapEntry) => boolean): void {
    const frontier = new IndexedHeap();
    const reach = (index: number) => {
      const entry = this.#entries[index];
      if (entry !== undefined && accept(entry)) frontier.set(String(index), entry);
    };
    reach(0);
    for (;;) {
      const top = frontier.peek();
      if (top === undefined) return;
      frontier.delete(top.key);
      const index = Number(top.key);
      if (!visit(this.#entries[index] as HeapEntry)) return;
      reach(2 * index + 1);
      reach(2 * index + 2);
    }
  }

  #up(index: number): number {
    const entry = this.#entries[index] as HeapEntry;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = this.#entries[parentIndex] as HeapEntry;
      if (!isLower(entry, parent)) break;
      this.#entries[index] = parent;
      this.#positions.set(parent.key, index);
      index = parentIndex;
    }
    this.#entries[index] = entry;
    this.#positions.set(entry.key, index);
    return index;
  }

  #down(index: number): void {
    const entry = this.#entries[index] as HeapEntry;
    const length = this.#entries.length;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      let child = left;
      if (right < length && isLower(this.#entries[right] as HeapEntry, this.#entries[left] as HeapEntry)) child = right;
      const childEntry = this.#entries[child] as HeapEntry;
      if (!isLower(childEntry, entry)) break;
      this.#entries[index] = childEntry;
      this.#positions.set(childEntry.key, index);
      index = child;
    }
    this.#entries[index] = entry;
    this.#positions.set(entry.key, index);
  }
}
