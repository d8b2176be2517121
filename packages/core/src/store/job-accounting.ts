/**
 * The bookkeeping rules a `JobStore` applies to a job when its runs finish and when a plan
 * changes it. They are the contract's rules, not any store's choices, so every adapter applies these
 * functions (inside its transaction) instead of writing the rules again: the in-memory, SQLite and
 * PostgreSQL stores then count alike, and the conformance suite checks one behaviour.
 */
import type { CronJobDefinition, JobStatus } from '../domain/job.js';
import type { JobRunRecord } from '../domain/run.js';
import { StoreError, ValidationError } from '../errors.js';
import type { ClaimRequest, RunOutcome } from '../ports/job-store.js';

/**
 * The job's counters after `run` finished with `outcome` (see `FinishRunRequest.outcome`): a
 * success clears the consecutive failures, a failure adds to both failure counts, and every run but
 * a `skipped` one counts as a run and becomes the job's `lastRun` (its start, else its fire time).
 *
 * A helper for store adapters: call it with the job as stored and the run as finished, before asking
 * the finish plan, which sees the counted job. Returns a copy; `job` is left as it was.
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
 * `expectedVersion` cannot silently undo a dead-letter.
 *
 * A helper for store adapters: store the job it returns.
 */
export function withStatus(job: CronJobDefinition, status: JobStatus | undefined, at: Date): CronJobDefinition {
  if (status === undefined || status === job.status) return job;
  return { ...job, status, version: job.version + 1, updatedAt: new Date(at.getTime()) };
}

/**
 * Throws a `StoreError` when a plan for `job` returned a run of another job: a plan may only add
 * runs (new fires, retries) of the job it was asked about.
 *
 * A helper for store adapters: call it after every plan answered and before anything is written,
 * so a stray run changes nothing.
 */
export function checkPlannedRuns(job: CronJobDefinition, runs: readonly JobRunRecord[]): void {
  const stray = runs.find((run) => run.jobId !== job.id);
  if (stray !== undefined) throw new StoreError(`a plan for job ${job.id} returned run ${stray.id} of job ${stray.jobId}`);
}

/**
 * The latest due time a claim takes (see `ClaimRequest.horizon`): its `horizon`, never before its
 * `now`. Throws `ValidationError` naming `horizon` for a date that is not valid.
 */
export function claimHorizon(request: Pick<ClaimRequest, 'now' | 'horizon'>): Date {
  const { now, horizon } = request;
  if (horizon === undefined) return now;
  if (!(horizon instanceof Date) || Number.isNaN(horizon.getTime())) throw new ValidationError('horizon', 'must be a valid date', String(horizon));
  return horizon.getTime() > now.getTime() ? horizon : now;
}
