import type { CronJobDefinition } from '../domain/job.js';
import type { JobRunRecord } from '../domain/run.js';
import { ValidationError } from '../errors.js';
import type { ClaimRequest, JobLoad } from '../ports/job-store.js';
import { checkCount } from '../store/query-limits.js';

/**
 * The checked terms of one claim (`claimDue` or `claimPendingDeliveries`): what every store's
 * claim is given, so all of them take the same work, refuse the same bad input and lease alike.
 */
export interface ClaimTerms {
  /** The claimer's current time: leases are judged by it. */
  now: Date;
  /** The latest due time the claim takes: its horizon, never before `now`. */
  horizon: Date;
  /** Who claims. */
  owner: string;
  /** Most runs (and most due jobs) to take. */
  limit: number;
  /** When the leases this claim puts on runs expire. */
  leaseExpiresAt: Date;
  /** The agents whose jobs and runs the claim may take; null for every agent. */
  agents: readonly string[] | null;
}

/**
 * The terms of `request`. Throws `ValidationError` naming the field for a `horizon` that is not a
 * valid date, a `limit` that is not a non-negative integer, or a `leaseMs` that is not a
 * non-negative finite number.
 */
export function claimTerms(request: Pick<ClaimRequest, 'now' | 'horizon' | 'owner' | 'leaseMs' | 'limit' | 'agents'>): ClaimTerms {
  const { now, owner } = request;
  if (!Number.isFinite(request.leaseMs) || request.leaseMs < 0) {
    throw new ValidationError('leaseMs', `must be a non-negative number of milliseconds, not ${String(request.leaseMs)}`, request.leaseMs);
  }
  const limit = checkCount('limit', request.limit) as number;
  return { now, horizon: claimHorizon(request), owner, limit, leaseExpiresAt: new Date(now.getTime() + request.leaseMs), agents: request.agents ?? null };
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

/**
 * `run` as a claim leaves it: owned by the claimer until the claim's lease expires, and no longer
 * waiting for a slot (a claimed run holds one, so a second claimer cannot fill the same slot).
 */
export function claimedRun(run: JobRunRecord, terms: Pick<ClaimTerms, 'owner' | 'leaseExpiresAt'>): JobRunRecord {
  return leaseRun({ ...run }, terms.owner, new Date(terms.leaseExpiresAt.getTime()));
}

/** {@link claimedRun} on `run` itself: owned by `owner` until `leaseExpiresAt` (taken as it is), no longer waiting for a slot; returns it. */
export function leaseRun(run: JobRunRecord, owner: string, leaseExpiresAt: Date): JobRunRecord {
  run.owner = owner;
  run.leaseExpiresAt = leaseExpiresAt;
  run.waitForSlot = false;
  return run;
}

/**
 * What a run adds to its job's {@link JobLoad}: a `running` run, or a `scheduled` one not waiting
 * for a slot, is `active`; a `scheduled` run waiting for a slot (a buffered or catch-up fire, a
 * newer fire waiting for `cancel_other`) is `waiting`; a retry waiting for a slot (it waits out its
 * back-off there) and any other run add nothing, so the job's fires meanwhile still run. A fire
 * counts the retries already due as waiting too (see {@link isDueRetry}).
 */
export function loadShare(run: Pick<JobRunRecord, 'status' | 'waitForSlot' | 'trigger'>): keyof JobLoad | null {
  if (run.status === 'running') return 'active';
  if (run.status !== 'scheduled') return null;
  if (!run.waitForSlot) return 'active';
  return run.trigger === 'retry' ? null : 'waiting';
}

/**
 * Whether `run` is a retry waiting for a slot whose back-off is over by `horizonMs` (epoch ms). A
 * fire is planned with such a retry counted as `waiting` in its job's load (though
 * {@link loadShare} leaves it out while it waits out its back-off), so the retry takes its job's
 * next free slot before a newer fire, which the job's overlap rule then skips, buffers or queues:
 * otherwise fires claimed ahead could take every free slot and the retry would wait for ever.
 */
export function isDueRetry(run: Pick<JobRunRecord, 'status' | 'waitForSlot' | 'trigger' | 'dueAt'>, horizonMs: number): boolean {
  return run.status === 'scheduled' && run.waitForSlot && run.trigger === 'retry' && run.dueAt.getTime() <= horizonMs;
}

/**
 * Whether someone holds a lease on `run` at `now` (epoch ms): a lease lapses once its expiry is
 * strictly before `now`, and only then may another instance claim the run.
 */
export function hasLiveLease(run: Pick<JobRunRecord, 'owner' | 'leaseExpiresAt'>, now: number): boolean {
  return run.owner !== null && run.leaseExpiresAt !== null && run.leaseExpiresAt.getTime() >= now;
}

/** Whether a run waiting for a slot may be claimed: its job has fewer active runs than `maxConcurrent`. */
export function hasFreeSlot(job: Pick<CronJobDefinition, 'maxConcurrent'>, load: Pick<JobLoad, 'active'>): boolean {
  return load.active < job.maxConcurrent;
}
