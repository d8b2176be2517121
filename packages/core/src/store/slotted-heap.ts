/** An item of a {@link SlottedHeap}: where it sits in the heap, kept up to date by the heap; -1 once out. */
export interface Slotted {
  slot: number;
}

/**
 * A binary min-heap whose items carry their own slot, so an item is removed, or replaced by one of
 * another priority, in O(log n) without a search. The in-memory store's indexes and the timers of
 * the `VirtualClock` are kept in these.
 */
export class SlottedHeap<T extends Slotted> {
  readonly #items: T[] = [];
  readonly #before: (a: T, b: T) => boolean;

  /** A heap ordered by `before`, which says whether `a` comes before `b`. */
  constructor(before: (a: T, b: T) => boolean) {
    this.#before = before;
  }

  /** Number of items held. */
  get size(): number {
    return this.#items.length;
  }

  /** The items in heap order: the lowest first, the children of the item at `i` at `2i + 1` and `2i + 2`. */
  get items(): readonly T[] {
    return this.#items;
  }

  /** The lowest item, or undefined when empty. */
  peek(): T | undefined {
    return this.#items[0];
  }

  /** Whether `item` is held. */
  holds(item: T): boolean {
    return this.#items[item.slot] === item;
  }

  /** Adds `item`. */
  push(item: T): void {
    item.slot = this.#items.length;
    this.#items.push(item);
    this.#up(item.slot);
  }

  /** Moves `item`, which must be held, to where its priority now puts it (call after changing it). */
  update(item: T): void {
    const from = item.slot;
    if (this.#up(from) === from) this.#up(this.#sink(from));
  }

  /**
   * Takes out `item`, which must be held. The last item fills its place: it sinks to a leaf along
   * the lower children (one comparison a level, where sifting it down costs two) and rises from
   * there, which is rarely far, since the last item is rarely low: the in-memory store takes the
   * earliest of many due jobs out of a deep heap every fire.
   */
  remove(item: T): void {
    const last = this.#items.pop() as T;
    const { slot } = item;
    item.slot = -1;
    if (last === item) return;
    this.#items[slot] = last;
    last.slot = slot;
    this.#up(this.#sink(slot));
  }

  /** Removes and returns the lowest item, or undefined when empty. */
  pop(): T | undefined {
    const top = this.#items[0];
    if (top !== undefined) this.remove(top);
    return top;
  }

  #up(slot: number): number {
    const items = this.#items;
    const item = items[slot] as T;
    while (slot > 0) {
      const parentSlot = (slot - 1) >> 1;
      const parent = items[parentSlot] as T;
      if (!this.#before(item, parent)) break;
      items[slot] = parent;
      parent.slot = slot;
      slot = parentSlot;
    }
    items[slot] = item;
    item.slot = slot;
    return slot;
  }

  /**
   * Moves the item at `slot` down to a leaf, the lower child of each slot on the way moving up in
   * its place, whatever the item's own order (then {@link #up} puts it right); returns the leaf.
   */
  #sink(slot: number): number {
    const items = this.#items;
    const item = items[slot] as T;
    for (;;) {
      const left = 2 * slot + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && this.#before(items[right] as T, items[left] as T) ? right : left;
      const childItem = items[child] as T;
      items[slot] = childItem;
      childItem.slot = slot;
      slot = child;
    }
    items[slot] = item;
    item.slot = slot;
    return slot;
  }
}
