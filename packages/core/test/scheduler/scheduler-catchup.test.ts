import { describe, expect, it } from 'vitest';
import { InMemoryJobStore, MAX_CATCHUP_FIRES, type CatchupPolicy } from '@symbi/core';
import { VirtualClock, makeJob } from '@symbi/core/testing';
import { startHarness } from './harness.js';

/** A store holding an hourly job whose last fire was at 06:00, found at 09:00:00.5 (the scheduler was down). */
async function downtime(catchup: CatchupPolicy, config = {}) {
  const store = new InMemoryJobStore();
  await store.init();
  await store.createJob(
    makeJob({ name: 'hourly', agentId: 'a', cronExpr: '0 0 * * * *', catchup, nextRun: new Date('2026-03-02T07:00:00Z') }),
  );
  const clock = new VirtualClock('2026-03-02T09:00:00.500Z');
  return startHarness({ store, clock, config });
}

describe('CronScheduler: missed fires on start (catch-up)', () => {
  it('once (default): runs the newest missed fire and resumes the schedule', async () => {
    const { clock, scheduler } = await downtime('once');
    await clock.advance('100ms');
    const runs = await scheduler.history('hourly');
    expect(runs.map((r) => [r.trigger, r.scheduledFor.toISOString(), r.status])).toEqual([
      ['catchup', '2026-03-02T09:00:00.000Z', 'succeeded'],
    ]);
    expect((await scheduler.getJob('hourly')).nextRun?.toISOString()).toBe('2026-03-02T10:00:00.000Z');
    await scheduler.stop();
  });

  it('all: runs every missed fire, each marked catchup', async () => {
    const { clock, scheduler } = await downtime('all');
    await clock.advance('100ms');
    const runs = (await scheduler.history('hourly')).reverse();
    expect(runs.map((r) => [r.trigger, r.scheduledFor.toISOString()])).toEqual([
      ['catchup', '2026-03-02T07:00:00.000Z'],
      ['catchup', '2026-03-02T08:00:00.000Z'],
      ['catchup', '2026-03-02T09:00:00.000Z'],
    ]);
    await scheduler.stop();
  });

  it('skip: runs nothing missed and waits for the next fire', async () => {
    const { clock, scheduler, executor } = await downtime('skip');
    await clock.advance('100ms');
    expect(executor.calls).toHaveLength(0);
    expect((await scheduler.getJob('hourly')).nextRun?.toISOString()).toBe('2026-03-02T10:00:00.000Z');
    await scheduler.stop();
  });

  it('enable_missed_run_catchup = false skips missed fires for every job', async () => {
    const { clock, executor, scheduler } = await downtime('all', { enableMissedRunCatchup: false });
    await clock.advance('100ms');
    expect(executor.calls).toHaveLength(0);
    await scheduler.stop();
  });

  it('all: stays within the catch-up window', async () => {
    const { clock, scheduler } = await downtime('all', { catchupWindowMs: 90 * 60_000 });
    await clock.advance('100ms');
    expect((await scheduler.history('hourly')).map((r) => r.scheduledFor.toISOString()).reverse()).toEqual([
      '2026-03-02T08:00:00.000Z',
      '2026-03-02T09:00:00.000Z',
    ]);
    await scheduler.stop();
  });

  it('a one-shot missed under skip completes without running', async () => {
    const store = new InMemoryJobStore();
    await store.init();
    await store.createJob(makeJob({ name: 'once', cronExpr: null, at: '2026-03-02T07:00:00Z', catchup: 'skip', nextRun: new Date('2026-03-02T07:00:00Z') }));
    const { clock, scheduler, executor } = await startHarness({ store, clock: new VirtualClock('2026-03-02T09:00:00Z') });
    await clock.advance('100ms');
    expect(executor.calls).toHaveLength(0);
    expect((await scheduler.getJob('once')).status).toBe('completed');
    await scheduler.stop();
  });
});

describe('CronScheduler: a short outage follows the catch-up policy too', () => {
  /** An every-ten-seconds job whose 09:00:00 fire was not claimed: the scheduler starts `down` later. */
  async function outage(catchup: CatchupPolicy, down: string) {
    const store = new InMemoryJobStore();
    await store.init();
    await store.createJob(makeJob({ name: 'ten', agentId: 'a', cronExpr: '*/10 * * * * *', catchup, nextRun: new Date('2026-03-02T09:00:00Z') }));
    const clock = new VirtualClock('2026-03-02T09:00:00Z');
    await clock.advance(down);
    const h = await startHarness({ store, clock });
    await clock.advance('100ms');
    const runs = (await h.scheduler.history('ten')).reverse().map((r) => [r.scheduledFor.toISOString(), r.trigger, r.status]);
    await h.scheduler.stop();
    return { runs, executor: h.executor, dropped: h.scheduler.metrics.snapshot().catchupDropped };
  }

  it.each<[CatchupPolicy, string[][]]>([
    ['skip', []],
    ['once', [['2026-03-02T09:00:20.000Z', 'catchup', 'succeeded']]],
    [
      'all',
      [
        ['2026-03-02T09:00:00.000Z', 'catchup', 'succeeded'],
        ['2026-03-02T09:00:10.000Z', 'catchup', 'succeeded'],
        ['2026-03-02T09:00:20.000Z', 'catchup', 'succeeded'],
      ],
    ],
  ])('down 21 s with catchup %s: the missed fires follow the policy, none replayed as schedule', async (catchup, expected) => {
    expect((await outage(catchup, '21s')).runs).toEqual(expected);
  });

  it.each<[CatchupPolicy, { jobName: string; reason: string; count: number }[]]>([
    ['skip', [{ jobName: 'ten', reason: 'skip', count: 3 }]],
    ['once', [{ jobName: 'ten', reason: 'once', count: 2 }]],
    ['all', []],
  ])('down 21 s with catchup %s: the missed fires that got no run are counted', async (catchup, expected) => {
    expect((await outage(catchup, '21s')).dropped).toEqual(expected);
  });

  it('a fire found a few seconds late (timer lateness, within misfireThresholdMs) still runs as scheduled', async () => {
    const { runs } = await outage('skip', '4s');
    expect(runs).toEqual([['2026-03-02T09:00:00.000Z', 'schedule', 'succeeded']]);
  });
});

describe('CronScheduler: catchup all after a long downtime', () => {
  it('runs the newest missed fires in order, skips none of them, and logs and counts the fires the cap dropped', async () => {
    const store = new InMemoryJobStore();
    await store.init();
    await store.createJob(
      makeJob({ name: 'second', agentId: 'a', cronExpr: '* * * * * *', catchup: 'all', overlap: 'skip', maxConcurrent: 1, nextRun: new Date('2026-03-02T08:40:00Z') }),
    );
    const warned: { fields: Record<string, unknown>; message: string }[] = [];
    const logger = { debug: () => {}, info: () => {}, error: () => {}, warn: (fields: Record<string, unknown>, message: string) => warned.push({ fields, message }) };
    const { clock, scheduler, executor } = await startHarness({ store, clock: new VirtualClock('2026-03-02T09:00:00.500Z'), logger });
    await clock.advance('100ms');
    const started = executor.calls.map((c) => c.request.run.scheduledFor.toISOString());
    const runs = await scheduler.history('second', { limit: 2000 });
    expect(runs.filter((r) => r.status === 'skipped')).toEqual([]);
    expect(runs).toHaveLength(MAX_CATCHUP_FIRES);
    expect(started[0]).toBe('2026-03-02T08:43:21.000Z');
    expect(started.at(-1)).toBe('2026-03-02T09:00:00.000Z');
    expect(started).toEqual([...started].sort());
    expect(warned).toEqual([
      {
        fields: { job: 'second', dropped: 201, reason: 'cap', oldest: '2026-03-02T08:40:00.000Z', newest: '2026-03-02T08:43:20.000Z' },
        message: `catch-up dropped 201 missed fire(s) beyond the cap of ${MAX_CATCHUP_FIRES}`,
      },
    ]);
    expect(scheduler.metrics.toPrometheus()).toContain('symbiont_cron_catchup_dropped_total{job_name="second",reason="cap"} 201');
    await scheduler.stop();
  });
});

describe('CronScheduler: a change of a job that drops its overdue fire reports it', () => {
  /** An every-ten-seconds job whose 09:00:00 and 09:00:10 fires are due and not claimed (no loop runs) at 09:00:12. */
  async function overdue() {
    const store = new InMemoryJobStore();
    await store.init();
    await store.createJob(makeJob({ name: 'ten', agentId: 'a', cronExpr: '*/10 * * * * *', nextRun: new Date('2026-03-02T09:00:00Z') }));
    const warned: { fields: Record<string, unknown>; message: string }[] = [];
    const logger = { debug: () => {}, info: () => {}, error: () => {}, warn: (fields: Record<string, unknown>, message: string) => warned.push({ fields, message }) };
    const h = await startHarness({ store, clock: new VirtualClock('2026-03-02T09:00:12Z'), logger, start: false });
    return { ...h, warned };
  }
  const range = { oldest: '2026-03-02T09:00:00.000Z', newest: '2026-03-02T09:00:10.000Z' };

  it('a new schedule starts from now: the old schedule\'s overdue fires are logged and counted as rescheduled', async () => {
    const { scheduler, warned } = await overdue();
    await scheduler.update('ten', { cronExpr: '*/15 * * * * *' });
    expect(warned).toEqual([
      {
        fields: { job: 'ten', dropped: 2, reason: 'rescheduled', ...range },
        message: 'catch-up dropped 2 missed fire(s) of the old schedule: due and not yet claimed when the job was rescheduled',
      },
    ]);
    expect(scheduler.metrics.toPrometheus()).toContain('symbiont_cron_catchup_dropped_total{job_name="ten",reason="rescheduled"} 2');
  });

  it('a pause drops the overdue fires and says so', async () => {
    const { scheduler, warned } = await overdue();
    await scheduler.pause('ten');
    expect(warned.map((w) => w.fields)).toEqual([{ job: 'ten', dropped: 2, reason: 'paused', ...range }]);
  });

  it('a change that keeps the schedule keeps the overdue fire, and reports nothing', async () => {
    const { scheduler, warned } = await overdue();
    const job = await scheduler.update('ten', { input: 'new input' });
    expect(job.nextRun?.toISOString()).toBe('2026-03-02T09:00:00.000Z');
    expect(warned).toEqual([]);
  });
});
