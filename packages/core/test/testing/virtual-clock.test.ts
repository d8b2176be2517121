import { describe, expect, it } from 'vitest';
import { VirtualClock } from '@symbi/core/testing';

const hop = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('VirtualClock', () => {
  it('fires timers in time order, equal times in the order they were set, and never a cleared one', async () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    const timers = new Map(
      [['c', 300], ['a', 100], ['b1', 200], ['b2', 200], ['gone', 150], ['late', 5000]].map(([name, ms]) => [
        name as string,
        clock.setTimeout(() => fired.push(name as string), ms as number),
      ]),
    );
    clock.clearTimeout(timers.get('gone')!);
    clock.clearTimeout(timers.get('gone')!);
    await clock.advance(1000);
    expect(fired).toEqual(['a', 'b1', 'b2', 'c']);
    expect(clock.pendingTimers).toBe(1);
    expect(clock.monotonic()).toBe(1000);
  });

  it('lets the work a timer starts finish before the next timer fires, even when it hops through setImmediate', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    clock.setTimeout(() => {
      void (async () => {
        for (let i = 0; i < 12; i++) await hop();
        log.push(`first done at ${clock.monotonic()}`);
      })();
    }, 10);
    clock.setTimeout(() => log.push(`second fired at ${clock.monotonic()}`), 20);
    await clock.advance(30);
    expect(log).toEqual(['first done at 10', 'second fired at 20']);
  });

  it('runs timers set by the work of a timer when they fall due within the same advance', async () => {
    const clock = new VirtualClock();
    const at: number[] = [];
    const tick = () => {
      at.push(clock.monotonic());
      void Promise.resolve().then(() => clock.setTimeout(tick, 1000));
    };
    clock.setTimeout(tick, 1000);
    await clock.advance('5s');
    expect(at).toEqual([1000, 2000, 3000, 4000, 5000]);
  });
});
