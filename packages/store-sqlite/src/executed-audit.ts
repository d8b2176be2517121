import { executedAuditEvent, type AuditEvent, type RunGuard, type RunPatch } from '@symbi/core';
import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import { AUDITED_RUN } from './migrations.js';
import { auditToRow } from './row-codec.js';
import { slotsOf, type Param, type SqliteRunner } from './sqlite-runner.js';
import type { RunRow, StoreDatabase } from './schema.js';

/*
 * A succeeded run's routine `CronJobExecuted` event kept as a mark on the run (`runs.audited`, see
 * migration 8) instead of as an `audit_events` row: the finish's own update sets it, `queryAudit`
 * makes the event from the run (core's `executedAuditEvent`), and deleting or pruning the run
 * first writes the event as a row.
 */

type Db = Kysely<StoreDatabase>;

/** The columns of a run its event is made from. */
const MARKED_RUN_COLUMNS = ['id', 'job_id', 'job_name', 'completed_at', 'execution_time_ms'] as const;

/** What {@link MARKED_RUN_COLUMNS} read of a run. */
export type MarkedRunRow = Pick<RunRow, (typeof MARKED_RUN_COLUMNS)[number]>;

/**
 * A run's event is kept as its mark (`AUDITED_RUN`, which queries repeat word for word so SQLite
 * can walk the partial indexes `runs_audited` and `runs_job_audited`). The finish marks only a run
 * with a completion time, its event's time, and a patch of that time ends the mark: a marked run
 * has one.
 */
type MarkedRun = MarkedRunRow & { completed_at: number };

/** The event a marked run stands for, made by core (the one shape of it every store answers). */
function markedRunEvent(row: MarkedRun): AuditEvent {
  return executedAuditEvent({
    id: row.id,
    jobId: row.job_id,
    jobName: row.job_name,
    executionTimeMs: row.execution_time_ms,
    completedAt: new Date(row.completed_at),
  });
}

/**
 * Writes the events of the marked runs that `where` selects as `audit_events` rows, before those
 * runs are deleted in the same transaction, so the audit log answers as before. One `INSERT …
 * SELECT` makes each row in SQL as core's `executedAuditEvent` makes the event (id and run the
 * run's, time its `completed_at`, actor `scheduler`, details its job's name, `succeeded` and its
 * execution time; SQLite writes a real as the 17 digits that read back as it), oldest first: at
 * equal times the log then answers them newest-inserted first, in the order the marks answered. An
 * event whose id a row holds already is not written again. `key` names the statement's form
 * (compiled once); `values` fill the slots of `where`.
 */
export function keepMarkedEvents(
  runner: SqliteRunner,
  db: Db,
  key: string,
  where: (eb: ExpressionBuilder<StoreDatabase, 'runs'>, p: Param) => Expression<SqlBool>,
  values: object,
): void {
  runner
    .query(key, (p) =>
      db
        .insertInto('audit_events')
        .columns(['id', 'type', 'at', 'job_id', 'run_id', 'actor', 'details'])
        .expression(
          db
            .selectFrom('runs')
            .select([
              'id',
              sql.lit('CronJobExecuted').as('type'),
              sql<number>`completed_at`.as('at'),
              'job_id',
              'id as run_id',
              sql.lit('scheduler').as('actor'),
              sql<string>`json_object('job_name', job_name, 'status', 'succeeded', 'execution_time_ms', execution_time_ms)`.as('details'),
            ])
            .where(AUDITED_RUN)
            .where((eb) => where(eb, p))
            .orderBy('completed_at')
            .orderBy('id'),
        )
        .onConflict((oc) => oc.doNothing()),
    )
    .run(values);
}

/** Writes the event of one marked run, read as {@link MARKED_RUN_COLUMNS}, as a row. */
function writeMarkedEvent(runner: SqliteRunner, db: Db, row: MarkedRun): void {
  const event = auditToRow(markedRunEvent(row));
  runner.query('audit.keepMarked', (p) => db.insertInto('audit_events').values(slotsOf(event, p)).onConflict((oc) => oc.doNothing())).run(event);
}

/** What {@link markedEvents} selects: the audit filter's job and start (epoch ms), and its page size. */
export interface MarkedEventsFilter {
  jobId: string | undefined;
  since: number | undefined;
  limit: number;
}

/**
 * The events of marked runs matching `filter`, newest first (by `completed_at`, then id), at most
 * `limit`, for `queryAudit` to merge with its stored events. Statements are compiled once per
 * form (job named or not, start named or not).
 */
export function markedEvents(runner: SqliteRunner, db: Db, filter: MarkedEventsFilter): AuditEvent[] {
  const shape = `audit.marked:${filter.jobId !== undefined}:${filter.since !== undefined}`;
  const query = runner.query(shape, (p) => {
    let q = db.selectFrom('runs').select(MARKED_RUN_COLUMNS).where(AUDITED_RUN).orderBy('completed_at', 'desc').orderBy('id', 'desc').limit(p('limit'));
    if (filter.jobId !== undefined) q = q.where('job_id', '=', p('jobId'));
    if (filter.since !== undefined) q = q.where('completed_at', '>=', p('since'));
    return q;
  });
  // Every row it selects is marked (see MarkedRun).
  return (query.all(filter) as MarkedRun[]).map(markedRunEvent);
}

/** Writes the events of job `jobId`'s marked runs as rows (see {@link keepMarkedEvents}), before the job and its runs go. */
export function writeMarkedEventsOfJob(runner: SqliteRunner, db: Db, jobId: string): void {
  keepMarkedEvents(runner, db, 'audit.keepMarkedOfJob', (eb, p) => eb('job_id', '=', p('jobId')), { jobId });
}

/** The fields of a run its event is made of that a patch may change. */
const EVENT_FIELDS = ['completedAt', 'executionTimeMs'] as const satisfies readonly (keyof RunPatch)[];

/**
 * Whether `patch`, applied under `guard` (as narrowed by core's `guardForPatch`), may change what
 * the event of a marked run is made of: it names one of those fields, and its guard (if any) lets it
 * reach a `succeeded` run. A patch that sets a status never does (a finished run's status is final),
 * so the scheduler's own updates (a start, a hold for approval) never do.
 */
export function mayChangeMarkedEvent(patch: RunPatch, guard: RunGuard): boolean {
  if (guard.statusIn !== undefined && !guard.statusIn.includes('succeeded')) return false;
  return EVENT_FIELDS.some((field) => patch[field] !== undefined);
}

/** The run `runId` read as {@link MARKED_RUN_COLUMNS} if it holds a mark (see {@link mayChangeMarkedEvent}), else undefined. */
export function markedRun(runner: SqliteRunner, db: Db, runId: string): MarkedRunRow | undefined {
  return runner
    .query('audit.markedRun', (p) => db.selectFrom('runs').select(MARKED_RUN_COLUMNS).where('id', '=', p('runId')).where(AUDITED_RUN))
    .get({ runId });
}

/**
 * Ends the mark of `run` (read by {@link markedRun} before a patch that changed what its event is
 * made of), writing its event, as the run finished, as a row. Answers the run's new mark: 0.
 */
export function unmarkRun(runner: SqliteRunner, db: Db, run: MarkedRunRow): 0 {
  writeMarkedEvent(runner, db, run as MarkedRun);
  runner.query('audit.unmark', (p) => db.updateTable('runs').set({ audited: 0 }).where('id', '=', p('id'))).run({ id: run.id });
  return 0;
}
