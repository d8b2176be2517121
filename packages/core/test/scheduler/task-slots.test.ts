import { describe, expect, it } from 'vitest';
import { TaskSlots } from '../../src/scheduler/task-slots.js';

/** A task that waits until `release` is called, recording when it starts. */
function gated(log: string[], name: string): { task: () => Promise<string>; release: () => void } {
  let release = () => {};
  const done = new Promise<void>((resolve) => (release = resolve));
  return {
    task: async () => {
      log.push(`start ${name}`);
      await done;
      log.push(`end ${name}`);
      return name;
    },
    release: () => release(),
  };
}

describe('TaskSlots', () => {
  it('runs at most `concurrency` tasks at once, the waiting ones in the order they were given', async () => {
    const slots = new TaskSlots(2);
    const log: string[] = [];
    const tasks = ['a', 'b', 'c', 'd'].map((name) => gated(log, name));
    const results = tasks.map(({ task }) => slots.run(task));
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual(['start a', 'start b']);
    tasks[1]!.release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual(['start a', 'start b', 'end b', 'start c']);
    for (const { release } of tasks) release();
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c', 'd']);
    expect(log.filter((line) => line.startsWith('start'))).toEqual(['start a', 'start b', 'start c', 'start d']);
  });

  it('never starts a task within the caller’s turn, even with a slot free', async () => {
    const slots = new TaskSlots(1);
    let started = false;
    const result = slots.run(async () => {
      started = true;
      return 1;
    });
    expect(started).toBe(false);
    expect(await result).toBe(1);
    expect(started).toBe(true);
  });

  it('passes a failure on (a synchronous throw too) and frees the slot for the next task', async () => {
    const slots = new TaskSlots(1);
    const thrown = slots.run(() => {
      throw new Error('sync');
    });
    const rejected = slots.run(() => Promise.reject(new Error('async')));
    const next = slots.run(async () => 'next');
    await expect(thrown).rejects.toThrow('sync');
    await expect(rejected).rejects.toThrow('async');
    expect(await next).toBe('next');
  });

  it('keeps its order through a long queue', async () => {
    const slots = new TaskSlots(1);
    const order: number[] = [];
    await Promise.all(Array.from({ length: 3000 }, (_, i) => slots.run(async () => order.push(i))));
    expect(order).toEqual(Array.from({ length: 3000 }, (_, i) => i));
  });

  it('accepts a whole number from 1 up, or Infinity, as its concurrency', () => {
    for (const bad of [0, -1, 2.5, Number.NaN]) expect(() => new TaskSlots(bad)).toThrow(TypeError);
    expect(() => new TaskSlots(Number.POSITIVE_INFINITY)).not.toThrow();
  });
});
