/**
 * Checks of exactly-once execution, held against two records: the runs table (what the store
 * says happened) and the workers' execution logs (what the agents really did). Pure functions over
 * plain rows, shared by the process tests and the soak.
 *
 * A fire is one (job, scheduled time); its attempts are the first run and its retries. Manual runs
 * (`runNow`) belong to no fire and are judged one by one.
 */

/**
 * The part of a run the audit reads.
 * @typedef {object} AuditRun
 * @property {string} id
 * @property {string} jobId
 * @property {number} scheduledFor  epoch ms
 * @property {number} dueAt  epoch ms
 * @property {number} attempt
 * @property {string} trigger  `schedule`, `catchup`, `retry` or `manual`
 * @property {string} status
 * @property {number | null} leaseExpiresAt  epoch ms
 */

/** @typedef {import('./worker-control.mjs').Execution} Execution */

/** @param {{ jobId: string, scheduledFor: number }} item */
export const fireOf = (item) => `${item.jobId}@${new Date(item.scheduledFor).toISOString()}`;

/** @param {{ jobId: string, scheduledFor: number, attempt: number }} item */
export const attemptOf = (item) => `${fireOf(item)}#${item.attempt}`;

/**
 * @template T
 * @param {T[]} items
 * @param {(item: T) => string} key
 * @returns {Map<string, T[]>}
 */
function groupBy(items, key) {
  /** @type {Map<string, T[]>} */
  const groups = new Map();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/**
 * @typedef {object} AuditOptions
 * @property {AuditRun[]} runs  every run of the jobs under audit
 * @property {Execution[]} executions  every execution the workers logged
 * @property {Set<string>} killed  instances that were killed with SIGKILL
 * @property {Set<string>} [jobIds]  jobs whose runs are all in `runs` (default: the jobs of `runs`);
 *   executions of other jobs (removed ones, whose runs were deleted with them) are only checked
 *   against each other
 * @property {number} [until]  only fires scheduled at or before this time (epoch ms) are audited:
 *   with schedulers still running, later ones may change between reading the table and the logs
 */

/**
 * @typedef {object} AuditResult
 * @property {number} fires  distinct fires with a run
 * @property {number} executions  agent starts logged
 * @property {string[]} duplicates  each a fire or run that ran more than once
 * @property {string[]} inconsistent  records that disagree (a success with no execution, an execution with no run…)
 * @property {number} interrupted  runs ended `interrupted`
 * @property {number} retried  interrupted runs followed by a next attempt of their fire
 * @property {AuditRun[]} unretried  interrupted fire runs with no next attempt
 * @property {number} unrecorded  agent completions on a killed instance that died before recording them
 */

/**
 * Audits runs and executions for duplicates and disagreements.
 *
 * Duplicates: a fire attempt with two runs; a fire with two succeeded runs; a run or fire attempt
 * started twice; a fire completed twice. One exception is inherent to leases, not a duplicate: an
 * agent that finished on an instance killed before it could record the end leaves its run
 * `interrupted`, and the retry runs the fire again; such completions are counted as `unrecorded`.
 *
 * @param {AuditOptions} options
 * @returns {AuditResult}
 */
export function auditRuns({ runs: allRuns, executions: allExecutions, killed, jobIds, until = Infinity }) {
  const runs = allRuns.filter((run) => run.scheduledFor <= until);
  const executions = allExecutions.filter((e) => e.scheduledFor <= until);
  const known = jobIds ?? new Set(allRuns.map((run) => run.jobId));
  const runsById = new Map(runs.map((run) => [run.id, run]));
  const fireRuns = runs.filter((run) => run.trigger !== 'manual');
  const duplicates = [];
  const inconsistent = [];

  for (const [key, group] of groupBy(fireRuns, attemptOf)) {
    if (group.length > 1) duplicates.push(`fire attempt ${key} has ${group.length} runs`);
  }
  for (const [key, group] of groupBy(fireRuns, fireOf)) {
    const succeeded = group.filter((run) => run.status === 'succeeded').length;
    if (succeeded > 1) duplicates.push(`fire ${key} succeeded ${succeeded} times`);
  }

  const starts = executions.filter((e) => e.event === 'start');
  for (const [runId, group] of groupBy(starts, (e) => e.runId)) {
    if (group.length > 1) duplicates.push(`run ${runId} started ${group.length} times (${group.map((e) => e.instance).join(', ')})`);
  }
  for (const [key, group] of groupBy(starts.filter((e) => e.trigger !== 'manual'), attemptOf)) {
    const ids = new Set(group.map((e) => e.runId));
    if (ids.size > 1) duplicates.push(`fire attempt ${key} started as ${ids.size} different runs`);
  }

  let unrecorded = 0;
  const ends = executions.filter((e) => e.event === 'end');
  const endKey = (/** @type {Execution} */ e) => (e.trigger === 'manual' ? `manual ${e.runId}` : fireOf(e));
  for (const [key, group] of groupBy(ends, endKey)) {
    if (!known.has(/** @type {Execution} */ (group[0]).jobId)) {
      // The runs went with the job: a completion counts as cut off when its instance was killed
      // and a later attempt of the fire ran, which only a retry of an interrupted run can be.
      const last = Math.max(...group.map((end) => end.attempt));
      const cutOff = group.filter((end) => killed.has(end.instance) && end.attempt < last).length;
      unrecorded += cutOff;
      if (group.length - cutOff > 1) duplicates.push(`${key} completed ${group.length - cutOff} times (job since removed)`);
      continue;
    }
    let recorded = 0;
    for (const end of group) {
      const status = runsById.get(end.runId)?.status;
      if (status === 'succeeded') recorded++;
      else if (status === 'interrupted' && killed.has(end.instance)) unrecorded++;
      else duplicates.push(`${key}: run ${end.runId} completed on ${end.instance} but is ${status ?? 'missing'} in the runs table`);
    }
    if (recorded > 1) duplicates.push(`${key} completed and recorded ${recorded} times`);
  }

  for (const start of starts) {
    if (!known.has(start.jobId)) continue;
    const run = runsById.get(start.runId);
    if (!run) inconsistent.push(`execution of run ${start.runId} (${attemptOf(start)}) on ${start.instance} has no run record`);
    else if (attemptOf(run) !== attemptOf(start)) inconsistent.push(`execution of run ${run.id} says ${attemptOf(start)}, the table ${attemptOf(run)}`);
  }
  const completedRuns = new Set(ends.map((e) => e.runId));
  for (const run of runs) {
    if (run.status === 'succeeded' && !completedRuns.has(run.id)) inconsistent.push(`run ${run.id} (${attemptOf(run)}) succeeded but no agent completed it`);
  }

  const attempts = new Set(fireRuns.map(attemptOf));
  const interruptedRuns = runs.filter((run) => run.status === 'interrupted');
  const unretried = interruptedRuns.filter((run) => run.trigger !== 'manual' && !attempts.has(attemptOf({ ...run, attempt: run.attempt + 1 })));
  return {
    fires: new Set(fireRuns.map(fireOf)).size,
    executions: starts.length,
    duplicates,
    inconsistent,
    interrupted: interruptedRuns.length,
    retried: interruptedRuns.length - unretried.length - interruptedRuns.filter((run) => run.trigger === 'manual').length,
    unretried,
    unrecorded,
  };
}

/**
 * Runs left unfinished: `running` with a lease that lapsed more than `graceMs` ago (nobody will
 * ever finish them unless recovered), or with any lease once every scheduler has stopped; and
 * `scheduled` runs due more than `graceMs` ago.
 * @param {AuditRun[]} runs
 * @param {{ now: number, graceMs: number, allStopped: boolean }} at
 * @returns {AuditRun[]}
 */
export function stuckRuns(runs, { now, graceMs, allStopped }) {
  return runs.filter((run) => {
    if (run.status === 'running') return allStopped || (run.leaseExpiresAt ?? 0) < now - graceMs;
    if (run.status === 'scheduled' || run.status === 'awaiting_approval') return run.dueAt < now - graceMs;
    return false;
  });
}

/**
 * The fire times in [fromMs, toMs] of a schedule firing every `step` seconds from second 0 of
 * each minute (`step` divides 60, so they are the epoch seconds divisible by `step`): an oracle
 * independent of the scheduler's own cron code.
 * @param {number} step
 * @param {number} fromMs
 * @param {number} toMs
 * @returns {number[]}
 */
export function firesEvery(step, fromMs, toMs) {
  const stepMs = step * 1000;
  const fires = [];
  for (let t = Math.ceil(fromMs / stepMs) * stepMs; t <= toMs; t += stepMs) fires.push(t);
  return fires;
}

/**
 * Expected fires of a job with no run at all.
 * @param {AuditRun[]} runs  runs of any jobs
 * @param {string} jobId
 * @param {number[]} expected  fire times
 * @returns {number[]}
 */
export function missingFires(runs, jobId, expected) {
  const fired = new Set(runs.filter((run) => run.jobId === jobId && run.trigger !== 'manual').map((run) => run.scheduledFor));
  return expected.filter((t) => !fired.has(t));
}

/**
 * A store run record as an {@link AuditRun}.
 * @param {{ id: string, jobId: string, scheduledFor: Date, dueAt: Date, attempt: number, trigger: string, status: string, leaseExpiresAt: Date | null }} run
 * @returns {AuditRun}
 */
export function toAuditRun(run) {
  return {
    id: run.id,
    jobId: run.jobId,
    scheduledFor: run.scheduledFor.getTime(),
    dueAt: run.dueAt.getTime(),
    attempt: run.attempt,
    trigger: run.trigger,
    status: run.status,
    leaseExpiresAt: run.leaseExpiresAt?.getTime() ?? null,
  };
}
