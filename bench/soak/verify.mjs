/**
 * The soak's verdict: the runs table and the instances' execution logs held against each other
 * (duplicates) and against the ledger of what the soak asked for (lost fires).
 */
import { auditRuns, fireOf } from '../../tests/processes/fire-audit.mjs';

/** @typedef {import('../../tests/processes/fire-audit.mjs').AuditRun} AuditRun */

/**
 * Every run on the schema, finished (`runs`) or in flight (`live_runs`), in the audit's shape: a
 * run stuck in flight is then reported stuck, not as its fire lost.
 * @param {import('pg').Pool} pool
 * @param {string} schema  a validated schema name
 * @returns {Promise<AuditRun[]>}
 */
export async function readRuns(pool, schema) {
  const columns = 'id, job_id, scheduled_for, due_at, attempt, trigger, status, lease_expires_at';
  const { rows } = await pool.query(`SELECT ${columns} FROM "${schema}".runs UNION ALL SELECT ${columns} FROM "${schema}".live_runs`);
  return rows.map((row) => ({
    id: row.id,
    jobId: row.job_id,
    scheduledFor: row.scheduled_for.getTime(),
    dueAt: row.due_at.getTime(),
    attempt: row.attempt,
    trigger: row.trigger,
    status: row.status,
    leaseExpiresAt: row.lease_expires_at?.getTime() ?? null,
  }));
}

/**
 * How many runs of fires due by `until` are not finished yet: rows of `live_runs`, where the store
 * keeps every run in flight (`runs` holds finished ones only).
 * @param {import('pg').Pool} pool
 * @param {string} schema
 * @param {number} until  epoch ms
 * @returns {Promise<number>}
 */
export async function countUnfinished(pool, schema, until) {
  const { rows } = await pool.query(
    `SELECT count(*)::integer AS n FROM "${schema}".live_runs WHERE status IN ('scheduled', 'running') AND scheduled_for <= $1`,
    [new Date(until)],
  );
  return rows[0].n;
}

/**
 * Ids of the jobs that exist.
 * @param {import('pg').Pool} pool
 * @param {string} schema
 * @returns {Promise<Set<string>>}
 */
export async function readJobIds(pool, schema) {
  const { rows } = await pool.query(`SELECT id FROM "${schema}".jobs`);
  return new Set(rows.map((row) => row.id));
}

/**
 * @typedef {object} SoakVerdict
 * @property {number} fires  distinct fires with a run
 * @property {number} expected  fires the ledger expected (each checked for a run)
 * @property {string[]} duplicates
 * @property {string[]} lost  expected fires (and asked-for manual runs) with no run at all
 * @property {string[]} droppedLate  expected fires with no run that a scheduler reported dropping: found missed (past the
 *   misfire threshold) under the job's catch-up policy, or due and not yet claimed when the traffic rescheduled or paused
 *   the job (a claim more than the ledger's margin late: a loaded machine, not a loss)
 * @property {string[]} unretried  interrupted runs of jobs the traffic never touched, left without a retry
 * @property {string[]} inconsistent
 * @property {number} interruptedRetried
 * @property {number} unrecorded  agent completions a kill cut off before they were recorded
 */

/**
 * @param {object} facts
 * @param {AuditRun[]} facts.runs  every run, read once every instance stopped
 * @param {Set<string>} facts.jobIds  jobs that still exist
 * @param {import('../../tests/processes/worker-control.mjs').Execution[]} facts.executions
 * @param {import('../../tests/processes/worker-control.mjs').DroppedFires[]} facts.dropped  missed fires the instances reported making no run for
 * @param {Set<string>} facts.killed  instances killed with SIGKILL
 * @param {import('./job-ledger.mjs').JobLedger} facts.ledger
 * @param {{ runId: string, jobId: string }[]} facts.manualRuns
 * @param {number} facts.windowEnd  when the load stopped (epoch ms)
 * @param {number} facts.marginMs  time left out around every change and at the window's end
 * @returns {SoakVerdict}
 */
export function verdict({ runs, jobIds, executions, dropped, killed, ledger, manualRuns, windowEnd, marginMs }) {
  const audit = auditRuns({ runs, executions, killed, jobIds });
  const fired = new Set(runs.filter((run) => run.trigger !== 'manual').map(fireOf));
  const expectations = ledger.expectations(windowEnd, marginMs);
  /** @type {string[]} */
  const lost = [];
  /** @type {string[]} */
  const droppedLate = [];
  for (const { id, name, fires } of expectations) {
    for (const t of fires) {
      if (fired.has(fireOf({ jobId: id, scheduledFor: t }))) continue;
      const report = dropped.find((d) => d.jobName === name && d.oldest <= t && t <= d.newest);
      if (report) droppedLate.push(`${name} fire ${new Date(t).toISOString()} (${report.instance} reported it dropped: ${report.reason})`);
      else lost.push(`${name} fire ${new Date(t).toISOString()} (${ledger.history(id)})`);
    }
  }
  const runIds = new Set(runs.map((run) => run.id));
  for (const manual of manualRuns) {
    if (jobIds.has(manual.jobId) && !runIds.has(manual.runId)) lost.push(`manual run ${manual.runId} of ${ledger.get(manual.jobId)?.name}`);
  }
  const unretried = audit.unretried
    .filter((run) => {
      const kind = ledger.get(run.jobId)?.kind;
      return kind === 'steady' || kind === 'one-shot';
    })
    .map((run) => `${ledger.get(run.jobId)?.name} ${fireOf(run)} attempt ${run.attempt}`);
  return {
    fires: audit.fires,
    expected: expectations.reduce((sum, { fires }) => sum + fires.length, 0),
    duplicates: audit.duplicates,
    lost,
    droppedLate,
    unretried,
    inconsistent: audit.inconsistent,
    interruptedRetried: audit.retried,
    unrecorded: audit.unrecorded,
  };
}
