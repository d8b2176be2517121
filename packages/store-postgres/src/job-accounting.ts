import { StoreError } from '@symbi/core';
import type { CronJobDefinition, JobRunRecord, JobStatus, RunOutcome } from '@symbi/core';

/** The job's counters after `run` finished with `outcome` (see `FinishRunRequest.outcome`). */
export function countOutcome(job: CronJobDefinition, run: JobRunRecord, outcome: RunOutcome): CronJobDefinition {
  const next = { ...job };
  if (outcome === 'success') next.consecutiveFailures = 0;
  if (outcome === 'failure') {
    next.consecutiveFailures += 1;
    next.failureCount += 1;
  }
  if (run.status !== 'skipped') {
    next.runCount += 1;
    next.lastRun = run.startedAt ?? run.scheduledFor;
  }
  return next;
}

/**
 * `job` with the status a plan chose. A status change is a change of the job, so it bumps the
 * version: an edit saved with a stale `expectedVersion` cannot silently undo a dead-letter.
 */
export function withStatus(job: CronJobDefinition, status: JobStatus | undefined, at: Date): CronJobDefinition {
  if (status === undefined || status === job.status) return job;
  return { ...job, status, version: job.version + 1, updatedAt: at };
}

/** A plan may only add runs of the job it was asked about; checked before anything is written. */
export function checkPlannedRuns(job: CronJobDefinition, runs: JobRunRecord[]): void {
  const stray = runs.find((run) => run.jobId !== job.id);
  if (stray !== undefined) throw new StoreError(`a plan for job ${job.id} returned run ${stray.id} of job ${stray.jobId}`);
}
