import { describe, expect, it } from 'vitest';
import {
  decideFire,
  MAX_CATCHUP_FIRES,
  newRun,
  planFire,
  resolveSchedulerConfig,
  StoreError,
  type CronJobDefinition,
  type CronSchedulerConfig,
  type FireWrites,
  type JobLoad,
  type RunStatus,
  type RunTrigger,
} from '@symbi/core';
import { FIXTURE_EPOCH, makeJob } from '@symbi/core/testing';

/** `n` seconds after the fixture epoch. */
const sec = (n: number): Date => new Date(FIXTURE_EPOCH.getTime() + n * 1000);
const iso = (n: number): string => sec(n).toISOString();

/** A fire's write set as plain values: what a reader of the table checks. */
function summary(writes: FireWrites) {
  return {
    runs: writes.runs.map((run) => ({
      trigger: run.trigger,
      status: run.status,
      scheduledFor: run.scheduledFor.toISOString(),
      dueAt: run.dueAt.toISOString(),
      waitForSlot: run.waitForSlot,
      ...(run.error === null ? {} : { error: run.error }),
    })),
    nextRun: writes.jobPatch.nextRun?.toISOString() ?? null,
    status: writes.jobPatch.status,
    version: writes.jobPatch.version,
    cancelRunning: writes.cancelRunning,
  };
}

const scheduled = (at: number, trigger: RunTrigger = 'schedule', waitForSlot = false) => ({
  trigger,
  status: 'scheduled' as RunStatus,
  scheduledFor: iso(at),
  dueAt: iso(at),
  waitForSlot,
});

/** The write set of the fire at 1 s recorded `skipped` by the job's overlap rule, with `inFlight` runs in its way. */
const skippedFire = (inFlight: number, overlap: string): ReturnType<typeof summary> => ({
  runs: [{ ...scheduled(1), status: 'skipped', error: `skipped: ${inFlight} run(s) already in flight (max_concurrent 1, overlap ${overlap})` }],
  nextRun: iso(2),
  status: 'active',
  version: 1,
  cancelRunning: false,
});

interface FireCase {
  name: string;
  job?: Partial<CronJobDefinition>;
  load?: JobLoad;
  now: number;
  config?: Partial<CronSchedulerConfig>;
  random?: number;
  /** The wall time (seconds) a forward clock step jumped over. */
  steppedOver?: [number, number];
  expected: ReturnType<typeof summary>;
}

// Every job fires every second from 1 s after the epoch unless it says otherwise; versions start at 1.
const CASES: FireCase[] = [
  {
    name: 'an on-time fire queues one run and advances nextRun from the scheduled time, not the clock',
    now: 1.2,
    expected: { runs: [scheduled(1)], nextRun: iso(2), status: 'active', version: 1, cancelRunning: false },
  },
  {
    name: 'a fire claimed ahead of its time is planned for its own time',
    now: 0.75,
    expected: { runs: [scheduled(1)], nextRun: iso(2), status: 'active', version: 1, cancelRunning: false },
  },
  {
    name: 'jitter delays dueAt by random × jitter seconds, never the fire time',
    job: { jitterSeconds: 10 },
    random: 0.5,
    now: 1,
    expected: { runs: [{ ...scheduled(1), dueAt: iso(6) }], nextRun: iso(2), status: 'active', version: 1, cancelRunning: false },
  },
  {
    name: 'overlap skip at max_concurrent records a skipped run',
    load: { active: 1, waiting: 0 },
    now: 1,
    expected: skippedFire(1, 'skip'),
  },
  {
    name: 'overlap skip with a missed fire queued for the slot finds the slot taken',
    load: { active: 0, waiting: 1 },
    now: 1,
    expected: skippedFire(1, 'skip'),
  },
  {
    name: 'overlap skip below max_concurrent queues the run',
    job: { maxConcurrent: 2 },
    load: { active: 1, waiting: 0 },
    now: 1,
    expected: { runs: [scheduled(1)], nextRun: iso(2), status: 'active', version: 1, cancelRunning: false },
  },
  {
    name: 'overlap buffer_one queues one run to wait for the slot',
    job: { overlap: 'buffer_one' },
    load: { active: 1, waiting: 0 },
    now: 1,
    expected: { runs: [scheduled(1, 'schedule', true)], nextRun: iso(2), status: 'active', version: 1, cancelRunning: false },
  },
  {
    name: 'overlap buffer_one with a run already waiting skips',
    job: { overlap: 'buffer_one' },
    load: { active: 1, waiting: 1 },
    now: 1,
    expected: skippedFire(2, 'buffer_one'),
  },
  {
    name: 'overlap cancel_other waits for the slot and asks the running runs to stop',
    job: { overlap: 'cancel_other' },
    load: { active: 1, waiting: 0 },
    now: 1,
    expected: { runs: [scheduled(1, 'schedule', true)], nextRun: iso(2), status: 'active', version: 1, cancelRunning: true },
  },
  {
    name: 'overlap skip claimed ahead with the slot taken is left undecided until its due time',
    load: { active: 1, waiting: 0 },
    now: 0.75,
    expected: { runs: [], nextRun: iso(1), status: 'active', version: 1, cancelRunning: false },
  },
  {
    name: 'overlap buffer_one claimed ahead with a run already waiting is left undecided until its due time',
    job: { overlap: 'buffer_one' },
    load: { active: 1, waiting: 1 },
    now: 0.75,
    expected: { runs: [], nextRun: iso(1), status: 'active', version: 1, cancelRunning: false },
  },
  {
    name: 'overlap buffer_one claimed ahead with room in the buffer queues its run at once',
    job: { overlap: 'buffer_one' },
    load: { active: 1, waiting: 0 },
    now: 0.75,
    expected: { runs: [scheduled(1, 'schedule', true)], nextRun: iso(2), status: 'active', version: 1, cancelRunning: false },
  },
  {
    name: 'overlap cancel_other claimed ahead cancels nothing before its due time',
    job: { overlap: 'cancel_other' },
    load: { active: 1, waiting: 0 },
    now: 0.75,
    expected: { runs: [], nextRun: iso(1), status: 'active', version: 1, cancelRunning: false },
  },
  {
    name: 'overlap skip claimed ahead with a free slot is planned at once',
    load: { active: 0, waiting: 0 },
    now: 0.75,
    expected: { runs: [scheduled(1)], nextRun: iso(2), status: 'active', version: 1, cancelRunning: false },
  },
  {
    name: 'overlap allow_all queues whatever is in flight',
    job: { overlap: 'allow_all' },
    load: { active: 5, waiting: 0 },
    now: 1,
    expected: { runs: [scheduled(1)], nextRun: iso(2), status: 'active', version: 1, cancelRunning: false },
  },
  {
    name: 'a fire up to misfireThresholdMs (default 5 s: the grace for timer lateness) late runs as scheduled',
    now: 6,
    expected: { runs: [scheduled(1)], nextRun: iso(2), status: 'active', version: 1, cancelRunning: false },
  },
  {
    name: 'a missed fire with catchup skip runs nothing and resumes after now',
    job: { catchup: 'skip' },
    now: 100,
    expected: { runs: [], nextRun: iso(101), status: 'active', version: 1, cancelRunning: false },
  },
  {
    name: 'a missed fire with catchup once runs the newest missed fire',
    now: 100,
    expected: { runs: [scheduled(100, 'catchup')], nextRun: iso(101), status: 'active', version: 1, cancelRunning: false },
  },
  {
    name: 'catchup once with the slot taken (a stale run still queued) queues the newest missed fire for the slot instead of skipping it',
    load: { active: 1, waiting: 0 },
    now: 100,
    expected: { runs: [scheduled(100, 'catchup', true)], nextRun: iso(101), status: 'active', version: 1, cancelRunning: false },
  },
  {
    name: 'catchup once finds the newest missed fire of a sparse schedule far back in the window',
    job: { cronExpr: '0 0 * * * *', nextRun: sec(-3600) },
    now: 7300,
    expected: { runs: [scheduled(7200, 'catchup')], nextRun: iso(10800), status: 'active', version: 1, cancelRunning: false },
  },
  {
    name: 'catchup all with overlap skip queues the missed fires in order instead of skipping them',
    job: { catchup: 'all', overlap: 'skip', maxConcurrent: 1 },
    config: { catchupWindowMs: 3000 },
    now: 100,
    expected: {
      runs: [scheduled(98, 'catchup'), scheduled(99, 'catchup', true), scheduled(100, 'catchup', true)],
      nextRun: iso(101),
      status: 'active',
      version: 1,
      cancelRunning: false,
    },
  },
  {
    name: 'catchup all with a run in flight and overlap cancel_other queues them all and cancels nothing',
    job: { catchup: 'all', overlap: 'cancel_other', maxConcurrent: 1 },
    load: { active: 1, waiting: 0 },
    config: { catchupWindowMs: 2000 },
    now: 100,
    expected: {
      runs: [scheduled(99, 'catchup', true), scheduled(100, 'catchup', true)],
      nextRun: iso(101),
      status: 'active',
      version: 1,
      cancelRunning: false,
    },
  },
  {
    name: 'a fire a forward clock step jumped over is missed however short the step (catchup skip)',
    job: { catchup: 'skip', nextRun: sec(6) },
    steppedOver: [5, 55],
    now: 55,
    expected: { runs: [], nextRun: iso(56), status: 'active', version: 1, cancelRunning: false },
  },
  {
    name: 'a fire jumped over by a forward step with catchup once runs the newest jumped-over fire',
    job: { catchup: 'once', nextRun: sec(6) },
    steppedOver: [5, 55],
    now: 55.2,
    expected: { runs: [scheduled(55, 'catchup')], nextRun: iso(56), status: 'active', version: 1, cancelRunning: false },
  },
  {
    name: 'a fire 6 s late is missed: it follows the catch-up policy, not replayed as scheduled',
    now: 7,
    expected: { runs: [scheduled(7, 'catchup')], nextRun: iso(8), status: 'active', version: 1, cancelRunning: false },
  },
  {
    name: 'a fire due before the step is on time',
    job: { nextRun: sec(5) },
    config: { misfireThresholdMs: 60_000 },
    steppedOver: [5, 55],
    now: 55.2,
    expected: { runs: [scheduled(5)], nextRun: iso(6), status: 'active', version: 1, cancelRunning: false },
  },
  {
    name: 'catchup all runs every missed fire inside the catch-up window',
    job: { catchup: 'all', overlap: 'allow_all' },
    config: { catchupWindowMs: 3000 },
    now: 100,
    expected: {
      runs: [scheduled(98, 'catchup'), scheduled(99, 'catchup'), scheduled(100, 'catchup')],
      nextRun: iso(101),
      status: 'active',
      version: 1,
      cancelRunning: false,
    },
  },
  {
    name: 'catch-up is off when the scheduler disables it',
    config: { enableMissedRunCatchup: false },
    now: 100,
    expected: { runs: [], nextRun: iso(101), status: 'active', version: 1, cancelRunning: false },
  },
  {
    name: 'an on-time one-shot fires and leaves no next fire',
    job: { cronExpr: null, at: iso(1) },
    now: 1,
    expected: { runs: [scheduled(1)], nextRun: null, status: 'active', version: 1, cancelRunning: false },
  },
  {
    name: 'a missed one-shot with catchup skip completes, bumping the version',
    job: { cronExpr: null, at: iso(1), catchup: 'skip' },
    now: 100,
    expected: { runs: [], nextRun: null, status: 'completed', version: 2, cancelRunning: false },
  },
];

describe('decideFire with planFire: plain inputs → the write set of a fire', () => {
  it.each(CASES)('$name', (c) => {
    const job = makeJob({ nextRun: sec(1), ...c.job });
    const now = sec(c.now);
    const steppedOver = c.steppedOver ? { from: sec(c.steppedOver[0]), to: sec(c.steppedOver[1]) } : null;
    const ctx = { now, config: resolveSchedulerConfig(c.config ?? {}), random: () => c.random ?? 0, steppedOver };
    const writes = decideFire(job, c.load ?? { active: 0, waiting: 0 }, { now, plan: (j, load) => planFire(j, load, ctx) });
    expect(summary(writes)).toEqual(c.expected);
    expect(writes.runs.every((run) => run.jobId === job.id && run.fireKey !== null)).toBe(true);
    expect(writes.job).toMatchObject(writes.jobPatch);
  });

  it('catchup all keeps the newest MAX_CATCHUP_FIRES missed fires and reports the older ones it dropped', () => {
    const job = makeJob({ catchup: 'all', overlap: 'allow_all', nextRun: sec(1) });
    const ctx = { now: sec(1500), config: resolveSchedulerConfig({}), random: () => 0 };
    const plan = planFire(job, { active: 0, waiting: 0 }, ctx);
    expect(plan.runs).toHaveLength(MAX_CATCHUP_FIRES);
    expect(plan.runs[0]!.scheduledFor).toEqual(sec(501));
    expect(plan.runs.at(-1)!.scheduledFor).toEqual(sec(1500));
    expect(plan.dropped).toEqual({ count: 500, oldest: sec(1), newest: sec(500), reason: 'cap' });
  });

  it.each([
    { name: 'catchup skip: every missed fire', job: { catchup: 'skip' as const }, now: 10, dropped: { count: 10, oldest: sec(1), newest: sec(10), reason: 'skip' } },
    { name: 'catchup once: all but the newest', job: { catchup: 'once' as const }, now: 10, dropped: { count: 9, oldest: sec(1), newest: sec(9), reason: 'once' } },
    {
      name: 'catchup all: the fires older than the catch-up window',
      job: { catchup: 'all' as const, overlap: 'allow_all' as const },
      config: { catchupWindowMs: 3000 },
      now: 10,
      dropped: { count: 7, oldest: sec(1), newest: sec(7), reason: 'window' },
    },
    {
      name: 'catch-up disabled: every missed fire, as skip',
      config: { enableMissedRunCatchup: false },
      now: 10,
      dropped: { count: 10, oldest: sec(1), newest: sec(10), reason: 'skip' },
    },
    {
      name: 'a long outage is counted up to MAX_CATCHUP_FIRES, with the newest dropped fire still exact',
      job: { catchup: 'skip' as const },
      now: 5000,
      dropped: { count: MAX_CATCHUP_FIRES, more: true, oldest: sec(1), newest: sec(5000), reason: 'skip' },
    },
    { name: 'catchup all inside the window drops nothing', job: { catchup: 'all' as const, overlap: 'allow_all' as const }, now: 10, dropped: undefined },
    { name: 'a fire on time drops nothing', job: { catchup: 'skip' as const }, now: 1, dropped: undefined },
  ])('a late plan reports the missed fires it makes no run for: $name', ({ job, config, now, dropped }) => {
    const ctx = { now: sec(now), config: resolveSchedulerConfig(config ?? {}), random: () => 0 };
    expect(planFire(makeJob({ nextRun: sec(1), ...job }), { active: 0, waiting: 0 }, ctx).dropped).toEqual(dropped);
  });

  it('a fire left undecided says until when, and writes nothing: the job keeps its next fire and version', () => {
    const job = makeJob({ nextRun: sec(1) });
    const ctx = { now: sec(0.75), config: resolveSchedulerConfig({}), random: () => 0 };
    const plan = planFire(job, { active: 1, waiting: 0 }, ctx);
    expect(plan).toEqual({ runs: [], nextRun: sec(1), deferredUntil: sec(1) });
    const writes = decideFire(job, { active: 1, waiting: 0 }, { now: ctx.now, plan: () => plan });
    expect(writes.jobPatch).toEqual({ id: job.id, nextRun: job.nextRun, status: job.status, version: job.version, updatedAt: job.updatedAt });
  });

  it('a status change takes effect at the claim time', () => {
    const job = makeJob({ cronExpr: null, at: iso(1), catchup: 'skip', nextRun: sec(1) });
    const ctx = { now: sec(100), config: resolveSchedulerConfig({}), random: () => 0 };
    const writes = decideFire(job, { active: 0, waiting: 0 }, { now: ctx.now, plan: (j, load) => planFire(j, load, ctx) });
    expect(writes.jobPatch.updatedAt).toEqual(sec(100));
  });

  it('refuses a plan that returns a run of another job, before anything is written', () => {
    const job = makeJob();
    const stray = newRun(makeJob(), { scheduledFor: sec(1), trigger: 'schedule' });
    expect(() => decideFire(job, { active: 0, waiting: 0 }, { now: sec(1), plan: () => ({ runs: [stray], nextRun: sec(2) }) })).toThrow(StoreError);
  });

  it('copies the next fire time, so the plan cannot change it afterwards', () => {
    const next = sec(2);
    const writes = decideFire(makeJob(), { active: 0, waiting: 0 }, { now: sec(1), plan: () => ({ runs: [], nextRun: next }) });
    next.setTime(0);
    expect(writes.jobPatch.nextRun).toEqual(sec(2));
  });
});
