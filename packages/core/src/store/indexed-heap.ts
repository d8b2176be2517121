import { SlottedHeap } from './slotted-heap.js';

/**
 * An entry of an {@link IndexedHeap}: its key and where it sits, a time, then a string to break
 * ties. The tie's first characters are also kept as small integers (see {@link setTie}) that order
 * alike, so most comparisons read only the two entries, not their strings: ids made in the same
 * millisecond share a long prefix, and many jobs fire at the same time. `item` is what the entry
 * stands for, so a caller that finds an entry needs no lookup of its key (null when the key is enough).
 */
export interface HeapEntry<T = unknown> {
  readonly key: string;
  /** What the entry stands for (see {@link heapEntry}). */
  readonly item: T;
  /** Primary order, usually epoch milliseconds. */
  at: number;
  /** Secondary order among equal times, usually an id, so iteration order is deterministic. */
  tie: string;
  /** The digits of `tie`'s characters 0–2, 3–5, … 15–17 (see {@link setTie}). */
  t0: number;
  t1: number;
  t2: number;
  t3: number;
  t4: number;
  t5: number;
  slot: number;
  /** The heap that holds the entry, or null. */
  holder: EntryHeap<T> | null;
}

/** The fields of an entry that order it (see {@link isLower}), whatever it stands for. */
export type EntryOrder = Pick<HeapEntry, 'at' | 'tie' | 't0' | 't1' | 't2' | 't3' | 't4' | 't5'>;

/** Characters of a tie kept as digits: six groups of three, each a small integer. */
const TIE_DIGITS = 18;

/**
 * Sets `entry`'s tie and its digits. A character's digit is its code plus one (0 past the end); a
 * code of 255 or more gives 256 and every digit after it 0. So digits that differ order as the
 * strings do, and equal digits leave the order to the strings themselves.
 */
function setTie(entry: EntryOrder, tie: string): void {
  let end = Math.min(tie.length, TIE_DIGITS);
  for (let i = 0; i < end; i++) {
    if (tie.charCodeAt(i) >= 255) end = i + 1;
  }
  entry.tie = tie;
  entry.t0 = tieGroup(tie, end, 0);
  entry.t1 = tieGroup(tie, end, 3);
  entry.t2 = tieGroup(tie, end, 6);
  entry.t3 = tieGroup(tie, end, 9);
  entry.t4 = tieGroup(tie, end, 12);
  entry.t5 = tieGroup(tie, end, 15);
}

/** The digits of `tie`'s characters `from` to `from + 2` (none from `end` on), base 512. */
function tieGroup(tie: string, end: number, from: number): number {
  let group = 0;
  for (let i = from; i < from + 3; i++) group = group * 512 + (i < end ? Math.min(tie.charCodeAt(i) + 1, 256) : 0);
  return group;
}

/** Whether `a` comes before `b`: the earlier time, then the lower tie. */
export function isLower(a: Readonly<EntryOrder>, b: Readonly<EntryOrder>): boolean {
  if (a.at !== b.at) return a.at < b.at;
  if (a.t0 !== b.t0) return a.t0 < b.t0;
  if (a.t1 !== b.t1) return a.t1 < b.t1;
  if (a.t2 !== b.t2) return a.t2 < b.t2;
  if (a.t3 !== b.t3) return a.t3 < b.t3;
  if (a.t4 !== b.t4) return a.t4 < b.t4;
  if (a.t5 !== b.t5) return a.t5 < b.t5;
  return a.tie < b.tie;
}

/** Adds `slot` to `frontier`, a min-heap of slots of `entries` ordered by their entries. */
function pushSlot(frontier: number[], entries: readonly EntryOrder[], slot: number): void {
  const entry = entries[slot] as EntryOrder;
  let at = frontier.length;
  frontier.push(slot);
  while (at > 0) {
    const parent = (at - 1) >> 1;
    const parentSlot = frontier[parent] as number;
    if (!isLower(entry, entries[parentSlot] as EntryOrder)) break;
    frontier[at] = parentSlot;
    at = parent;
  }
  frontier[at] = slot;
}

/** Takes the slot of the lowest entry out of `frontier` (see {@link pushSlot}); -1 when empty. */
function popSlot(frontier: number[], entries: readonly EntryOrder[]): number {
  if (frontier.length === 0) return -1;
  const top = frontier[0] as number;
  const last = frontier.pop() as number;
  if (frontier.length === 0) return top;
  const entry = entries[last] as EntryOrder;
  let at = 0;
  for (;;) {
    const left = 2 * at + 1;
    if (left >= frontier.length) break;
    const right = left + 1;
    let child = left;
    if (right < frontier.length && isLower(entries[frontier[right] as number] as EntryOrder, entries[frontier[left] as number] as EntryOrder)) child = right;
    const childSlot = frontier[child] as number;
    if (!isLower(entries[childSlot] as HeapEntry, entry)) break;
    frontier[at] = childSlot;
    at = child;
  }
  frontier[at] = last;
  return top;
}

/** A new entry for `key` (standing for `item`) at `at`, then `tie` among equal times, in no heap yet. */
export function heapEntry<T>(key: string, item: T, at: number, tie: string): HeapEntry<T> {
  const entry: HeapEntry<T> = { key, item, at, tie, t0: 0, t1: 0, t2: 0, t3: 0, t4: 0, t5: 0, slot: -1, holder: null };
  setTie(entry, tie);
  return entry;
}

const keyOf = <T>(entry: HeapEntry<T>): string => entry.key;

const itemOf = <T>(entry: HeapEntry<T>): T => entry.item;

/**
 * A binary min-heap of entries that the caller keeps (see {@link heapEntry}), so an entry is moved
 * or taken out in O(log n) without a lookup, and one entry can move from heap to heap: the
 * in-memory store keeps each run's entry while the run is in one of its indexes, however often it
 * changes index, rather than a key map per index.
 */
export class EntryHeap<T = unknown> {
  readonly #heap = new SlottedHeap<HeapEntry<T>>(isLower);

  /** Number of entries held. */
  get size(): number {
    return this.#heap.size;
  }

  /** Adds `entry`, which no heap holds. */
  insert(entry: HeapEntry<T>): void {
    entry.holder = this;
    this.#heap.push(entry);
  }

  /** Puts `entry`, which this heap holds, where its time and tie now put it (call after changing them). */
  update(entry: HeapEntry<T>): void {
    this.#heap.update(entry);
  }

  /** Takes out `entry`, which this heap holds. */
  remove(entry: HeapEntry<T>): void {
    this.#heap.remove(entry);
    entry.holder = null;
  }

  /** The lowest entry, or undefined when empty. */
  peek(): Readonly<HeapEntry<T>> | undefined {
    return this.#heap.peek();
  }

  /**
   * Up to `limit` lowest entries' keys, in order, while `accept` holds (it must hold for a prefix of
   * the order, e.g. `at <= now`), leaving out the keys `keep` refuses (default: none). Visits
   * O(limit · log limit) entries, and the refused ones, and changes nothing.
   */
  lowest(limit: number, accept: (entry: Readonly<HeapEntry<T>>) => boolean, keep?: (key: string) => boolean): string[] {
    return this.#collect(limit, accept, keep === undefined ? undefined : (entry) => keep(entry.key), keyOf);
  }

  /**
   * {@link lowest}, answering what the entries stand for rather than their keys (`keep` sees those
   * too): a caller that keeps its items in the entries looks none up.
   */
  lowestItems(limit: number, accept: (entry: Readonly<HeapEntry<T>>) => boolean, keep?: (item: T) => boolean): T[] {
    return this.#collect(limit, accept, keep === undefined ? undefined : (entry) => keep(entry.item), itemOf);
  }

  /** Up to `limit` of `pick` of the lowest entries while `accept` holds, those `keep` accepts (see {@link lowest}). */
  #collect<R>(limit: number, accept: (entry: Readonly<HeapEntry<T>>) => boolean, keep: ((entry: HeapEntry<T>) => boolean) | undefined, pick: (entry: HeapEntry<T>) => R): R[] {
    const found: R[] = [];
    if (limit <= 0) return found;
    this.#inOrder(accept, (entry) => {
      if (keep === undefined || keep(entry)) found.push(pick(entry));
      return found.length < limit;
    });
    return found;
  }

  /**
   * How many entries `match` accepts among the lowest while `accept` holds (as in {@link lowest}):
   * `match` sees each entry with what it stands for, so the caller looks nothing up. Changes nothing.
   */
  countWhile(accept: (entry: Readonly<HeapEntry<T>>) => boolean, match: (entry: Readonly<HeapEntry<T>>) => boolean): number {
    let count = 0;
    this.#inOrder(accept, (entry) => {
      if (match(entry)) count += 1;
      return true;
    });
    return count;
  }

  /** The lowest entry whose key `keep` accepts, or undefined. */
  first(keep: (key: string) => boolean): Readonly<HeapEntry<T>> | undefined {
    let match: HeapEntry<T> | undefined;
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
   * visited whose parent was make up a small heap of their own (the frontier, of slots), so only
   * the entries visited and their children are looked at.
   */
  #inOrder(accept: (entry: Readonly<HeapEntry<T>>) => boolean, visit: (entry: HeapEntry<T>) => boolean): void {
    const entries = this.#heap.items;
    const root = entries[0];
    if (root === undefined || !accept(root)) return;
    // The common case, a root that answers the question, allocates nothing.
    if (!visit(root)) return;
    const frontier: number[] = [];
    const reach = (slot: number) => {
      const entry = entries[slot];
      if (entry !== undefined && accept(entry)) pushSlot(frontier, entries, slot);
    };
    reach(1);
    reach(2);
    for (let next = popSlot(frontier, entries); next !== -1; next = popSlot(frontier, entries)) {
      if (!visit(entries[next] as HeapEntry<T>)) return;
      reach(2 * next + 1);
      reach(2 * next + 2);
    }
  }
}

/**
 * An {@link EntryHeap} of string keys that also knows each key's entry, so a key's priority can be
 * changed or the key removed in O(log n). The in-memory store keeps its "what is due next" indexes
 * of jobs in these, so finding due work never scans every job.
 */
export class IndexedHeap extends EntryHeap<null> {
  /** Each key's entry, which knows its own slot: a move updates the entry, not this map. */
  readonly #byKey = new Map<string, HeapEntry<null>>();

  /** Whether `key` is held. */
  has(key: string): boolean {
    return this.#byKey.has(key);
  }

  /** Inserts `key`, or moves it if present, to `at`, then `tie` among equal times. */
  set(key: string, at: number, tie: string): void {
    const held = this.#byKey.get(key);
    if (held === undefined) {
      const entry = heapEntry(key, null, at, tie);
      this.#byKey.set(key, entry);
      this.insert(entry);
    } else if (held.at !== at || held.tie !== tie) {
      held.at = at;
      if (held.tie !== tie) setTie(held, tie);
      this.update(held);
    }
  }

  /** Removes `key`; false when it was not held. */
  delete(key: string): boolean {
    const entry = this.#byKey.get(key);
    if (entry === undefined) return false;
    this.#byKey.delete(key);
    this.remove(entry);
    return true;
  }
}
