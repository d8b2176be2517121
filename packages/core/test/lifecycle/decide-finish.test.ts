import { describe, expect, it } from 'vitest';
import { planFinish } from '../../src/lifecycle/fire-planner.js';
import {
  claimTerms,
  decideFinish,
  interruption,
  newRun,
  resolveSchedulerConfig,
  StoreError,
  ValidationError,
  type CronJobDefinition,
  type FinishWrites,
  type JobRunRecord,
  type JobStatus,
  type RunOutcome,
} from '@symbi/core';
import { FIXTURE_EPOCH, makeJob } from '@symbi/core/testing';

const sec = (n: number): Date => new Date(FIXTURE_EPOCH.getTime() + n * 1000);
const iso = (n: number): string => sec(n).toISOString();

/** A finish's write set as plain values. */
function summary(writes: FinishWrites) {
  const { jobPatch, retry } = writes;
  return {
    job:
      jobPatch === null
        ? null
        : {
            runCount: jobPatch.runCount,
            failureCount: jobPatch.failureCount,
            consecutiveFailures: jobPatch.consecutiveFailures,
            lastRun: jobPatch.lastRun?.toISOString() ?? null,
            status: jobPatch.status,
            nextRun: jobPatch.nextRun?.toISOString() ?? null,
            version: jobPatch.version,
            updatedAt: jobPatch.updatedAt.toISOString(),
          },
    retry: retry === null ? null : { trigger: retry.trigger, attempt: retry.attempt, scheduledFor: retry.scheduledFor.toISOString(), dueAt: retry.dueAt.toISOString() },
    audit: writes.audit.map((event) => event.type),
  };
}

interface FinishCase {
  name: string;
  job?: Partial<CronJobDefinition>;
  run?: Partial<JobRunRecord>;
  outcome: RunOutcome;
  expected: ReturnType<typeof summary>;
}

// The run fired at 1 s, started at 2 s and finished at 5 s; the job had run 3 times, failed once
// in a row (2 failures in all), at version 1, last changed at the epoch. Retries back off from 1 s.
const UNCHANGED = { lastRun: iso(2), status: 'active' as JobStatus, nextRun: iso(1), version: 1, updatedAt: iso(0) };
const CASES: FinishCase[] = [
  {
    name: 'a success counts the run, clears the failure streak and sets lastRun to its start',
    outcome: 'success',
    expected: { job: { runCount: 4, failureCount: 2, consecutiveFailures: 0, ...UNCHANGED }, retry: null, audit: ['CronJobExecuted'] },
  },
  {
    name: 'a failure under max_retries counts it and queues a retry after the back-off',
    run: { status: 'failed' },
    outcome: 'failure',
    expected: {
      job: { runCount: 4, failureCount: 3, consecutiveFailures: 2, ...UNCHANGED },
      retry: { trigger: 'retry', attempt: 2, scheduledFor: iso(1), dueAt: iso(7) },
      audit: ['CronJobFailed'],
    },
  },
  {
    name: 'the failure that reaches max_retries dead-letters the job at the finish time, without a retry or a next fire',
    job: { maxRetries: 2 },
    run: { status: 'timed_out' },
    outcome: 'failure',
    expected: {
      job: { runCount: 4, failureCount: 3, consecutiveFailures: 2, lastRun: iso(2), status: 'dead_letter', nextRun: null, version: 2, updatedAt: iso(5) },
      retry: null,
      audit: ['CronJobFailed', 'CronJobDeadLettered'],
    },
  },
  {
    name: 'a failed manual run is not retried',
    run: { status: 'failed', trigger: 'manual', fireKey: null },
    outcome: 'failure',
    expected: { job: { runCount: 4, failureCount: 3, consecutiveFailures: 2, ...UNCHANGED }, retry: null, audit: ['CronJobFailed'] },
  },
  {
    name: 'a failure of a paused job is counted but not retried',
    job: { status: 'paused' },
    run: { status: 'failed' },
    outcome: 'failure',
    expected: { job: { runCount: 4, failureCount: 3, consecutiveFailures: 2, ...UNCHANGED, status: 'paused' }, retry: null, audit: ['CronJobFailed'] },
  },
  {
    name: 'a denied run counts as a run and leaves the failure streak',
    run: { status: 'denied', startedAt: null },
    outcome: 'neutral',
    expected: { job: { runCount: 4, failureCount: 2, consecutiveFailures: 1, ...UNCHANGED, lastRun: iso(1) }, retry: null, audit: [] },
  },
  {
    name: 'a skipped run counts for nothing',
    run: { status: 'skipped', startedAt: null },
    outcome: 'neutral',
    expected: { job: { runCount: 3, failureCount: 2, consecutiveFailures: 1, ...UNCHANGED, lastRun: null }, retry: null, audit: [] },
  },
  {
    name: 'a one-shot that succeeded completes',
    job: { cronExpr: null, at: iso(1), nextRun: null },
    outcome: 'success',
    expected: {
      job: { runCount: 4, failureCount: 2, consecutiveFailures: 0, lastRun: iso(2), status: 'completed', nextRun: null, version: 2, updatedAt: iso(5) },
      retry: null,
      audit: ['CronJobExecuted'],
    },
  },
  {
    name: 'a one-shot that was denied ends failed',
    job: { cronExpr: null, at: iso(1), nextRun: null },
    run: { status: 'denied', startedAt: null },
    outcome: 'neutral',
    expected: {
      job: { runCount: 4, failureCount: 2, consecutiveFailures: 1, lastRun: iso(1), status: 'failed', nextRun: null, version: 2, updatedAt: iso(5) },
      retry: null,
      audit: [],
    },
  },
  {
    name: 'an interrupted run counts as a failure and is retried',
    run: { status: 'interrupted' },
    outcome: 'failure',
    expected: {
      job: { runCount: 4, failureCount: 3, consecutiveFailures: 2, ...UNCHANGED },
      retry: { trigger: 'retry', attempt: 2, scheduledFor: iso(1), dueAt: iso(7) },
      audit: [],
    },
  },
];

/** Audit events as the pipeline writes them: one per failure or success, one per dead-letter. */
function auditOf(run: JobRunRecord, job: CronJobDefinition | null) {
  const types: string[] = [];
  if (run.status === 'succeeded') types.push('CronJobExecuted');
  if (run.status === 'failed' || run.status === 'timed_out') types.push('CronJobFailed');
  if (job?.status === 'dead_letter') types.push('CronJobDeadLettered');
  return types.map((type) => ({ id: type, type: type as 'CronJobExecuted', at: sec(5), jobId: job?.id ?? null, runId: run.id, actor: 'scheduler', details: {} }));
}

describe('decideFinish with planFinish: plain inputs → the write set of a finish', () => {
  it.each(CASES)('$name', (c) => {
    const job = makeJob({ runCount: 3, failureCount: 2, consecutiveFailures: 1, lastRun: null, ...c.job });
    const run: JobRunRecord = {
      ...newRun(job, { scheduledFor: sec(1), trigger: 'schedule' }),
      status: 'succeeded',
      startedAt: sec(2),
      completedAt: sec(5),
      ...c.run,
    };
    const ctx = { now: sec(5), config: resolveSchedulerConfig({ retryBaseDelayMs: 1000 }), random: () => 0.5 };
    const writes = decideFinish(job, run, { outcome: c.outcome, plan: (counted, finished) => planFinish(counted, finished, c.outcome, ctx), audit: auditOf });
    expect(summary(writes)).toEqual(c.expected);
    expect(writes.job).toMatchObject(writes.jobPatch ?? {});
  });

  it('for a job that is gone writes only the audit events', () => {
    const run: JobRunRecord = { ...newRun(makeJob(), { scheduledFor: sec(1), trigger: 'schedule' }), status: 'succeeded', completedAt: sec(5) };
    const writes = decideFinish(null, run, { outcome: 'success', plan: () => ({ status: 'failed' }), audit: auditOf });
    expect(summary(writes)).toEqual({ job: null, retry: null, audit: ['CronJobExecuted'] });
  });

  it('refuses a retry of another job, before anything is written', () => {
    const job = makeJob();
    const run = newRun(job, { scheduledFor: sec(1), trigger: 'schedule' });
    const stray = newRun(makeJob(), { scheduledFor: sec(1), trigger: 'retry', attempt: 2 });
    expect(() => decideFinish(job, run, { outcome: 'failure', plan: () => ({ retry: stray }) })).toThrow(StoreError);
  });

  it('leaves the stored job as it was', () => {
    const job = makeJob({ consecutiveFailures: 2 });
    const run: JobRunRecord = { ...newRun(job, { scheduledFor: sec(1), trigger: 'schedule' }), status: 'failed', completedAt: sec(5) };
    decideFinish(job, run, { outcome: 'failure', plan: () => ({ status: 'dead_letter' }) });
    expect(job).toMatchObject({ consecutiveFailures: 2, status: 'active', version: 1 });
  });
});

describe('interruption: a run whose owner stopped renewing its lease', () => {
  const running: JobRunRecord = { ...newRun(makeJob(), { scheduledFor: sec(1), trigger: 'schedule' }), status: 'running', owner: 'dead-instance', leaseExpiresAt: sec(30) };

  it.each([
    { name: 'names the lapsed lease and its owner', run: running, error: `lease expired at ${iso(30)}: owner dead-instance stopped renewing it` },
    { name: 'keeps an error the run had already', run: { ...running, error: 'interrupted: the scheduler shut down' }, error: 'interrupted: the scheduler shut down' },
  ])('$name, ends it interrupted at now and takes it from its owner', ({ run, error }) => {
    expect(interruption(run, sec(40))).toEqual({ status: 'interrupted', error, completedAt: sec(40), owner: null, leaseExpiresAt: null });
  });
});

describe('claimTerms: what every store is given to claim', () => {
  const base = { now: sec(10), owner: 'a', leaseMs: 30_000, limit: 5 };

  it.each([
    { name: 'without a horizon, claims what is due now', request: base, horizon: iso(10) },
    { name: 'claims ahead up to its horizon', request: { ...base, horizon: sec(11) }, horizon: iso(11) },
    { name: 'never claims by a horizon before now', request: { ...base, horizon: sec(9) }, horizon: iso(10) },
  ])('$name, leasing from now', ({ request, horizon }) => {
    expect(claimTerms(request)).toEqual({ now: sec(10), horizon: new Date(horizon), owner: 'a', limit: 5, leaseExpiresAt: sec(40), agents: null });
  });

  it('keeps the agents a claimer can run, and takes every agent without a list', () => {
    expect(claimTerms({ ...base, agents: ['alpha'] }).agents).toEqual(['alpha']);
    expect(claimTerms({ ...base, agents: [] }).agents).toEqual([]);
    expect(claimTerms(base).agents).toBeNull();
  });

  it.each([
    { field: 'limit', request: { ...base, limit: -1 } },
    { field: 'limit', request: { ...base, limit: 1.5 } },
    { field: 'leaseMs', request: { ...base, leaseMs: Number.NaN } },
    { field: 'leaseMs', request: { ...base, leaseMs: -5 } },
    { field: 'horizon', request: { ...base, horizon: new Date(Number.NaN) } },
  ])('refuses a bad $field, naming it', ({ field, request }) => {
    expect(() => claimTerms(request)).toThrow(expect.objectContaining({ field, constructor: ValidationError }) as unknown as Error);
  });
});
