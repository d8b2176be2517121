import { describe, expect } from 'vitest';
import type { CronJobDefinition } from '../domain/job.js';
import { newRun } from '../domain/run-factory.js';
import { TERMINAL_RUN_STATUSES, type DeliveryOutcome, type JobRunRecord, type RunStatus } from '../domain/run.js';
import type { JobPruneTerms, JobStore, PruneRequest } from '../ports/job-store.js';
import { FIXTURE_EPOCH, makeJob } from './fixtures.js';

/** `n` seconds after the fixture epoch. */
const sec = (n: number): Date => new Date(FIXTURE_EPOCH.getTime() + n * 1000);

/** The store under test, and the suite's `it` (honouring the adapter's skips). */
export interface PruneConformanceContext {
  store(): JobStore;
  test(title: string, body: () => Promise<void>): void;
}

/**
 * The `pruneHistory` part of the {@link JobStore} conformance suite: every store deletes exactly
 * the runs core's retention rule (`prunableRuns`) selects, in bounded batches.
 */
export function registerPruneConformance({ store, test }: PruneConformanceContext): void {
  /** A finished (or, by `status`, unfinished) manual run of `job` scheduled at `at` seconds. */
  const stored = async (job: CronJobDefinition, at: number, fields: Partial<JobRunRecord> = {}): Promise<JobRunRecord> => {
    const status: RunStatus = fields.status ?? 'succeeded';
    const finished = TERMINAL_RUN_STATUSES.includes(status);
    const run = { ...newRun(job, { scheduledFor: sec(at), trigger: 'manual' }), status, completedAt: finished ? sec(at + 1) : null, ...fields };
    return store().insertRun(run);
  };
  const prune = (jobs: JobPruneTerms[], fields: Partial<PruneRequest> = {}): Promise<number> => {
    const method = store().pruneHistory;
    if (method === undefined) throw new Error('the store has no pruneHistory');
    return method.call(store(), { jobs, statuses: TERMINAL_RUN_STATUSES, limit: 500, ...fields });
  };
  const remaining = async (job: CronJobDefinition): Promise<number[]> =>
    (await store().listRuns({ jobId: job.id, limit: 1000 })).map((run) => (run.scheduledFor.getTime() - FIXTURE_EPOCH.getTime()) / 1000).sort((a, b) => a - b);
  const delivery = (status: DeliveryOutcome['status']): DeliveryOutcome => ({ channel: 'webhook', status, attempts: 1, error: null, completedAt: null });

  describe('pruneHistory', () => {
    test('deletes finished runs scheduled and finished before the cutoff, and keeps the newer ones', async () => {
      const job = await store().createJob(makeJob());
      await stored(job, 10);
      await stored(job, 20, { status: 'failed' });
      await stored(job, 30, { status: 'skipped' });
      await stored(job, 40, { completedAt: sec(60) });
      await stored(job, 100);
      expect(await prune([{ jobId: job.id, finishedBefore: sec(50), keepNewest: null }])).toBe(3);
      expect(await remaining(job)).toEqual([40, 100]);
    });

    test('never deletes a run in flight, awaiting approval or with a pending delivery, however old', async () => {
      const job = await store().createJob(makeJob());
      for (const status of ['scheduled', 'running', 'awaiting_approval'] as const) await stored(job, 1, { status });
      await stored(job, 2, { deliveries: [delivery('delivered'), delivery('pending')] });
      await stored(job, 3, { deliveries: [delivery('delivered'), delivery('failed')] });
      await stored(job, 4, { status: 'timed_out' });
      await stored(job, 5, { status: 'denied' });
      await stored(job, 6, { status: 'interrupted' });
      expect(await prune([{ jobId: job.id, finishedBefore: sec(1000), keepNewest: 0 }])).toBe(4);
      const left = await store().listRuns({ jobId: job.id });
      expect(left.map((run) => run.status).sort()).toEqual(['awaiting_approval', 'running', 'scheduled', 'succeeded']);
      expect(left.find((run) => run.status === 'succeeded')?.deliveries.map((d) => d.status)).toEqual(['delivered', 'pending']);
    });

    test('keepNewest keeps the newest finished runs by scheduled time; runs in flight do not count', async () => {
      const job = await store().createJob(makeJob());
      for (const at of [3, 1, 5, 2, 4]) await stored(job, at);
      await stored(job, 6, { status: 'running' });
      expect(await prune([{ jobId: job.id, finishedBefore: null, keepNewest: 2 }])).toBe(3);
      expect(await remaining(job)).toEqual([4, 5, 6]);
      expect(await prune([{ jobId: job.id, finishedBefore: null, keepNewest: 2 }])).toBe(0);
    });

    test('a finished run with a pending delivery counts among the newest kept', async () => {
      const job = await store().createJob(makeJob());
      await stored(job, 1);
      await stored(job, 2);
      await stored(job, 3, { deliveries: [delivery('pending')] });
      expect(await prune([{ jobId: job.id, finishedBefore: null, keepNewest: 1 }])).toBe(2);
      expect(await remaining(job)).toEqual([3]);
    });

    test('deletes at most limit runs per call, oldest first, and the rest on later calls', async () => {
      const job = await store().createJob(makeJob());
      for (let at = 1; at <= 7; at++) await stored(job, at);
      const terms = [{ jobId: job.id, finishedBefore: sec(100), keepNewest: null }];
      expect(await prune(terms, { limit: 3 })).toBe(3);
      expect(await remaining(job)).toEqual([4, 5, 6, 7]);
      expect(await prune(terms, { limit: 3 })).toBe(3);
      expect(await prune(terms, { limit: 3 })).toBe(1);
      expect(await prune(terms, { limit: 3 })).toBe(0);
      expect(await remaining(job)).toEqual([]);
    });

    test('prunes only the jobs listed, each by its own terms', async () => {
      const [byAge, byCount, unlisted] = await Promise.all(['by-age', 'by-count', 'unlisted'].map((name) => store().createJob(makeJob({ name }))));
      for (const job of [byAge, byCount, unlisted] as CronJobDefinition[]) for (const at of [1, 2, 3]) await stored(job, at);
      const deleted = await prune([
        { jobId: (byAge as CronJobDefinition).id, finishedBefore: sec(3), keepNewest: null },
        { jobId: (byCount as CronJobDefinition).id, finishedBefore: null, keepNewest: 1 },
        { jobId: 'no-such-job', finishedBefore: sec(1000), keepNewest: 0 },
      ]);
      expect(deleted).toBe(3);
      expect(await remaining(byAge as CronJobDefinition)).toEqual([2, 3]);
      expect(await remaining(byCount as CronJobDefinition)).toEqual([3]);
      expect(await remaining(unlisted as CronJobDefinition)).toEqual([1, 2, 3]);
    });

    test('dryRun counts every run the terms select, beyond the limit, and deletes none', async () => {
      const job = await store().createJob(makeJob());
      for (let at = 1; at <= 7; at++) await stored(job, at);
      await stored(job, 8, { status: 'running' });
      expect(await prune([{ jobId: job.id, finishedBefore: sec(100), keepNewest: null }], { limit: 3, dryRun: true })).toBe(7);
      expect(await remaining(job)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    });

    test('refuses statuses that are not terminal and bad limits, naming the field, and deletes nothing', async () => {
      const job = await store().createJob(makeJob());
      await stored(job, 1);
      const terms = [{ jobId: job.id, finishedBefore: sec(100), keepNewest: null }];
      await expect(prune(terms, { statuses: ['succeeded', 'running'] })).rejects.toMatchObject({ name: 'ValidationError', field: 'statuses' });
      await expect(prune(terms, { limit: -1 })).rejects.toMatchObject({ name: 'ValidationError', field: 'limit' });
      await expect(prune([{ ...(terms[0] as JobPruneTerms), keepNewest: 1.5 }])).rejects.toMatchObject({ name: 'ValidationError', field: 'jobs[0].keepNewest' });
      expect(await remaining(job)).toEqual([1]);
    });
  });
}
