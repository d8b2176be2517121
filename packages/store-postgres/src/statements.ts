import { RUN_STATUSES, TERMINAL_RUN_STATUSES } from '@symbi/core';
import type { AuditFilter, JobFilter, JobStatus, RunFilter, RunStatus } from '@symbi/core';
import { expressionBuilder, sql, type Compilable, type Expression, type ExpressionBuilder, type Kysely, type QueryCreator, type RawBuilder, type SqlBool } from 'kysely';
import { EVENT_PATCH_COLUMNS, keepExecutedAudits, type ExecutedAuditRow } from './executed-audit.js';
import { prepare } from './postgres-runner.js';
import { JOB_COLUMNS, RUN_COLUMNS, RUN_PATCH_COLUMNS } from './row-mapping.js';
import type { AuditRow, Database, JobsTable, RunRow, RunsTable } from './schema.js';

/*
 * Statuses are written into the SQL as literals, never bound as parameters, so that the planner can
 * compare them with index conditions. Runs in flight are rows of `live_runs`, finished runs rows of
 * `runs` (migration 6): queries on runs in flight read `live_runs` alone, whose indexes name no
 * `status` (so that starting a run is a HOT update); reads of any run read both. The status index
 * of `runs` names `listed_status`, which the database derives from `status` (migration 5).
 *
 * A fire key is unique in each table by its constraint, and across the two by the writers: a run
 * is inserted into one table only if the other holds neither its id nor its fire key, and every
 * writer that inserts a run or moves one between the tables holds the run's job row lock (`FOR NO
 * KEY UPDATE`) until it commits, taken before the statement that checks the other table. So the
 * check's snapshot sees every move of a run of that job committed before, and no move of one can
 * commit until the check's transaction ends.
 */
const ACTIVE = sql.lit<JobStatus>('active');
const SCHEDULED = sql.lit<RunStatus>('scheduled');
const RUNNING = sql.lit<RunStatus>('running');
const TERMINAL = TERMINAL_RUN_STATUSES.map((status) => sql.lit<RunStatus>(status));
/** The statuses `listed_status` holds (see migration 5): all but the busy ones. */
const LISTED_STATUSES: readonly RunStatus[] = RUN_STATUSES.filter((status) => !['scheduled', 'running', 'succeeded'].includes(status));

/**
 * The SQL types of the job columns that a claim (advancing its jobs) and a finish write from JSON
 * rows. Read by `json_to_recordset` with these columns only: a whole `jobs` row per element, most of
 * its 32 columns null, cost the server about 3 µs more per row. The types are the columns' as
 * migration 1 made them: a migration that retypes one of these columns changes it here too.
 */
const WRITTEN_JOB_TYPES = {
  id: 'text',
  run_count: 'integer',
  failure_count: 'integer',
  consecutive_failures: 'integer',
  last_run: 'timestamptz',
  status: 'text',
  next_run: 'timestamptz',
  version: 'integer',
  updated_at: 'timestamptz',
} as const satisfies Partial<Record<keyof JobsTable, string>>;
type WrittenJobColumn = Exclude<keyof typeof WRITTEN_JOB_TYPES, 'id'>;

/** Columns of a job that claiming its fire changes (the plan's advance). */
const ADVANCED_JOB_COLUMNS = ['next_run', 'status', 'version', 'updated_at'] as const satisfies readonly WrittenJobColumn[];

/** Runtime columns of a job that finishing a run changes (counters and, through the plan, status). */
const FINISH_JOB_COLUMNS = ['run_count', 'failure_count', 'consecutive_failures', 'last_run', 'status', 'next_run', 'version', 'updated_at'] as const satisfies readonly WrittenJobColumn[];

/** The rows of JSON array `json` as job ids with `columns`, under alias `p` (see `WRITTEN_JOB_TYPES`). */
function jobColumnsOf<C extends WrittenJobColumn>(json: string, columns: readonly C[]) {
  const definitions = (['id', ...columns] as const).map((column) => sql`${sql.id(column)} ${sql.raw(WRITTEN_JOB_TYPES[column])}`);
  return sql<Pick<JobsTable, 'id' | C>>`json_to_recordset(${json}::json)`.as<'p'>(sql`p(${sql.join(definitions)})`);
}

/** Columns `saveJob` replaces: everything but the id, creation time, history counters and version. */
const KEPT_JOB_COLUMNS: readonly (keyof JobsTable)[] = ['id', 'created_at', 'run_count', 'failure_count', 'last_run', 'version'];
const SAVED_JOB_COLUMNS = JOB_COLUMNS.filter((column) => !KEPT_JOB_COLUMNS.includes(column));

/** The aliases the shared conditions below are written for: a run `r`, and runs `a` of the same job. */
type RunScope = Database & { r: RunsTable; a: RunsTable };
const scope: ExpressionBuilder<RunScope, 'r' | 'a'> = expressionBuilder<RunScope, 'r' | 'a'>();

/** Run `a` occupies a concurrency slot of its job (the `active` of `JobLoad`). */
const occupiesSlot = scope.or([
  scope('a.status', '=', RUNNING),
  scope.and([scope('a.status', '=', SCHEDULED), scope.not(scope.ref('a.wait_for_slot'))]),
]);

/** Run `r` holds no lease at all (as opposed to one that lapsed). */
const unleased = scope.or([scope('r.owner', 'is', null), scope('r.lease_expires_at', 'is', null)]);

/** Run `r` holds no lease still live at `now` (a lease lapses once its expiry is before now). */
const noLiveLease = (now: Date) =>
  scope.or([scope('r.owner', 'is', null), scope('r.lease_expires_at', 'is', null), scope('r.lease_expires_at', '<', now)]);

/** How many runs of run `r`'s job occupy a slot. */
const activeRunsOf = scope
  .selectFrom('live_runs as a')
  .select((eb) => eb.fn.countAll<number>().as('active'))
  .whereRef('a.job_id', '=', 'r.job_id')
  .where(occupiesSlot);

/** The job of run `r` has a free concurrency slot. */
const hasFreeSlot = scope(activeRunsOf, '<', scope.selectFrom('jobs').select('max_concurrent').whereRef('jobs.id', '=', 'r.job_id'));

/** The aliases of the batched run updates: run `r` and its input row `i` (see `patchInputs`). */
const patchScope = expressionBuilder<Database & { r: RunsTable; i: PatchInput & { rec: RunRow } }, 'r' | 'i'>();

/** The tables of the run updates: CTE `i` holds their input rows (see `patchInputs`). */
type PatchScope = Database & { i: PatchInput & { rec: RunRow } };

/** A text array parameter, for `= ANY(…)`. */
const textArray = (values: string[]): RawBuilder<readonly string[]> => sql`${values}::text[]`;

/**
 * The row's `column` names one of `agents`, or `agents` is null (every agent): the jobs and runs a
 * claimer may take (see `ClaimRequest.agents`).
 */
const ofAgents = (column: string, agents: readonly string[] | null): RawBuilder<boolean> =>
  sql<boolean>`(${agents}::text[] is null or ${sql.ref(column)} = any(${agents}::text[]))`;

/** The earliest due time of the queued runs `r` (not waiting for a slot) that meet `unleased`, of `agents`. */
const firstUnleasedQueued = (unleased: Expression<SqlBool>, agents: readonly string[] | null) =>
  scope
    .selectFrom('live_runs as r')
    .select((e) => e.fn.min('r.due_at').as('at'))
    .where(unleased)
    .where('r.status', '=', SCHEDULED)
    .where((e) => e.not(e.ref('r.wait_for_slot')))
    .where(ofAgents('r.agent_id', agents));

/** The two tables of runs: in flight, and finished (see migration 6). */
type RunTable = 'live_runs' | 'runs';

/** An empty text array. */
const NONE: RawBuilder<readonly string[]> = sql`'{}'::text[]`;

/** The whole row of run `r`, as column `run` (of a claim's `RETURNING`). */
const WHOLE_RUN = sql<RunRow>`r`.as('run');

/** The CTEs every claim statement ends with (see {@link Statements.withTheirJobs}). */
interface ClaimScope {
  /** The runs the claim took from the table, each as a whole row. */
  claimed: { run: RunRow };
  /** The ids of the runs the claim inserted already owned, as a JSON array (text: the driver's parsing of a long text array costs more), in one row. */
  fresh: { ids: string | null };
}

/**
 * Assignments giving each of `columns` the value of the same column of row `p` (the FROM item of an
 * update). Typed `never` so that kysely accepts them for any column.
 */
function copiedFromP<C extends string>(columns: readonly C[]): Record<C, RawBuilder<never>> {
  return Object.fromEntries(columns.map((column) => [column, sql.ref<never>(`p.${column}`)])) as Record<C, RawBuilder<never>>;
}

/** An input row of the batched run updates (see {@link Statements.updateRuns}). */
export interface PatchInput {
  id: string;
  /** Only this owner's run is patched; null skips the check. */
  owner: string | null;
  /** Only a run in one of these statuses is patched; null skips the check. */
  status_in: string[] | null;
  /** The columns to set, keyed by column (see `runPatchToRow`). */
  patch: Record<string, unknown>;
}

/**
 * A row of the audit query's answer (see {@link Statements.queryAudit}): an `audit_events` row
 * (`marked` false; its other columns null) or a marked run (`marked` true; its columns of
 * {@link ExecutedAuditRow}, the others null).
 */
export type AuditPageRow = { marked: boolean } & NullablePart<AuditRow> & NullablePart<ExecutedAuditRow>;
/** `T` with each column but the shared `id`, `at` and `job_id` null when the row is of the other kind. */
type NullablePart<T> = { [K in keyof T]: K extends 'id' | 'at' | 'job_id' ? T[K] : T[K] | null };

/** An input row of a finish (see {@link Statements.finishRuns}): a patch, and whether a success is marked (see `executed-audit.ts`). */
export type FinishInput = PatchInput & { executed_audit?: true };

type Db = Kysely<Database>;

/**
 * The store's statements, built with kysely for one schema: those that run often are compiled once
 * here, listings with optional filters are built per call. Values always travel as parameters;
 * whole rows travel as one JSON parameter read by `json_populate_record(set)`, so a batch of any
 * size is one statement. What the query builder cannot say (row types, `jsonb` key tests, composite
 * fields, `WITH ORDINALITY`) is written with kysely's `sql` tag.
 *
 * Batched updates also take the ids of their rows as an array, matched with `= ANY(…)`: the
 * planner then finds the rows by primary key whatever it guesses of the JSON's size, rather than
 * hash-joining it with a scan of the whole table, which grows with the run history.
 */
export class Statements {
  readonly insertJob;
  /** Inserts a job unless its name is taken; returns no row when it is. */
  readonly insertJobUnlessNamed;
  readonly saveJob;
  readonly jobVersion;
  readonly deleteJob;
  /**
   * Deleting a job, step 1: its row, locked as the delete will lock it, so that no run of the job
   * is finished (marked) between the next step and the delete.
   */
  readonly lockJobToDelete;
  /** Deleting a job, step 2: the events of its marked runs, written as rows before they go (see `executed-audit.ts`). */
  readonly keepExecutedAuditsOfJob;
  readonly jobById;
  readonly jobByName;
  readonly countJobs;
  readonly nextWakeAt;
  /** Claim, step 1: the due jobs, locked, with their load. */
  readonly lockDueJobs;
  /** Claim, step 1: the ids of the jobs whose waiting runs are due, locked. */
  readonly lockSlotJobs;
  readonly claimRuns;
  /** Claim, step 3: requests interruption of the running runs of the jobs of `jobIds`. */
  readonly requestCancel;
  readonly insertRuns;
  readonly runById;
  readonly updateRuns;
  /** `updateRuns` on `live_runs` alone, for patches whose guards only runs in flight can meet. */
  readonly updateLiveRuns;
  readonly finishRuns;
  /** Moves the runs of `ids` an update finished from `live_runs` to `runs` (see `updateRuns`'s `misplaced`). */
  readonly moveFinishedRuns;
  /** The jobs of `ids`, locked in id order. */
  readonly lockJobs;
  /** The jobs of the runs of `ids`, locked in id order (finish, step 1). */
  readonly lockJobsOfRuns;
  readonly writeFinishedJobs;
  readonly renewLeases;
  /** The runs of `ids` that `owner` holds as last committed, read without waiting for their locks. */
  readonly ownedRuns;
  readonly lockExpiredRuns;
  /** Up to `limit` runs of the `owners`, in flight or with deliveries pending, locked, by id. */
  readonly ownedByAny;
  readonly claimDeliveries;
  readonly loadSessions;
  readonly saveSessions;
  readonly appendAudits;
  readonly notify;

  /**
   * @param db - kysely on the store's schema (`withSchema`).
   * @param schema - the same schema's name, for the row types of `json_populate_record`.
   */
  constructor(
    private readonly db: Db,
    schema: string,
  ) {
    /** A statement written with kysely's `sql` tag, compiled for the store's dialect. */
    const raw = <Row>(query: RawBuilder<Row>): Compilable<Row> => ({ compile: () => query.compile(db) });
    /** The rows of JSON array `json` as rows of `table`, under alias `alias`. */
    const rowsOf = <T extends keyof Database, A extends string>(table: T, json: string, alias: A) =>
      sql<Database[T]>`json_populate_recordset(NULL::${sql.id(schema, table)}, ${json}::json)`.as(alias);
    /** The row of JSON object `json` as a row of `table`, under alias `p`. */
    const rowOf = <T extends keyof Database>(table: T, json: string) =>
      sql<Database[T]>`json_populate_record(NULL::${sql.id(schema, table)}, ${json}::json)`.as('p');
    /**
     * Run `p`'s id or fire key is held by a row of `table`: one probe of each unique index per run.
     * `OFFSET 0` keeps each test a per-row probe: without it the planner may hash the whole table
     * instead, and a generic plan made while `runs` was small kept doing so as the history grew
     * (each claim then read every finished run twice).
     */
    const heldBy = (table: RunTable) =>
      sql<SqlBool>`(exists (select from ${sql.id(schema, table)} h where h.id = p.id offset 0) or exists (select from ${sql.id(schema, table)} h where h.fire_key = p.fire_key offset 0))`;
    /**
     * Run `p` goes into `table` (in flight into `live_runs`, finished into `runs`), as the other
     * table holds neither its id nor its fire key; a conflict within `table` is its insert's.
     */
    const belongsIn = (table: RunTable) =>
      sql<SqlBool>`p.status ${table === 'runs' ? sql`in` : sql`not in`} (${sql.join(TERMINAL)}) and not ${heldBy(table === 'runs' ? 'live_runs' : 'runs')}`;
    /**
     * One statement running `live` (on `live_runs`) and `history` (on `runs`), data-modifying queries
     * answering the same columns, as CTEs `l` and `h`: the rows of both. (Neither may read a CTE of
     * its own statement: the schema plugin would take its name for a table.)
     */
    const onBothTables = <Row>(live: Compilable<unknown>, history: Compilable<unknown>): Compilable<Row> =>
      raw(sql<Row>`with l as (${live}), h as (${history}) select * from l union all select * from h`);
    /** Inserts the runs of JSON array `json` that belong in `table`, except those whose id or fire key is taken. */
    const insertRunsFrom = (json: string, table: RunTable) =>
      db
        .insertInto(table as 'runs')
        .columns(RUN_COLUMNS)
        .expression(db.selectFrom(rowsOf('runs', json, 'p')).select(RUN_COLUMNS).where(belongsIn(table)))
        .onConflict((oc) => oc.doNothing());
    /** Inserts the audit events of JSON array `json`, in array order, so events of equal time keep the order they were appended in. */
    const insertAuditsFrom = (json: string) =>
      db
        .insertInto('audit_events')
        .columns(['id', 'type', 'at', 'job_id', 'run_id', 'actor', 'details'])
        .expression(
          db
            // One set-returning call for the whole array: a record built per element cost more.
            .selectFrom(
              sql<Database['audit_events'] & { ordinality: number }>`json_populate_recordset(NULL::${sql.id(schema, 'audit_events')}, ${json}::json) WITH ORDINALITY`.as('p'),
            )
            .select(['p.id', 'p.type', 'p.at', 'p.job_id', 'p.run_id', 'p.actor', 'p.details'])
            .orderBy('p.ordinality'),
        );
    /**
     * The input rows of batched run updates: run id, owner and status guards, and the patch both as
     * JSON (to see which columns it sets) and as a runs row (to read their values).
     */
    const patchInputs = (json: string) =>
      db
        .selectFrom(sql<PatchInput>`jsonb_to_recordset(${json}::jsonb)`.as<'e'>(sql`e(id text, owner text, status_in text[], patch jsonb)`))
        // In FROM, so that each input's record is built once, not once per column read from it.
        .crossJoinLateral(sql<RunRow>`jsonb_populate_record(NULL::${sql.id(schema, 'runs')}, ${sql.ref('e.patch')})`.as('p'))
        .select(['e.id', 'e.owner', 'e.status_in', 'e.patch', sql<RunRow>`p`.as('rec')]);
    /**
     * Assignments applying the patch of input `i` to run `r`: each column the patch has a key for
     * takes the patch's value, so one statement applies patches of any shape.
     */
    const patchAssignments = Object.fromEntries(
      Object.values(RUN_PATCH_COLUMNS).map((column): [string, Expression<never>] => [
        column,
        patchScope
          .case()
          .when(sql<SqlBool>`${sql.ref('i.patch')} ? ${sql.lit(column)}`)
          .then(sql<never>`(${sql.ref('i.rec')}).${sql.id(column)}`)
          .else(sql.ref<never>(`r.${column}`))
          .end()
          // Any column's type, as the columns are listed at run time.
          .$castTo<never>(),
      ]),
    ) as Record<(typeof RUN_PATCH_COLUMNS)[keyof typeof RUN_PATCH_COLUMNS], Expression<never>>;

    this.insertJob = prepare((s: { job: string }) =>
      db
        .insertInto('jobs')
        .columns(JOB_COLUMNS)
        .expression(db.selectFrom(rowOf('jobs', s.job)).select(JOB_COLUMNS))
        .returningAll(),
    );
    this.insertJobUnlessNamed = prepare((s: { job: string }) =>
      db
        .insertInto('jobs')
        .columns(JOB_COLUMNS)
        .expression(db.selectFrom(rowOf('jobs', s.job)).select(JOB_COLUMNS))
        .onConflict((conflict) => conflict.column('name').doNothing())
        .returningAll(),
    );
    this.saveJob = prepare((s: { job: string; id: string; expectedVersion: number | null }) =>
      db
        .updateTable('jobs as j')
        .from(rowOf('jobs', s.job))
        .set((eb) => ({ ...copiedFromP(SAVED_JOB_COLUMNS), version: eb('j.version', '+', sql.lit(1)) }))
        .where('j.id', '=', s.id)
        .where((eb) => eb.or([eb(eb.cast(eb.val(s.expectedVersion), 'integer'), 'is', null), eb('j.version', '=', eb.val(s.expectedVersion))]))
        .returningAll('j'),
    );
    this.jobVersion = prepare((s: { id: string }) => db.selectFrom('jobs').select('version').where('id', '=', s.id));
    // The job's runs go with it (no foreign key cascades since migration 9); its session cascades.
    this.deleteJob = prepare((s: { id: string }) =>
      db
        .with('live', (qc) => qc.deleteFrom('live_runs').where('job_id', '=', s.id))
        .with('history', (qc) => qc.deleteFrom('runs').where('job_id', '=', s.id))
        .deleteFrom('jobs')
        .where('id', '=', s.id),
    );
    this.lockJobToDelete = prepare((s: { id: string }) => db.selectFrom('jobs').select('id').where('id', '=', s.id).forUpdate());
    this.keepExecutedAuditsOfJob = prepare((s: { id: string }) => raw(keepExecutedAudits(schema, sql.id(schema, 'runs'), sql<boolean>`r.job_id = ${s.id}`)));
    this.jobById = prepare((s: { id: string }) => db.selectFrom('jobs').selectAll().where('id', '=', s.id));
    this.jobByName = prepare((s: { name: string }) => db.selectFrom('jobs').selectAll().where('name', '=', s.name));
    this.countJobs = prepare(() =>
      db
        .selectFrom('jobs')
        .select((eb) => ['status', eb.cast<number>(eb.fn.countAll(), 'integer').as('n')])
        .groupBy('status'),
    );
    // Each part is one walk of an index.
    this.nextWakeAt = prepare((s: { agents: readonly string[] | null }) =>
      db.selectNoFrom((eb) =>
        eb
          .fn<Date | null>('least', [
            eb.selectFrom('jobs').select((e) => e.fn.min('next_run').as('at')).where('status', '=', ACTIVE).where(ofAgents('agent_id', s.agents)),
            // Queued runs that hold no lease: unowned (the queue), or owned without an expiry (the lease index).
            firstUnleasedQueued(scope('r.owner', 'is', null), s.agents),
            firstUnleasedQueued(scope.and([scope('r.owner', 'is not', null), scope('r.lease_expires_at', 'is', null)]), s.agents),
            eb
              .selectFrom('live_runs as r')
              .select((e) => e.fn.min('r.due_at').as('at'))
              .where('r.status', '=', SCHEDULED)
              .where((eb) => eb.ref('r.wait_for_slot'))
              .where(unleased)
              .where(ofAgents('r.agent_id', s.agents))
              .where(hasFreeSlot),
            eb
              .selectFrom('live_runs')
              .select((e) => e.fn.min('lease_expires_at').as('at'))
              .where('owner', 'is not', null)
              // A lapsed lease on a run in flight is recovered by any instance; a queued one only by a claimer of its agent.
              .where((e) => e.or([e('status', '<>', SCHEDULED), ofAgents('agent_id', s.agents)])),
          ])
          .as('at'),
      ),
    );

    // Claim, step 1: lock the due jobs, and the jobs whose waiting runs are due, skipping jobs
    // another claimer holds; then count the load of the locked due jobs only. A waiting run is only
    // claimed under its job's lock, and by a later statement, whose fresh snapshot sees every claim
    // committed before the lock was ours: two claimers can never both fill a job's last free slot.
    // NO KEY UPDATE rather than UPDATE, so writes of sessions (whose foreign key takes KEY SHARE on
    // the job) neither block nor get skipped by these locks. Two statements, sent together (see
    // `PostgresJobStore.claimDue`): due jobs come back as rows, which cost both sides less than
    // one JSON aggregate of them.
    this.lockDueJobs = prepare((s: { horizon: Date; limit: number; agents: readonly string[] | null }) =>
      db
        .with('due', (qc) =>
          qc
            .selectFrom('jobs as j')
            .selectAll('j')
            .where('j.status', '=', ACTIVE)
            .where('j.next_run', '<=', s.horizon)
            .where(ofAgents('j.agent_id', s.agents))
            .orderBy('j.next_run')
            .limit(s.limit)
            .forNoKeyUpdate('j')
            .skipLocked(),
        )
        .selectFrom('due as d')
        .crossJoinLateral((eb) =>
          eb
            .selectFrom('live_runs as a')
            .select((e) => [
              e.cast<number>(e.fn.countAll().filterWhere(occupiesSlot), 'integer').as('active'),
              e
                .cast<number>(
                  // See core's loadShare and isDueRetry: a retry waiting for a slot is load once it is due.
                  e.fn
                    .countAll()
                    .filterWhere((f) =>
                      f.and([f('a.status', '=', SCHEDULED), f.ref('a.wait_for_slot'), f.or([f('a.trigger', '<>', 'retry'), f('a.due_at', '<=', s.horizon)])]),
                    ),
                  'integer',
                )
                .as('waiting'),
            ])
            .whereRef('a.job_id', '=', 'd.id')
            .where('a.status', 'in', [SCHEDULED, RUNNING])
            .as('l'),
        )
        .selectAll('d')
        .select(['l.active', 'l.waiting']),
    );
    this.lockSlotJobs = prepare((s: { now: Date; horizon: Date; limit: number; agents: readonly string[] | null }) =>
      db
        .selectFrom('jobs as j')
        .select('j.id')
        .where('j.id', 'in', (eb) =>
          eb
            .selectFrom('live_runs as r')
            .select('r.job_id')
            .where('r.status', '=', SCHEDULED)
            .where((eb) => eb.ref('r.wait_for_slot'))
            .where('r.due_at', '<=', s.horizon)
            .where(noLiveLease(s.now))
            .where(ofAgents('r.agent_id', s.agents)),
        )
        .orderBy('j.id')
        .limit(s.limit)
        .forNoKeyUpdate()
        .skipLocked(),
    );
    // Claim, step 2, in one statement: apply every plan of the batch (`advanced` jobs, `planned`
    // runs), and own queued runs, lowest dueAt first: runs of the queue
    // and planned runs due by the horizon, and runs waiting for a slot. Those come from their own
    // small index, only of the jobs locked in step 1 (`slotJobs`), and only while their job has a
    // free slot, counting its planned runs that hold one and the waiting runs admitted before them;
    // taking one clears its flag, so it holds its slot from then on. A planned run chosen is
    // inserted already owned (a run whose id or fire key is taken is not inserted, so not claimed).
    // What the caller knows is not sent back: of the planned runs claimed only the ids, and none
    // of the jobs it planned (`planned`).
    this.claimRuns = prepare(
      (s: {
        now: Date;
        horizon: Date;
        limit: number;
        owner: string;
        leaseUntil: Date;
        slotJobs: string[];
        planned: string[];
        advanced: string;
        runs: string;
        agents: readonly string[] | null;
      }) => {
        /** Queued runs `r` the claim may take, by the horizon and judging leases by now. */
        const queued = (waiting: boolean) => (eb: ExpressionBuilder<RunScope, 'r'>) =>
          eb.and([
            eb('r.status', '=', SCHEDULED),
            waiting ? eb.ref('r.wait_for_slot') : eb.not(eb.ref('r.wait_for_slot')),
            eb('r.due_at', '<=', s.horizon),
            noLiveLease(s.now),
            ofAgents('r.agent_id', s.agents),
          ]);
        /** The first due queued runs of the table (not waiting for a slot) that meet `owned`, locked or skipped. */
        const takeQueued = (qc: QueryCreator<Database>, owned: Expression<SqlBool>) =>
          qc
            .selectFrom('live_runs as r')
            .select(['r.id', 'r.due_at', sql.lit(false).as('fresh')])
            .where(owned)
            .where(queued(false))
            .orderBy('r.due_at')
            .orderBy('r.id')
            .limit(s.limit)
            .forNoKeyUpdate('r')
            .skipLocked();
        return this.withTheirJobs(
          db
            .with('advanced', (qc) =>
              qc
                .updateTable('jobs as j')
                .from(jobColumnsOf(s.advanced, ADVANCED_JOB_COLUMNS))
                .set(copiedFromP(ADVANCED_JOB_COLUMNS))
                .whereRef('j.id', '=', 'p.id')
                .where('j.id', '=', (eb) => eb.fn.any(textArray(s.planned))),
            )
            .with('planned', (qc) =>
              qc
                .selectFrom(sql<RunsTable & { ordinality: number }>`json_populate_recordset(NULL::${sql.id(schema, 'runs')}, ${s.runs}::json) WITH ORDINALITY`.as('p'))
                .selectAll('p'),
            )
            .with('planned_load', (qc) =>
              qc
                .selectFrom('planned as a')
                .select((eb) => ['a.job_id', eb.cast<number>(eb.fn.countAll(), 'integer').as('active')])
                .where(occupiesSlot)
                .groupBy('a.job_id'),
            )
            // The queue holds the runs nobody owns; runs whose owner's lease lapsed come from the lease index.
            // (QueryCreator is invariant in its tables; the walks read only `runs`.)
            .with('plain', (qc) => takeQueued(qc as unknown as QueryCreator<Database>, scope('r.owner', 'is', null)))
            .with('lapsed', (qc) =>
              takeQueued(
                qc as unknown as QueryCreator<Database>,
                scope.and([scope('r.owner', 'is not', null), scope.or([scope('r.lease_expires_at', 'is', null), scope('r.lease_expires_at', '<', s.now)])]),
              ),
            )
            .with('waiting', (qc) =>
              qc
                .selectFrom('live_runs as r')
                .select(['r.id', 'r.job_id', 'r.due_at', sql.lit(false).as('fresh'), activeRunsOf.as('active')])
                .where('r.job_id', '=', (eb) => eb.fn.any(textArray(s.slotJobs)))
                .where(queued(true))
                .where(hasFreeSlot)
                .orderBy('r.due_at')
                .orderBy('r.id')
                .limit(s.limit)
                .forNoKeyUpdate('r')
                .skipLocked(),
            )
            .with('admitted', (qc) =>
              qc
                .selectFrom((eb) =>
                  eb
                    .selectFrom((e) =>
                      e
                        .selectFrom('waiting')
                        .select(['waiting.id', 'waiting.job_id', 'waiting.due_at', 'waiting.fresh', 'waiting.active'])
                        .unionAll(
                          e
                            .selectFrom('planned as r')
                            .select(['r.id', 'r.job_id', 'r.due_at', sql.lit(true).as('fresh'), activeRunsOf.as('active')])
                            .where('r.job_id', '=', (x) => x.fn.any(textArray(s.slotJobs)))
                            .where(queued(true)),
                        )
                        .as('w'),
                    )
                    .innerJoin('jobs as j', 'j.id', 'w.job_id')
                    .leftJoin('planned_load as pl', 'pl.job_id', 'w.job_id')
                    .select((e) => [
                      'w.id',
                      'w.due_at',
                      'w.fresh',
                      e(e('w.active', '+', e.fn.coalesce('pl.active', sql.lit(0))), '-', e.ref('j.max_concurrent')).as('over'),
                      e.fn
                        .agg<number>('row_number')
                        .over((ob) => ob.partitionBy('w.job_id').orderBy('w.due_at').orderBy('w.id'))
                        .as('nth'),
                    ])
                    .as('ranked'),
                )
                .select(['ranked.id', 'ranked.due_at', 'ranked.fresh'])
                .where((eb) => eb(eb('ranked.over', '+', eb.ref('ranked.nth')), '<=', sql.lit(0))),
            )
            .with('candidates', (qc) =>
              qc
                .selectFrom('plain')
                .select(['plain.id', 'plain.due_at', 'plain.fresh'])
                .unionAll(qc.selectFrom('lapsed').select(['lapsed.id', 'lapsed.due_at', 'lapsed.fresh']))
                .unionAll(qc.selectFrom('planned as r').select(['r.id', 'r.due_at', sql.lit(true).as('fresh')]).where(queued(false)))
                .unionAll(qc.selectFrom('admitted').select(['admitted.id', 'admitted.due_at', 'admitted.fresh']))
                .orderBy('due_at')
                .orderBy('id')
                .limit(s.limit),
            )
            .with('inserted', (qc) =>
              qc
                .insertInto('live_runs')
                .columns(RUN_COLUMNS)
                .expression((eb) =>
                  eb
                    .selectFrom('planned as p')
                    .select((e) =>
                      RUN_COLUMNS.map((column) => {
                        // A hashed subplan, built once: joined to `candidates` (a CTE, with no index), the
                        // planned runs were compared with every candidate, a cost growing with the square of the batch.
                        const claimed = e.case().when('p.id', 'in', e.selectFrom('candidates as c').select('c.id').where('c.fresh', '=', sql.lit(true)));
                        if (column === 'owner') return claimed.then(s.owner).else(e.ref('p.owner')).end().as(column);
                        if (column === 'lease_expires_at') return claimed.then(s.leaseUntil).else(e.ref('p.lease_expires_at')).end().as(column);
                        if (column === 'wait_for_slot') return claimed.then(sql.lit(false)).else(e.ref('p.wait_for_slot')).end().as(column);
                        return e.ref(`p.${column}`).as(column);
                      }),
                    )
                    .where(belongsIn('live_runs'))
                    // In plan order: of two planned runs with one id or fire key, the first is kept.
                    .orderBy('p.ordinality'),
                )
                .onConflict((oc) => oc.doNothing())
                .returning('id'),
            )
            // Runs planned finished (a fire skipped by its overlap rule) go straight into the history.
            .with('recorded', (qc) =>
              qc
                .insertInto('runs')
                .columns(RUN_COLUMNS)
                .expression((eb) => eb.selectFrom('planned as p').select(RUN_COLUMNS).where(belongsIn('runs')).orderBy('p.ordinality'))
                .onConflict((oc) => oc.doNothing()),
            )
            .with('claimed', (qc) =>
              qc
                .updateTable('live_runs as r')
                .from('candidates')
                .set({ owner: s.owner, lease_expires_at: s.leaseUntil, wait_for_slot: sql.lit(false) })
                .whereRef('r.id', '=', 'candidates.id')
                .where('candidates.fresh', '=', sql.lit(false))
                .returning(WHOLE_RUN),
            )
            .with('fresh', (qc) =>
              qc
                .selectFrom('inserted')
                .select(sql<string | null>`json_agg(inserted.id)::text`.as('ids'))
                .where('inserted.id', 'in', (eb) => eb.selectFrom('candidates').select('candidates.id').where('candidates.fresh', '=', sql.lit(true))),
            ),
          textArray(s.planned),
        );
      },
    );
    // Claim, step 3, after its COMMIT and only for plans that cancel (overlap `cancel_other`): ask
    // the jobs' running runs to stop. Outside the claim, which holds the jobs it planned: a finish
    // holds its run, then locks the run's job, so a claim waiting for that run would deadlock with it.
    this.requestCancel = prepare((s: { jobIds: string[] }) =>
      db
        .updateTable('live_runs')
        .set({ cancel_requested: sql.lit(true) })
        .where('job_id', '=', (eb) => eb.fn.any(textArray(s.jobIds)))
        .where('status', '=', RUNNING),
    );
    this.insertRuns = prepare((s: { runs: string }) =>
      onBothTables<RunRow>(insertRunsFrom(s.runs, 'live_runs').returningAll(), insertRunsFrom(s.runs, 'runs').returningAll()),
    );
    this.runById = prepare((s: { id: string }) =>
      db
        .selectFrom('live_runs')
        .selectAll()
        .where('id', '=', s.id)
        .unionAll(db.selectFrom('runs').selectAll().where('id', '=', s.id)),
    );
    /**
     * The runs of `table` among `ids` patched by the JSON `input` of CTE `i`, each where its owner
     * and status guards hold; whether each is now `misplaced` (finished in `live_runs`; a row of
     * `runs` never is, as a finished run's status is final), and whether its patch `unmarked` it: a
     * patch of a column its event is made of ends a history row's mark (its event, as it finished,
     * is then written as a row: see `updateRuns`).
     */
    const patchRunsIn = (qc: QueryCreator<PatchScope>, table: RunTable, ids: string[]) => {
      const unmarks = table === 'runs' ? sql<boolean>`${sql.ref('i.patch')} ?| ${sql.lit(`{${EVENT_PATCH_COLUMNS.join(',')}}`)}::text[]` : sql<boolean>`false`;
      return qc
        .updateTable(`${table as 'runs'} as r`)
        .from('i')
        .set(patchAssignments)
        .$if(table === 'runs', (update) => update.set({ executed_audit: sql<boolean>`r.executed_audit AND NOT ${unmarks}` }))
        .whereRef('r.id', '=', 'i.id')
        .where('r.id', '=', (eb) => eb.fn.any(textArray(ids)))
        .where((eb) => eb.or([eb('i.owner', 'is', null), eb('r.owner', '=', eb.ref('i.owner'))]))
        .where((eb) => eb.or([eb('i.status_in', 'is', null), eb('r.status', '=', eb.fn.any('i.status_in'))]))
        .returning(RUN_COLUMNS.map((column) => `r.${column}` as const))
        .returning((eb) => sql<SqlBool>`${table === 'runs' ? sql.lit(false) : eb('r.status', 'in', TERMINAL)}`.as('misplaced'))
        .returning(unmarks.as('unmarked'));
    };
    // A run is patched where it is; one a patch finished is moved by `moveFinishedRuns`. A marked
    // run that a patch unmarks keeps its event as a row, made of the run as it finished (this
    // statement's snapshot of `runs`; see `executed-audit.ts`).
    this.updateRuns = prepare((s: { ids: string[]; input: string }) =>
      db
        .with('i', () => patchInputs(s.input))
        .with('l', (qc) => patchRunsIn(qc as unknown as QueryCreator<PatchScope>, 'live_runs', s.ids))
        .with('h', (qc) => patchRunsIn(qc as unknown as QueryCreator<PatchScope>, 'runs', s.ids))
        .with('kept', () => sql`(${keepExecutedAudits(schema, sql.id(schema, 'runs'), sql<boolean>`r.id IN (SELECT h.id FROM h WHERE h.unmarked)`)})`)
        .selectFrom('l')
        .selectAll()
        .unionAll((eb) => eb.selectFrom('h').selectAll()),
    );
    this.updateLiveRuns = prepare((s: { ids: string[]; input: string }) =>
      patchRunsIn(db.with('i', () => patchInputs(s.input)) as unknown as QueryCreator<PatchScope>, 'live_runs', s.ids),
    );
    this.moveFinishedRuns = prepare((s: { ids: string[] }) =>
      db
        .with('moved', () =>
          db
            .deleteFrom('live_runs')
            .where('id', '=', (eb) => eb.fn.any(textArray(s.ids)))
            .where('status', 'in', TERMINAL)
            .returning(RUN_COLUMNS),
        )
        .insertInto('runs')
        .columns(RUN_COLUMNS)
        .expression((eb) => eb.selectFrom('moved').select(RUN_COLUMNS)),
    );
    // Finish, step 1: move the unfinished runs of the batch from `live_runs` to `runs` with their
    // patches applied (each finished run is appended to the history once), then lock the jobs of
    // its runs in id order, so that batches sharing jobs queue up instead of deadlocking. Two
    // statements, sent together: rows come back as rows, which cost both sides less than the JSON
    // of a single statement's answer (measured: about 8 us less server CPU and 8 us less process
    // CPU per run).
    this.finishRuns = prepare((s: { ids: string[]; input: string }) =>
      db
        // (Typed through `sql`: kysely's types take no aliased DELETE … USING as a CTE.)
        .with('ended', () =>
          sql<{ run: RunRow; patch: Record<string, unknown>; executed_audit: boolean | null }>`(${db
            .deleteFrom('live_runs as r')
            .using(sql<Required<FinishInput>>`jsonb_to_recordset(${s.input}::jsonb)`.as<'i'>(sql`i(id text, owner text, patch jsonb, executed_audit boolean)`))
            .whereRef('r.id', '=', 'i.id')
            .where('r.id', '=', (eb) => eb.fn.any(textArray(s.ids)))
            .where((eb) => eb.or([eb('i.owner', 'is', null), eb('r.owner', '=', eb.ref('i.owner'))]))
            .where('r.status', 'not in', TERMINAL)
            .returning([sql<RunRow>`r`.as('run'), 'i.patch', 'i.executed_audit'])})`,
        )
        .insertInto('runs')
        .columns([...RUN_COLUMNS, 'executed_audit'])
        // The live row with the patch applied in one call: the columns the patch has a key for
        // take its values (typed as the columns), the others keep the live row's. A success asked
        // to be marked is marked (see `executed-audit.ts`).
        .expression((eb) =>
          eb
            .selectFrom('ended as e')
            .crossJoinLateral(sql<RunRow>`jsonb_populate_record(${sql.ref('e.run')}, ${sql.ref('e.patch')})`.as('f'))
            .select(RUN_COLUMNS.map((column) => `f.${column}` as const))
            .select(sql<boolean>`e.executed_audit IS TRUE AND f.status = ${sql.lit('succeeded')} AND f.completed_at IS NOT NULL`.as('executed_audit')),
        )
        .returning(RUN_COLUMNS),
    );
    this.lockJobs = prepare((s: { ids: string[] }) =>
      db
        .selectFrom('jobs')
        .select('id')
        .where('id', '=', (eb) => eb.fn.any(textArray(s.ids)))
        .orderBy('id')
        .forNoKeyUpdate(),
    );
    this.lockJobsOfRuns = prepare((s: { ids: string[] }) =>
      db
        .selectFrom('jobs as j')
        .selectAll('j')
        .where('j.id', 'in', (eb) =>
          eb
            .selectFrom('runs as r')
            .select('r.job_id')
            .where('r.id', '=', (e) => e.fn.any(textArray(s.ids)))
            // Kept a subquery of its own: joined, `j.id = r.job_id` would let the planner walk the
            // whole per-job history index (see migration 10) instead of probing `runs_pkey`.
            .offset(0),
        )
        .orderBy('j.id')
        .forNoKeyUpdate(),
    );
    // Finish, step 2: store the jobs' counters and statuses as the plans left them, the retries and
    // the audit events of the finishes (PostgreSQL runs a data-modifying WITH even when unreferenced).
    this.writeFinishedJobs = prepare((s: { jobIds: string[]; jobs: string; retries: string; audits: string }) =>
      db
        .with('retried', () => insertRunsFrom(s.retries, 'live_runs'))
        .with('retried_done', () => insertRunsFrom(s.retries, 'runs'))
        .with('audited', () => insertAuditsFrom(s.audits))
        .updateTable('jobs as j')
        .from(jobColumnsOf(s.jobs, FINISH_JOB_COLUMNS))
        .set(copiedFromP(FINISH_JOB_COLUMNS))
        .whereRef('j.id', '=', 'p.id')
        .where('j.id', '=', (eb) => eb.fn.any(textArray(s.jobIds))),
    );
    // A renewal never waits for a run's lock: the runs a start or finish batch of the owner holds
    // are skipped (their write is under way), so the two cannot deadlock, each holding a run the
    // other waits for, which PostgreSQL broke only after a second by failing the batch. Skipped
    // runs are told apart from lost ones by `ownedRuns`.
    // Runs in flight are in `live_runs`; deliveries, also renewed, are on their runs in `runs`.
    const renewIn = (table: RunTable, s: { owner: string; ids: string[]; until: Date }) =>
      db
        .updateTable(table as 'runs')
        .set({ lease_expires_at: s.until })
        .where('id', 'in', (eb) =>
          eb
            .selectFrom(`${table as 'runs'} as free`)
            .select('free.id')
            .where('free.id', '=', (e) => e.fn.any(textArray(s.ids)))
            .where('free.owner', '=', s.owner)
            .forNoKeyUpdate()
            .skipLocked(),
        )
        .returning(['id', 'cancel_requested']);
    this.renewLeases = prepare((s: { owner: string; ids: string[]; until: Date }) =>
      onBothTables<{ id: string; cancel_requested: boolean }>(renewIn('live_runs', s), renewIn('runs', s)),
    );
    const ownedIn = (table: RunTable, s: { owner: string; ids: string[] }) =>
      db
        .selectFrom(table as 'runs')
        .select('id')
        .where('id', '=', (eb) => eb.fn.any(textArray(s.ids)))
        .where('owner', '=', s.owner);
    this.ownedRuns = prepare((s: { owner: string; ids: string[] }) => ownedIn('live_runs', s).unionAll(ownedIn('runs', s)));
    this.ownedByAny = prepare((s: { owners: string[]; limit: number }) =>
      db
        // Runs in flight by the lease index, unfinished deliveries by the outbox index.
        .with('l', (qc) =>
          qc
            .selectFrom('live_runs')
            .selectAll()
            .where('owner', '=', (eb) => eb.fn.any(textArray(s.owners)))
            .where('owner', 'is not', null)
            .orderBy('id')
            .limit(s.limit)
            .forNoKeyUpdate(),
        )
        .with('h', (qc) =>
          qc
            .selectFrom('runs')
            .selectAll()
            .where('owner', '=', (eb) => eb.fn.any(textArray(s.owners)))
            .where((eb) => eb.ref('delivery_pending'))
            .orderBy('id')
            .limit(s.limit)
            .forNoKeyUpdate(),
        )
        .selectFrom((eb) =>
          eb
            .selectFrom('l')
            .selectAll()
            .unionAll((e) => e.selectFrom('h').selectAll())
            .as('o'),
        )
        .selectAll()
        .orderBy('o.id')
        .limit(s.limit),
    );
    this.lockExpiredRuns = prepare((s: { now: Date; limit: number }) =>
      db
        .selectFrom('live_runs')
        .selectAll()
        .where('status', '=', RUNNING)
        .where('owner', 'is not', null)
        .where('lease_expires_at', '<', s.now)
        .orderBy('lease_expires_at')
        .orderBy('id')
        .limit(s.limit)
        .forNoKeyUpdate()
        .skipLocked(),
    );
    this.claimDeliveries = prepare((s: { now: Date; limit: number; owner: string; leaseUntil: Date }) =>
      this.withTheirJobs(
        db
          .with('candidates', (qc) =>
            qc
              .selectFrom('runs as r')
              .select('r.id')
              .where((eb) => eb.ref('r.delivery_pending'))
              .where('r.status', 'in', TERMINAL)
              .where(noLiveLease(s.now))
              .orderBy((eb) => eb.fn.coalesce('r.completed_at', 'r.scheduled_for'))
              .orderBy('r.id')
              .limit(s.limit)
              .forNoKeyUpdate()
              .skipLocked(),
          )
          .with('claimed', (qc) =>
            qc
              .updateTable('runs as r')
              .from('candidates')
              .set({ owner: s.owner, lease_expires_at: s.leaseUntil })
              .whereRef('r.id', '=', 'candidates.id')
              .returning(WHOLE_RUN),
          )
          .with('fresh', (qc) => qc.selectNoFrom(sql<string | null>`NULL::text`.as('ids'))),
        NONE,
      ),
    );
    this.loadSessions = prepare((s: { jobIds: string[] }) =>
      db
        .selectFrom('sessions')
        .selectAll()
        .where('job_id', '=', (eb) => eb.fn.any(textArray(s.jobIds))),
    );
    this.saveSessions = prepare((s: { sessions: string }) =>
      db
        .insertInto('sessions')
        .columns(['job_id', 'summary', 'history', 'updated_at'])
        .expression(db.selectFrom(rowsOf('sessions', s.sessions, 'p')).select(['job_id', 'summary', 'history', 'updated_at']))
        .onConflict((oc) =>
          oc.column('job_id').doUpdateSet((eb) => ({
            summary: eb.ref('excluded.summary'),
            history: eb.ref('excluded.history'),
            updated_at: eb.ref('excluded.updated_at'),
          })),
        ),
    );
    this.appendAudits = prepare((s: { events: string }) => insertAuditsFrom(s.events));
    this.notify = prepare((s: { channel: string; payload: string }) =>
      db.selectNoFrom((eb) => eb.fn<void>('pg_notify', [eb.val(s.channel), eb.val(s.payload)]).as('notified')),
    );
  }

  /** Jobs matching `filter`, by name. */
  listJobs(filter: Pick<JobFilter, 'status' | 'agentId'>, limit: number | undefined, offset: number | undefined) {
    let query = this.db.selectFrom('jobs').selectAll().orderBy('name');
    if (filter.status !== undefined) query = query.where('status', '=', filter.status);
    if (filter.agentId !== undefined) query = query.where('agent_id', '=', filter.agentId);
    if (limit !== undefined) query = query.limit(limit);
    if (offset !== undefined) query = query.offset(offset);
    return query;
  }

  /**
   * Runs matching `filter`, newest first. The statuses, checked by the caller, are written as
   * literals; when each is one the status index holds, they are tested on `listed_status` too, so
   * that the planner can walk that index.
   */
  listRuns(filter: Pick<RunFilter, 'jobId' | 'agentId' | 'since'> & { statuses?: readonly RunStatus[] }, limit: number) {
    const of = (table: RunTable) => {
      let query = this.db.selectFrom(table as 'runs').selectAll().orderBy('scheduled_for', 'desc').orderBy('id', 'desc').limit(limit);
      if (filter.jobId !== undefined) query = query.where('job_id', '=', filter.jobId);
      if (filter.statuses !== undefined) {
        const statuses = filter.statuses.map((status) => sql.lit(status));
        query = query.where('status', 'in', statuses);
        if (filter.statuses.every((status) => LISTED_STATUSES.includes(status))) query = query.where('listed_status', 'in', statuses);
      }
      if (filter.agentId !== undefined) query = query.where('agent_id', '=', filter.agentId);
      if (filter.since !== undefined) query = query.where('scheduled_for', '>=', filter.since);
      return this.db.selectFrom(query.as(table === 'runs' ? 'h' : 'l')).selectAll();
    };
    // Each table's newest by its own index, then the newest of both.
    return this.db
      .selectFrom(of('live_runs').unionAll(of('runs')).as('u'))
      .selectAll()
      .orderBy('u.scheduled_for', 'desc')
      .orderBy('u.id', 'desc')
      .limit(limit);
  }

  /**
   * Audit events matching `filter`, newest first (events of equal time newest appended first), as
   * `audit_events` rows, and, unless the filter names another type, the marked runs matching it,
   * newest first (by completion, then id), as {@link ExecutedAuditRow}s (see `executed-audit.ts`):
   * two pages of at most `limit` each, read in one statement (one snapshot, so that a run whose
   * event is written as a row meanwhile is in one page or the other), told apart by `marked`.
   */
  queryAudit(filter: Pick<AuditFilter, 'type' | 'jobId' | 'since'>, limit: number) {
    let stored = this.db.selectFrom('audit_events').selectAll().orderBy('at', 'desc').orderBy('seq', 'desc').limit(limit);
    if (filter.type !== undefined) stored = stored.where('type', '=', filter.type);
    if (filter.jobId !== undefined) stored = stored.where('job_id', '=', filter.jobId);
    if (filter.since !== undefined) stored = stored.where('at', '>=', filter.since);
    const events = this.db
      .selectFrom(stored.as('s'))
      .select(['s.id', 's.at', 's.job_id', 's.type', 's.run_id', 's.actor', 's.details', 's.seq', sql<boolean>`false`.as('marked')])
      .select([sql<string | null>`NULL::text`.as('job_name'), sql<number | null>`NULL::float8`.as('execution_time_ms')])
      .$castTo<AuditPageRow>();
    // Each page in its own order, said once more: neither a subquery nor a UNION ALL promises one.
    const inOrder = (page: typeof events) => page.orderBy('marked').orderBy('at', 'desc').orderBy('seq', 'desc').orderBy('id', 'desc');
    if (filter.type !== undefined && filter.type !== 'CronJobExecuted') return inOrder(events);
    let marked = this.db
      .selectFrom('runs')
      .select(['id', 'completed_at as at', 'job_id', 'job_name', 'execution_time_ms'])
      .where((eb) => eb.ref('executed_audit'));
    if (filter.jobId !== undefined) marked = marked.where('job_id', '=', filter.jobId);
    if (filter.since !== undefined) marked = marked.where('completed_at', '>=', filter.since);
    // Newest first by the partial index of marks; a job's marks by the per-job history index, then
    // sorted (`OFFSET 0` keeps the planner from walking every mark newest first to find the job's,
    // which costs the whole history for a job that runs rarely).
    const newest = this.db
      .selectFrom((filter.jobId === undefined ? marked : marked.offset(0)).as('r'))
      .selectAll()
      .orderBy('r.at', 'desc')
      .orderBy('r.id', 'desc')
      .limit(limit);
    return inOrder(
      events.unionAll(
        this.db
          .selectFrom(newest.as('m'))
          .select(['m.id', 'm.at', 'm.job_id', sql<AuditRow['type'] | null>`NULL::text`.as('type'), sql<string | null>`NULL::text`.as('run_id')])
          .select([sql<string | null>`NULL::text`.as('actor'), sql<AuditRow['details'] | null>`NULL::jsonb`.as('details'), sql<string | null>`NULL::bigint`.as('seq')])
          .select([sql<boolean>`true`.as('marked'), 'm.job_name', 'm.execution_time_ms'])
          .$castTo<AuditPageRow>(),
      ),
    );
  }

  /**
   * One row describing a claim: `fresh`, the ids in CTE `fresh` (runs the claim inserted, known to
   * the caller) as a JSON array; `runs`, the whole rows of CTE `claimed` as a JSON array; `jobs`, their jobs as a
   * JSON array, each once, except the jobs in `known`. JSON arrives as text, parsed by the caller
   * in one go.
   */
  private withTheirJobs<DB extends Database & ClaimScope>(qc: QueryCreator<DB>, known: RawBuilder<readonly string[]>) {
    // QueryCreator is invariant in its tables; what follows reads only the claim's CTEs and `jobs`.
    return (qc as unknown as QueryCreator<Database & ClaimScope>)
      .selectFrom('fresh')
      .select((eb) => [
        'fresh.ids as fresh',
        eb
          .selectFrom('claimed as c')
          .select((e) => sql<string | null>`json_agg(${e.ref('c.run')})::text`.as('runs'))
          .as('runs'),
        eb
          .selectFrom('jobs as j')
          .select(sql<string | null>`json_agg(j)::text`.as('jobs'))
          .where('j.id', 'in', (e) =>
            e
              .selectFrom('claimed as c')
              .select((x) => sql<string>`(${x.ref('c.run')}).job_id`.as('job_id'))
              .except(e.selectFrom(sql<{ job_id: string }>`unnest(${known})`.as<'k'>(sql`k(job_id)`)).select('k.job_id')),
          )
          .as('jobs'),
      ]);
  }
}
