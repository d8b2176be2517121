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
 * The job's counters after `run` finished with `outcome` (see `FinishRunRequest.outcome`): a
 * success clears the consecutive failures, a failure adds to both failure counts, and every run but
 * a `skipped` one counts as a run and becomes the job's `lastRun` (its start, else its fire time).
 * Returns a copy; `job` is left as it was.
 */
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
 * `job` with the status a plan chose (`FirePlan.status`, `FinishPlan.status`); `undefined` or the
 * current status leaves it unchanged and returns `job` itself. A status change is a change of the
 * job, so it bumps `version` and sets `updatedAt` to `at`: an edit saved with a stale
 * `expectedVersion` cannot silently undo a dead-letter. A job that is no longer `active` (dead
 * letter, one-shot completed or failed) has no next fire: its `nextRun` becomes null, and a reset
 * or resume plans it again from then.
 */
export function withStatus(job: CronJobDefinition, status: JobStatus | undefined, at: Date): CronJobDefinition {
  if (status === undefined || status === job.status) return job;
  const nextRun = status === 'active' ? job.nextRun : null;
  return { ...job, status, nextRun, version: job.version + 1, updatedAt: new Date(at.getTime()) };
}

/**
 * Throws a `StoreError` when a plan for `job` returned a run of another job: a plan may only add
 * runs (new fires, retries) of the job it was asked about. Called after every plan answered and
 * before anything is written, so a stray run changes nothing.
 */
export function checkPlannedRuns(job: CronJobDefinition, runs: readonly JobRunRecord[]): void {
  const stray = runs.find((run) => run.jobId !== job.id);
  if (stray !== undefined) throw new StoreError(`a plan for job ${job.id} returned run ${stray.id} of job ${stray.jobId}`);
}
