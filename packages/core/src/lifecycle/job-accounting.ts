/**
 * How a transition changes a job: its counters when a run finishes and its status when a plan says
 * so. Used by the decisions in `transitions.ts`, the one place where fires and finishes are turned
 * into write sets.
 */
import type { CronJobDefinition, JobStatus } from '../domain/job.js';
import type { JobRunRecord } from '../domain/run.js';
import { StoreError } from '../errors.js';
import type { RunOutcome } from '../ports/job-store.js';

/**
 * Counts `run`, finished with `outcome` (see `FinishRunRequest.outcome`), on `job` itself, a copy
 * the caller made for the transition: a success clears the consecutive failures, a failure adds to
 * both failure counts, and every run but a `skipped` one counts as a run and becomes the job's
 * `lastRun` (its start, else its fire time). Returns `job`.
 */
export function countOutcome(job: CronJobDefinition, run: JobRunRecord, outcome: RunOutcome): CronJobDefinition {
  if (outcome === 'success') job.consecutiveFailures = 0;
  if (outcome === 'failure') {
    job.consecutiveFailures += 1;
    job.failureCount += 1;
  }
  if (run.status !== 'skipped') {
    job.runCount += 1;
    job.lastRun = run.startedAt ?? run.scheduledFor;
  }
  return job;
}

/**
 * Gives `job` the status a plan chose (`FirePlan.status`, `FinishPlan.status`); `undefined` or the
 * current status changes nothing. `job` is a copy the transition made and owns (one copy per
 * transition, not one more for the status). A status change is a change of the job, so it bumps
 * `version` and sets `updatedAt` to `at`: an edit saved with a stale `expectedVersion` cannot
 * silently undo a dead-letter. A job that is no longer `active` (dead letter, one-shot completed or
 * failed) has no next fire: its `nextRun` becomes null, and a reset or resume plans it again from then.
 */
export function applyStatus(job: CronJobDefinition, status: JobStatus | undefined, at: Date): void {
  if (status === undefined || status === job.status) return;
  job.status = status;
  if (status !== 'active') job.nextRun = null;
  job.version += 1;
  job.updatedAt = new Date(at.getTime());
}

/**
 * Throws a `StoreError` when a plan for `job` returned a run of another job: a plan may only add
 * runs (new fires, retries) of the job it was asked about. Called after every plan answered and
 * before anything is written, so a stray run changes nothing.
 */
export function checkPlannedRuns(job: CronJobDefinition, runs: readonly JobRunRecord[]): void {
  for (const run of runs) checkPlannedRun(job, run);
}

/** {@link checkPlannedRuns} for one run. */
export function checkPlannedRun(job: Pick<CronJobDefinition, 'id'>, run: JobRunRecord): void {
  if (run.jobId !== job.id) throw new StoreError(`a plan for job ${job.id} returned run ${run.id} of job ${run.jobId}`);
}
