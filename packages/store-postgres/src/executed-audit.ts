import { executedAuditEvent, type AuditEvent } from '@symbi/core';
import { sql, type RawBuilder } from 'kysely';
import { RUN_PATCH_COLUMNS } from './row-mapping.js';

/*
 * A succeeded run's routine `CronJobExecuted` event is kept as a mark on its history row
 * (`runs.executed_audit`, migration 8) instead of an `audit_events` row: the finish sets it in the
 * statement that appends the run to `runs`, `queryAudit` answers the marked runs as core's
 * `executedAuditEvent` makes them, and whatever deletes a marked run or changes what its event
 * is made of (deleting its job, pruning it, a patch of its completion time or execution time; its
 * status is final, see core's `guardForPatch`) first writes its event as an ordinary row, with
 * {@link keepExecutedAudits}.
 */

/**
 * The columns of a run that its event is made of and that a patch of a finished run may change (not
 * its status, which is final): a patch of one ends the mark, and the event is kept as a row as the
 * run finished (see `Statements.updateRuns`).
 */
export const EVENT_PATCH_COLUMNS = [RUN_PATCH_COLUMNS.completedAt, RUN_PATCH_COLUMNS.executionTimeMs] as const;

/** The columns of a marked run that its event is made of, as the audit query reads them. */
export interface ExecutedAuditRow {
  id: string;
  job_id: string;
  job_name: string;
  execution_time_ms: number | null;
  at: Date;
}

/** The `CronJobExecuted` event of a marked run, read as {@link ExecutedAuditRow}. */
export function rowToExecutedAudit(row: ExecutedAuditRow): AuditEvent {
  return executedAuditEvent({ id: row.id, jobId: row.job_id, jobName: row.job_name, executionTimeMs: row.execution_time_ms, completedAt: row.at });
}

/**
 * Inserts the events of the marked runs among the rows of `from` (a table or CTE with the columns
 * of `runs`, aliased `r`) that meet `where`, as `audit_events` rows with exactly the fields of
 * core's `executedAuditEvent`, oldest first (so rows of equal time keep the order the audit query
 * gave them). An event already stored (its id is the run's) is kept as it is.
 *
 * @param schema - the store's schema (raw SQL is not qualified by kysely's schema plugin).
 */
export function keepExecutedAudits(schema: string, from: RawBuilder<unknown>, where: RawBuilder<boolean> = sql<boolean>`true`): RawBuilder<never> {
  return sql<never>`INSERT INTO ${sql.id(schema, 'audit_events')} (id, type, at, job_id, run_id, actor, details)
    SELECT r.id, 'CronJobExecuted', r.completed_at, r.job_id, r.id, 'scheduler',
      jsonb_build_object('job_name', r.job_name, 'status', 'succeeded', 'execution_time_ms', r.execution_time_ms)
    FROM ${from} r
    WHERE r.executed_audit AND ${where}
    ORDER BY r.completed_at, r.id
    ON CONFLICT (id) DO NOTHING`;
}
