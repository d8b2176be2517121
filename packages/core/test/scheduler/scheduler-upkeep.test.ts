import { describe, expect, it } from 'vitest';
import { CronScheduler, type Clock } from '@symbi/core';
import { FakeExecutor, InMemoryJobStore, VirtualClock } from '@symbi/core/testing';

/** How late each timer of {@link lateTimers} fires, in turn (ms): never early, as real timers. */
const LATENESS_MS = [0, 4, 1, 6, 2, 5, 0, 3];

/** `clock`, with timers that fire a few ms late, as on a real event loop. */
function lateTimers(clock: VirtualClock): Clock {
  let next = 0;
  return {
    now: () => clock.now(),
    monotonic: () => clock.monotonic(),
    setTimeout: (fn, ms) => clock.setTimeout(fn, ms + (LATENESS_MS[next++ % LATENESS_MS.length] as number)),
    clearTimeout: (timer) => clock.clearTimeout(timer),
  };
}

describe('CronScheduler: upkeep', () => {
  it('looks for dead owners and lapsed leases every tick, though the loop wakes a few ms late at times', async () => {
    const clock = new VirtualClock('2026-04-01T00:00:00Z');
    const store = new InMemoryJobStore();
    const upkeeps: number[] = [];
    const recoverExpired = store.recoverExpired.bind(store);
    store.recoverExpired = (request) => {
      upkeeps.push(clock.monotonic());
      return recoverExpired(request);
    };
    const scheduler = new CronScheduler({
      store,
      executor: new FakeExecutor(clock, {}, { durationMs: 100 }),
      clock: lateTimers(clock),
      config: { tickIntervalMs: 1_000, leaseMs: 5_000, shutdownTimeoutMs: 0 },
    });
    await scheduler.start();
    await scheduler.add({ name: 'every-second', agentId: 'pinger', cronExpr: '* * * * * *' });
    await clock.advance('60s');
    await scheduler.stop();
    // Recovery starts a lease after the start; from then on, a look every tick (it used to skip
    // every tick whose cycle came a few ms sooner after the last look than a whole tick).
    const gaps = upkeeps.slice(1).map((at, i) => at - (upkeeps[i] as number));
    expect(upkeeps.length).toBeGreaterThanOrEqual(54);
    expect(Math.max(...gaps)).toBeLessThan(1_100);
  });
});
