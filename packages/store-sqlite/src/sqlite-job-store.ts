import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  abandonment,
  checkCount,
  checkPruneRequest,
  claimedRun,
  claimTerms,
  ConflictError,
  decideFinish,
  decideFire,
  finishRule,
  guardForPatch,
  hasFreeSlot,
  interruption,
  JOB_STATUSES,
  mergeAuditPages,
  JobNotFoundError,
  StorageFullError,
  StoreError,
  recoveryRule,
  RUN_STATUSES,
  TERMINAL_RUN_STATUSES,
  type AuditEvent,
  type AuditFilter,
  type ClaimedRun,
  type ClaimRequest,
  type ClaimTerms,
  type CronJobDefinition,
  type FinishRunRequest,
  type FinishRule,
  type InstanceRecord,
  type InstanceRegistration,
  type JobFilter,
  type JobLoad,
  type JobRunRecord,
  type JobStatus,
  type JobStore,
  type LeaseRenewal,
  type PruneRequest,
  type RecoverRequest,
  type ReleaseOwnersRequest,
  type RunFilter,
  type RunGuard,
  type RunPatch,
  type RunStatus,
  type SessionState,
  type StoreCapabilities,
} from '@symbi/core';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { Kysely, SqliteDialect, sql, type ExpressionBuilder, type RawBuilder, type SelectQueryBuilder } from 'kysely';
import { markedEvents, markedRun, mayChangeMarkedEvent, unmarkRun, writeMarkedEventsOfJob } from './executed-audit.js';
import * as instanceRows from './instance-rows.js';
import { pruneJobHistory } from './history-pruning.js';
import { IN_FLIGHT_RUN_STATUSES, LEASED_RUN, LISTED_RUN, LISTED_RUN_STATUSES, migrate, OUTBOX_ORDER } from './migrations.js';
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
import type { JobRow, RunRow, StoreDatabase } from './schema.js';
import { mapSqliteError, type ConstraintErrors } from './sqlite-errors.js';
import { dataVersionReader, RowCache } from './row-cache.js';
import { slotsOf, SqliteRunner, type Param } from './sqlite-runner.js';
import { WalCheckpointer } from './wal-checkpointer.js';
import { WriteBatch } from './write-batch.js';

/** Where the store keeps its file when no `path` is given, relative to the working directory. */
export const DEFAULT_SQLITE_PATH = './.symbi/scheduler.db';

/** How long a write waits for another connection's lock before failing, unless configured. */
const DEFAULT_BUSY_TIMEOUT_MS = 5000;

const DEFAULT_PAGE = 100;

const WAL_AUTOCHECKPOINT_PAGES = 10_000;
/** The size the WAL file is cut back to when it starts again from its beginning (64 MiB). */
const WAL_SIZE_LIMIT_BYTES = 64 * 2 ** 20;

/*
 * Values a partial index's condition names are written into the SQL as literals, not bound as
 * parameters: SQLite can only use `runs_claim` (`where status = 'scheduled'`) for a query it can
 * prove matches that condition when the statement is prepared.
 */
const ACTIVE = sql.lit('active');
const SCHEDULED = sql.lit('scheduled');

/**
 * A lower bound every time meets. Without a range on the partial index's key SQLite may prefer a
 * general index and sort every queued run; `due_at >= EVER` makes it walk
 * `runs_claim` or `runs_waiting` in order and stop at the first match.
 */
const EVER = sql.lit(Number.MIN_SAFE_INTEGER);

/**
 * The statuses a run never leaves, as an SQL list. Where a query filters on `status` beside a
 * partial index's condition, the term is written `+status`: the unary plus keeps SQLite from
 * choosing a general index over the much smaller partial one.
 */
const TERMINAL_STATUS_LIST = sql`(${sql.join(TERMINAL_RUN_STATUSES.map((status) => sql.lit(status)))})`;

/**
 * A run is not finished yet, as equalities rather than `not in` {@link TERMINAL_STATUS_LIST}: a run's
 * finish checks it once per run, and SQLite evaluates a list of three or more constants through a
 * lookup table it builds afresh for each statement run (see `LEASED_RUN`).
 */
const UNFINISHED = sql<boolean>`not (${sql.join(
  TERMINAL_RUN_STATUSES.map((status) => sql`status = ${sql.lit(status)}`),
  sql` or `,
)})`;

/**
 * The statuses of a run filter that a run can have (a run never has another, so dropping the rest
 * keeps the result); they are written into the statement as literals, see {@link statusIn}.
 */
function knownStatuses(status: RunStatus | RunStatus[]): RunStatus[] {
  return (Array.isArray(status) ? status : [status]).filter((value) => RUN_STATUSES.includes(value));
}

/**
 * Statuses that a partial index holds, each set with that index's condition: `runs_listed`'s
 * (see migration 6) and `runs_job_active`'s, whose runs are few.
 */
const INDEXED_STATUSES: readonly { statuses: readonly string[]; condition: RawBuilder<unknown> }[] = [
  { statuses: LISTED_RUN_STATUSES, condition: LISTED_RUN },
  { statuses: ['scheduled', 'running'], condition: sql`status in ${IN_FLIGHT_RUN_STATUSES}` },
];

/**
 * A run has one of `statuses` (known ones, non-empty), as literals. When a partial index holds
 * each of them, its condition is repeated word for word so that SQLite can use it; otherwise (the
 * busy `succeeded` among them) SQLite walks `runs_recent`, newest first.
 */
function statusIn(statuses: readonly RunStatus[]) {
  const literals = sql<boolean>`status in (${sql.join(statuses.map((status) => sql.lit(status)))})`;
  const index = INDEXED_STATUSES.find((set) => statuses.every((status) => set.statuses.includes(status)));
  return index === undefined ? literals : sql<boolean>`${literals} and ${index.condition}`;
}

/** Options of {@link SqliteJobStore}. */
export interface SqliteJobStoreOptions {
  /**
   * Database file, created with its folder when missing (default {@link DEFAULT_SQLITE_PATH}).
   * `':memory:'` keeps everything in this connection's memory.
   */
  path?: string;
  /**
   * An open better-sqlite3 database to use instead of opening `path`. The store sets its pragmas
   * and migrates it, but leaves closing it to whoever opened it. Its WAL is checkpointed by the
   * connection itself, as a commit makes it long enough, blocking the event loop meanwhile: the
   * store does not take that over from a connection its host goes on using after `close()`. A
   * store that opens its file (`path`) checkpoints from a worker thread instead.
   */
  database?: Database;
  /**
   * How long a statement waits for another process's write lock before failing with a retryable
   * `StoreError` (default 5000 ms).
   */
  busyTimeoutMs?: number;
}

type Db = Kysely<StoreDatabase>;

/** A taken audit event id is a conflict of the caller's making, not a store failure. */
const AUDIT_ID_TAKEN: ConstraintErrors = { 'audit_events.id': () => new ConflictError('an audit event with this id exists already') };

/** A taken job id is the caller's conflict. */
const JOB_ID_TAKEN = (job: CronJobDefinition): ConstraintErrors => ({ 'jobs.id': () => new ConflictError(`a job with id ${job.id} exists already`) });

type RunsExpression = ExpressionBuilder<StoreDatabase, 'runs'>;

/** A limit or offset given by a caller, checked by core's rule, or `fallback` when absent. */
function pageSize(value: number | undefined, field: string, fallback: number): number {
  return checkCount(field, value) ?? fallback;
}

/**
 * The condition a run update holds to: `shape` names its form (each form is compiled once),
 * `where` builds it; the caller fills its slots.
 */
interface RunGuardShape {
  shape: string;
  where: (eb: RunsExpression, p: Param) => ReturnType<RunsExpression['and']>;
}

/** Slot names of a guard's statuses, by position (the first few made once: nearly every update names one). */
const GUARD_STATUS_SLOTS = Array.from({ length: 8 }, (_, i) => `guardStatus${i}`);
const guardStatusSlot = (i: number) => GUARD_STATUS_SLOTS[i] ?? `guardStatus${i}`;

/** The guard shapes of {@link SqliteJobStore.updateRun}, one per form (owner named or not, how many statuses). */
const UPDATE_GUARDS: { owned: RunGuardShape[]; any: RunGuardShape[] } = { owned: [], any: [] };

/** The shape of an `updateRun` guard that names an owner or not, and `statuses` statuses (none: any). */
function updateGuard(owned: boolean, statuses: number): RunGuardShape {
  const shapes = owned ? UPDATE_GUARDS.owned : UPDATE_GUARDS.any;
  let guard = shapes[statuses];
  if (guard === undefined) {
    const shape = `owner=${owned}:statuses=${statuses}`;
    guard = {
      shape,
      where: (eb, p) =>
        eb.and([
          ...(owned ? [eb('owner', '=', p('guardOwner'))] : []),
          ...(statuses === 0 ? [] : [eb('status', 'in', Array.from({ length: statuses }, (_, i) => p(guardStatusSlot(i))))]),
        ]),
    };
    shapes[statuses] = guard;
  }
  return guard;
}

/** The guard of a finish: the run is not finished yet and, when `owned`, has the owner in slot `guardOwner`. */
function finishGuard(owned: boolean): RunGuardShape {
  return {
    shape: `finish:owner=${owned}`,
    where: (eb, p) => eb.and([UNFINISHED, ...(owned ? [eb('owner', '=', p('guardOwner'))] : [])]),
  };
}

const FINISH_GUARDS = { owned: finishGuard(true), any: finishGuard(false) };

/**
 * Rows the store keeps as its connection last wrote them (see {@link RowCache}): unfinished runs,
 * and jobs from their fire to the finish of a run of theirs.
 */
interface KeptRows {
  runs: RowCache<RunRow>;
  jobs: RowCache<JobRow>;
}

/** The guard of an update that always applies (e.g. an interruption, under the caller's lock). */
const NO_GUARD: RunGuardShape = { shape: 'none', where: (eb: RunsExpression) => eb.and([]) };

/** A run is free to claim when nobody holds a lease on it that is still live at `now`. */
function hasNoLiveLease(eb: RunsExpression, now: number) {
  return eb.or([eb('owner', 'is', null), eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<', now)]);
}

/**
 * The queued runs a claim may take: due by its horizon, with no live lease at its `now`, of its
 * agents (slots `horizon`, `now`, `agents`).
 */
function claimableRuns<O>(query: SelectQueryBuilder<StoreDatabase, 'runs', O>, p: Param): SelectQueryBuilder<StoreDatabase, 'runs', O> {
  return query
    .where('status', '=', SCHEDULED)
    .where('due_at', '<=', p('horizon'))
    .where((eb) => hasNoLiveLease(eb, p('now')))
    .where(ofAgents('agent_id', p('agents')));
}

/** Claimed runs in the order a claim takes them: by `dueAt`, then id. */
function byDueTime(claimed: ClaimedRun[]): ClaimedRun[] {
  const key = ({ run }: ClaimedRun) => run.dueAt.getTime();
  return claimed.sort((a, b) => key(a) - key(b) || (a.run.id < b.run.id ? -1 : a.run.id > b.run.id ? 1 : 0));
}

/** A claimer's agents as one statement parameter: a JSON array, or null for every agent. */
function agentsParam(agents: readonly string[] | null | undefined): string | null {
  return agents == null ? null : JSON.stringify(agents);
}

/**
 * The row's `column` names one of the agents in `agents` (a slot filled by {@link agentsParam}),
 * or `agents` is null: the rows a claimer may take (see `ClaimRequest.agents`).
 */
function ofAgents(column: string, agents: unknown) {
  return sql<boolean>`(${agents} is null or ${sql.ref(column)} in (select value from json_each(${agents})))`;
}

/**
 * The jobs of the runs one claim hands out, each read at most once. Every claimed run gets a job
 * object of its own: the first run of a job the object read (or left by its fire) itself, which
 * nothing else holds, and any further run of that job a copy.
 */
class ClaimedJobs {
  readonly #read: (id: string) => CronJobDefinition | null;
  readonly #jobs = new Map<string, CronJobDefinition | null>();
  readonly #handedOut = new Set<CronJobDefinition>();

  /** `read` loads a job not seen yet in this claim (null when it is gone). */
  constructor(read: (id: string) => CronJobDefinition | null) {
    this.#read = read;
  }

  /** Records a job as it stands now (e.g. after its fire). */
  set(id: string, job: CronJobDefinition): void {
    this.#jobs.set(id, job);
  }

  /** The job with this id, read on first use; null when it is gone. */
  get(id: string): CronJobDefinition | null {
    let job = this.#jobs.get(id);
    if (job === undefined) {
      job = this.#read(id);
      this.#jobs.set(id, job);
    }
    return job;
  }

  /** `job` for one claimed run: the object itself the first time, a deep copy after that. */
  handOut(job: CronJobDefinition): CronJobDefinition {
    if (this.#handedOut.has(job)) return structuredClone(job);
    this.#handedOut.add(job);
    return job;
  }
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
 * The writes a scheduler makes per run (`insertRun`, `updateRun`, `finishRun`, `saveSession`,
 * `appendAudit`) are group-committed (see {@link WriteBatch}): those asked for in the same
 * event-loop turn commit together at its end, each atomic and failing alone, and its promise
 * settles once it is committed. Every other call first commits the
 * writes queued before it, so it never sees older state than its caller already asked to write.
 *
 * A run's start and finish, and its job's finish, take the rows as this connection last wrote
 * them (at the claim, the fire, the start) instead of reading them back, as long as no other
 * connection committed since (see {@link RowCache}): per run, the claim inserts it and advances its
 * job, the start updates it, the finish updates it and its job and appends its audit event.
 *
 * Where the contract leaves room it decides as the core's in-memory reference store does: claiming
 * a run clears `waitForSlot` (the run now holds a slot), `finishRun` refuses a run already
 * terminal, a run ended `interrupted` loses its owner and lease, and a plan that changes a job's
 * status bumps its `version`.
 *
 * @example
 * ```ts
 * const store = new SqliteJobStore({ path: './data/scheduler.db' });
 * await store.init();
 * ```
 */
export class SqliteJobStore implements JobStore {
  /**
   * Several processes may share the file; changes are not pushed across processes. A success's
   * routine event is kept as a mark on its run (see `executed-audit.ts`).
   */
  readonly capabilities: StoreCapabilities = { multiInstance: true, crossProcessNotifications: false, executedAuditFromHistory: true };

  readonly #options: SqliteJobStoreOptions;
  #database: Database | null = null;
  /** The runner, query builder and write batch on the open connection (one object: every call asks for it). */
  #connection: { runner: SqliteRunner; db: Db; batch: WriteBatch } | null = null;
  #cache: KeptRows | null = null;
  #checkpointer: WalCheckpointer | null = null;
  #closed = false;
  #closing: Promise<void> | null = null;
  #writeTrouble: string | null = null;

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
    // ':memory:' and '' (better-sqlite3's anonymous database) name no file.
    return path === ':memory:' || path === '' ? path : resolve(path);
  }

  /** Opens the file (creating it and its folder), sets the pragmas and applies pending migrations. */
  async init(): Promise<void> {
    await this.#op(() => undefined);
  }

  /**
   * Commits the queued writes, then closes the connection unless the database was handed in, and
   * stops the checkpoint worker (which copies what is left of the WAL as it goes); later calls
   * throw `StoreError`.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#connection?.batch.flush();
    this.#closed = true;
    if (this.#database !== null && this.#options.database === undefined) this.#database.close();
    this.#database = null;
    this.#connection = null;
    this.#cache = null;
    await this.#checkpointer?.stop();
    this.#checkpointer = null;
  }

  /** Inserts a job. Throws `ConflictError` if the id or name is taken. */
  createJob(job: CronJobDefinition): Promise<CronJobDefinition> {
    return this.#commit(
      (runner, db) => this.#insertJob(runner, db, job),
      { ...JOB_ID_TAKEN(job), 'jobs.name': () => new ConflictError(`a job named ${job.name} exists already`) },
    );
  }

  /**
   * Inserts a job unless one with its name exists, in one transaction (the write lock is taken
   * first, so two processes never both insert it); answers the stored job of that name.
   */
  createJobIfAbsent(job: CronJobDefinition): Promise<{ job: CronJobDefinition; created: boolean }> {
    return this.#commit((runner, db) => {
      const existing = this.#jobByName(runner, db, job.name);
      return existing === null ? { job: this.#insertJob(runner, db, job), created: true } : { job: existing, created: false };
    }, JOB_ID_TAKEN(job));
  }

  /** Replaces a job's definition and status, keeping its id, creation time and run counters. */
  saveJob(job: CronJobDefinition, options?: { expectedVersion?: number }): Promise<CronJobDefinition> {
    return this.#commit(
      (runner, db) => {
        const stored = runner.query('jobs.version', (p) => db.selectFrom('jobs').select('version').where('id', '=', p('id'))).get({ id: job.id });
        if (stored === undefined) throw new JobNotFoundError(job.id);
        const expected = options?.expectedVersion;
        if (expected !== undefined && stored.version !== expected) {
          throw new ConflictError(`job ${job.id} is at version ${stored.version}, not ${expected}`);
        }
        const { id, created_at, run_count, failure_count, last_run, ...fields } = jobToRow(job);
        const changes = { ...fields, version: stored.version + 1 };
        const row = runner
          .query('jobs.save', (p) => db.updateTable('jobs').set(slotsOf(changes, p)).where('id', '=', p('id')).returningAll())
          .get({ ...changes, id });
        this.#rows.jobs.forget([id]);
        return rowToJob(row as JobRow);
      },
      { 'jobs.name': () => new ConflictError(`a job named ${job.name} exists already`) },
    );
  }

  /**
   * Deletes a job; its runs and session go with it (foreign-key cascade), audit events stay: the
   * events kept as marks on its runs are written as rows first.
   */
  deleteJob(id: string): Promise<boolean> {
    return this.#commit((runner, db) => {
      writeMarkedEventsOfJob(runner, db, id);
      // Its runs go with it (foreign-key cascade).
      this.#rows.runs.clear();
      this.#rows.jobs.forget([id]);
      return runner.query('jobs.delete', (p) => db.deleteFrom('jobs').where('id', '=', p('id'))).run({ id }) > 0;
    });
  }

  /** A job by id, or null. */
  getJob(id: string): Promise<CronJobDefinition | null> {
    return this.#op((runner, db) => this.#job(runner, db, id));
  }

  /** A job by name, or null. */
  getJobByName(name: string): Promise<CronJobDefinition | null> {
    return this.#op((runner, db) => this.#jobByName(runner, db, name));
  }

  /** Jobs ordered by name, filtered and paged. */
  listJobs(filter: JobFilter = {}): Promise<CronJobDefinition[]> {
    return this.#op((runner, db) => {
      const values = {
        status: filter.status,
        agentId: filter.agentId,
        // SQLite takes an offset only after a limit; -1 means none.
        limit: pageSize(filter.limit, 'limit', -1),
        offset: pageSize(filter.offset, 'offset', 0),
      };
      const shape = `jobs.list:${values.status !== undefined}:${values.agentId !== undefined}`;
      const query = runner.query(shape, (p) => {
        let q = db.selectFrom('jobs').selectAll().orderBy('name').orderBy('id').limit(p('limit')).offset(p('offset'));
        if (values.status !== undefined) q = q.where('status', '=', p('status'));
        if (values.agentId !== undefined) q = q.where('agent_id', '=', p('agentId'));
        return q;
      });
      return query.all(values).map(rowToJob);
    });
  }

  /** How many jobs have each status. */
  countJobs(): Promise<Record<JobStatus, number>> {
    return this.#op((runner, db) => {
      const counts = Object.fromEntries(JOB_STATUSES.map((status) => [status, 0])) as Record<JobStatus, number>;
      const rows = runner
        .query('jobs.count', () => db.selectFrom('jobs').select(['status', (eb) => eb.fn.countAll<number>().as('count')]).groupBy('status'))
        .all();
      for (const row of rows) counts[row.status as JobStatus] = row.count;
      return counts;
    });
  }

  /**
   * The earliest time something may become claimable: an active job's `nextRun`, an unleased queued
   * run's `dueAt` (a `waitForSlot` run only while its job has a free slot), or a held lease's expiry
   * on a run that is not finished. Each part is one walk of an index.
   */
  nextWakeAt(agents?: readonly string[]): Promise<Date | null> {
    // Without a list the statements keep their shape (the due-job walk reads the index alone).
    const mine = agents !== undefined;
    const key = (name: string) => (mine ? `${name}.agents` : name);
    return this.#op((runner, db) => {
      const dueJob = runner.query(key('wake.job'), (p) =>
        db
          .selectFrom('jobs')
          .select('next_run as at')
          .where('status', '=', ACTIVE)
          .where('next_run', 'is not', null)
          .$if(mine, (q) => q.where(ofAgents('agent_id', p('agents'))))
          .orderBy('next_run')
          .limit(1),
      );
      const queued = runner.query(key('wake.queued'), (p) =>
        db
          .selectFrom('runs')
          .select('due_at as at')
          .where('status', '=', SCHEDULED)
          .where('due_at', '>=', EVER)
          .where('wait_for_slot', '=', sql.lit(0))
          .where((eb) => eb.or([eb('owner', 'is', null), eb('lease_expires_at', 'is', null)]))
          .$if(mine, (q) => q.where(ofAgents('agent_id', p('agents'))))
          .orderBy('due_at')
          .limit(1),
      );
      const waiting = runner.query(key('wake.waiting'), (p) =>
        db
          .selectFrom('runs as r')
          .innerJoin('jobs as j', 'j.id', 'r.job_id')
          .select('r.due_at as at')
          .where(sql<boolean>`r.status = 'scheduled' and r.wait_for_slot = 1`)
          .$if(mine, (q) => q.where(ofAgents('r.agent_id', p('agents'))))
          .where('r.due_at', '>=', EVER)
          .where((eb) => eb.or([eb('r.owner', 'is', null), eb('r.lease_expires_at', 'is', null)]))
          .where((eb) =>
            eb(
              'j.max_concurrent',
              '>',
              eb
                .selectFrom('runs as a')
                .select((inner) => inner.fn.countAll<number>().as('active'))
                .whereRef('a.job_id', '=', 'r.job_id')
                .where(sql<boolean>`a.status in ${IN_FLIGHT_RUN_STATUSES}`)
                .where((inner) => inner.or([inner('a.status', '=', sql.lit('running')), inner('a.wait_for_slot', '=', sql.lit(0))])),
            ),
          )
          .orderBy('r.due_at')
          .limit(1),
      );
      // A lapsed lease on a run in flight is recovered by any instance; a queued one only by a claimer of its agent.
      const leased = runner.query(key('wake.lease'), (p) =>
        db
          .selectFrom('runs')
          .select('lease_expires_at as at')
          .where(sql<boolean>`${LEASED_RUN}`)
          .$if(mine, (q) => q.where((eb) => eb.or([eb('status', '<>', SCHEDULED), ofAgents('agent_id', p('agents'))])))
          .where('lease_expires_at', 'is not', null)
          .orderBy('lease_expires_at')
          .limit(1),
      );
      const slots = mine ? { agents: agentsParam(agents) } : {};
      const candidates = [dueJob.get(slots)?.at, queued.get(slots)?.at, waiting.get(slots)?.at, leased.get(slots)?.at].filter(
        (at): at is number => typeof at === 'number',
      );
      return candidates.length === 0 ? null : new Date(Math.min(...candidates));
    });
  }

  /**
   * Plans every job due by the request's horizon, then claims queued runs due by it, lowest `dueAt`
   * first; leases are judged by and start from `now` (see {@link JobStore.claimDue}).
   */
  claimDue(request: ClaimRequest): Promise<ClaimedRun[]> {
    return this.#op((runner, db) => {
      const terms = claimTerms(request);
      const { limit } = terms;
      const horizon = toMs(terms.horizon);
      const dueJobs = runner.query('claim.dueJobs', (p) =>
        db
          .selectFrom('jobs')
          .selectAll()
          .where('status', '=', ACTIVE)
          .where('next_run', '<=', p('horizon'))
          .where(ofAgents('agent_id', p('agents')))
          .orderBy('next_run')
          .orderBy('id')
          .limit(p('limit')),
      );
      return runner.immediate(() => {
        const due = dueJobs.all({ horizon, limit, agents: agentsParam(terms.agents) });
        const loads = this.#loads(runner, db, due.map((row) => row.id), horizon);
        // Jobs as they stand after their fire, handed out with the runs claimed below.
        const jobs = new ClaimedJobs((id) => this.#job(runner, db, id));
        const planned: JobRunRecord[] = [];
        for (const row of due) {
          const fired = this.#fire(runner, db, row, loads.get(row.id) ?? { active: 0, waiting: 0 }, request);
          jobs.set(row.id, fired.job);
          planned.push(...fired.runs);
        }
        const owned = this.#insertPlanned(runner, db, planned, terms, jobs);
        if (owned.exhausted) return byDueTime(owned.claimed);
        const queued = this.#claimQueued(runner, db, terms, jobs);
        return owned.claimed.length === 0 ? queued : byDueTime([...owned.claimed, ...queued]);
      });
    });
  }

  /** Inserts a run. A taken id or `fireKey` throws `ConflictError`; an unknown job `JobNotFoundError`. */
  insertRun(run: JobRunRecord): Promise<JobRunRecord> {
    return this.#write(
      (runner, db) => {
        const row = runToRow(run);
        runner.query('runs.insert', (p) => db.insertInto('runs').values(slotsOf(row, p))).run(row);
        return rowToRun(row);
      },
      {
        'runs.id': () => new ConflictError(`a run with id ${run.id} exists already`),
        'runs.fire_key': () => new ConflictError(`fire ${run.fireKey} has a run already`),
        foreign_key: () => new JobNotFoundError(run.jobId),
      },
    );
  }

  /** Applies `patch` if `guard` holds, in one update (see {@link #patchRun}); null if the run is absent or the guard fails. */
  updateRun(runId: string, patch: RunPatch, given: RunGuard = {}): Promise<JobRunRecord | null> {
    const guard = guardForPatch(patch, given);
    return this.#write((runner, db) => {
      if (guard.statusIn !== undefined && guard.statusIn.length === 0) return null;
      const statuses = guard.statusIn ?? [];
      const values: Record<string, unknown> = { guardOwner: guard.owner };
      for (let i = 0; i < statuses.length; i++) values[guardStatusSlot(i)] = statuses[i];
      // The event of a marked run stays as the run finished: read before the patch, kept as a row once it applied.
      const marked = mayChangeMarkedEvent(patch, guard) ? markedRun(runner, db, runId) : undefined;
      const row = this.#patchRun(runner, db, runId, patch, updateGuard(guard.owner !== undefined, statuses.length), values);
      if (row === undefined) return null;
      if (marked !== undefined) row.audited = unmarkRun(runner, db, marked);
      return rowToRun(row);
    });
  }

  /**
   * Finishes a run, updates its job's counters and status and appends its audit events atomically
   * (one write of the batch: it commits or fails as a whole). With `executedAudit`, a success's
   * update also marks the run (`audited`) if it has a completion time: its event is answered from
   * the run (see `executed-audit.ts`).
   */
  finishRun(request: FinishRunRequest): Promise<{ run: JobRunRecord; job: CronJobDefinition | null } | null> {
    return this.#write(
      (runner, db) => {
        const guard = request.owner === undefined ? FINISH_GUARDS.any : FINISH_GUARDS.owned;
        // The guard holds only for a run not finished yet: the run succeeds by this patch or not at all.
        const marked = request.executedAudit === true && request.patch.status === 'succeeded';
        const row = this.#patchRun(runner, db, request.runId, request.patch, guard, { guardOwner: request.owner }, marked);
        if (row === undefined) return null;
        const run = rowToRun(row);
        return { run, job: this.#finish(runner, db, this.#jobOfFinish(runner, db, run.jobId), run, finishRule(request)) };
      },
      AUDIT_ID_TAKEN,
    );
  }

  /** Extends the leases `owner` still holds, in one statement; reports the ones it lost. */
  renewLeases(owner: string, runIds: string[], until: Date): Promise<LeaseRenewal> {
    return this.#op((runner, db) => {
      if (runIds.length === 0) return { renewed: [], cancelRequested: [], lost: [] };
      const rows = runner.immediate(() => runner
        .query('runs.renew', (p) =>
          db
            .updateTable('runs')
            .set({ lease_expires_at: p('until') })
            .where('owner', '=', p('owner'))
            .where('id', 'in', sql<string>`(select value from json_each(${p('ids')}))`)
            .returning(['id', 'cancel_requested']),
        )
        .all({ owner, until: toMs(until), ids: JSON.stringify(runIds) }));
      this.#rows.runs.forget(runIds);
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
    return this.#op((runner, db) => {
      const values = { now: toMs(request.now), limit: pageSize(request.limit, 'limit', 0) };
      const lapsed = runner.query('recover.lapsed', (p) =>
        db
          .selectFrom('runs')
          .selectAll()
          // The lease index's own condition, then `running` kept out of index choice.
          .where(sql<boolean>`${LEASED_RUN}`)
          .where(sql<boolean>`+status = 'running'`)
          .where('lease_expires_at', '<', p('now'))
          .orderBy('lease_expires_at')
          .orderBy('id')
          .limit(p('limit')),
      );
      const rule = recoveryRule(request);
      return runner.immediate(() =>
        lapsed.all(values).map((row) => {
          const patch = interruption(rowToRun(row), request.now);
          const run = rowToRun(this.#patchRun(runner, db, row.id, patch, NO_GUARD, {}) as RunRow);
          this.#finish(runner, db, this.#job(runner, db, run.jobId), run, rule);
          return run;
        }),
      );
    });
  }

  /** Records instance `instance` as alive, its heartbeat at `now` (see core's `lifecycle/liveness.ts`). */
  registerInstance(instance: InstanceRegistration, now: Date): Promise<void> {
    return this.#write((runner, db) => instanceRows.registerInstance(runner, db, instance, toMs(now)));
  }

  /** Moves the heartbeat of instance `id` to `now`; false when its row is gone. */
  beatInstance(id: string, now: Date): Promise<boolean> {
    return this.#write((runner, db) => instanceRows.beatInstance(runner, db, id, toMs(now)));
  }

  /** Every registered instance, silent since its last heartbeat by `now`. */
  listInstances(now: Date): Promise<InstanceRecord[]> {
    return this.#op((runner, db) => instanceRows.listInstances(runner, db, toMs(now)));
  }

  /** Deletes the rows of the instances whose heartbeat count is unchanged; the ids deleted. */
  forgetInstances(instances: readonly Pick<InstanceRecord, 'id' | 'beats'>[]): Promise<string[]> {
    return this.#write((runner, db) => instanceRows.forgetInstances(runner, db, instances));
  }

  /** Deletes the row of instance `id`. */
  deregisterInstance(id: string): Promise<void> {
    return this.#write((runner, db) => instanceRows.deregisterInstance(runner, db, id));
  }

  /**
   * Releases up to `limit` runs of the given dead owners in one transaction, each as core's
   * `abandonment` says; an interrupted run is finished as `recoverExpired` finishes one.
   */
  releaseOwners(request: ReleaseOwnersRequest): Promise<JobRunRecord[]> {
    return this.#op((runner, db) => {
      const reasons = new Map(request.owners.map((owner) => [owner.id, owner.reason]));
      const values = { owners: JSON.stringify([...reasons.keys()]), limit: pageSize(request.limit, 'limit', 0) };
      const owners = (p: Param) => sql<boolean>`+owner in (select value from json_each(${p('owners')}))`;
      // Runs in flight are few, found by status; unfinished deliveries by the outbox index.
      const leased = runner.query('release.leased', (p) =>
        db
          .selectFrom('runs')
          .selectAll()
          .where(sql<boolean>`${LEASED_RUN}`)
          .where(owners(p))
          .limit(p('limit')),
      );
      const outbox = runner.query('release.outbox', (p) =>
        db
          .selectFrom('runs')
          .selectAll()
          .where('delivery_pending', '=', sql.lit(1))
          .where(sql<boolean>`+status in ${TERMINAL_STATUS_LIST}`)
          .where(owners(p))
          .limit(p('limit')),
      );
      const owned = () => {
        const rows = leased.all(values);
        return rows.length < values.limit ? [...rows, ...outbox.all({ ...values, limit: values.limit - rows.length })] : rows;
      };
      const rule = recoveryRule(request);
      return runner.immediate(() =>
        owned().flatMap((row) => {
          const abandoned = abandonment(rowToRun(row), request.now, reasons.get(row.owner as string) ?? `owner ${row.owner} is gone`);
          if (abandoned === null) return [];
          const run = rowToRun(this.#patchRun(runner, db, row.id, abandoned.patch, NO_GUARD, {}) as RunRow);
          if (abandoned.interrupted) this.#finish(runner, db, this.#job(runner, db, run.jobId), run, rule);
          return [run];
        }),
      );
    });
  }

  /** A run by id, or null. */
  getRun(id: string): Promise<JobRunRecord | null> {
    return this.#op((runner, db) => {
      const row = this.#run(runner, db, id);
      return row === undefined ? null : rowToRun(row);
    });
  }

  /** Runs matching the filter, newest first (by `scheduledFor`, then `id`). */
  listRuns(filter: RunFilter = {}): Promise<JobRunRecord[]> {
    return this.#op((runner, db) => {
      const statuses = filter.status === undefined ? undefined : knownStatuses(filter.status);
      if (statuses?.length === 0) return [];
      const values = {
        jobId: filter.jobId,
        agentId: filter.agentId,
        since: filter.since === undefined ? undefined : toMs(filter.since),
        limit: pageSize(filter.limit, 'limit', DEFAULT_PAGE),
      };
      const shape = `runs.list:${values.jobId !== undefined}:${statuses?.join(',')}:${values.agentId !== undefined}:${values.since !== undefined}`;
      const query = runner.query(shape, (p) => {
        let q = db.selectFrom('runs').selectAll().orderBy('scheduled_for', 'desc').orderBy('id', 'desc').limit(p('limit'));
        if (values.jobId !== undefined) q = q.where('job_id', '=', p('jobId'));
        if (statuses !== undefined) q = q.where(statusIn(statuses));
        if (values.agentId !== undefined) q = q.where('agent_id', '=', p('agentId'));
        if (values.since !== undefined) q = q.where('scheduled_for', '>=', p('since'));
        return q;
      });
      return query.all(values).map(rowToRun);
    });
  }

  /**
   * Deletes, in one transaction, at most `limit` runs that core's retention rule selects, each
   * job's oldest first (see `JobStore.pruneHistory`); a dry run only counts, in a read.
   */
  async pruneHistory(request: PruneRequest): Promise<number> {
    const { jobs, statuses, limit, dryRun } = checkPruneRequest(request);
    if (dryRun) return this.#op((runner, db) => jobs.reduce((count, terms) => count + pruneJobHistory(runner, db, terms, statuses, null), 0));
    return this.#commit((runner, db) => {
      this.#rows.runs.clear();
      let count = 0;
      for (const terms of jobs) {
        if (count >= limit) break;
        count += pruneJobHistory(runner, db, terms, statuses, limit - count);
      }
      return count;
    });
  }

  /** Claims finished runs with a pending delivery and no live lease, oldest `completedAt` first. */
  claimPendingDeliveries(request: { now: Date; owner: string; leaseMs: number; limit: number }): Promise<ClaimedRun[]> {
    return this.#op((runner, db) => {
      const values = { now: toMs(request.now), limit: pageSize(request.limit, 'limit', 0) };
      const pending = runner.query('outbox.pending', (p) =>
        db
          .selectFrom('runs')
          .selectAll()
          .where('delivery_pending', '=', sql.lit(1))
          .where(sql<boolean>`+status in ${TERMINAL_STATUS_LIST}`)
          .where((eb) => hasNoLiveLease(eb, p('now')))
          .orderBy(OUTBOX_ORDER)
          .orderBy('id')
          .limit(p('limit')),
      );
      const terms = claimTerms(request);
      return runner.immediate(() => this.#lease(runner, db, pending.all(values), terms, new ClaimedJobs((id) => this.#job(runner, db, id))));
    });
  }

  /** The stored session of a job, or null. */
  loadSession(jobId: string): Promise<SessionState | null> {
    return this.#op((runner, db) => {
      const row = runner.query('sessions.load', (p) => db.selectFrom('sessions').selectAll().where('job_id', '=', p('jobId'))).get({ jobId });
      return row === undefined ? null : rowToSession(row);
    });
  }

  /** Stores (replaces) the session of a job; throws `JobNotFoundError` for an unknown job. */
  saveSession(jobId: string, state: SessionState): Promise<void> {
    return this.#write(
      (runner, db) => {
        const row = sessionToRow(jobId, state);
        runner
          .query('sessions.save', (p) =>
            db
              .insertInto('sessions')
              .values(slotsOf(row, p))
              .onConflict((oc) => oc.column('job_id').doUpdateSet({ summary: p('summary'), history: p('history'), updated_at: p('updated_at') })),
          )
          .run(row);
      },
      { foreign_key: () => new JobNotFoundError(jobId) },
    );
  }

  /** Appends an audit event; a taken id throws `ConflictError`. */
  appendAudit(event: AuditEvent): Promise<void> {
    return this.#write((runner, db) => this.#insertAudit(runner, db, event), AUDIT_ID_TAKEN);
  }

  #insertAudit(runner: SqliteRunner, db: Db, event: AuditEvent): void {
    const row = auditToRow(event);
    runner.query('audit.insert', (p) => db.insertInto('audit_events').values(slotsOf(row, p))).run(row);
  }

  /**
   * Audit events matching the filter, newest first. At equal times the events kept as marks on runs
   * (see `executed-audit.ts`) come first, then the stored ones, newest-appended first.
   */
  queryAudit(filter: AuditFilter = {}): Promise<AuditEvent[]> {
    return this.#op((runner, db) => {
      const values = {
        type: filter.type,
        jobId: filter.jobId,
        since: filter.since === undefined ? undefined : toMs(filter.since),
        limit: pageSize(filter.limit, 'limit', DEFAULT_PAGE),
      };
      const shape = `audit.query:${values.type !== undefined}:${values.jobId !== undefined}:${values.since !== undefined}`;
      const query = runner.query(shape, (p) => {
        let q = db.selectFrom('audit_events').selectAll().orderBy('at', 'desc').orderBy(sql`rowid`, 'desc').limit(p('limit'));
        if (values.type !== undefined) q = q.where('type', '=', p('type'));
        if (values.jobId !== undefined) q = q.where('job_id', '=', p('jobId'));
        if (values.since !== undefined) q = q.where('at', '>=', p('since'));
        return q;
      });
      const marks = values.type === undefined || values.type === 'CronJobExecuted';
      if (!marks) return query.all(values).map(rowToAudit);
      // One snapshot for both: a run whose event another connection writes as a row meanwhile (a
      // prune, a job deleted) is answered once, from one or the other.
      return runner.snapshot(() => mergeAuditPages(query.all(values).map(rowToAudit), markedEvents(runner, db, values), values.limit));
    });
  }

  /**
   * Commits the queued writes, then runs `body` on the open, migrated connection and turns SQLite's
   * errors into the core's. `async` so that a synchronous throw becomes a rejected promise, as
   * callers of a port expect.
   */
  async #op<T>(body: (runner: SqliteRunner, db: Db) => T, constraints?: ConstraintErrors): Promise<T> {
    try {
      const { runner, db, batch } = this.#connect();
      batch.flush();
      return body(runner, db);
    } catch (error) {
      throw this.#failed(mapSqliteError(error, constraints));
    }
  }

  /** Runs `body` as {@link #op} does, in a `BEGIN IMMEDIATE` transaction: a write that must commit before its caller hears back. */
  async #commit<T>(body: (runner: SqliteRunner, db: Db) => T, constraints?: ConstraintErrors): Promise<T> {
    return this.#op((runner, db) => runner.immediate(() => body(runner, db)), constraints);
  }

  /** Notes a failure that keeps writes from committing (see {@link trouble}); answers the error. */
  #failed(error: unknown): unknown {
    if (error instanceof StorageFullError) this.#writeTrouble ??= `writes fail since ${new Date().toISOString()}: ${error.message}`;
    return error;
  }

  /** Why writes fail, since a write failed for want of space until one commits again. */
  trouble(): string | null {
    return this.#writeTrouble;
  }

  /**
   * Queues `body` into the write batch: it runs, atomically, with the other writes of this turn in
   * one transaction, and its promise settles once that committed (see {@link WriteBatch}).
   */
  #write<T>(body: (runner: SqliteRunner, db: Db) => T, constraints?: ConstraintErrors): Promise<T> {
    let connection: { runner: SqliteRunner; db: Db; batch: WriteBatch };
    try {
      connection = this.#connect();
    } catch (error) {
      return Promise.reject(this.#failed(mapSqliteError(error, constraints)));
    }
    const { runner, db, batch } = connection;
    return batch.enqueue(
      () => body(runner, db),
      (error) => this.#failed(mapSqliteError(error, constraints)),
    );
  }

  #connect(): { runner: SqliteRunner; db: Db; batch: WriteBatch } {
    if (this.#closed) throw new StoreError('the sqlite job store is closed');
    if (this.#connection !== null) return this.#connection;
    const database = this.#database ?? this.#open();
    this.#database = database;
    // Rows are kept only on a connection the store alone writes through (see RowCache).
    const owned = this.#options.database === undefined;
    const cache: KeptRows = {
      runs: new RowCache<RunRow>(owned, (row) => !TERMINAL_RUN_STATUSES.includes(row.status as JobRunRecord['status'])),
      jobs: new RowCache<JobRow>(owned),
    };
    const dataVersion = owned ? dataVersionReader(database) : null;
    const runner = new SqliteRunner(database, {
      begin: () => {
        if (dataVersion === null) return;
        // One read for both caches.
        const version = dataVersion();
        cache.runs.begin(version);
        cache.jobs.begin(version);
      },
      rollback: () => {
        cache.runs.clear();
        cache.jobs.clear();
      },
      committed: () => {
        // A write committed: writes no longer fail (see trouble()).
        this.#writeTrouble = null;
        this.#checkpointer?.catchUp();
      },
    });
    // The dialect gives kysely SQLite's SQL; queries run through the runner, never kysely's driver.
    const db = new Kysely<StoreDatabase>({ dialect: new SqliteDialect({ database }) });
    migrate(runner, db);
    const batch = new WriteBatch(runner);
    this.#cache = cache;
    this.#connection = { runner, db, batch };
    return this.#connection;
  }

  #open(): Database {
    const busyTimeoutMs = this.#options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    const database = this.#options.database ?? this.#openFile(busyTimeoutMs);
    try {
      database.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
      database.pragma('journal_mode = WAL');
      database.pragma('synchronous = NORMAL');
      // Each checkpoint costs two fsyncs; every finished run commits about a dozen WAL frames, mostly
      // the same hot pages again, so checkpointing every 10,000 frames (about 40 MB of WAL) rather
      // than SQLite's 1,000 cuts that cost tenfold while copying hardly more pages per checkpoint.
      // On the store's own file a worker checkpoints instead (see #checkpointOffThread).
      database.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
      // A burst of writes can outrun the checkpoints and grow the WAL file to hundreds of MB; SQLite
      // reuses it from its start afterwards but keeps its size unless told to cut it back.
      database.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
      // Deleting a job cascades to its runs and session only while foreign keys are enforced.
      database.pragma('foreign_keys = ON');
      // A batch run again after a failed write runs each write in a savepoint, and SQLite keeps the
      // pages a savepoint or a statement may have to restore in a sub-journal: a temporary file past 64 KiB, so several
      // `pwrite`s per write. In memory they cost a copy each; the store's own temporary tables and
      // sorts are small.
      database.pragma('temp_store = MEMORY');
    } catch (error) {
      if (database !== this.#options.database) database.close();
      throw error;
    }
    const path = this.path;
    if (database !== this.#options.database && path !== ':memory:' && path !== '') this.#checkpointOffThread(database, path, busyTimeoutMs);
    return database;
  }

  /**
   * Turns the connection's automatic checkpoints off and has a worker thread run them instead: a
   * checkpoint run by the commit that crossed the threshold blocked the event loop for 100 ms and
   * more (its fsyncs), making a due run that late. Should the worker fail, the connection
   * checkpoints for itself again.
   */
  #checkpointOffThread(database: Database, path: string, busyTimeoutMs: number): void {
    database.pragma('wal_autocheckpoint = 0');
    // Not `this.#database === database`: a worker that cannot start reports so before `#connect`
    // assigned it. The store opened this connection, and closes it only in `close()`.
    const open = () => !this.#closed && database.open;
    this.#checkpointer = new WalCheckpointer({
      path,
      busyTimeoutMs,
      // The worker's checkpoints did not let the WAL start again from its beginning (writes came
      // during each): one on this connection, between two of its writes, completes.
      onBehind: () => {
        if (!open() || database.inTransaction) return false;
        try {
          const [result] = database.pragma('wal_checkpoint(PASSIVE)') as { busy: number }[];
          // Busy: the worker is checkpointing; the next commit tries again.
          return result?.busy === 0;
        } catch (error) {
          process.emitWarning(`checkpointing sqlite database ${path} failed: ${(error as Error).message}`);
          return true;
        }
      },
      onFailure: (error) => {
        process.emitWarning(`the checkpoint worker of sqlite database ${path} failed, its store checkpoints on its own connection: ${error.message}`);
        if (open()) database.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
      },
    });
  }

  #openFile(busyTimeoutMs: number): Database {
    const path = this.path;
    if (path === ':memory:' || path === '') return new BetterSqlite3(path, { timeout: busyTimeoutMs });
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new StoreError(`cannot create the folder of sqlite database ${path}: ${(error as Error).message}`, { cause: error });
    }
    try {
      // The file holds webhook headers and AgentPin references: only its owner may read it.
      // SQLite gives the -wal and -shm files the mode of the database file.
      closeSync(openSync(path, 'a', 0o600));
    } catch (error) {
      throw new StoreError(`cannot create sqlite database ${path}: ${(error as Error).message}`, { cause: error });
    }
    return new BetterSqlite3(path, { timeout: busyTimeoutMs });
  }

  #jobByName(runner: SqliteRunner, db: Db, name: string): CronJobDefinition | null {
    const row = runner.query('jobs.byName', (p) => db.selectFrom('jobs').selectAll().where('name', '=', p('name'))).get({ name });
    return row === undefined ? null : rowToJob(row);
  }

  #insertJob(runner: SqliteRunner, db: Db, job: CronJobDefinition): CronJobDefinition {
    const row = jobToRow(job);
    const inserted = runner.query('jobs.insert', (p) => db.insertInto('jobs').values(slotsOf(row, p)).returningAll()).get(row);
    return rowToJob(inserted as JobRow);
  }

  #job(runner: SqliteRunner, db: Db, id: string): CronJobDefinition | null {
    const row = runner.query('jobs.byId', (p) => db.selectFrom('jobs').selectAll().where('id', '=', p('id'))).get({ id });
    return row === undefined ? null : rowToJob(row);
  }

  /** How many runs of each job are in flight, as {@link ClaimRequest.plan} sees it by `horizon` (epoch ms); absent when none. */
  #loads(runner: SqliteRunner, db: Db, jobIds: string[], horizon: number): Map<string, JobLoad> {
    if (jobIds.length === 0) return new Map();
    const rows = runner
      .query('claim.loads', (p) =>
        db
          .selectFrom('runs')
          .select((eb) => [
            'job_id',
            eb.fn.sum<number>(sql<number>`status = 'running' or wait_for_slot = 0`).as('active'),
            // See core's loadShare and isDueRetry: a retry waiting for a slot is load once it is due.
            eb.fn.sum<number>(sql<number>`status = 'scheduled' and wait_for_slot = 1 and ("trigger" <> 'retry' or due_at <= ${p('horizon')})`).as('waiting'),
          ])
          .where('job_id', 'in', sql<string>`(select value from json_each(${p('jobIds')}))`)
          .where(sql<boolean>`status in ${IN_FLIGHT_RUN_STATUSES}`)
          .groupBy('job_id'),
      )
      .all({ jobIds: JSON.stringify(jobIds), horizon });
    return new Map(rows.map((row) => [row.job_id, { active: row.active, waiting: row.waiting }]));
  }

  /**
   * Decides one due job's fire (core's `decideFire`) and persists it but for its new runs, which
   * it returns for {@link #insertPlanned}: next fire time, status, cancellations. Returns the job as
   * it now stands: decoded afresh, so it shares nothing with the job `plan` saw.
   */
  #fire(runner: SqliteRunner, db: Db, row: JobRow, load: JobLoad, request: ClaimRequest): { job: CronJobDefinition; runs: JobRunRecord[] } {
    const fire = decideFire(rowToJob(row), load, request);
    const { id, nextRun, status, version, updatedAt } = fire.jobPatch;
    // The row is this claim's own (read for it, decoded for `plan`): it takes the fire's changes and
    // is then the statement's values and the row kept.
    row.next_run = nextRun === null ? null : toMs(nextRun);
    row.status = status;
    row.version = version;
    row.updated_at = toMs(updatedAt);
    runner
      .query('claim.advance', (p) =>
        db
          .updateTable('jobs')
          .set({ next_run: p('next_run'), status: p('status'), version: p('version'), updated_at: p('updated_at') })
          .where('id', '=', p('id')),
      )
      .run(row);
    if (fire.cancelRunning) {
      runner
        .query('claim.cancelActive', (p) =>
          db.updateTable('runs').set({ cancel_requested: sql.lit(1) }).where('job_id', '=', p('jobId')).where('status', '=', sql.lit('running')),
        )
        .run({ jobId: id });
      this.#rows.runs.clear();
    }
    // Kept for the finish of the run this fire starts (see #jobOfFinish).
    this.#rows.jobs.keep(row);
    return { job: rowToJob(row), runs: fire.runs };
  }

  /**
   * Inserts the runs a claim's fires planned (unless their fire has a run already) and answers the
   * ones it claimed on insertion. When the claim is sure to take every planned run it may take
   * (the queued runs it may take, planned ones included, are no more than its limit), those not
   * waiting for a slot are inserted owned, as {@link #lease} would leave them: one row write each
   * instead of an insert and an update. Runs waiting for a slot are claimed, or not, by
   * {@link #claimQueued} as ever. `exhausted`: no queued run is left for {@link #claimQueued} to
   * take (none was queued before, and every planned one it could take is claimed already).
   */
  #insertPlanned(
    runner: SqliteRunner,
    db: Db,
    planned: JobRunRecord[],
    terms: ClaimTerms,
    jobs: ClaimedJobs,
  ): { claimed: ClaimedRun[]; exhausted: boolean } {
    const horizon = terms.horizon.getTime();
    const claimable = planned.filter(
      (run) => run.status === 'scheduled' && run.dueAt.getTime() <= horizon && run.owner === null && (terms.agents === null || terms.agents.includes(run.agentId)),
    );
    const queued = claimable.length > 0 ? this.#countClaimable(runner, db, terms) : null;
    const takesAll = queued !== null && claimable.length + queued <= terms.limit;
    const owned = new Set(takesAll ? claimable.filter((run) => !run.waitForSlot) : []);
    const claimed: ClaimedRun[] = [];
    for (const run of planned) {
      if (!owned.has(run)) {
        this.#insertUnlessFired(runner, db, run);
        continue;
      }
      const row = runToRow(claimedRun(run, terms));
      // Inserted, the row reads back as written: decoding it spares reading it back.
      const inserted = runner.query('runs.insertClaimed', (p) => db.insertInto('runs').values(slotsOf(row, p)).onConflict((oc) => oc.doNothing())).run(row) > 0;
      if (inserted) this.#rows.runs.keep(row);
      const job = jobs.get(run.jobId);
      if (inserted && job !== null) claimed.push({ run: rowToRun(row), job: jobs.handOut(job) });
    }
    return { claimed, exhausted: takesAll && queued === 0 && owned.size === claimable.length };
  }

  /** How many queued runs a claim on `terms` may take now, counted up to its limit and one more. */
  #countClaimable(runner: SqliteRunner, db: Db, terms: ClaimTerms): number {
    const count = runner.query('claim.countQueued', (p) =>
      db
        .selectFrom((eb) => claimableRuns(eb.selectFrom('runs'), p).select('id').limit(p('limit')).as('c'))
        .select((eb) => eb.fn.countAll<number>().as('count')),
    );
    return count.get({ horizon: toMs(terms.horizon), now: toMs(terms.now), limit: terms.limit + 1, agents: agentsParam(terms.agents) })?.count ?? 0;
  }

  /**
   * Claims up to `limit` queued runs due by `horizon` (epoch ms), lowest `dueAt` first, judging
   * leases by `request.now`. A `waitForSlot` run whose job is at `maxConcurrent` is passed over
   * (the next page starts after it); claiming clears the flag, so the claimed run counts toward its
   * job's load for the rest of the batch and for other claimers.
   */
  #claimQueued(runner: SqliteRunner, db: Db, terms: ClaimTerms, jobs: ClaimedJobs): ClaimedRun[] {
    const page = runner.query('claim.queued', (p) =>
      claimableRuns(db.selectFrom('runs'), p)
        .selectAll()
        .orderBy('due_at')
        .orderBy('id')
        .limit(p('limit'))
        .offset(p('offset')),
    );
    const { limit } = terms;
    const horizon = toMs(terms.horizon);
    const now = toMs(terms.now);
    const claimed: ClaimedRun[] = [];
    let passedOver = 0;
    while (claimed.length < limit) {
      const wanted = limit - claimed.length;
      const rows = page.all({ horizon, now, limit: wanted, offset: passedOver, agents: agentsParam(terms.agents) });
      let taken: RunRow[] = [];
      for (const row of rows) {
        if (row.wait_for_slot === 1) {
          // Leases taken so far in this page must count, so they are written before the load is read.
          claimed.push(...this.#lease(runner, db, taken, terms, jobs));
          taken = [];
          const load = this.#loads(runner, db, [row.job_id], horizon).get(row.job_id) ?? { active: 0, waiting: 0 };
          const job = jobs.get(row.job_id);
          if (job === null || !hasFreeSlot(job, load)) {
            passedOver += 1;
            continue;
          }
        }
        taken.push(row);
      }
      claimed.push(...this.#lease(runner, db, taken, terms, jobs));
      if (rows.length < wanted) break;
    }
    return claimed;
  }

  /** Gives runs to the claimer on the claim's terms in one statement, each with its job. */
  #lease(runner: SqliteRunner, db: Db, rows: RunRow[], terms: ClaimTerms, jobs: ClaimedJobs): ClaimedRun[] {
    if (rows.length === 0) return [];
    runner
      .query('runs.lease', (p) =>
        db
          .updateTable('runs')
          .set({ owner: p('owner'), lease_expires_at: p('until'), wait_for_slot: sql.lit(0) })
          .where('id', 'in', sql<string>`(select value from json_each(${p('ids')}))`),
      )
      .run({ owner: terms.owner, until: toMs(terms.leaseExpiresAt), ids: JSON.stringify(rows.map((row) => row.id)) });
    const claimed: ClaimedRun[] = [];
    for (const row of rows) {
      this.#rows.runs.keep({ ...row, owner: terms.owner, lease_expires_at: toMs(terms.leaseExpiresAt), wait_for_slot: 0 });
      const job = jobs.get(row.job_id);
      // Runs never outlive their job (foreign-key cascade); the check keeps the types honest.
      if (job) claimed.push({ run: claimedRun(rowToRun(row), terms), job: jobs.handOut(job) });
    }
    return claimed;
  }

  /**
   * Applies a run patch where the guard holds and returns the new row (for an empty patch, the row
   * if the guard holds); `guardValues` fills the guard's slots. Statements are compiled once per
   * guard form and set of patched columns (in the order the patch names them). `marked`: the
   * update also marks the run's routine event (see {@link finishRun}).
   *
   * The new row is the kept one (see {@link RowCache}) with the patch applied, or else read
   * back by id; not `RETURNING *`: SQLite gathers returned rows in a temporary table first, which
   * made the update cost more than the update and a read by id together. Every caller runs inside
   * a transaction, so the read sees the row as updated.
   */
  #patchRun(runner: SqliteRunner, db: Db, runId: string, patch: RunPatch, guard: RunGuardShape, guardValues: object, marked = false): RunRow | undefined {
    const changes = runPatchToRow(patch);
    // A run is marked only with a completion time (its event's), as PostgreSQL's finish: the
    // patch's, or else the row's own, which the statement reads (a SET reads the row as it was).
    const markByRow = marked && changes.completed_at === undefined;
    if (marked && changes.completed_at != null) changes.audited = 1;
    const columns = Object.keys(changes);
    // The statement's values: the patch's own object (made for this call), with the guard's and the id.
    const values: Record<string, unknown> = Object.assign(changes, guardValues);
    values.runId = runId;
    if (columns.length === 0) {
      return runner
        .query(`runs.guard:${guard.shape}`, (p) => db.selectFrom('runs').selectAll().where('id', '=', p('runId')).where((eb) => guard.where(eb, p)))
        .get(values);
    }
    const kept = this.#rows.runs.get(runId);
    const updated = runner
      .query(`runs.patch:${columns.join(',')}${markByRow ? '+markByRow' : ''}:${guard.shape}`, (p) =>
        db
          .updateTable('runs')
          .set(Object.fromEntries(columns.map((column) => [column, p(column)])))
          .$if(markByRow, (q) => q.set({ audited: sql<number>`completed_at is not null` }))
          .where('id', '=', p('runId'))
          .where((eb) => guard.where(eb, p)),
      )
      .run(values);
    if (updated === 0) {
      this.#rows.runs.forget([runId]);
      return undefined;
    }
    if (kept === undefined) {
      const row = this.#run(runner, db, runId);
      if (row !== undefined) this.#rows.runs.keep(row);
      return row;
    }
    // A kept row is the cache's own object (rows leave the store decoded), so it takes the patch in place.
    for (const column of columns) (kept as unknown as Record<string, unknown>)[column] = values[column];
    if (markByRow) kept.audited = kept.completed_at === null ? 0 : 1;
    this.#rows.runs.keep(kept);
    return kept;
  }

  /** The rows kept of runs and jobs this connection wrote; only set while the store is connected. */
  get #rows(): KeptRows {
    if (this.#cache === null) throw new StoreError('the sqlite job store is not connected');
    return this.#cache;
  }

  /** The row of run `id`, if any. */
  #run(runner: SqliteRunner, db: Db, id: string): RunRow | undefined {
    return runner.query('runs.byId', (p) => db.selectFrom('runs').selectAll().where('id', '=', p('id'))).get({ id });
  }

  /** The job of a run being finished: as its fire left it, if this connection kept it since, else read. */
  #jobOfFinish(runner: SqliteRunner, db: Db, id: string): CronJobDefinition | null {
    const kept = this.#rows.jobs.get(id);
    return kept === undefined ? this.#job(runner, db, id) : rowToJob(kept);
  }

  /**
   * Persists what core decides a finished run writes beside itself (its job, a retry, audit
   * events), given its job as stored; returns the job as it stands after.
   *
   * The job's `status` and `next_run` are written only when they change: they are the key and
   * condition of `jobs_due`, so setting them, even to the same values, rewrites the job's entry
   * there; a cron job's finish usually changes neither (its fire moved `next_run`).
   */
  #finish(runner: SqliteRunner, db: Db, job: CronJobDefinition | null, run: JobRunRecord, rule: FinishRule): CronJobDefinition | null {
    const writes = decideFinish(job, run, rule);
    const { jobPatch } = writes;
    if (jobPatch !== null) {
      const moves = job === null || job.status !== jobPatch.status || job.nextRun?.getTime() !== jobPatch.nextRun?.getTime();
      runner
        .query(moves ? 'finish.account' : 'finish.count', (p) =>
          db
            .updateTable('jobs')
            .set({
              run_count: p('runCount'),
              failure_count: p('failureCount'),
              consecutive_failures: p('consecutiveFailures'),
              last_run: p('lastRun'),
              ...(moves ? { status: p('status'), next_run: p('nextRun') } : {}),
              version: p('version'),
              updated_at: p('updatedAt'),
            })
            .where('id', '=', p('id')),
        )
        .run({
          ...jobPatch,
          lastRun: jobPatch.lastRun === null ? null : toMs(jobPatch.lastRun),
          nextRun: jobPatch.nextRun === null ? null : toMs(jobPatch.nextRun),
          updatedAt: toMs(jobPatch.updatedAt),
        });
      // Its fire kept it for this finish; the next fire keeps it again.
      this.#rows.jobs.forget([jobPatch.id]);
    }
    if (writes.retry !== null) this.#insertUnlessFired(runner, db, writes.retry);
    for (const event of writes.audit) this.#insertAudit(runner, db, event);
    return writes.job;
  }

  /** Inserts a planned run unless its id or fire already has one (exactly-once per fire). */
  #insertUnlessFired(runner: SqliteRunner, db: Db, run: JobRunRecord): void {
    const row = runToRow(run);
    runner.query('runs.insertUnlessFired', (p) => db.insertInto('runs').values(slotsOf(row, p)).onConflict((oc) => oc.doNothing())).run(row);
  }
}
