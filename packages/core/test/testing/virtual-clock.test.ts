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

  describe('settledBy', () => {
    /** A component that is busy from a timer's firing until its work, `hops` promise hops long, is done. */
    function worker(clock: VirtualClock, hops: number) {
      let busy = 0;
      let waiters: (() => void)[] = [];
      const idle = () => (busy === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve)));
      const view = clock.settledBy(idle);
      const log: string[] = [];
      const work = (name: string, done: () => Promise<unknown>) => () => {
        busy += 1;
        void (async () => {
          for (let i = 0; i < hops; i++) await null;
          await done();
          log.push(`${name} done at ${clock.monotonic()}`);
          busy -= 1;
          if (busy > 0) return;
          const ready = waiters;
          waiters = [];
          for (const resolve of ready) resolve();
        })();
      };
      return { view, log, work };
    }

    it('waits for the component to be idle, however many promise hops its work takes, before the next timer fires', async () => {
      const clock = new VirtualClock();
      const { view, log, work } = worker(clock, 500);
      view.setTimeout(work('first', async () => undefined), 10);
      clock.setTimeout(() => log.push(`second fired at ${clock.monotonic()}`), 20);
      await clock.advance(30);
      expect(log).toEqual(['first done at 10', 'second fired at 20']);
    });

    it('moves on without an event-loop turn per timer once the component is idle', async () => {
      const clock = new VirtualClock();
      const { view, log, work } = worker(clock, 20);
      const every = (): unknown => view.setTimeout(work('tick', async () => every()), 1000);
      every();
      const realSetImmediate = globalThis.setImmediate;
      let turns = 0;
      globalThis.setImmediate = ((...args: Parameters<typeof setImmediate>) => {
        turns += 1;
        return realSetImmediate(...args);
      }) as typeof setImmediate;
      try {
        await clock.advance('1000s');
      } finally {
        globalThis.setImmediate = realSetImmediate;
      }
      expect(log).toHaveLength(1000);
      expect(log.at(-1)).toBe('tick done at 1000000');
      // One turn settles the advance at its start and one at its end; none are needed in between.
      expect(turns).toBeLessThan(10);
    });

    it('falls back to event-loop turns when the work waits on something that is not a promise hop', async () => {
      const clock = new VirtualClock();
      const { view, log, work } = worker(clock, 3);
      view.setTimeout(
        work('first', async () => {
          for (let i = 0; i < 12; i++) await hop();
        }),
        10,
      );
      view.setTimeout(() => log.push(`second fired at ${clock.monotonic()}`), 20);
      await clock.advance(30);
      expect(log).toEqual(['first done at 10', 'second fired at 20']);
    });

    it('shows the same time as the clock and cancels timers set through it', async () => {
      const clock = new VirtualClock('2026-05-01T00:00:00Z');
      const view = clock.settledBy(() => Promise.resolve());
      const fired: string[] = [];
      const gone = view.setTimeout(() => fired.push('gone'), 5);
      view.setTimeout(() => fired.push('kept'), 5);
      view.clearTimeout(gone);
      await clock.advance(5);
      expect(fired).toEqual(['kept']);
      expect([view.now(), view.monotonic()]).toEqual([clock.now(), 5]);
    });
  });
});
