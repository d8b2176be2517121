import { describe, expect, it } from 'vitest';
import { EntryHeap, heapEntry, IndexedHeap } from '../../src/store/indexed-heap.js';

/** Characters around the edges of the heap's tie digits: ASCII, 254, 255, 256 and the highest code unit. */
const ALPHABET = ['a', 'b', '\u00fe', '\u00ff', '\u0100', '\uffff'];

/** Every string of up to three characters of the alphabet, and long ones that differ only late or by length. */
function ties(): string[] {
  const found = [''];
  let level = [''];
  for (let length = 1; length <= 3; length += 1) {
    level = level.flatMap((prefix) => ALPHABET.map((char) => prefix + char));
    found.push(...level);
  }
  const prefix = '0190c2d4-8e1f-7';
  for (const tail of ['', 'a', 'b', '000', '001', '010', '\u00ff', '\u0100', '00\u00ff', '00\u0100', '000a', '000b', '0000000']) found.push(prefix + tail);
  for (const [position, char] of [...ALPHABET.entries()]) found.push(`${'x'.repeat(12 + position)}${char}y`, `${'x'.repeat(12 + position)}${char}`);
  return found;
}

/** The order the heap must keep: the time, then the tie as JavaScript compares strings. */
const byTimeThenTie = (a: { at: number; tie: string }, b: { at: number; tie: string }): number =>
  a.at - b.at || (a.tie < b.tie ? -1 : a.tie > b.tie ? 1 : 0);

/** Takes every key out of `heap`, lowest first. */
function drain(heap: IndexedHeap): { at: number; tie: string }[] {
  const order: { at: number; tie: string }[] = [];
  for (let top = heap.peek(); top !== undefined; top = heap.peek()) {
    order.push({ at: top.at, tie: top.tie });
    heap.delete(top.key);
  }
  return order;
}

describe('IndexedHeap', () => {
  const all = ties();
  // Inserted in a scrambled but fixed order, at one of three times.
  const entries = all.map((_, i) => {
    const tie = all[(i * 7919) % all.length] as string;
    return { key: `k${i}`, at: 1000 * (i % 3), tie };
  });

  it('orders by time, then by tie as strings compare, whatever characters the ties hold', () => {
    const heap = new IndexedHeap();
    for (const { key, at, tie } of entries) heap.set(key, at, tie);
    expect(heap.size).toBe(entries.length);
    expect(drain(heap)).toEqual(entries.map(({ at, tie }) => ({ at, tie })).sort(byTimeThenTie));
  });

  it('keeps the order when keys move to a new time or tie, and walks it in order without changing it', () => {
    const heap = new IndexedHeap();
    for (const { key, at, tie } of entries) heap.set(key, at, tie);
    const moved = entries.map(({ key, at, tie }, i) => (i % 2 === 0 ? { key, at, tie: all[(i * 31) % all.length] as string } : { key, at: at + (i % 5) * 500, tie }));
    for (const { key, at, tie } of moved) heap.set(key, at, tie);
    const expected = moved.map(({ at, tie }) => ({ at, tie })).sort(byTimeThenTie);
    const byKey = new Map(moved.map(({ key, at, tie }) => [key, { at, tie }]));
    const walked = heap.lowest(40, (entry) => entry.at <= 1500).map((key) => byKey.get(key));
    expect(walked).toEqual(expected.filter((entry) => entry.at <= 1500).slice(0, 40));
    expect(heap.size).toBe(moved.length);
    expect(drain(heap)).toEqual(expected);
  });

  it('keeps the order when keys anywhere in it are deleted', () => {
    const heap = new IndexedHeap();
    for (const { key, at, tie } of entries) heap.set(key, at, tie);
    // Every third key, in the scrambled order: leaves, inner entries, and the last entry moving up or down.
    const kept = entries.filter((_, i) => i % 3 !== 1);
    for (const [i, { key }] of entries.entries()) if (i % 3 === 1) expect(heap.delete(key)).toBe(true);
    expect(heap.size).toBe(kept.length);
    expect(drain(heap)).toEqual(kept.map(({ at, tie }) => ({ at, tie })).sort(byTimeThenTie));
  });
});

describe('EntryHeap', () => {
  it('moves an entry from heap to heap, each keeping its order, and knows which holds it', () => {
    const [first, second] = [new EntryHeap<null>(), new EntryHeap<null>()];
    const entries = Array.from({ length: 60 }, (_, i) => heapEntry(`k${i}`, null, (i * 37) % 11, `k${i}`));
    for (const entry of entries) first.insert(entry);
    for (const [i, entry] of entries.entries()) {
      if (i % 3 !== 0) continue;
      first.remove(entry);
      entry.at = 100 - i;
      second.insert(entry);
    }
    expect(entries.every((entry, i) => entry.holder === (i % 3 === 0 ? second : first))).toBe(true);
    const order = (heap: EntryHeap<null>) => heap.lowest(Number.POSITIVE_INFINITY, () => true);
    const expected = (keep: (i: number) => boolean) =>
      entries
        .filter((_, i) => keep(i))
        .sort((a, b) => a.at - b.at || (a.tie < b.tie ? -1 : a.tie > b.tie ? 1 : 0))
        .map((entry) => entry.key);
    expect(order(first)).toEqual(expected((i) => i % 3 !== 0));
    expect(order(second)).toEqual(expected((i) => i % 3 === 0));
    second.remove(entries[0]!);
    expect([entries[0]!.holder, second.size]).toEqual([null, 19]);
  });

  it('counts the entries a test accepts among the lowest, handing it what each stands for', () => {
    const heap = new EntryHeap<{ even: boolean }>();
    for (let i = 0; i < 50; i++) heap.insert(heapEntry(`k${i}`, { even: i % 2 === 0 }, (i * 13) % 17, `k${i}`));
    const early = (entry: { at: number }) => entry.at <= 8;
    const expected = heap.lowest(Number.POSITIVE_INFINITY, early).filter((key) => Number(key.slice(1)) % 2 === 0).length;
    expect(heap.countWhile(early, (entry) => entry.item.even)).toBe(expected);
    expect(expected).toBeGreaterThan(0);
    expect(heap.countWhile(() => false, () => true)).toBe(0);
    expect(heap.size).toBe(50);
  });
});
