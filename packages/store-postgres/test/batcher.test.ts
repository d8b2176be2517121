import { expect, it } from 'vitest';
import { Batcher } from '../src/batcher.js';

interface Call {
  key: string;
  value: number;
}

/** A batcher whose batches wait until the test releases them, recording what ran together. */
function harness(lanes: number, maxBatch = 100, fails: (call: Call) => boolean = () => false) {
  const batches: Call[][] = [];
  const gates: (() => void)[] = [];
  const batcher = new Batcher<Call, number>({
    execute: async (calls) => {
      batches.push(calls);
      await new Promise<void>((resolve) => gates.push(resolve));
      if (calls.some(fails)) throw new Error(`bad call in ${calls.map((c) => c.value).join(',')}`);
      return calls.map((call) => call.value * 10);
    },
    keyOf: (call) => call.key,
    lanes,
    maxBatch,
  });
  const releaseAll = async () => {
    while (gates.length > 0) gates.shift()?.();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { batcher, batches, releaseAll };
}

/** Lets the batcher dispatch what was submitted in this turn. */
const turn = () => new Promise((resolve) => setImmediate(resolve));

async function drain(releaseAll: () => Promise<void>, done: Promise<unknown>): Promise<void> {
  let settled = false;
  void done.finally(() => {
    settled = true;
  });
  while (!settled) await releaseAll();
}

it('runs a lone request at the end of its turn and merges the requests that arrive while lanes are busy', async () => {
  const { batcher, batches, releaseAll } = harness(1);
  const first = batcher.submit({ key: 'a', value: 1 });
  expect(batches).toEqual([]);
  await turn();
  expect(batches.map((b) => b.map((c) => c.value))).toEqual([[1]]);
  const rest = [2, 3, 4].map((value) => batcher.submit({ key: `k${value}`, value }));
  const all = Promise.all([first, ...rest]);
  await drain(releaseAll, all);
  expect(await all).toEqual([10, 20, 30, 40]);
  expect(batches.map((b) => b.map((c) => c.value))).toEqual([[1], [2, 3, 4]]);
});

it('merges the requests made in one turn, across callbacks, into one batch though lanes are free', async () => {
  const { batcher, batches, releaseAll } = harness(2);
  const first = batcher.submit({ key: 'a', value: 1 });
  const later = Promise.resolve().then(() => batcher.submit({ key: 'b', value: 2 }));
  const all = Promise.all([first, later]);
  await drain(releaseAll, all);
  expect(await all).toEqual([10, 20]);
  expect(batches.map((b) => b.map((c) => c.value))).toEqual([[1, 2]]);
});

it('never puts two requests with one key in a batch or in flight at once, and keeps their order', async () => {
  const { batcher, batches, releaseAll } = harness(3);
  const calls = [
    { key: 'run-1', value: 1 },
    { key: 'run-1', value: 2 },
    { key: 'run-2', value: 3 },
    { key: 'run-1', value: 4 },
  ];
  const all = Promise.all(calls.map((call) => batcher.submit(call)));
  await turn();
  expect(batches.map((b) => b.map((c) => c.value))).toEqual([[1, 3]]);
  await drain(releaseAll, all);
  expect(await all).toEqual([10, 20, 30, 40]);
  const order = batches.flat().filter((call) => call.key === 'run-1').map((call) => call.value);
  expect(order).toEqual([1, 2, 4]);
});

it('caps batches at maxBatch', async () => {
  const { batcher, batches, releaseAll } = harness(1, 2);
  const all = Promise.all([1, 2, 3, 4, 5, 6].map((value) => batcher.submit({ key: `k${value}`, value })));
  await drain(releaseAll, all);
  expect(batches.map((b) => b.length)).toEqual([2, 2, 2]);
});

it('retries a failed batch request by request, so only the bad one fails', async () => {
  const { batcher, releaseAll } = harness(1, 100, (call) => call.value === 3);
  batcher.submit({ key: 'first', value: 0 }).catch(() => undefined);
  const results = [1, 2, 3, 4].map((value) => batcher.submit({ key: `k${value}`, value }).then(String, (e: Error) => e.message));
  const all = Promise.all(results);
  await drain(releaseAll, all);
  expect(await all).toEqual(['10', '20', 'bad call in 3', '40']);
});
