import type { JobPruneTerms } from '@symbi/core';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { keepExecutedAudits } from './executed-audit.js';
import { prepare, type PreparedStatement } from './postgres-runner.js';
import type { Database } from './schema.js';

/** The values of the pruning statements: the terms as JSON, the statuses, and (to delete) the limit. */
export interface PruneValues {
  /** JSON array of `{ job_id, cutoff, keep }`, one per job (see {@link pruneTermsJson}). */
  terms: string;
  /** Statuses a pruned run may have. */
  statuses: readonly string[];
  /** Most runs deleted. */
  limit: number;
}

/** The terms of a prune request as the pruning statements read them. */
export function pruneTermsJson(jobs: readonly JobPruneTerms[]): string {
  return JSON.stringify(jobs.map((terms) => ({ job_id: terms.jobId, cutoff: terms.finishedBefore?.toISOString() ?? null, keep: terms.keepNewest })));
}

/**
 * The runs core's retention rule (`prunableRuns`) selects, as the CTE `doomed` over the terms:
 * per job, the `bound` run is the newest one not kept (`keepNewest` newest kept), and a run goes
 * when it is finished (one of the statuses), has no pending delivery, and is either scheduled and
 * finished before the job's cutoff or at or below its bound. Both walks go down the per-job history
 * index (`runs_job_history_idx`), bounded by the later of cutoff and bound. `each` limits the runs
 * taken per job (none for a count).
 */
function doomed(schema: string, s: Omit<PruneValues, 'limit'>, each: RawBuilder<unknown>): RawBuilder<unknown> {
  const runs = sql.id(schema, 'runs');
  return sql`
    terms AS (
      SELECT * FROM json_to_recordset(${s.terms}::json) AS t(job_id text, cutoff timestamptz, keep integer)
    ),
    bounded AS (
      SELECT t.job_id, t.cutoff, b.scheduled_for AS bound_at, b.id AS bound_id
      FROM terms t
      LEFT JOIN LATERAL (
        SELECT r.scheduled_for, r.id FROM ${runs} r
        WHERE r.job_id = t.job_id AND r.status = ANY(${s.statuses}::text[])
        ORDER BY r.scheduled_for DESC, r.id DESC
        OFFSET t.keep LIMIT 1
      ) b ON t.keep IS NOT NULL
    ),
    doomed AS (
      SELECT d.id FROM bounded t
      CROSS JOIN LATERAL (
        SELECT r.id FROM ${runs} r
        WHERE r.job_id = t.job_id
          AND r.scheduled_for <= greatest(t.cutoff, t.bound_at)
          AND r.status = ANY(${s.statuses}::text[])
          AND NOT r.delivery_pending
          AND (
            (r.scheduled_for < t.cutoff AND coalesce(r.completed_at, r.scheduled_for) < t.cutoff)
            OR (r.scheduled_for, r.id) <= (t.bound_at, t.bound_id)
          )
        ORDER BY r.scheduled_for, r.id
        ${each}
      ) d
    )`;
}

/** The statements of `pruneHistory` on one schema. */
export interface PruneStatements {
  /**
   * Deletes at most `limit` selected runs (each job's oldest first), first writing the events of
   * the marked ones as rows (see `executed-audit.ts`); answers how many, as `n`.
   */
  prune: PreparedStatement<PruneValues, { n: number }>;
  /** Counts every selected run, as `n`. */
  count: PreparedStatement<Omit<PruneValues, 'limit'>, { n: number }>;
}

/** Builds the pruning statements for the store's `db` on `schema`, once. */
export function pruneStatements(db: Kysely<Database>, schema: string): PruneStatements {
  const compiled = <Row>(raw: RawBuilder<Row>) => ({ compile: () => raw.compile(db) });
  return {
    prune: prepare((s: PruneValues) =>
      compiled(sql<{ n: number }>`WITH ${doomed(schema, s, sql`LIMIT ${s.limit}`)},
        gone AS (
          DELETE FROM ${sql.id(schema, 'runs')} WHERE id IN (SELECT id FROM doomed LIMIT ${s.limit})
          RETURNING id, job_id, job_name, completed_at, execution_time_ms, executed_audit
        ),
        kept AS (${keepExecutedAudits(schema, sql.id('gone'))})
        SELECT count(*)::integer AS n FROM gone`),
    ),
    count: prepare((s: Omit<PruneValues, 'limit'>) =>
      compiled(sql<{ n: number }>`WITH ${doomed(schema, s, sql``)} SELECT count(*)::integer AS n FROM doomed`),
    ),
  };
}
