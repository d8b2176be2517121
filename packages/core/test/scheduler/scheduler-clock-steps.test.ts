import { describe, expect, it } from 'vitest';
import type { CatchupPolicy, JobRunRecord, Logger } from '@symbi/core';
import { VirtualClock, failingAgent } from '@symbi/core/testing';
import { startHarness } from './harness.js';

/** A logger keeping its warn lines. */
function warnings(): Logger & { lines: { fields: Record<string, unknown>; message: string }[] } {
  const lines: { fields: Record<string, unknown>; message: string }[] = [];
  return { lines, debug: () => {}, info: () => {}, error: () => {}, warn: (fields, message) => lines.push({ fields, message }) };
}

const scheduledFor = (runs: JobRunRecord[]): string[] => runs.map((r) => r.scheduledFor.toISOString()).sort();
const inRange = (runs: JobRunRecord[], from: string, to: string) =>
  runs.filter((r) => r.scheduledFor.getTime() > new Date(from).getTime() && r.scheduledFor.getTime() <= new Date(to).getTime());

describe('CronScheduler: wall-clock steps', () => {
  it('+1 h during a run: the run is not interrupted, no second attempt starts, and the step is logged at warn', async () => {
    const logger = warnings();
    const { clock, scheduler, executor } = await startHarness({ durationMs: 6_000, logger, config: { tickIntervalMs: 1_000 } });
    await scheduler.add({ name: 'slow', agentId: 'a', cronExpr: '*/10 * * * * *', catchup: 'skip' });
    await clock.advance('13s'); // the 09:00:10 run has run for 3 s
    await clock.stepWall('1h');
    await clock.advance('5s'); // it would end 3 s later
    const runs = await scheduler.history('slow');
    const first = runs.find((r) => r.scheduledFor.toISOString() === '2026-03-02T09:00:10.000Z');
    expect(first).toMatchObject({ status: 'succeeded', attempt: 1, trigger: 'schedule' });
    expect(runs.filter((r) => r.status === 'interrupted' || r.attempt > 1)).toEqual([]);
    expect(executor.calls).toHaveLength(runs.filter((r) => r.status === 'succeeded').length);
    // The step, then the fires it jumped over, which catchup skip runs none of.
    expect(logger.lines).toEqual([
      expect.objectContaining({ fields: expect.objectContaining({ step_ms: 3_600_000 }) }),
      {
        fields: { job: 'slow', dropped: 360, reason: 'skip', oldest: '2026-03-02T09:00:20.000Z', newest: '2026-03-02T10:00:10.000Z' },
        message: 'catch-up dropped 360 missed fire(s) (catchup skip)',
      },
    ]);
    expect(logger.lines[0]!.message).toBe('wall clock stepped forward by 3600000 ms');
    expect(scheduler.metrics.toPrometheus()).toContain('symbiont_cron_clock_steps_total{direction="forward"} 1');
    await scheduler.stop();
  });

  it.each<[CatchupPolicy, number]>([
    ['skip', 0],
    ['once', 1],
  ])('+50 s with catchup %s: the jumped-over fires follow the policy (%i run), no burst of schedule fires', async (catchup, expected) => {
    const { clock, scheduler } = await startHarness({ config: { tickIntervalMs: 1_000 } });
    await scheduler.add({ name: 'second', agentId: 'a', cronExpr: '* * * * * *', catchup });
    await clock.advance('5s');
    await clock.stepWall('50s');
    await clock.advance('3s');
    const runs = await scheduler.history('second');
    const jumped = inRange(runs, '2026-03-02T09:00:05.750Z', '2026-03-02T09:00:55.750Z');
    expect(jumped.map((r) => r.trigger)).toEqual(Array(expected).fill('catchup'));
    // Firing goes on every second at the new wall times.
    expect(scheduledFor(inRange(runs, '2026-03-02T09:00:55.750Z', '2026-03-02T09:00:58Z'))).toEqual([
      '2026-03-02T09:00:56.000Z',
      '2026-03-02T09:00:57.000Z',
      '2026-03-02T09:00:58.000Z',
    ]);
    await scheduler.stop();
  });

  it('-1 h: every-second and every-ten-seconds jobs keep firing at the new wall times', async () => {
    const logger = warnings();
    const { clock, scheduler } = await startHarness({ logger, config: { tickIntervalMs: 1_000 } });
    await scheduler.add({ name: 'second', agentId: 'a', cronExpr: '* * * * * *' });
    await scheduler.add({ name: 'ten', agentId: 'a', cronExpr: '*/10 * * * * *' });
    await clock.advance('5s');
    await clock.stepWall('-1h');
    await clock.advance('12s');
    const afterStep = (runs: JobRunRecord[]) => scheduledFor(inRange(runs, '2026-03-02T07:59:00Z', '2026-03-02T08:00:30Z'));
    expect(afterStep(await scheduler.history('second'))).toHaveLength(12); // 08:00:06 … 08:00:17
    expect(afterStep(await scheduler.history('ten'))).toEqual(['2026-03-02T08:00:10.000Z']);
    expect((await scheduler.getJob('second')).nextRun?.toISOString()).toBe('2026-03-02T08:00:18.000Z');
    expect(logger.lines.map((l) => l.fields.step_ms)).toEqual([-3_600_000]);
    await scheduler.stop();
  });

  it('-1 h while a retry waits for its back-off: the retry runs after the back-off, not an hour later', async () => {
    const { clock, scheduler } = await startHarness({
      agents: { flaky: failingAgent('database unreachable') },
      config: { tickIntervalMs: 1_000, retryBaseDelayMs: 5_000 },
    });
    await scheduler.add({ name: 'hourly', agentId: 'flaky', cronExpr: '0 0 * * * *', maxRetries: 5 });
    await clock.advanceTo('2026-03-02T10:00:01Z'); // the 10:00 run failed; its retry is due 4 s later (back-off × 0.8)
    await clock.stepWall('-1h');
    await clock.advance('6s');
    const attempts = (await scheduler.history('hourly')).map((r) => [r.attempt, r.trigger, r.startedAt?.toISOString()]).reverse();
    expect(attempts.slice(0, 2)).toEqual([
      [1, 'schedule', '2026-03-02T10:00:00.000Z'],
      [2, 'retry', '2026-03-02T09:00:04.000Z'],
    ]);
    await scheduler.stop();
  });

  it('a backward step across a fixed-time fire does not run that fire again', async () => {
    const clock = new VirtualClock('2026-03-02T08:59:58Z');
    const { scheduler } = await startHarness({ clock, config: { tickIntervalMs: 1_000 } });
    await scheduler.add({ name: 'nine', agentId: 'a', cronExpr: '0 0 9 * * *' });
    await clock.advance('4s'); // 09:00:00 ran
    await clock.stepWall('-5s'); // 08:59:57
    await clock.advance('10s');
    const runs = await scheduler.history('nine');
    expect(runs.map((r) => [r.scheduledFor.toISOString(), r.status])).toEqual([['2026-03-02T09:00:00.000Z', 'succeeded']]);
    expect((await scheduler.getJob('nine')).nextRun?.toISOString()).toBe('2026-03-03T09:00:00.000Z');
    await scheduler.stop();
  });

  it('-3 s inside the claim-ahead window: the claimed run does not start before its wall instant', async () => {
    const { clock, scheduler, executor } = await startHarness({ config: { tickIntervalMs: 1_000, claimAheadMs: 500 } });
    await scheduler.add({ name: 'ten', agentId: 'a', cronExpr: '*/10 * * * * *' });
    await clock.advance('9.8s'); // the 09:00:10 fire is claimed and held
    expect(executor.calls).toHaveLength(0);
    await clock.stepWall('-3s');
    await clock.advance('1s'); // its timer fires at wall 09:00:07
    expect(executor.calls).toHaveLength(0);
    await clock.advance('3s');
    expect(executor.calls.map((c) => new Date(c.startedAt).toISOString())).toEqual(['2026-03-02T09:00:10.000Z']);
    await scheduler.stop();
  });
});

describe('CronScheduler: a run claimed ahead and handed back at shutdown', () => {
  /** The 09:00:10 fire of an every-ten-seconds job is claimed ahead and handed back at stop; a restart an hour later runs `for`. */
  async function restartAnHourLater(catchup: CatchupPolicy, runFor = '1s') {
    const first = await startHarness({ config: { tickIntervalMs: 1_000, claimAheadMs: 500 } });
    await first.scheduler.add({ name: 'ten', agentId: 'a', cronExpr: '*/10 * * * * *', catchup });
    await first.clock.advance('9.8s'); // the 09:00:10 fire is claimed ahead
    await first.scheduler.stop();
    await first.clock.stepWall('1h');
    const second = await startHarness({ store: first.store, clock: first.clock, config: { tickIntervalMs: 1_000 } });
    await second.clock.advance(runFor);
    const runs = (await second.scheduler.history('ten', { limit: 1000 })).sort((a, b) => a.scheduledFor.getTime() - b.scheduledFor.getTime());
    await second.scheduler.stop();
    return { runs, calls: second.executor.calls.map((c) => [c.request.run.scheduledFor.toISOString(), c.request.run.trigger]) };
  }

  it.each<[CatchupPolicy, string[][], RegExp]>([
    [
      'skip',
      [
        ['2026-03-02T09:00:10.000Z', 'schedule', 'skipped'],
        ['2026-03-02T10:00:10.000Z', 'schedule', 'succeeded'],
      ],
      /^skipped: missed fire, 3600 s late when it could start \(catchup skip\)$/,
    ],
    [
      'once',
      [
        ['2026-03-02T09:00:10.000Z', 'schedule', 'skipped'],
        ['2026-03-02T10:00:00.000Z', 'catchup', 'succeeded'],
        ['2026-03-02T10:00:10.000Z', 'schedule', 'succeeded'],
      ],
      /^skipped: missed fire, 3600 s late when it could start; a newer fire .* is due, and only the newest missed fire runs \(catchup once\)$/,
    ],
  ])('is judged again at restart an hour later like any missed fire (catchup %s): not run an hour late, not in the way of the catch-up fire', async (catchup, expected, error) => {
    const { runs, calls } = await restartAnHourLater(catchup);
    expect(runs.map((r) => [r.scheduledFor.toISOString(), r.trigger, r.status])).toEqual(expected);
    expect(runs[0]!.error).toMatch(error);
    expect(calls).toEqual(expected.filter(([, , status]) => status === 'succeeded').map(([at, trigger]) => [at, trigger]));
  });

  it('is the oldest missed fire under catchup all: it runs first, then every other missed fire in order, none skipped', async () => {
    const { runs, calls } = await restartAnHourLater('all');
    expect(runs.filter((r) => r.status !== 'succeeded')).toEqual([]);
    // 09:00:10 (handed back), 09:00:20 … 10:00:00 (missed), 10:00:10 (on time)
    expect(calls).toHaveLength(361);
    expect(calls[0]).toEqual(['2026-03-02T09:00:10.000Z', 'schedule']);
    expect(calls.slice(1, -1).every(([, trigger]) => trigger === 'catchup')).toBe(true);
    expect(calls.at(-1)).toEqual(['2026-03-02T10:00:10.000Z', 'schedule']);
    expect(calls.map(([at]) => at)).toEqual(calls.map(([at]) => at).sort());
  });
});
