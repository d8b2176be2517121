import { TERMINAL_RUN_STATUSES } from '@symbi/core';
import { JOB_COLUMNS, RUN_COLUMNS, RUN_PATCH_COLUMNS } from './row-mapping.js';

const jobColumns = JOB_COLUMNS.join(', ');
const runColumns = RUN_COLUMNS.join(', ');
const terminalStatuses = TERMINAL_RUN_STATUSES.map((status) => `'${status}'`).join(', ');

/**
 * Assignments applying the patch of input row `i` to run `r`: each column takes the patch's value
 * when the patch (`i.doc`, JSON) has the column's key, so one statement applies patches of any shape.
 */
const patchAssignments = Object.values(RUN_PATCH_COLUMNS)
  .map((column) => `${column} = CASE WHEN i.doc ? '${column}' THEN (i.rec).${column} ELSE r.${column} END`)
  .join(',\n        ');

/** Runtime columns of a job that finishing a run changes (counters and, through the plan, status). */
const FINISH_JOB_COLUMNS = ['run_count', 'failure_count', 'consecutive_failures', 'last_run', 'status', 'version', 'updated_at'];

/** Columns `saveJob` replaces: everything but the id, creation time, history counters and version. */
const KEPT_JOB_COLUMNS = ['id', 'created_at', 'run_count', 'failure_count', 'last_run', 'version'];
const SAVED_JOB_COLUMNS = JOB_COLUMNS.filter((column) => !KEPT_JOB_COLUMNS.includes(column)).join(', ');

/** SQL condition: run `a` occupies a concurrency slot of its job (the `active` of `JobLoad`). */
const OCCUPIES_SLOT = `(a.status = 'running' OR (a.status = 'scheduled' AND NOT a.wait_for_slot))`;

/** SQL condition: run `r` holds no lease at all (as opposed to one that lapsed). */
const UNLEASED = '(r.owner IS NULL OR r.lease_expires_at IS NULL)';

/** SQL condition: run `r` holds no lease still live at `$1` (one lapses once its expiry is before now). */
const NO_LIVE_LEASE = `(${UNLEASED} OR r.lease_expires_at < $1)`;

/** SQL expression: how many runs of run `r`'s job occupy a slot. */
const activeRunsOf = (s: string) => `(SELECT count(*) FROM ${s}.runs a WHERE a.job_id = r.job_id AND ${OCCUPIES_SLOT})`;

/** SQL condition: the job of run `r` has a free concurrency slot. */
const hasFreeSlot = (s: string) => `${activeRunsOf(s)} < (SELECT max_concurrent FROM ${s}.jobs WHERE id = r.job_id)`;

/** A conjunction of conditions with numbered parameters, for the list queries' optional filters. */
export class Where {
  private readonly conditions: string[] = [];
  readonly values: unknown[] = [];

  /** Adds `condition`, where `$?` stands for the parameter holding `value`. */
  add(condition: string, value: unknown): this {
    this.values.push(value);
    this.conditions.push(condition.replace('$?', `$${this.values.length}`));
    return this;
  }

  /** Adds a condition holding no parameter (its values already checked and written as literals). */
  literal(condition: string): this {
    this.conditions.push(condition);
    return this;
  }

  /** A placeholder for one more parameter (e.g. the limit). */
  param(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }

  /** The `WHERE` clause, or nothing when there is no condition. */
  toString(): string {
    return this.conditions.length === 0 ? '' : `WHERE ${this.conditions.join(' AND ')}`;
  }
}

/**
 * Every SQL text of the store, for one (already validated and quoted) schema. Values always travel
 * as parameters; whole rows travel as one JSON parameter read by `json_populate_record(set)`, so a
 * batch of any size is one statement.
 */
export class Statements {
  readonly insertJob: string;
  readonly saveJob: string;
  readonly jobVersion: string;
  readonly deleteJob: string;
  readonly jobById: string;
  readonly jobByName: string;
  readonly countJobs: string;
  readonly nextWakeAt: string;
  readonly lockJobs: string;
  readonly applyFirePlans: string;
  readonly claimRuns: string;
  readonly insertRuns: string;
  readonly runById: string;
  readonly updateRuns: string;
  readonly finishRuns: string;
  readonly writeFinishedJobs: string;
  readonly renewLeases: string;
  readonly lockExpiredRuns: string;
  readonly claimDeliveries: string;
  readonly loadSessions: string;
  readonly saveSessions: string;
  readonly appendAudits: string;
  readonly notify = 'SELECT pg_notify($1, $2)';

  constructor(private readonly s: string) {
    this.insertJob = `INSERT INTO ${s}.jobs (${jobColumns})
      SELECT ${jobColumns} FROM json_populate_record(NULL::${s}.jobs, $1::json) RETURNING *`;
    this.saveJob = `UPDATE ${s}.jobs j SET (${SAVED_JOB_COLUMNS}) =
        (SELECT ${SAVED_JOB_COLUMNS} FROM json_populate_record(NULL::${s}.jobs, $1::json)),
        version = j.version + 1
      WHERE j.id = $2 AND ($3::integer IS NULL OR j.version = $3) RETURNING j.*`;
    this.jobVersion = `SELECT version FROM ${s}.jobs WHERE id = $1`;
    this.deleteJob = `DELETE FROM ${s}.jobs WHERE id = $1`;
    this.jobById = `SELECT * FROM ${s}.jobs WHERE id = $1`;
    this.jobByName = `SELECT * FROM ${s}.jobs WHERE name = $1`;
    this.countJobs = `SELECT status, count(*)::integer AS n FROM ${s}.jobs GROUP BY status`;
    this.nextWakeAt = `SELECT LEAST(
        (SELECT min(next_run) FROM ${s}.jobs WHERE status = 'active'),
        (SELECT min(r.due_at) FROM ${s}.runs r WHERE r.status = 'scheduled' AND NOT r.wait_for_slot AND ${UNLEASED}),
        (SELECT min(r.due_at) FROM ${s}.runs r WHERE r.status = 'scheduled' AND r.wait_for_slot AND ${UNLEASED} AND ${hasFreeSlot(s)}),
        (SELECT min(lease_expires_at) FROM ${s}.runs
          WHERE owner IS NOT NULL AND status IN ('scheduled', 'awaiting_approval', 'running'))
      ) AS at`;

    // Claim, step 1: lock the due jobs with their load, and the jobs whose waiting runs are due,
    // skipping jobs another claimer holds. A waiting run is only claimed under its job's lock, and
    // by a later statement, whose fresh snapshot sees every claim committed before the lock was
    // ours: two claimers can never both fill a job's last free slot.
    // NO KEY UPDATE rather than UPDATE, so inserts of runs (whose foreign key takes KEY SHARE on
    // the job) neither block nor get skipped by these locks.
    this.lockJobs = `WITH due AS (
        SELECT j.*, l.active, l.waiting
        FROM ${s}.jobs j
        CROSS JOIN LATERAL (
          SELECT count(*) FILTER (WHERE ${OCCUPIES_SLOT})::integer AS active,
                 count(*) FILTER (WHERE a.status = 'scheduled' AND a.wait_for_slot)::integer AS waiting
          FROM ${s}.runs a WHERE a.job_id = j.id AND a.status IN ('scheduled', 'running')
        ) l
        WHERE j.status = 'active' AND j.next_run <= $1
        ORDER BY j.next_run
        LIMIT $2
        FOR NO KEY UPDATE OF j SKIP LOCKED
      ), slots AS (
        SELECT j.id FROM ${s}.jobs j
        WHERE j.id IN (
          SELECT r.job_id FROM ${s}.runs r
          WHERE r.status = 'scheduled' AND r.wait_for_slot AND r.due_at <= $1 AND ${NO_LIVE_LEASE}
        )
        ORDER BY j.id
        LIMIT $2
        FOR NO KEY UPDATE SKIP LOCKED
      )
      SELECT to_json(due) AS due, NULL AS slot FROM due
      UNION ALL
      SELECT NULL, id FROM slots`;
    // Claim, step 2: apply every plan of the batch at once.
    this.applyFirePlans = `WITH advanced AS (
        UPDATE ${s}.jobs j SET (next_run, status, version, updated_at) = (p.next_run, p.status, p.version, p.updated_at)
        FROM json_populate_recordset(NULL::${s}.jobs, $1::json) p WHERE j.id = p.id
      ), inserted AS (
        ${this.insertRunsSql('$2', 'ON CONFLICT DO NOTHING')}
      ), cancelled AS (
        UPDATE ${s}.runs SET cancel_requested = true WHERE job_id = ANY($3::text[]) AND status = 'running'
      )
      SELECT 1`;
    // Claim, step 3: own queued runs, lowest dueAt first. Runs waiting for a slot come from their
    // own small index, only of the jobs locked in step 1 (`$5`), and only while their job has a free
    // slot, counting the waiting runs taken in this same batch; taking one clears its flag, so it
    // holds its slot from then on.
    this.claimRuns = `WITH plain AS (
        SELECT r.id, r.job_id, r.due_at, false AS wait_for_slot, 0::bigint AS active
        FROM ${s}.runs r
        WHERE r.status = 'scheduled' AND NOT r.wait_for_slot AND r.due_at <= $1 AND ${NO_LIVE_LEASE}
        ORDER BY r.due_at, r.id
        LIMIT $2
        FOR NO KEY UPDATE OF r SKIP LOCKED
      ), waiting AS (
        SELECT r.id, r.job_id, r.due_at, true AS wait_for_slot, ${activeRunsOf(s)} AS active
        FROM ${s}.runs r
        WHERE r.job_id = ANY($5::text[]) AND r.status = 'scheduled' AND r.wait_for_slot AND r.due_at <= $1
          AND ${NO_LIVE_LEASE} AND ${hasFreeSlot(s)}
        ORDER BY r.due_at, r.id
        LIMIT $2
        FOR NO KEY UPDATE OF r SKIP LOCKED
      ), candidates AS (
        SELECT * FROM plain UNION ALL SELECT * FROM waiting ORDER BY due_at, id LIMIT $2
      ), admitted AS (
        SELECT id FROM (
          SELECT c.id, c.wait_for_slot, c.active, j.max_concurrent,
            row_number() OVER (PARTITION BY c.job_id, c.wait_for_slot ORDER BY c.due_at, c.id) AS nth
          FROM candidates c JOIN ${s}.jobs j ON j.id = c.job_id
        ) ranked
        WHERE NOT wait_for_slot OR active + nth <= max_concurrent
      ), claimed AS (
        UPDATE ${s}.runs r SET owner = $3, lease_expires_at = $4, wait_for_slot = false
        FROM admitted WHERE r.id = admitted.id
        RETURNING r.*
      )
      ${this.withTheirJobs('claimed')}`;
    this.insertRuns = `${this.insertRunsSql('$1', '')} RETURNING *`;
    this.runById = `SELECT * FROM ${s}.runs WHERE id = $1`;
    // Input rows of the batched run updates: run id, owner guard, status guard and the patch.
    const patches = `SELECT e->>'id' AS id, e->>'owner' AS owner,
          CASE WHEN e->'statusIn' = 'null'::jsonb THEN NULL ELSE ARRAY(SELECT jsonb_array_elements_text(e->'statusIn')) END AS status_in,
          e->'patch' AS doc, jsonb_populate_record(NULL::${s}.runs, e->'patch') AS rec
        FROM jsonb_array_elements($1::jsonb) AS e`;
    this.updateRuns = `WITH i AS (${patches})
      UPDATE ${s}.runs r SET ${patchAssignments}
      FROM i
      WHERE r.id = i.id AND (i.owner IS NULL OR r.owner = i.owner) AND (i.status_in IS NULL OR r.status = ANY(i.status_in))
      RETURNING r.*`;
    // Finish, step 1: end the unfinished runs of the batch and lock their jobs, in id order so
    // that batches sharing jobs queue up instead of deadlocking.
    this.finishRuns = `WITH i AS (${patches}), finished AS (
        UPDATE ${s}.runs r SET ${patchAssignments}
        FROM i
        WHERE r.id = i.id AND (i.owner IS NULL OR r.owner = i.owner) AND r.status NOT IN (${terminalStatuses})
        RETURNING r.*
      ), locked AS (
        SELECT j.* FROM ${s}.jobs j WHERE j.id IN (SELECT job_id FROM finished) ORDER BY j.id FOR NO KEY UPDATE
      )
      SELECT to_json(f) AS run, NULL::json AS job FROM finished f
      UNION ALL
      SELECT NULL, to_json(l) FROM locked l`;
    // Finish, step 2: store the jobs' counters and statuses as the plans left them, and the retries.
    this.writeFinishedJobs = `WITH retried AS (
        ${this.insertRunsSql('$2', 'ON CONFLICT DO NOTHING')}
      )
      UPDATE ${s}.jobs j SET (${FINISH_JOB_COLUMNS.join(', ')}) = (${FINISH_JOB_COLUMNS.map((c) => `p.${c}`).join(', ')})
      FROM json_populate_recordset(NULL::${s}.jobs, $1::json) p WHERE j.id = p.id`;
    this.renewLeases = `UPDATE ${s}.runs SET lease_expires_at = $3
      WHERE id = ANY($2::text[]) AND owner = $1 RETURNING id, cancel_requested`;
    this.lockExpiredRuns = `SELECT * FROM ${s}.runs
      WHERE status = 'running' AND owner IS NOT NULL AND lease_expires_at < $1
      ORDER BY lease_expires_at, id
      LIMIT $2
      FOR NO KEY UPDATE SKIP LOCKED`;
    this.claimDeliveries = `WITH candidates AS (
        SELECT r.id FROM ${s}.runs r
        WHERE r.delivery_pending AND r.status IN (${terminalStatuses}) AND ${NO_LIVE_LEASE}
        ORDER BY coalesce(r.completed_at, r.scheduled_for), r.id
        LIMIT $2
        FOR NO KEY UPDATE SKIP LOCKED
      ), claimed AS (
        UPDATE ${s}.runs r SET owner = $3, lease_expires_at = $4
        FROM candidates WHERE r.id = candidates.id
        RETURNING r.*
      )
      ${this.withTheirJobs('claimed')}`;
    this.loadSessions = `SELECT * FROM ${s}.sessions WHERE job_id = ANY($1::text[])`;
    this.saveSessions = `INSERT INTO ${s}.sessions (job_id, summary, history, updated_at)
        SELECT job_id, summary, history, updated_at FROM json_populate_recordset(NULL::${s}.sessions, $1::json)
      ON CONFLICT (job_id) DO UPDATE SET summary = excluded.summary, history = excluded.history, updated_at = excluded.updated_at`;
    // In array order, so events of equal time keep the order they were appended in.
    this.appendAudits = `INSERT INTO ${s}.audit_events (id, type, at, job_id, run_id, actor, details)
      SELECT p.id, p.type, p.at, p.job_id, p.run_id, p.actor, p.details
      FROM json_array_elements($1::json) WITH ORDINALITY AS e(doc, n), json_populate_record(NULL::${s}.audit_events, e.doc) p
      ORDER BY e.n`;
  }

  /** Jobs matching `where`, by name. */
  listJobs(where: Where, limit: unknown, offset: unknown): string {
    return `SELECT * FROM ${this.s}.jobs ${where} ORDER BY name LIMIT ${where.param(limit)} OFFSET ${where.param(offset)}`;
  }

  /** Runs matching `where`, newest first. */
  listRuns(where: Where, limit: number): string {
    return `SELECT * FROM ${this.s}.runs ${where} ORDER BY scheduled_for DESC, id DESC LIMIT ${where.param(limit)}`;
  }

  /** Audit events matching `where`, newest first. */
  queryAudit(where: Where, limit: number): string {
    return `SELECT * FROM ${this.s}.audit_events ${where} ORDER BY at DESC, seq DESC LIMIT ${where.param(limit)}`;
  }

  /**
   * Selects the runs of CTE `runs` with a `job` column holding each run's job as JSON on the
   * first run of that job only (the others share it), so a batch renders every job once.
   */
  private withTheirJobs(runs: string): string {
    return `SELECT c.*, CASE WHEN c.id = f.id THEN to_json(j) END AS job
      FROM ${runs} c
      JOIN ${this.s}.jobs j ON j.id = c.job_id
      JOIN (SELECT DISTINCT ON (job_id) job_id, id FROM ${runs} ORDER BY job_id, id) f ON f.job_id = c.job_id`;
  }

  /** Inserts the runs of the JSON array in parameter `param`. */
  private insertRunsSql(param: string, onConflict: string): string {
    return `INSERT INTO ${this.s}.runs (${runColumns})
        SELECT ${runColumns} FROM json_populate_recordset(NULL::${this.s}.runs, ${param}::json)
        ${onConflict}`;
  }
}
