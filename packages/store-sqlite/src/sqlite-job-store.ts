import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  ConflictError,
  JOB_STATUSES,
  JobNotFoundError,
  StoreError,
  TERMINAL_RUN_STATUSES,
  ValidationError,
  type AuditEvent,
  type AuditFilter,
  type ClaimedRun,
  type ClaimRequest,
  type CronJobDefinition,
  type FinishPlan,
  type FinishRunRequest,
  type JobFilter,
  type JobLoad,
  type JobRunRecord,
  type JobStatus,
  type JobStore,
  type LeaseRenewal,
  type RecoverRequest,
  type RunFilter,
  type RunGuard,
  type RunOutcome,
  type RunPatch,
  type SessionState,
  type StoreCapabilities,
} from '@symbi/core';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { Kysely, SqliteDialect, sql, type ExpressionBuilder, type Updateable } from 'kysely';
import { LEASED_RUN_STATUSES, migrate, OUTBOX_ORDER } from './migrations.js';
import {
  auditToRow,
  jobToRow,
  rowToAudit,
  rowToJob,
  rowToRun,
  rowToSession,
  runPatchToRow,
  runToRow,
  sessionToRow,
  toMs,
} from './row-codec.js';
import type { JobRow, JobsTable, RunRow, StoreDatabase } from './schema.js';
import { mapSqliteError, type ConstraintErrors } from './sqlite-errors.js';
import { SqliteRunner } from './sqlite-runner.js';

/** Where the store keeps its file when no `path` is given, relative to the working directory. */
export const DEFAULT_SQLITE_PATH = './.symbi/scheduler.db';

/** How long a write waits for another connection's lock before failing, unless configured. */
const DEFAULT_BUSY_TIMEOUT_MS = 5000;

const DEFAULT_PAGE = 100;

/*
 * Values a partial index's condition names are written into the SQL as literals, not bound as
 * parameters: SQLite can only use `runs_claim` (`where status = 'scheduled'`) for a query it can
 * prove matches that condition when the statement is prepared.
 */
const ACTIVE = sql.lit('active');
const SCHEDULED = sql.lit('scheduled');

/** Options of {@link SqliteJobStore}. */
export interface SqliteJobStoreOptions {
  /**
   * Database file, created with its folder when missing (default {@link DEFAULT_SQLITE_PATH}).
   * `':memory:'` keeps everything in this connection's memory.
   */
  path?: string;
  /**
   * An open better-sqlite3 database to use instead of opening `path`. The store sets its pragmas
   * and migrates it, but leaves closing it to whoever opened it.
   */
  database?: Database;
  /**
   * How long a statement waits for another process's write lock before failing with a retryable
   * `StoreError` (default 5000 ms).
   */
  busyTimeoutMs?: number;
}

/** An open, migrated connection. */
interface Connection {
  runner: SqliteRunner;
  db: Kysely<StoreDatabase>;
}

type RunsExpression = ExpressionBuilder<StoreDatabase, 'runs'>;

/**
 * Run statuses a run never leaves, as a mutable list for kysely's `in`.
 *
 * Where a query filters on `status` beside a partial index's condition, the term is written
 * `+status`: the unary plus keeps SQLite from choosing the general `runs_status` index over the
 * much smaller partial one.
 */
const TERMINAL_STATUSES = [...TERMINAL_RUN_STATUSES];

/** A limit or offset given by a caller: a non-negative integer. */
function count(value: number | undefined, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0) throw new ValidationError(field, 'must be a non-negative integer', value);
  return value;
}

/** A run is free to claim when nobody holds a lease on it that is still live at `now`. */
function hasNoLiveLease(eb: RunsExpression, now: number) {
  return eb.or([eb('owner', 'is', null), eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<', now)]);
}

/** Runs that take one of their job's `maxConcurrent` slots ({@link JobLoad.active}). */
function takesSlot(eb: RunsExpression) {
  return eb.or([eb('status', '=', 'running'), eb.and([eb('status', '=', 'scheduled'), eb('wait_for_slot', '=', 0)])]);
}

/** A plan may only add runs of the job it was asked about. */
function checkPlannedRuns(jobId: string, runs: JobRunRecord[]): void {
  const stray = runs.find((run) => run.jobId !== jobId);
  if (stray !== undefined) throw new StoreError(`a plan for job ${jobId} returned run ${stray.id} of job ${stray.jobId}`);
}

/**
 * The embedded default {@link JobStore}: one SQLite file, via better-sqlite3, with queries built by
 * kysely.
 *
 * Every change of more than one row runs in one `BEGIN IMMEDIATE` transaction that never yields to
 * the event loop (the core's `plan` callbacks are synchronous and run inside it), so several
 * processes, or several stores in one process, may share a file: SQLite's write lock serialises
 * them, and a claimer always sees the due times and leases its predecessor committed.
 *
 * Where the contract leaves room it decides as the core's in-memory reference store does: claiming
 * a run clears `waitForSlot` (the run now holds a slot), `finishRun` refuses a run already
 * terminal, a run ended `interrupted` loses its owner and lease, and a plan that changes a job's
 * status bumps its `version`.
 */
export class SqliteJobStore implements JobStore {
  /** Several processes may share the file; changes are not pushed across processes. */
  readonly capabilities: StoreCapabilities = { multiInstance: true, crossProcessNotifications: false };

  readonly #options: SqliteJobStoreOptions;
  #database: Database | null = null;
  #connection: Connection | null = null;
  #closed = false;

  /** Opens nothing yet: the file is opened and migrated by {@link init} (or the first call). */
  constructor(options: SqliteJobStoreOptions = {}) {
    this.#options = options;
  }

  /**
   * The database file as an absolute path (`':memory:'` for an in-memory database), e.g. to open
   * a second store on the same file.
   */
  get path(): string {
    const path = this.#options.database?.name ?? this.#options.path ?? DEFAULT_SQLITE_PATH;
    return path === ':memory:' ? path : resolve(path);
  }

  /** Opens the file (creating it and its folder), sets the pragmas and applies pending migrations. */
  async init(): Promise<void> {
    await this.#op(() => undefined);
  }

  /** Closes the connection unless the database was handed in; later calls throw `StoreError`. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#database !== null && this.#options.database === undefined) this.#database.close();
    this.#database = null;
    this.#connection = null;
  }

  /** Inserts a job. Throws `ConflictError` if the id or name is taken. */
  createJob(job: CronJobDefinition): Promise<CronJobDefinition> {
    return this.#op(
      ({ runner, db }) => rowToJob(runner.get(db.insertInto('jobs').values(jobToRow(job)).returningAll()) as JobRow),
      {
        'jobs.id': () => new ConflictError(`a job with id ${job.id} exists already`),
        'jobs.name': () => new ConflictError(`a job named ${job.name} exists already`),
      },
    );
  }

  /** Replaces a job's definition and status, keeping its id, creation time and run counters. */
  saveJob(job: CronJobDefinition, options?: { expectedVersion?: number }): Promise<CronJobDefinition> {
    return this.#op(
      ({ runner, db }) =>
        runner.immediate(() => {
          const stored = runner.get(db.selectFrom('jobs').select('version').where('id', '=', job.id));
          if (stored === undefined) throw new JobNotFoundError(job.id);
          const expected = options?.expectedVersion;
          if (expected !== undefined && stored.version !== expected) {
            throw new ConflictError(`job ${job.id} is at version ${stored.version}, not ${expected}`);
          }
          const { id, created_at, run_count, failure_count, last_run, ...fields } = jobToRow(job);
          const row = runner.get(
            db
              .updateTable('jobs')
              .set({ ...fields, version: stored.version + 1, updated_at: Date.now() })
              .where('id', '=', id)
              .returningAll(),
          );
          return rowToJob(row as JobRow);
        }),
      { 'jobs.name': () => new ConflictError(`a job named ${job.name} exists already`) },
    );
  }

  /** Deletes a job; its runs and session go with it (foreign-key cascade), audit events stay. */
  deleteJob(id: string): Promise<boolean> {
    return this.#op(({ runner, db }) => runner.run(db.deleteFrom('jobs').where('id', '=', id)) > 0);
  }

  /** A job by id, or null. */
  getJob(id: string): Promise<CronJobDefinition | null> {
    return this.#op(({ runner, db }) => this.#job(runner, db, id));
  }

  /** A job by name, or null. */
  getJobByName(name: string): Promise<CronJobDefinition | null> {
    return this.#op(({ runner, db }) => {
      const row = runner.get(db.selectFrom('jobs').selectAll().where('name', '=', name));
      return row === undefined ? null : rowToJob(row);
    });
  }

  /** Jobs ordered by name, filtered and paged. */
  listJobs(filter: JobFilter = {}): Promise<CronJobDefinition[]> {
    return this.#op(({ runner, db }) => {
      let query = db.selectFrom('jobs').selectAll().orderBy('name').orderBy('id');
      if (filter.status !== undefined) query = query.where('status', '=', filter.status);
      if (filter.agentId !== undefined) query = query.where('agent_id', '=', filter.agentId);
      if (filter.limit !== undefined || filter.offset !== undefined) {
        // SQLite takes an offset only after a limit; -1 means none.
        query = query.limit(count(filter.limit, 'limit', -1)).offset(count(filter.offset, 'offset', 0));
      }
      return runner.all(query).map(rowToJob);
    });
  }

  /** How many jobs have each status. */
  countJobs(): Promise<Record<JobStatus, number>> {
    return this.#op(({ runner, db }) => {
      const counts = Object.fromEntries(JOB_STATUSES.map((status) => [status, 0])) as Record<JobStatus, number>;
      const rows = runner.all(db.selectFrom('jobs').select(['status', (eb) => eb.fn.countAll<number>().as('count')]).groupBy('status'));
      for (const row of rows) counts[row.status as JobStatus] = row.count;
      return counts;
    });
  }

  /**
   * The earliest time something may become claimable: an active job's `nextRun`, an unleased queued
   * run's `dueAt` (a `waitForSlot` run only while its job has a free slot), or a held lease's expiry
   * on a run that is not finished. Each part is one walk of a partial index.
   */
  nextWakeAt(): Promise<Date | null> {
    return this.#op(({ runner, db }) => {
      const unleased = (eb: RunsExpression) => eb.or([eb('owner', 'is', null), eb('lease_expires_at', 'is', null)]);
      const candidates = [
        runner.get(
          db
            .selectFrom('jobs')
            .select('next_run as at')
            .where('status', '=', ACTIVE)
            .where('next_run', 'is not', null)
            .orderBy('next_run')
            .limit(1),
        )?.at,
        runner.get(
          db
            .selectFrom('runs')
            .select('due_at as at')
            .where('status', '=', SCHEDULED)
            .where('wait_for_slot', '=', 0)
            .where(unleased)
            .orderBy('due_at')
            .limit(1),
        )?.at,
        runner.get(
          db
            .selectFrom('runs as r')
            .innerJoin('jobs as j', 'j.id', 'r.job_id')
            .select('r.due_at as at')
            .where(sql<boolean>`r.status = 'scheduled' and r.wait_for_slot = 1`)
            .where((eb) => eb.or([eb('r.owner', 'is', null), eb('r.lease_expires_at', 'is', null)]))
            .where((eb) =>
              eb(
                'j.max_concurrent',
                '>',
                eb
                  .selectFrom('runs as a')
                  .select((inner) => inner.fn.countAll<number>().as('active'))
                  .whereRef('a.job_id', '=', 'r.job_id')
                  .where('a.status', 'in', ['scheduled', 'running'])
                  .where((inner) => inner.or([inner('a.status', '=', 'running'), inner('a.wait_for_slot', '=', 0)])),
              ),
            )
            .orderBy('r.due_at')
            .limit(1),
        )?.at,
        runner.get(
          db
            .selectFrom('runs')
            .select('lease_expires_at as at')
            .where(sql<boolean>`owner is not null and status in ${LEASED_RUN_STATUSES}`)
            .where('lease_expires_at', 'is not', null)
            .orderBy('lease_expires_at')
            .limit(1),
        )?.at,
      ].filter((at): at is number => typeof at === 'number');
      return candidates.length === 0 ? null : new Date(Math.min(...candidates));
    });
  }

  /** Plans every due job, then claims queued runs, lowest `dueAt` first (see {@link JobStore.claimDue}). */
  claimDue(request: ClaimRequest): Promise<ClaimedRun[]> {
    return this.#op(({ runner, db }) => {
      const limit = count(request.limit, 'limit', 0);
      const now = toMs(request.now);
      return runner.immediate(() => {
        const due = runner.all(
          db.selectFrom('jobs').selectAll().where('status', '=', ACTIVE).where('next_run', '<=', now).orderBy('next_run').orderBy('id').limit(limit),
        );
        for (const row of due) this.#fire(runner, db, rowToJob(row), request);
        return this.#claimQueued(runner, db, request, limit);
      });
    });
  }

  /** Inserts a run. A taken id or `fireKey` throws `ConflictError`; an unknown job `JobNotFoundError`. */
  insertRun(run: JobRunRecord): Promise<JobRunRecord> {
    return this.#op(({ runner, db }) => rowToRun(runner.get(db.insertInto('runs').values(runToRow(run)).returningAll()) as RunRow), {
      'runs.id': () => new ConflictError(`a run with id ${run.id} exists already`),
      'runs.fire_key': () => new ConflictError(`fire ${run.fireKey} has a run already`),
      foreign_key: () => new JobNotFoundError(run.jobId),
    });
  }

  /** Applies `patch` if `guard` holds, in one statement; null if the run is absent or the guard fails. */
  updateRun(runId: string, patch: RunPatch, guard: RunGuard = {}): Promise<JobRunRecord | null> {
    return this.#op(({ runner, db }) => {
      if (guard.statusIn !== undefined && guard.statusIn.length === 0) return null;
      const row = this.#patchRun(runner, db, runId, patch, (eb) => {
        const conditions = [];
        if (guard.owner !== undefined) conditions.push(eb('owner', '=', guard.owner));
        if (guard.statusIn !== undefined) conditions.push(eb('status', 'in', guard.statusIn));
        return eb.and(conditions);
      });
      return row === undefined ? null : rowToRun(row);
    });
  }

  /** Finishes a run and updates its job's counters and status in one transaction. */
  finishRun(request: FinishRunRequest): Promise<{ run: JobRunRecord; job: CronJobDefinition | null } | null> {
    return this.#op(({ runner, db }) =>
      runner.immediate(() => {
        const row = this.#patchRun(runner, db, request.runId, request.patch, (eb) =>
          eb.and([
            eb('status', 'not in', TERMINAL_STATUSES),
            ...(request.owner === undefined ? [] : [eb('owner', '=', request.owner)]),
          ]),
        );
        if (row === undefined) return null;
        const run = rowToRun(row);
        const counted = this.#countFinished(runner, db, run, request.outcome);
        if (counted === null) return { run, job: null };
        const plan = request.plan(counted);
        const job = this.#applyFinishPlan(runner, db, counted, plan, run.completedAt ?? new Date());
        return { run, job };
      }),
    );
  }

  /** Extends the leases `owner` still holds, in one statement; reports the ones it lost. */
  renewLeases(owner: string, runIds: string[], until: Date): Promise<LeaseRenewal> {
    return this.#op(({ runner, db }) => {
      if (runIds.length === 0) return { renewed: [], cancelRequested: [], lost: [] };
      const rows = runner.all(
        db
          .updateTable('runs')
          .set({ lease_expires_at: toMs(until) })
          .where('owner', '=', owner)
          .where('id', 'in', sql<string>`(select value from json_each(${JSON.stringify(runIds)}))`)
          .returning(['id', 'cancel_requested']),
      );
      const renewed = new Map(rows.map((row) => [row.id, row.cancel_requested === 1]));
      return {
        renewed: runIds.filter((id) => renewed.has(id)),
        cancelRequested: runIds.filter((id) => renewed.get(id) === true),
        lost: runIds.filter((id) => !renewed.has(id)),
      };
    });
  }

  /** Ends `running` runs whose lease lapsed as `interrupted`, counting each as a failure of its job. */
  recoverExpired(request: RecoverRequest): Promise<JobRunRecord[]> {
    return this.#op(({ runner, db }) => {
      const limit = count(request.limit, 'limit', 0);
      const now = toMs(request.now);
      return runner.immediate(() => {
        const lapsed = runner.all(
          db
            .selectFrom('runs')
            .selectAll()
            // The lease index's own condition, then `running` kept out of index choice (see below).
            .where(sql<boolean>`owner is not null and status in ${LEASED_RUN_STATUSES}`)
            .where(sql<boolean>`+status = 'running'`)
            .where('lease_expires_at', '<', now)
            .orderBy('lease_expires_at')
            .orderBy('id')
            .limit(limit),
        );
        return lapsed.map((row) => {
          const reason = `lease expired at ${new Date(row.lease_expires_at as number).toISOString()}: owner ${row.owner} stopped renewing it`;
          const ended = runner.get(
            db
              .updateTable('runs')
              .set((eb) => ({ status: 'interrupted', completed_at: now, owner: null, lease_expires_at: null, error: eb.fn.coalesce('error', eb.val(reason)) }))
              .where('id', '=', row.id)
              .returningAll(),
          );
          const run = rowToRun(ended as RunRow);
          const counted = this.#countFinished(runner, db, run, 'failure');
          if (counted !== null) this.#applyFinishPlan(runner, db, counted, request.plan(counted, run), request.now);
          return run;
        });
      });
    });
  }

  /** A run by id, or null. */
  getRun(id: string): Promise<JobRunRecord | null> {
    return this.#op(({ runner, db }) => {
      const row = runner.get(db.selectFrom('runs').selectAll().where('id', '=', id));
      return row === undefined ? null : rowToRun(row);
    });
  }

  /** Runs matching the filter, newest first (by `scheduledFor`, then `id`). */
  listRuns(filter: RunFilter = {}): Promise<JobRunRecord[]> {
    return this.#op(({ runner, db }) => {
      const statuses = filter.status === undefined ? null : Array.isArray(filter.status) ? filter.status : [filter.status];
      if (statuses !== null && statuses.length === 0) return [];
      let query = db
        .selectFrom('runs')
        .selectAll()
        .orderBy('scheduled_for', 'desc')
        .orderBy('id', 'desc')
        .limit(count(filter.limit, 'limit', DEFAULT_PAGE));
      if (filter.jobId !== undefined) query = query.where('job_id', '=', filter.jobId);
      if (statuses !== null) query = query.where('status', 'in', statuses);
      if (filter.agentId !== undefined) query = query.where('agent_id', '=', filter.agentId);
      if (filter.since !== undefined) query = query.where('scheduled_for', '>=', toMs(filter.since));
      return runner.all(query).map(rowToRun);
    });
  }

  /** Claims finished runs with a pending delivery and no live lease, oldest `completedAt` first. */
  claimPendingDeliveries(request: { now: Date; owner: string; leaseMs: number; limit: number }): Promise<ClaimedRun[]> {
    return this.#op(({ runner, db }) => {
      const limit = count(request.limit, 'limit', 0);
      const now = toMs(request.now);
      return runner.immediate(() => {
        const rows = runner.all(
          db
            .selectFrom('runs')
            .selectAll()
            .where('delivery_pending', '=', sql.lit(1))
            .where(sql<boolean>`+status in (${sql.join(TERMINAL_STATUSES)})`)
            .where((eb) => hasNoLiveLease(eb, now))
            .orderBy(OUTBOX_ORDER)
            .orderBy('id')
            .limit(limit),
        );
        const jobs = new Map<string, CronJobDefinition | null>();
        return rows.flatMap((row) => this.#lease(runner, db, row, request, jobs) ?? []);
      });
    });
  }

  /** The stored session of a job, or null. */
  loadSession(jobId: string): Promise<SessionState | null> {
    return this.#op(({ runner, db }) => {
      const row = runner.get(db.selectFrom('sessions').selectAll().where('job_id', '=', jobId));
      return row === undefined ? null : rowToSession(row);
    });
  }

  /** Stores (replaces) the session of a job; throws `JobNotFoundError` for an unknown job. */
  saveSession(jobId: string, state: SessionState): Promise<void> {
    return this.#op(
      ({ runner, db }) => {
        const row = sessionToRow(jobId, state);
        runner.run(
          db
            .insertInto('sessions')
            .values(row)
            .onConflict((oc) => oc.column('job_id').doUpdateSet({ summary: row.summary, history: row.history, updated_at: row.updated_at })),
        );
      },
      { foreign_key: () => new JobNotFoundError(jobId) },
    );
  }

  /** Appends an audit event; a taken id throws `ConflictError`. */
  appendAudit(event: AuditEvent): Promise<void> {
    return this.#op(
      ({ runner, db }) => {
        runner.run(db.insertInto('audit_events').values(auditToRow(event)));
      },
      { 'audit_events.id': () => new ConflictError(`an audit event with id ${event.id} exists already`) },
    );
  }

  /** Audit events matching the filter, newest first; events at the same time newest-appended first. */
  queryAudit(filter: AuditFilter = {}): Promise<AuditEvent[]> {
    return this.#op(({ runner, db }) => {
      let query = db
        .selectFrom('audit_events')
        .selectAll()
        .orderBy('at', 'desc')
        .orderBy(sql`rowid`, 'desc')
        .limit(count(filter.limit, 'limit', DEFAULT_PAGE));
      if (filter.type !== undefined) query = query.where('type', '=', filter.type);
      if (filter.jobId !== undefined) query = query.where('job_id', '=', filter.jobId);
      if (filter.since !== undefined) query = query.where('at', '>=', toMs(filter.since));
      return runner.all(query).map(rowToAudit);
    });
  }

  /**
   * Runs `body` on the open, migrated connection and turns SQLite's errors into the core's.
   * `async` so that a synchronous throw becomes a rejected promise, as callers of a port expect.
   */
  async #op<T>(body: (connection: Connection) => T, constraints?: ConstraintErrors): Promise<T> {
    try {
      return body(this.#connect());
    } catch (error) {
      throw mapSqliteError(error, constraints);
    }
  }

  #connect(): Connection {
    if (this.#closed) throw new StoreError('the sqlite job store is closed');
    if (this.#connection !== null) return this.#connection;
    const database = this.#database ?? this.#open();
    this.#database = database;
    const runner = new SqliteRunner(database);
    // The dialect gives kysely SQLite's SQL; queries run through the runner, never kysely's driver.
    const db = new Kysely<StoreDatabase>({ dialect: new SqliteDialect({ database }) });
    migrate(runner, db);
    this.#connection = { runner, db };
    return this.#connection;
  }

  #open(): Database {
    const given = this.#options.database;
    const busyTimeoutMs = this.#options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    let database: Database;
    if (given !== undefined) {
      database = given;
    } else {
      const path = this.path;
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      database = new BetterSqlite3(path, { timeout: busyTimeoutMs });
    }
    database.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    // Deleting a job cascades to its runs and session only while foreign keys are enforced.
    database.pragma('foreign_keys = ON');
    return database;
  }

  #job(runner: SqliteRunner, db: Kysely<StoreDatabase>, id: string): CronJobDefinition | null {
    const row = runner.get(db.selectFrom('jobs').selectAll().where('id', '=', id));
    return row === undefined ? null : rowToJob(row);
  }

  /** How many runs of a job are in flight, as {@link ClaimRequest.plan} sees it. */
  #load(runner: SqliteRunner, db: Kysely<StoreDatabase>, jobId: string): JobLoad {
    const row = runner.get(
      db
        .selectFrom('runs')
        .select((eb) => [
          eb.fn.coalesce(eb.fn.sum<number>(sql<number>`status = 'running' or wait_for_slot = 0`), eb.lit(0)).as('active'),
          eb.fn.coalesce(eb.fn.sum<number>(sql<number>`status = 'scheduled' and wait_for_slot = 1`), eb.lit(0)).as('waiting'),
        ])
        .where('job_id', '=', jobId)
        .where('status', 'in', ['scheduled', 'running']),
    );
    return { active: row?.active ?? 0, waiting: row?.waiting ?? 0 };
  }

  /** Plans one due job's fire and applies the plan: new runs, next fire time, status, cancellations. */
  #fire(runner: SqliteRunner, db: Kysely<StoreDatabase>, job: CronJobDefinition, request: ClaimRequest): void {
    const plan = request.plan(job, this.#load(runner, db, job.id));
    checkPlannedRuns(job.id, plan.runs);
    for (const run of plan.runs) this.#insertUnlessFired(runner, db, run);
    const changes: Updateable<JobsTable> = { next_run: plan.nextRun === null ? null : toMs(plan.nextRun) };
    if (plan.status !== undefined && plan.status !== job.status) {
      Object.assign(changes, { status: plan.status, version: job.version + 1, updated_at: toMs(request.now) });
    }
    runner.run(db.updateTable('jobs').set(changes).where('id', '=', job.id));
    if (plan.cancelActive) {
      runner.run(db.updateTable('runs').set({ cancel_requested: 1 }).where('job_id', '=', job.id).where('status', '=', 'running'));
    }
  }

  /**
   * Claims up to `limit` queued runs, lowest `dueAt` first. A `waitForSlot` run whose job is at
   * `maxConcurrent` is passed over (the next page starts after it); claiming clears the flag, so
   * the claimed run counts toward its job's load for the rest of the batch and for other claimers.
   */
  #claimQueued(runner: SqliteRunner, db: Kysely<StoreDatabase>, request: ClaimRequest, limit: number): ClaimedRun[] {
    const now = toMs(request.now);
    const claimed: ClaimedRun[] = [];
    const jobs = new Map<string, CronJobDefinition | null>();
    let passedOver = 0;
    while (claimed.length < limit) {
      const wanted = limit - claimed.length;
      const page = runner.all(
        db
          .selectFrom('runs')
          .selectAll()
          .where('status', '=', SCHEDULED)
          .where('due_at', '<=', now)
          .where((eb) => hasNoLiveLease(eb, now))
          .orderBy('due_at')
          .orderBy('id')
          .limit(wanted)
          .offset(passedOver),
      );
      for (const row of page) {
        if (row.wait_for_slot === 1) {
          const job = this.#cachedJob(runner, db, row.job_id, jobs);
          if (job === null || this.#load(runner, db, row.job_id).active >= job.maxConcurrent) {
            passedOver += 1;
            continue;
          }
        }
        const leased = this.#lease(runner, db, row, request, jobs);
        if (leased === null) passedOver += 1;
        else claimed.push(leased);
      }
      if (page.length < wanted) break;
    }
    return claimed;
  }

  /** Gives a run to `request.owner` until `now + leaseMs`, with its job; null when the job is gone. */
  #lease(
    runner: SqliteRunner,
    db: Kysely<StoreDatabase>,
    row: RunRow,
    request: { now: Date; owner: string; leaseMs: number },
    jobs: Map<string, CronJobDefinition | null>,
  ): ClaimedRun | null {
    const job = this.#cachedJob(runner, db, row.job_id, jobs);
    if (job === null) return null;
    const lease = { owner: request.owner, lease_expires_at: toMs(request.now) + request.leaseMs, wait_for_slot: 0 };
    runner.run(db.updateTable('runs').set(lease).where('id', '=', row.id));
    return { run: rowToRun({ ...row, ...lease }), job: structuredClone(job) };
  }

  #cachedJob(runner: SqliteRunner, db: Kysely<StoreDatabase>, id: string, jobs: Map<string, CronJobDefinition | null>): CronJobDefinition | null {
    let job = jobs.get(id);
    if (job === undefined) {
      job = this.#job(runner, db, id);
      jobs.set(id, job);
    }
    return job;
  }

  /** Applies a run patch where `guard` holds, returning the new row (or the guarded row for an empty patch). */
  #patchRun(
    runner: SqliteRunner,
    db: Kysely<StoreDatabase>,
    runId: string,
    patch: RunPatch,
    guard: (eb: RunsExpression) => ReturnType<RunsExpression['and']>,
  ): RunRow | undefined {
    const values = runPatchToRow(patch);
    if (Object.keys(values).length === 0) {
      return runner.get(db.selectFrom('runs').selectAll().where('id', '=', runId).where(guard));
    }
    return runner.get(db.updateTable('runs').set(values).where('id', '=', runId).where(guard).returningAll());
  }

  /**
   * Updates the counters of a finished run's job (see {@link FinishRunRequest.outcome}) and returns
   * the job as changed, or null when the job is gone.
   */
  #countFinished(runner: SqliteRunner, db: Kysely<StoreDatabase>, run: JobRunRecord, outcome: RunOutcome): CronJobDefinition | null {
    const counts = run.status !== 'skipped';
    if (outcome === 'neutral' && !counts) return this.#job(runner, db, run.jobId);
    const row = runner.get(
      db
        .updateTable('jobs')
        .set((eb) => ({
          ...(outcome === 'success' ? { consecutive_failures: 0 } : {}),
          ...(outcome === 'failure'
            ? { consecutive_failures: eb('consecutive_failures', '+', 1), failure_count: eb('failure_count', '+', 1) }
            : {}),
          ...(counts ? { run_count: eb('run_count', '+', 1), last_run: toMs(run.startedAt ?? run.scheduledFor) } : {}),
        }))
        .where('id', '=', run.jobId)
        .returningAll(),
    );
    return row === undefined ? null : rowToJob(row);
  }

  /** Applies a finish or recovery plan: the job's new status (bumping its version) and a retry run. */
  #applyFinishPlan(runner: SqliteRunner, db: Kysely<StoreDatabase>, job: CronJobDefinition, plan: FinishPlan, at: Date): CronJobDefinition {
    checkPlannedRuns(job.id, plan.retry ? [plan.retry] : []);
    let result = job;
    if (plan.status !== undefined && plan.status !== job.status) {
      const changes = { status: plan.status, version: job.version + 1, updated_at: toMs(at) };
      runner.run(db.updateTable('jobs').set(changes).where('id', '=', job.id));
      result = { ...job, status: plan.status, version: changes.version, updatedAt: new Date(changes.updated_at) };
    }
    if (plan.retry) this.#insertUnlessFired(runner, db, plan.retry);
    return result;
  }

  /** Inserts a planned run unless its id or fire already has one (exactly-once per fire). */
  #insertUnlessFired(runner: SqliteRunner, db: Kysely<StoreDatabase>, run: JobRunRecord): void {
    runner.run(db.insertInto('runs').values(runToRow(run)).onConflict((oc) => oc.doNothing()));
  }
}
