import { randomUUID } from 'node:crypto';
import {
  abandonment,
  checkCount,
  checkPruneRequest,
  claimedRun,
  claimTerms,
  ConflictError,
  copyRun,
  decideFire,
  finishRule,
  guardForPatch,
  interruption,
  JOB_STATUSES,
  mergeAuditPages,
  JobNotFoundError,
  recoveryRule,
  RUN_STATUSES,
  StoreError,
  TERMINAL_RUN_STATUSES,
  ValidationError,
} from '@symbi/core';
import type {
  AuditEvent,
  AuditFilter,
  ClaimRequest,
  ClaimedRun,
  CronJobDefinition,
  FinishRunRequest,
  InstanceRecord,
  InstanceRegistration,
  JobFilter,
  JobLoad,
  JobRunRecord,
  JobStatus,
  JobStore,
  LeaseRenewal,
  PruneRequest,
  RecoverRequest,
  ReleaseOwnersRequest,
  RunFilter,
  RunGuard,
  RunPatch,
  RunStatus,
  SessionState,
  StoreCapabilities,
  StoreChange,
} from '@symbi/core';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { Batcher } from './batcher.js';
import { ChangeListener, encodeChange } from './change-listener.js';
import { rowToExecutedAudit, type ExecutedAuditRow } from './executed-audit.js';
import { checkIdentifier, checkSchemaName, defaultNotifyChannel } from './identifiers.js';
import { InstanceRows } from './instances.js';
import { pruneStatements, pruneTermsJson, type PruneStatements } from './history-pruning.js';
import { migrate } from './migrations.js';
import { PIPELINE, PostgresRunner, SESSION_SETTINGS, statement, type Transaction } from './postgres-runner.js';
import {
  auditToRow,
  jobToRow,
  recordJson,
  recordsJson,
  rowToAudit,
  rowToJob,
  rowToRun,
  rowToSession,
  runPatchToRow,
  runToRow,
  sessionToRow,
  writeDate,
  type Read,
} from './row-mapping.js';
import { finishRuns, patchInput, type FinishItem, type FinishResult } from './run-finishing.js';
import { STORE_TYPES } from './type-parsers.js';
import type { AuditRow, Database, JobRow, NewAuditRow, NewRunRow, ReadRunRow, RunRow, SessionRow } from './schema.js';
import { Statements, type PatchInput } from './statements.js';

/** Options of {@link PostgresJobStore}. */
export interface PostgresJobStoreOptions {
  /** Where to connect, e.g. `postgres://user@host:5432/db`; ignored when `pool` is given. */
  connectionString?: string;
  /**
   * A pool to use instead of creating one; the store then never ends it (its owner does).
   * Subscribing holds one of its connections for `LISTEN`.
   */
  pool?: pg.Pool;
  /** Schema holding the tables (created by `init`): letters, digits, underscores; default `symbi`. */
  schema?: string;
  /** `NOTIFY` channel shared by the instances on this schema; default `<schema>_changes`. */
  notifyChannel?: string;
  /**
   * Size of the pool the store creates (ignored with `pool`); default 16: a claim, one batch of
   * each kind of hot write in flight and the `LISTEN` connection take at most eight, which leaves
   * room for reads and lease upkeep. Connections open only when needed.
   */
  maxConnections?: number;
  /**
   * How long `init` waits for a database that cannot be reached yet (refusing connections,
   * starting up), trying again with back-off; default 30000 ms.
   */
  startupWaitMs?: number;
  /**
   * How long any other call keeps trying to reach the database after a lost or refused connection
   * before failing with a retryable `StoreUnavailableError`; default 10000 ms.
   */
  reconnectWindowMs?: number;
}

const DEFAULT_LIST_LIMIT = 100;
const DEFAULT_MAX_CONNECTIONS = 16;
const DEFAULT_STARTUP_WAIT_MS = 30_000;
/** How long opening one connection may take before it counts as a failure to reach the database. */
const CONNECT_TIMEOUT_MS = 5_000;
/** Tries of {@link PostgresJobStore.createJobIfAbsent} against a name deleted as soon as it is seen. */
const MAX_CREATE_ATTEMPTS = 3;

/**
 * Batches of each kind in flight at once, and their size. One lane makes bursts queue up into large
 * batches (one commit and one connection each) rather than contend for the disk and the pool one
 * commit per call; a second lane in flight beside it was measured to cost the server more CPU per
 * write (its transactions contend for the same hot pages) for no more throughput.
 */
const BATCH_LANES = 1;
const MAX_BATCH = 200;

interface UpdateRequest {
  runId: string;
  input: PatchInput;
}

/**
 * A {@link JobStore} on PostgreSQL, for several scheduler instances sharing one database.
 *
 * Claims lock due jobs and queued runs with `FOR NO KEY UPDATE SKIP LOCKED`, so concurrent
 * claimers never wait for each other nor take the same work, and the unique `fire_key` makes each
 * fire run at most once anywhere. Every multi-row change is one transaction, and a claim batch
 * costs a fixed handful of statements whatever its size. `notify`/`subscribe` carry changes
 * between instances over `LISTEN`/`NOTIFY`.
 *
 * @example
 * ```ts
 * const store = new PostgresJobStore({ connectionString: process.env.DATABASE_URL });
 * await store.init();
 * ```
 */
export class PostgresJobStore implements JobStore {
  /**
   * Safe for many instances; changes travel between them by `NOTIFY`; a success's routine audit
   * event is a mark on its run (see `executed-audit.ts`).
   */
  readonly capabilities: StoreCapabilities = { multiInstance: true, crossProcessNotifications: true, executedAuditFromHistory: true };
  /** The schema holding this store's tables. */
  readonly schema: string;
  /** The `NOTIFY` channel of this store. */
  readonly notifyChannel: string;

  private readonly db: Kysely<Database>;
  private readonly runner: PostgresRunner;
  private readonly statements: Statements;
  private readonly pruning: PruneStatements;
  private readonly ownsPool: boolean;
  private readonly startupWaitMs: number;
  private readonly instanceId = randomUUID();
  private closed = false;
  private readonly changes: ChangeListener;
  private readonly updates: Batcher<UpdateRequest, JobRunRecord | null>;
  private readonly finishes: Batcher<FinishItem, FinishResult>;
  private readonly sessionReads: Batcher<string, SessionState | null>;
  private readonly sessionWrites: Batcher<SessionRow, void>;
  private readonly auditWrites: Batcher<NewAuditRow, void>;
  private readonly instances: InstanceRows;

  constructor(options: PostgresJobStoreOptions = {}) {
    this.schema = checkSchemaName(options.schema ?? 'symbi');
    this.notifyChannel = checkIdentifier('notify_channel', options.notifyChannel ?? defaultNotifyChannel(this.schema));
    this.ownsPool = options.pool === undefined;
    // Pipelined connections with the session settings of the runner (a connection string may
    // still say otherwise); see PIPELINE and SESSION_SETTINGS there for why.
    const pool =
      options.pool ??
      new pg.Pool({
        ...PIPELINE,
        options: SESSION_SETTINGS.map(([name, value]) => `-c ${name}=${value}`).join(' '),
        types: STORE_TYPES,
        max: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
        ...(options.connectionString === undefined ? {} : { connectionString: options.connectionString }),
      });
    // A connection that breaks emits 'error', which would crash the process without a listener:
    // idle in the pool (the pool drops it; the next query opens a fresh one) or checked out (its
    // queries fail with the error, and the runner gives it back broken, so the pool drops it too).
    pool.on('error', ignoreError);
    pool.on('connect', (client) => client.on('error', ignoreError));
    // The dialect makes kysely write PostgreSQL; statements run through the runner (see there why).
    this.db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }).withSchema(this.schema);
    this.runner = new PostgresRunner(pool, options.reconnectWindowMs);
    this.startupWaitMs = options.startupWaitMs ?? DEFAULT_STARTUP_WAIT_MS;
    this.statements = new Statements(this.db, this.schema);
    this.instances = new InstanceRows(this.runner, this.db);
    this.pruning = pruneStatements(this.db, this.schema);
    this.changes = new ChangeListener(pool, this.db, this.notifyChannel, this.instanceId);
    this.updates = batcher((requests: UpdateRequest[]) => this.updateRuns(requests), (request) => request.runId);
    this.finishes = batcher(
      (items: FinishItem[]) => this.runner.transaction('finish runs', (tx) => finishRuns(tx, this.statements, items)),
      (item) => item.runId,
    );
    this.sessionReads = batcher((jobIds: string[]) => this.loadSessions(jobIds), (jobId) => jobId);
    this.sessionWrites = batcher((rows: SessionRow[]) => this.saveSessions(rows), (row) => row.job_id);
    // One lane (whatever BATCH_LANES says): appends then reach the log in call order, even concurrent ones.
    this.auditWrites = batcher((rows: NewAuditRow[]) => this.appendAudits(rows), (row) => row.id, 1);
  }

  /**
   * Creates the schema and applies pending migrations; concurrent calls from many instances are
   * safe (they take turns on an advisory lock). Waits up to `startupWaitMs` for a database that
   * cannot be reached yet.
   */
  async init(): Promise<void> {
    await this.runner.transaction('migrate schema', (tx) => migrate(tx, this.db, this.schema), this.startupWaitMs);
  }

  /** Why the database cannot be reached, while the last call that tried could not reach it. */
  trouble(): string | null {
    const outage = this.runner.outage;
    return outage === null ? null : `database unreachable since ${outage.since.toISOString()}: ${outage.reason}`;
  }

  /** Stops listening and, when the store created its pool, closes it. Later calls do nothing. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.changes.close();
    if (this.ownsPool) await this.runner.pool.end();
  }

  async createJob(job: CronJobDefinition): Promise<CronJobDefinition> {
    const { rows } = await this.runner.query('create job', this.statements.insertJob.bind({ job: recordJson(jobToRow(job)) }));
    return rowToJob(first(rows));
  }

  /**
   * `INSERT … ON CONFLICT (name) DO NOTHING`: of instances racing to create one name, one inserts
   * and the others wait for its commit and read its row.
   */
  async createJobIfAbsent(job: CronJobDefinition): Promise<{ job: CronJobDefinition; created: boolean }> {
    const values = { job: recordJson(jobToRow(job)) };
    // The job holding the name may be deleted between the two statements; then the insert is tried again.
    for (let attempt = 1; ; attempt++) {
      const { rows } = await this.runner.query('create job', this.statements.insertJobUnlessNamed.bind(values));
      if (rows[0] !== undefined) return { job: rowToJob(rows[0]), created: true };
      const existing = await this.getJobByName(job.name);
      if (existing !== null) return { job: existing, created: false };
      if (attempt === MAX_CREATE_ATTEMPTS) throw new ConflictError(`job name ${job.name} is taken and released again repeatedly; try again`);
    }
  }

  async saveJob(job: CronJobDefinition, options: { expectedVersion?: number } = {}): Promise<CronJobDefinition> {
    const values = { job: recordJson(jobToRow(job)), id: job.id, expectedVersion: options.expectedVersion ?? null };
    const { rows } = await this.runner.query('save job', this.statements.saveJob.bind(values));
    if (rows[0] !== undefined) return rowToJob(rows[0]);
    const current = await this.runner.query('save job', this.statements.jobVersion.bind({ id: job.id }));
    const stored = current.rows[0];
    if (stored === undefined) throw new JobNotFoundError(job.id);
    throw new ConflictError(`job ${job.id} is at version ${stored.version}, not ${String(options.expectedVersion)}`);
  }

  /**
   * Deletes the job, its runs and its session (which cascades) in one transaction of three
   * statements, sent together: the job locked, the events of its marked runs written as rows (see
   * `executed-audit.ts`), then the delete.
   */
  async deleteJob(id: string): Promise<boolean> {
    return this.runner.transaction('delete job', async (tx) => {
      const [, , deleted] = await Promise.all([
        tx.query(this.statements.lockJobToDelete.bind({ id })),
        tx.query(this.statements.keepExecutedAuditsOfJob.bind({ id })),
        tx.query(this.statements.deleteJob.bind({ id })),
        tx.commit(),
      ]);
      return deleted.rowCount > 0;
    });
  }

  async getJob(id: string): Promise<CronJobDefinition | null> {
    const { rows } = await this.runner.query('get job', this.statements.jobById.bind({ id }));
    return rows[0] === undefined ? null : rowToJob(rows[0]);
  }

  async getJobByName(name: string): Promise<CronJobDefinition | null> {
    const { rows } = await this.runner.query('get job', this.statements.jobByName.bind({ name }));
    return rows[0] === undefined ? null : rowToJob(rows[0]);
  }

  async listJobs(filter: JobFilter = {}): Promise<CronJobDefinition[]> {
    const query = this.statements.listJobs(filter, checkCount('limit', filter.limit), checkCount('offset', filter.offset));
    const { rows } = await this.runner.query('list jobs', statement(query));
    return rows.map(rowToJob);
  }

  async countJobs(): Promise<Record<JobStatus, number>> {
    const counts = Object.fromEntries(JOB_STATUSES.map((status) => [status, 0])) as Record<JobStatus, number>;
    const { rows } = await this.runner.query('count jobs', this.statements.countJobs.bind({}));
    for (const row of rows) counts[row.status] = row.n;
    return counts;
  }

  async nextWakeAt(agents?: readonly string[]): Promise<Date | null> {
    const { rows } = await this.runner.query('find next wake time', this.statements.nextWakeAt.bind({ agents: agents ?? null }));
    return rows[0]?.at ?? null;
  }

  /**
   * Claims in three statements, and two round trips when the pool pipelines: BEGIN with the locking
   * of due jobs and of jobs with due waiting runs, then (after the plans) their application and
   * the claim with COMMIT. Plans that cancel their job's running runs (overlap `cancel_other`) ask
   * for it after the COMMIT, holding no job (see `Statements.requestCancel`); a crash between the two
   * loses the request, and the older run ends on its own.
   */
  async claimDue(request: ClaimRequest): Promise<ClaimedRun[]> {
    const { now, horizon, limit, owner, leaseExpiresAt: leaseUntil, agents } = claimTerms(request);
    const { claimed, cancelJobs } = await this.runner.transaction('claim due runs', async (tx) => {
      const [due, slots] = await Promise.all([
        tx.query(this.statements.lockDueJobs.bind({ horizon, limit, agents })),
        tx.query(this.statements.lockSlotJobs.bind({ now, horizon, limit, agents })),
      ]);
      const fired = due.rows.length === 0 ? null : planFires(due.rows, request);
      const slotJobs = slots.rows.map((row) => row.id);
      const claim = { now, horizon, limit, owner, leaseUntil, agents, slotJobs, ...(fired?.values ?? NOTHING_FIRED) };
      const [answer] = await Promise.all([tx.query(this.statements.claimRuns.bind(claim)), tx.commit()]);
      const claimed = toClaimedRuns(answer.rows[0], (run) => run.dueAt, fired === null ? undefined : { ...fired, owner, leaseUntil });
      return { claimed, cancelJobs: fired?.cancelJobs ?? [] };
    });
    if (cancelJobs.length > 0) await this.runner.query('request cancellation', this.statements.requestCancel.bind({ jobIds: cancelJobs }));
    return claimed;
  }

  /**
   * Inserts the run into `live_runs` or, finished, into `runs`, under its job's lock, which every
   * writer that inserts or finishes a run of the job holds: a fire key finished meanwhile is seen in
   * `runs`, so it is refused (`ConflictError`) rather than run again, and a job the lock does not
   * find is refused (`JobNotFoundError`).
   */
  async insertRun(run: JobRunRecord): Promise<JobRunRecord> {
    const inserted = await this.runner.transaction('insert run', async (tx) => {
      const locked = await tx.query(this.statements.lockJobs.bind({ ids: [run.jobId] }));
      if (locked.rows.length === 0) throw new JobNotFoundError(run.jobId);
      const [answer] = await Promise.all([tx.query(this.statements.insertRuns.bind({ runs: recordsJson([runToRow(run)]) })), tx.commit()]);
      return answer.rows;
    });
    const row = inserted[0];
    if (row === undefined) throw new ConflictError(`insert run: run ${run.id} or its fire key ${String(run.fireKey)} is already taken`);
    return rowToRun(row);
  }

  /**
   * Applies `patch` if `guard` holds; returns the updated run, or null if absent or the guard failed.
   * Calls made while earlier ones are in flight are applied together in one statement (group commit);
   * calls for the same run keep their order.
   */
  async updateRun(runId: string, patch: RunPatch, given: RunGuard = {}): Promise<JobRunRecord | null> {
    const guard = guardForPatch(patch, given);
    const input = patchInput(runId, guard.owner ?? null, runPatchToRow(patch), guard.statusIn ?? null);
    return this.updates.submit({ runId, input });
  }

  /**
   * Finishes a run, updates its job and appends its audit events (or marks a success, see
   * `executed-audit.ts`) in one transaction (see `FinishRunRequest`). Calls made while earlier ones
   * are in flight share one transaction of two statements (group commit); each call's plan sees the
   * counts of the calls before it, and a call that fails is retried alone, so it fails alone.
   */
  async finishRun(request: FinishRunRequest): Promise<{ run: JobRunRecord; job: CronJobDefinition | null } | null> {
    return this.finishes.submit({
      runId: request.runId,
      owner: request.owner ?? null,
      patch: runPatchToRow(request.patch),
      rule: finishRule(request),
      executedAudit: request.executedAudit === true,
    });
  }

  async renewLeases(owner: string, runIds: string[], until: Date): Promise<LeaseRenewal> {
    if (runIds.length === 0) return { renewed: [], cancelRequested: [], lost: [] };
    const { rows } = await this.runner.query('renew leases', this.statements.renewLeases.bind({ owner, ids: runIds, until }));
    const renewed = new Set(rows.map((row) => row.id));
    const cancelRequested = new Set(rows.filter((row) => row.cancel_requested).map((row) => row.id));
    // Runs not renewed are lost unless they were skipped as locked while still this owner's.
    const rest = runIds.filter((id) => !renewed.has(id));
    const held =
      rest.length === 0 ? new Set<string>() : new Set((await this.runner.query('renew leases', this.statements.ownedRuns.bind({ owner, ids: rest }))).rows.map((row) => row.id));
    return {
      renewed: runIds.filter((id) => renewed.has(id)),
      cancelRequested: runIds.filter((id) => cancelRequested.has(id)),
      lost: rest.filter((id) => !held.has(id)),
    };
  }

  async recoverExpired(request: RecoverRequest): Promise<JobRunRecord[]> {
    const limit = checkCount('limit', request.limit) ?? 0;
    const rule = recoveryRule(request);
    return this.runner.transaction('recover expired runs', async (tx) => {
      const expired = await tx.query(this.statements.lockExpiredRuns.bind({ now: request.now, limit }));
      const items = expired.rows.map((row): FinishItem => {
        const run = rowToRun(row);
        return { runId: run.id, owner: null, patch: runPatchToRow(interruption(run, request.now)), rule };
      });
      const finished = await finishRuns(tx, this.statements, items);
      return finished.flatMap((result) => (result === null ? [] : [result.run]));
    });
  }

  /** Records instance `instance` as alive, its heartbeat the server's `now()` (see core's `lifecycle/liveness.ts`). */
  async registerInstance(instance: InstanceRegistration): Promise<void> {
    await this.instances.register(instance);
  }

  /** Moves the heartbeat of instance `id` to the server's `now()`; false when its row is gone. */
  async beatInstance(id: string): Promise<boolean> {
    return this.instances.beat(id);
  }

  /** Every registered instance, silent since its last heartbeat by the server's clock. */
  async listInstances(): Promise<InstanceRecord[]> {
    return this.instances.list();
  }

  /** Deletes the rows of the instances whose heartbeat count is unchanged; the ids deleted. */
  async forgetInstances(instances: readonly Pick<InstanceRecord, 'id' | 'beats'>[]): Promise<string[]> {
    return this.instances.forget(instances);
  }

  /** Deletes the row of instance `id`. */
  async deregisterInstance(id: string): Promise<void> {
    await this.instances.deregister(id);
  }

  /**
   * Releases up to `limit` runs of the given dead owners in one transaction, each as core's
   * `abandonment` says: runs handed back in one statement, interrupted ones finished as
   * `recoverExpired` finishes them.
   */
  async releaseOwners(request: ReleaseOwnersRequest): Promise<JobRunRecord[]> {
    const limit = checkCount('limit', request.limit) ?? 0;
    const reasons = new Map(request.owners.map((owner) => [owner.id, owner.reason]));
    const rule = recoveryRule(request);
    return this.runner.transaction('release runs of dead instances', async (tx) => {
      const handedBack: PatchInput[] = [];
      const interrupted: FinishItem[] = [];
      for (const row of (await tx.query(this.statements.ownedByAny.bind({ owners: [...reasons.keys()], limit }))).rows) {
        const run = rowToRun(row);
        const abandoned = abandonment(run, request.now, reasons.get(row.owner as string) ?? `owner ${row.owner} is gone`);
        if (abandoned === null) continue;
        const patch = runPatchToRow(abandoned.patch);
        if (abandoned.interrupted) interrupted.push({ runId: run.id, owner: null, patch, rule });
        else handedBack.push(patchInput(run.id, run.owner, patch));
      }
      const ids = handedBack.map((input) => input.id);
      const released = ids.length === 0 ? [] : await this.patchRuns(tx, ids, JSON.stringify(handedBack));
      // Finishing sends the COMMIT with its last statement: nothing may follow it.
      const finished = interrupted.length === 0 ? [] : await finishRuns(tx, this.statements, interrupted);
      return [...released.map(rowToRun), ...finished.flatMap((result) => (result === null ? [] : [result.run]))];
    });
  }

  async getRun(id: string): Promise<JobRunRecord | null> {
    const { rows } = await this.runner.query('get run', this.statements.runById.bind({ id }));
    return rows[0] === undefined ? null : rowToRun(rows[0]);
  }

  async listRuns(filter: RunFilter = {}): Promise<JobRunRecord[]> {
    const limit = checkCount('limit', filter.limit) ?? DEFAULT_LIST_LIMIT;
    const statuses = filter.status === undefined ? undefined : runStatuses(filter.status);
    if (statuses?.length === 0) return [];
    const query = this.statements.listRuns({ ...filter, ...(statuses === undefined ? {} : { statuses }) }, limit);
    const { rows } = await this.runner.query('list runs', statement(query));
    return rows.map(rowToRun);
  }

  /**
   * Deletes, in one statement, at most `limit` runs that core's retention rule selects (see
   * `JobStore.pruneHistory`); a dry run counts them.
   */
  async pruneHistory(request: PruneRequest): Promise<number> {
    const { jobs, statuses, limit, dryRun } = checkPruneRequest(request);
    if (jobs.length === 0) return 0;
    const values = { terms: pruneTermsJson(jobs), statuses };
    if (dryRun) return first((await this.runner.query('count prunable runs', this.pruning.count.bind(values))).rows).n;
    return first((await this.runner.query('prune run history', this.pruning.prune.bind({ ...values, limit }))).rows).n;
  }

  async claimPendingDeliveries(request: { now: Date; owner: string; leaseMs: number; limit: number }): Promise<ClaimedRun[]> {
    const { now, limit, owner, leaseExpiresAt: leaseUntil } = claimTerms(request);
    const values = { now, limit, owner, leaseUntil };
    const { rows } = await this.runner.query('claim pending deliveries', this.statements.claimDeliveries.bind(values));
    return toClaimedRuns(rows[0], (run) => run.completedAt ?? run.scheduledFor);
  }

  /** A job's session; reads made while others are in flight share one statement. */
  async loadSession(jobId: string): Promise<SessionState | null> {
    return this.sessionReads.submit(jobId);
  }

  /** Stores a job's session; writes made while others are in flight share one statement and commit. */
  async saveSession(jobId: string, state: SessionState): Promise<void> {
    await this.sessionWrites.submit(sessionToRow(jobId, state));
  }

  /** Appends an audit event; appends made while others are in flight share one statement and commit. */
  async appendAudit(event: AuditEvent): Promise<void> {
    await this.auditWrites.submit(auditToRow(event));
  }

  async queryAudit(filter: AuditFilter = {}): Promise<AuditEvent[]> {
    const limit = checkCount('limit', filter.limit) ?? DEFAULT_LIST_LIMIT;
    const { rows } = await this.runner.query('query audit events', statement(this.statements.queryAudit(filter, limit)));
    const stored: AuditEvent[] = [];
    const derived: AuditEvent[] = [];
    for (const row of rows) {
      if (row.marked) derived.push(rowToExecutedAudit(row as ExecutedAuditRow));
      else stored.push(rowToAudit(row as Omit<AuditRow, 'seq'>));
    }
    return mergeAuditPages(stored, derived, limit);
  }

  /** Sends `change` to every other instance subscribed on this schema's channel (`NOTIFY`). */
  async notify(change: StoreChange): Promise<void> {
    await this.runner.query('notify', this.statements.notify.bind({ channel: this.notifyChannel, payload: encodeChange(change, this.instanceId) }));
  }

  /**
   * Calls `listener` for each change another store instance announces with {@link notify}. The
   * first subscriber opens a dedicated `LISTEN` connection, which reconnects by itself when it drops.
   */
  subscribe(listener: (change: StoreChange) => void): () => void {
    return this.changes.subscribe(listener);
  }

  private async loadSessions(jobIds: string[]): Promise<(SessionState | null)[]> {
    const { rows } = await this.runner.query('load sessions', this.statements.loadSessions.bind({ jobIds }));
    const found = new Map(rows.map((row) => [row.job_id, rowToSession(row)]));
    return jobIds.map((jobId) => found.get(jobId) ?? null);
  }

  private async saveSessions(rows: SessionRow[]): Promise<void[]> {
    try {
      await this.runner.query('save sessions', this.statements.saveSessions.bind({ sessions: recordsJson(rows) }));
    } catch (error) {
      // Alone in its batch (after a failed batch is split), a missing job can be named.
      const [only] = rows;
      throw rows.length === 1 && only !== undefined ? jobMissing(error, only.job_id) : error;
    }
    return rows.map(() => undefined);
  }

  private async appendAudits(rows: NewAuditRow[]): Promise<void[]> {
    await this.runner.query('append audit events', this.statements.appendAudits.bind({ events: recordsJson(rows) }));
    return rows.map(() => undefined);
  }

  /**
   * In a transaction for its settings: the runs are found by key (see the runner's `TRANSACTION_SETTINGS`).
   * A batch none of whose rows can move is sent with its COMMIT, in one round trip, and one whose
   * guards only runs in flight meet (a start's) updates `live_runs` alone.
   */
  private async updateRuns(requests: UpdateRequest[]): Promise<(JobRunRecord | null)[]> {
    const input = JSON.stringify(requests.map((request) => request.input));
    const ids = requests.map((request) => request.runId);
    const reach = batchReach(requests);
    const rows = await this.runner.transaction('update runs', async (tx) => {
      if (reach === 'moving') {
        const patched = await this.patchRuns(tx, ids, input);
        await tx.commit();
        return patched;
      }
      const update = reach === 'live' ? this.statements.updateLiveRuns : this.statements.updateRuns;
      const [patched] = await Promise.all([tx.query(update.bind({ ids, input })), tx.commit()]);
      return patched.rows;
    });
    const updated = new Map(rows.map((row) => [row.id, rowToRun(row)]));
    return requests.map((request) => updated.get(request.runId) ?? null);
  }

  /**
   * Patches the runs of `ids` where they are, then moves those a patch finished to `runs` (a finished
   * run's status is final, so none moves back), holding their jobs' locks as every move does (see
   * `Statements`); the patched rows.
   */
  private async patchRuns(tx: Transaction, ids: string[], input: string): Promise<Read<ReadRunRow>[]> {
    const { rows } = await tx.query(this.statements.updateRuns.bind({ ids, input }));
    const finished = rows.filter((row) => row.misplaced);
    if (finished.length === 0) return rows;
    await tx.query(this.statements.lockJobs.bind({ ids: [...new Set(finished.map((row) => row.job_id))] }));
    await tx.query(this.statements.moveFinishedRuns.bind({ ids: finished.map((row) => row.id) }));
    return rows;
  }
}

function ignoreError(): void {}

const isTerminal = (status: unknown): boolean => TERMINAL_RUN_STATUSES.includes(status as RunStatus);

/**
 * Which rows the patches of a batch can reach: `moving` when some patch finishes its run (it then
 * belongs in `runs`), `live` when every guard admits only statuses in flight (rows of `runs` are all
 * finished, so none matches; every patch that sets a status has such a guard, see `guardForPatch`),
 * else `any`.
 */
function batchReach(requests: readonly UpdateRequest[]): 'live' | 'any' | 'moving' {
  let live = true;
  for (const { input } of requests) {
    if (isTerminal(input.patch.status)) return 'moving';
    live &&= input.status_in !== null && !input.status_in.some(isTerminal);
  }
  return live ? 'live' : 'any';
}

function first<Row>(rows: Row[]): Row {
  const row = rows[0];
  if (row === undefined) throw new StoreError('statement returned no row');
  return row;
}


/**
 * Asks the plan of every due job (`dueRows`, their rows with their load): the
 * values of the statement that applies them all, and what the claim that follows does not send
 * back: each planned job as it will be stored (the plan's own result, built on a job parsed for it
 * alone, as the in-memory store hands it out), and the planned runs, to be handed out as copies
 * (see {@link toClaimedRuns}).
 */
function planFires(dueRows: readonly Read<JobRow & JobLoad>[], request: ClaimRequest): FiredJobs & { values: FirePlanValues } {
  const advanced: Pick<JobRow, 'id' | 'next_run' | 'status' | 'version' | 'updated_at'>[] = [];
  const runs: NewRunRow[] = [];
  const cancelJobs: string[] = [];
  const jobs = new Map<string, CronJobDefinition>();
  // A run inserted twice in one statement keeps its first row; the others conflict.
  const planned = new Map<string, JobRunRecord>();
  // Every plan answers before anything is written, so a plan that throws changes nothing.
  for (const row of dueRows) {
    const fire = decideFire(rowToJob(row), { active: row.active, waiting: row.waiting }, request);
    const { id, nextRun, status, version, updatedAt } = fire.jobPatch;
    advanced.push({ id, next_run: writeDate('next_run', nextRun), status, version, updated_at: updatedAt });
    jobs.set(id, fire.job);
    for (const run of fire.runs) {
      runs.push(runToRow(run));
      if (!planned.has(run.id)) planned.set(run.id, run);
    }
    if (fire.cancelRunning) cancelJobs.push(id);
  }
  const values = { planned: advanced.map((row) => row.id), advanced: recordsJson(advanced), runs: recordsJson(runs) };
  return { jobs, plannedRun: (id) => planned.get(id), cancelJobs, values };
}

/** The fire plans of a claim as the claim statement takes them (see `Statements.claimRuns`). */
interface FirePlanValues {
  /** Ids of the planned jobs. */
  planned: string[];
  /** JSON array of the planned jobs' changed columns. */
  advanced: string;
  /** JSON array of the planned runs. */
  runs: string;
}

/** The values of a claim with no due job. */
const NOTHING_FIRED: FirePlanValues = { planned: [], advanced: '[]', runs: '[]' };

/** What a claim's fire plans write, as known before it is written (see {@link planFires}). */
interface FiredJobs {
  /** Each planned job as it is stored once the plans are applied, by id. */
  jobs: Map<string, CronJobDefinition>;
  /** A planned run, by id, as its plan made it (before it is claimed); the plan's own record, not to be handed out. */
  plannedRun(id: string): JobRunRecord | undefined;
  /** Jobs whose running runs the plans ask to cancel, once the claim has committed. */
  cancelJobs: string[];
}

/** The row a claim statement answers (see `Statements.withTheirJobs`). */
interface ClaimedRow {
  fresh: string | null;
  runs: string | null;
  jobs: string | null;
}

/**
 * The runs of a claim's answer (`row`) with their jobs, in the order they were chosen: by
 * `orderedBy`, then id (`UPDATE … RETURNING` keeps none). Runs and jobs the claim's own fire plans
 * wrote (`fired`) were not sent back; they are taken from there, with the claim's owner and lease.
 */
function toClaimedRuns(
  row: ClaimedRow | undefined,
  orderedBy: (run: JobRunRecord) => Date,
  fired?: FiredJobs & { owner: string; leaseUntil: Date },
): ClaimedRun[] {
  const jobs = new Map<string, CronJobDefinition>(fired?.jobs);
  for (const job of parseArray<Read<JobRow>>(row?.jobs)) jobs.set(job.id, rowToJob(job));
  const runs = parseArray<Read<RunRow>>(row?.runs).map(rowToRun);
  if (fired !== undefined) {
    for (const id of parseArray<string>(row?.fresh)) runs.push(claimedRun(copyRun(fired.plannedRun(id) as JobRunRecord), { owner: fired.owner, leaseExpiresAt: fired.leaseUntil }));
  }
  const handedOut = new Set<string>();
  // Each claimed run gets its own copy of its job, so no caller aliases another's.
  const jobOf = (jobId: string): CronJobDefinition => {
    const job = jobs.get(jobId) as CronJobDefinition;
    if (!handedOut.has(jobId)) {
      handedOut.add(jobId);
      return job;
    }
    return structuredClone(job);
  };
  return runs
    .sort((a, b) => orderedBy(a).getTime() - orderedBy(b).getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((run) => ({ run, job: jobOf(run.jobId) }));
}

/** The elements of a JSON array the database sent as text; none for null. */
function parseArray<T>(json: string | null | undefined): T[] {
  return json == null ? [] : (JSON.parse(json) as T[]);
}


/**
 * The statuses of a run filter, checked against the known statuses: they are written into the
 * statement as literals (see `Statements.listRuns`).
 */
function runStatuses(status: RunStatus | RunStatus[]): RunStatus[] {
  const statuses = Array.isArray(status) ? status : [status];
  for (const value of statuses) {
    if (!RUN_STATUSES.includes(value)) throw new ValidationError('status', `must be one of ${RUN_STATUSES.join(', ')}`, value);
  }
  return statuses;
}

/** A {@link Batcher} with this store's batch size. */
function batcher<Request, Result>(
  execute: (requests: Request[]) => Promise<Result[]>,
  keyOf: (request: Request) => string,
  lanes = BATCH_LANES,
): Batcher<Request, Result> {
  return new Batcher({ execute, keyOf, lanes, maxBatch: MAX_BATCH });
}

/** A foreign-key violation on a job id means the job does not exist. */
function jobMissing(error: unknown, jobId: string): unknown {
  const cause = error instanceof StoreError ? (error.cause as { code?: unknown } | undefined) : undefined;
  return cause?.code === '23503' ? new JobNotFoundError(jobId) : error;
}
