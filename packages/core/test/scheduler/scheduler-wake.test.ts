import { describe, expect, it } from 'vitest';
import { ExecutionError } from '@symbi/core';
import { createTestScheduler, FakeExecutor, InMemoryJobStore, VirtualClock } from '@symbi/core/testing';

/** Start times (ISO) of every call the executor received. */
const startTimes = (executor: FakeExecutor) => executor.calls.map((call) => new Date(call.startedAt).toISOString());

/**
 * A run's end wakes the loop only when it may claim sooner than the loop's own wake-up. Under
 * `createTestScheduler` the loop's idle tick is an hour, so work a run's end makes claimable
 * would wait for the next fire (or the tick) if its end did not wake the loop.
 */
describe('CronScheduler: what a run ending wakes', () => {
  it('a fire buffered behind a long run starts the moment that run ends, not at the next fire', async () => {
    const clock = new VirtualClock('2026-04-01T00:00:00Z');
    const executor = new FakeExecutor(clock, {}, { durationMs: 90_000 });
    const { scheduler, stop } = await createTestScheduler({ clock, executor });
    await scheduler.add({ name: 'sync', agentId: 'syncer', cronExpr: '0 * * * * *', overlap: 'buffer_one' });
    await clock.advance('150s');
    // 00:01 runs until 00:02:30; the 00:02 fire waits for the slot and starts as it frees
    expect(startTimes(executor)).toEqual(['2026-04-01T00:01:00.000Z', '2026-04-01T00:02:30.000Z']);
    await stop();
  });

  it("a failed run's retry starts after its back-off, although the job fires only hourly", async () => {
    const { scheduler, clock, executor, stop } = await createTestScheduler({
      start: '2026-04-01T00:00:00Z',
      random: () => 0.5, // no jitter: the back-off is exactly the base delay
      config: { retryBaseDelayMs: 10_000 },
      agents: {
        flaky: (_request, call) => {
          if (call === 1) throw new ExecutionError('first call fails');
          return 'ok';
        },
      },
    });
    await scheduler.add({ name: 'hourly', agentId: 'flaky', cronExpr: '0 0 * * * *' });
    await clock.advance('61m');
    expect(startTimes(executor!)).toEqual(['2026-04-01T01:00:00.000Z', '2026-04-01T01:00:10.000Z']);
    expect((await scheduler.history('hourly')).map((run) => [run.trigger, run.status])).toEqual([
      ['retry', 'succeeded'],
      ['schedule', 'failed'],
    ]);
    await stop();
  });

  it('a run ending with nothing new costs no claim: a minutely job is claimed once per fire', async () => {
    const store = new InMemoryJobStore();
    let claims = 0;
    const claimDue = store.claimDue.bind(store);
    store.claimDue = (request) => {
      claims += 1;
      return claimDue(request);
    };
    const { scheduler, clock, executor, stop } = await createTestScheduler({ start: '2026-04-01T00:00:00Z', store });
    await scheduler.add({ name: 'minutely', agentId: 'pinger', cronExpr: '0 * * * * *' });
    await clock.advance('1h');
    expect(executor!.calls).toHaveLength(60);
    // one claim per fire, and the looks at start and when the job was added (a second claim per fire before)
    expect(claims).toBeLessThanOrEqual(62);
    await stop();
  });

  it('a change made while the loop asks the store for its next wake wakes it at once, and the late answer arms no timer', async () => {
    const store = new InMemoryJobStore();
    const nextWakeAt = store.nextWakeAt.bind(store);
    let holdNext = false;
    let release = () => {};
    store.nextWakeAt = async (agents) => {
      const wake = await nextWakeAt(agents);
      if (holdNext) {
        holdNext = false;
        await new Promise<void>((resolve) => (release = resolve));
      }
      return wake;
    };
    const { scheduler, clock, executor, stop } = await createTestScheduler({ start: '2026-04-01T00:00:00Z', store });
    await scheduler.add({ name: 'hourly', agentId: 'pinger', cronExpr: '0 0 * * * *' });
    await clock.advance('1s');
    // The loop's next look (after the manual run is claimed) hangs; the run's end wakes the loop meanwhile.
    holdNext = true;
    await scheduler.runNow('hourly');
    await clock.advance(0);
    expect(executor!.calls).toHaveLength(1);
    const timers = clock.pendingTimers;
    release();
    await clock.advance(0);
    // The answer of the look the loop no longer waits for arms nothing.
    expect(clock.pendingTimers).toBe(timers);
    await clock.advance('1h');
    expect(startTimes(executor!)).toEqual(['2026-04-01T00:00:01.000Z', '2026-04-01T01:00:00.000Z']);
    await stop();
  });
});
