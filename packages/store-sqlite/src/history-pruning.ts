import type { JobPruneTerms, RunStatus } from '@symbi/core';
import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import type { SqliteRunner, Param } from './sqlite-runner.js';
import type { RunsTable, StoreDatabase } from './schema.js';
import { keepMarkedEvents } from './executed-audit.js';
import { toMs } from './row-codec.js';

type Db = Kysely<StoreDatabase>;

/** Stands for "no such bound": an instant before every run, so a condition on it never holds. */
const NEVER = Number.MIN_SAFE_INTEGER;

/** The statuses' slots (`status0`, `status1`, …), as many as the request names. */
const statusSlots = (p: Param, count: number): string[] => Array.from({ length: count }, (_, i) => p<string>(`status${i}`));

/**
 * The runs of one job that core's retention rule (`prunableRuns`) selects, as conditions on
 * `runs`: finished (one of the statuses), no pending delivery, and either scheduled and finished
 * before `cutoff` or at or below the `boundary` run (the newest one not kept). The range
 * `scheduled_for <= upper` keeps the walk of the per-job history index (`runs_job_history`) to the
 * runs that may go.
 */
function prunable<Q extends SelectQueryBuilder<StoreDatabase, 'runs', object>>(query: Q, p: Param, statuses: number): Q {
  return query
    .where('job_id', '=', p('jobId'))
    .where('scheduled_for', '<=', p('upper'))
    .where('status', 'in', statusSlots(p, statuses))
    .where('delivery_pending', '=', sql.lit(0))
    .where((eb) =>
      eb.or([
        eb.and([eb('scheduled_for', '<', p('cutoff')), eb(sql`coalesce(completed_at, scheduled_for)`, '<', p('cutoff'))]),
        sql<boolean>`(scheduled_for, id) <= (${p('boundaryAt')}, ${p('boundaryId')})`,
      ]),
    ) as Q;
}

/**
 * Deletes (or, with `limit` null, counts) the runs of one job that `terms` select, at most `limit`
 * of them, oldest first; answers how many. The events kept as marks on the deleted runs are
 * written as audit rows (see `executed-audit.ts`). Runs inside the caller's transaction.
 */
export function pruneJobHistory(
  runner: SqliteRunner,
  db: Db,
  terms: JobPruneTerms,
  statuses: readonly RunStatus[],
  limit: number | null,
): number {
  const slots = Object.fromEntries(statuses.map((status, i) => [`status${i}`, status]));
  const jobId = terms.jobId;
  let boundary: Pick<RunsTable, 'scheduled_for' | 'id'> | undefined;
  if (terms.keepNewest !== null) {
    boundary = runner
      .query(`prune.boundary:${statuses.length}`, (p) =>
        db
          .selectFrom('runs')
          .select(['scheduled_for', 'id'])
          .where('job_id', '=', p('jobId'))
          .where('status', 'in', statusSlots(p, statuses.length))
          .orderBy('scheduled_for', 'desc')
          .orderBy('id', 'desc')
          .limit(1)
          .offset(p('keep')),
      )
      .get({ ...slots, jobId, keep: terms.keepNewest });
  }
  const cutoff = terms.finishedBefore === null ? NEVER : toMs(terms.finishedBefore);
  const boundaryAt = boundary?.scheduled_for ?? NEVER;
  const values = { ...slots, jobId, cutoff, boundaryAt, boundaryId: boundary?.id ?? '', upper: Math.max(cutoff - 1, boundaryAt) };
  if (values.upper === NEVER) return 0;
  if (limit === null) {
    const counted = runner
      .query(`prune.count:${statuses.length}`, (p) => prunable(db.selectFrom('runs').select((eb) => eb.fn.countAll<number>().as('n')), p, statuses.length))
      .get(values);
    return counted?.n ?? 0;
  }
  // At most `limit` of them, oldest first; evaluated alike by both statements, in one transaction.
  const doomed = (p: Param) => prunable(db.selectFrom('runs').select('id'), p, statuses.length).orderBy('scheduled_for').orderBy('id').limit(p('limit'));
  const slotted = { ...values, limit };
  // The audit log answers the events of the marked ones as before.
  keepMarkedEvents(runner, db, `prune.keepMarked:${statuses.length}`, (eb, p) => eb('id', 'in', doomed(p)), slotted);
  return runner.query(`prune.delete:${statuses.length}`, (p) => db.deleteFrom('runs').where('id', 'in', doomed(p))).run(slotted);
}
