import type { CronJobDefinition } from '../domain/job.js';
import { TERMINAL_RUN_STATUSES, type JobRunRecord, type RunStatus } from '../domain/run.js';
import { ValidationError } from '../errors.js';
import type { JobPruneTerms, PruneRequest } from '../ports/job-store.js';
import { checkCount } from '../store/query-limits.js';

/** Longest `history_retention_days` accepted (a hundred years). */
export const MAX_RETENTION_DAYS = 36_500;

/** Largest `history_retention_runs` accepted. */
export const MAX_RETENTION_RUNS = 100_000_000;

const DAY_MS = 86_400_000;

/**
 * How much of a job's run history is kept: finished runs younger than `days`, and at most the
 * newest `runs` of them; null for no limit of that kind. Both null keeps everything.
 */
export interface RetentionPolicy {
  /** Days a finished run is kept; null for no age limit. */
  days: number | null;
  /** Most finished runs kept (the newest); null for no count limit. */
  runs: number | null;
}

/**
 * The policy that holds for `job`: each of its own limits (`history_retention_days`,
 * `history_retention_runs`) wins over the scheduler's default of the same kind; a limit the job
 * leaves null is the default's.
 */
export function retentionOf(job: Pick<CronJobDefinition, 'historyRetentionDays' | 'historyRetentionRuns'>, defaults: RetentionPolicy): RetentionPolicy {
  return { days: job.historyRetentionDays ?? defaults.days, runs: job.historyRetentionRuns ?? defaults.runs };
}

/**
 * What pruning at `now` deletes of `job`'s history under its policy (see {@link retentionOf}), or
 * null when the job keeps everything.
 */
export function pruneTermsFor(job: CronJobDefinition, defaults: RetentionPolicy, now: Date): JobPruneTerms | null {
  const { days, runs } = retentionOf(job, defaults);
  if (days === null && runs === null) return null;
  return { jobId: job.id, finishedBefore: days === null ? null : new Date(now.getTime() - days * DAY_MS), keepNewest: runs };
}

/**
 * `request`, checked alike for every store: `limit` and each `keepNewest` must be non-negative
 * integers, each `finishedBefore` a valid date or null, and `statuses` only terminal ones (so no
 * store can ever be asked to delete a run in flight or awaiting approval). Throws
 * `ValidationError` naming the field.
 */
export function checkPruneRequest(request: PruneRequest): PruneRequest {
  checkCount('limit', request.limit);
  for (const status of request.statuses) {
    if (!TERMINAL_RUN_STATUSES.includes(status)) throw new ValidationError('statuses', `may only name terminal statuses (${TERMINAL_RUN_STATUSES.join(', ')})`, status);
  }
  request.jobs.forEach((terms, i) => {
    checkCount(`jobs[${i}].keepNewest`, terms.keepNewest ?? undefined);
    const before = terms.finishedBefore;
    if (before !== null && (!(before instanceof Date) || Number.isNaN(before.getTime()))) {
      throw new ValidationError(`jobs[${i}].finishedBefore`, 'must be a valid date or null', String(before));
    }
  });
  return request;
}

/** Newest first: by `scheduledFor`, then `id` (the order of run listings). */
function newestFirst(a: JobRunRecord, b: JobRunRecord): number {
  return b.scheduledFor.getTime() - a.scheduledFor.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/**
 * The retention rule, the one every store applies: of one job's `runs`, those pruning deletes
 * under `terms`, oldest first. A run goes when
 * - its status is one of `statuses` (finished), and none of its deliveries is `pending`; and
 * - it is older than the age limit (both its `scheduledFor` and its `completedAt` are before
 *   `finishedBefore`), or it is not among the `keepNewest` newest runs with one of `statuses`
 *   (newest by `scheduledFor`, then `id`; a finished run whose delivery is pending still counts
 *   among them).
 */
export function prunableRuns(runs: Iterable<JobRunRecord>, terms: JobPruneTerms, statuses: readonly RunStatus[]): JobRunRecord[] {
  const finished = [...runs].filter((run) => statuses.includes(run.status)).sort(newestFirst);
  const cutoff = terms.finishedBefore?.getTime() ?? null;
  const old = (run: JobRunRecord) => cutoff !== null && run.scheduledFor.getTime() < cutoff && (run.completedAt ?? run.scheduledFor).getTime() < cutoff;
  const pending = (run: JobRunRecord) => run.deliveries.some((delivery) => delivery.status === 'pending');
  return finished.filter((run, rank) => !pending(run) && ((terms.keepNewest !== null && rank >= terms.keepNewest) || old(run))).reverse();
}
