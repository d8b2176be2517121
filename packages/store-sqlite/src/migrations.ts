import { StoreError } from '@symbi/core';
import { sql, type Compilable, type CreateTableBuilder, type Kysely, type RawBuilder } from 'kysely';
import type { SqliteRunner } from './sqlite-runner.js';
import type { StoreDatabase } from './schema.js';

/** One schema change, applied once per database file in version order. */
export interface Migration {
  /** Position in the history; versions are consecutive from 1. */
  version: number;
  /** What it does, kept in `schema_migrations`. */
  name: string;
  /** The DDL statements, built with kysely's schema builder. */
  statements(db: Kysely<StoreDatabase>): Compilable[];
  /**
   * Drops a table other tables refer to and creates it again: applied with foreign keys off, so
   * that the drop deletes nothing through `on delete cascade`.
   */
  rebuildsTables?: boolean;
}

/** The `in (…)` list of run statuses that hold a lease, as version 1 wrote `runs_lease`'s condition. */
const LEASED_RUN_STATUSES = sql`('scheduled', 'awaiting_approval', 'running')`;

/**
 * A run holds a lease: the condition of the partial index `runs_lease` since version 5. Queries
 * repeat it word for word so SQLite recognises the index as usable.
 *
 * The statuses are equalities joined by `or`, not an `in (…)` list: SQLite evaluates a list of
 * three or more constants through a lookup table it builds afresh for each statement run, and it
 * evaluates this condition on every write that sets a run's `status` (its claim's insert, its
 * start, its finish). The list cost about 8 µs of CPU per run, an eighth of the store's SQL.
 */
export const LEASED_RUN = sql`owner is not null and (status = 'scheduled' or status = 'awaiting_approval' or status = 'running')`;

/**
 * The `in (…)` list of run statuses that take a concurrency slot or wait for one; queries repeat
 * it word for word so SQLite recognises the partial index `runs_job_active` as usable.
 */
export const IN_FLIGHT_RUN_STATUSES = sql`('scheduled', 'running')`;

/**
 * The statuses `runs_listed` holds: all but the busy `scheduled`, `running` and `succeeded`, which
 * nearly every run passes through. Written out, not derived from core's list, because migration 6's
 * index condition must not change with it.
 */
export const LISTED_RUN_STATUSES = ['awaiting_approval', 'failed', 'timed_out', 'skipped', 'denied', 'interrupted'] as const;

/**
 * A run has one of {@link LISTED_RUN_STATUSES}: the condition of the partial index `runs_listed`
 * since version 6, as equalities joined by `or` (see `LEASED_RUN`). A query on several of these
 * statuses repeats it word for word so SQLite recognises the index as usable; a query on one
 * status, written as a literal, implies it.
 */
export const LISTED_RUN = sql`(${sql.join(
  LISTED_RUN_STATUSES.map((status) => sql`status = ${sql.lit(status)}`),
  sql` or `,
)})`;

/** The outbox's order; queries repeat it so SQLite walks the expression index `runs_outbox`. */
export const OUTBOX_ORDER = sql`coalesce(completed_at, scheduled_for)`;

/** A raw statement (for what kysely's builders do not cover) as a compilable query. */
function raw(db: Kysely<StoreDatabase>, statement: RawBuilder<unknown>): Compilable {
  return { compile: () => statement.compile(db) };
}

/** A row of `sqlite_stat1`: the planner's statistics of a table (`idx` null) or an index. */
interface PlannerStatistic {
  tbl: string;
  idx: string | null;
  stat: string;
}

/** kysely on `db` knowing `sqlite_stat1`. */
function withStatistics(db: Kysely<StoreDatabase>) {
  return db.withTables<{ sqlite_stat1: PlannerStatistic }>();
}

/**
 * Planner statistics of a busy store (10,000 jobs, a million runs of which a hundred are queued or
 * leased), written where `ANALYZE` would put them. Without statistics SQLite guesses that an
 * equality on `status` is as selective as a partial index and sorts every queued or finished run
 * instead of walking `runs_claim`, `runs_lease` or `jobs_due`; these figures make it pick the
 * partial indexes from the first query on. A later `ANALYZE` replaces them with measured ones,
 * which lead to the same plans.
 */
const PLANNER_STATISTICS: PlannerStatistic[] = [
  { tbl: 'jobs', idx: null, stat: '10000' },
  { tbl: 'jobs', idx: 'jobs_due', stat: '9000 1 1' },
  { tbl: 'jobs', idx: 'jobs_agent', stat: '10000 10 1' },
  { tbl: 'jobs', idx: 'jobs_status', stat: '10000 2500 1' },
  { tbl: 'runs', idx: null, stat: '1000000' },
  { tbl: 'runs', idx: 'runs_claim', stat: '100 1 1' },
  { tbl: 'runs', idx: 'runs_waiting', stat: '10 1 1' },
  { tbl: 'runs', idx: 'runs_job_history', stat: '1000000 100 1 1' },
  { tbl: 'runs', idx: 'runs_job_active', stat: '200 2 1' },
  { tbl: 'runs', idx: 'runs_status', stat: '1000000 100000 1' },
  { tbl: 'runs', idx: 'runs_agent', stat: '1000000 1000 1' },
  { tbl: 'runs', idx: 'runs_lease', stat: '100 1' },
  { tbl: 'runs', idx: 'runs_outbox', stat: '100 1' },
  { tbl: 'audit_events', idx: null, stat: '100000' },
  { tbl: 'audit_events', idx: 'audit_at', stat: '100000 1' },
  { tbl: 'audit_events', idx: 'audit_type', stat: '100000 10000 1' },
  { tbl: 'audit_events', idx: 'audit_job', stat: '100000 100 1' },
];

/** Planner statistics of the indexes migration 6 creates, on the busy store of {@link PLANNER_STATISTICS}. */
const LISTED_STATISTICS: PlannerStatistic[] = [
  { tbl: 'runs', idx: 'runs_listed', stat: '20000 4000 1 1' },
  { tbl: 'runs', idx: 'runs_recent', stat: '1000000 1 1' },
];

/**
 * A run's routine `CronJobExecuted` event is kept as a mark on it (`audited = 1`, since version 8)
 * instead of as an `audit_events` row: the condition of the partial indexes `runs_audited` and
 * `runs_job_audited`, which queries repeat word for word so SQLite recognises them as usable.
 */
export const AUDITED_RUN = sql<boolean>`audited = 1`;

/** Planner statistics of the indexes migration 8 creates, on the busy store of {@link PLANNER_STATISTICS}: most runs succeed. */
const AUDITED_STATISTICS: PlannerStatistic[] = [
  { tbl: 'runs', idx: 'runs_audited', stat: '900000 1 1' },
  { tbl: 'runs', idx: 'runs_job_audited', stat: '900000 90 1 1' },
];

/**
 * The columns of `jobs` as version 1 created them (version 3 added the retention columns), on
 * `table`: version 7 creates the table again with them.
 */
function jobsTable(table: CreateTableBuilder<string>): CreateTableBuilder<string> {
  return table
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('agent_id', 'text', (c) => c.notNull())
    .addColumn('cron_expr', 'text')
    .addColumn('at', 'text')
    .addColumn('timezone', 'text', (c) => c.notNull())
    .addColumn('input', 'text')
    .addColumn('session_mode', 'text', (c) => c.notNull())
    .addColumn('delivery', 'text', (c) => c.notNull())
    .addColumn('webhook_url', 'text')
    .addColumn('webhook_headers', 'text', (c) => c.notNull())
    .addColumn('slack_channel', 'text')
    .addColumn('email_recipients', 'text', (c) => c.notNull())
    .addColumn('policy', 'text', (c) => c.notNull())
    .addColumn('heartbeat', 'text')
    .addColumn('max_concurrent', 'integer', (c) => c.notNull())
    .addColumn('max_retries', 'integer')
    .addColumn('agent_pin_jwt', 'text')
    .addColumn('jitter_seconds', 'real')
    .addColumn('catchup', 'text', (c) => c.notNull())
    .addColumn('overlap', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('next_run', 'integer')
    .addColumn('last_run', 'integer')
    .addColumn('run_count', 'integer', (c) => c.notNull())
    .addColumn('failure_count', 'integer', (c) => c.notNull())
    .addColumn('consecutive_failures', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'integer', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull());
}

/** The due-jobs index of versions 1 and 7: only active jobs can be due, so it leaves the others out. */
function jobsDueIndex(db: Kysely<StoreDatabase>): Compilable {
  return db.schema.createIndex('jobs_due').on('jobs').columns(['next_run', 'id']).where(sql.ref('status'), '=', 'active');
}

/** The jobs-by-agent index of versions 1 and 7. */
function jobsAgentIndex(db: Kysely<StoreDatabase>): Compilable {
  return db.schema.createIndex('jobs_agent').on('jobs').columns(['agent_id', 'name']);
}

/**
 * Planner statistics of `jobs` as version 7 makes it, on the busy store of {@link PLANNER_STATISTICS}:
 * a table without rowid has them under its own name, as its primary key's.
 */
const CLUSTERED_JOBS_STATISTICS: PlannerStatistic[] = [
  { tbl: 'jobs', idx: 'jobs', stat: '10000 1' },
  ...PLANNER_STATISTICS.filter((row) => row.idx === 'jobs_due' || row.idx === 'jobs_agent'),
];

/** The schema's history. Append only: a released migration is never edited. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'jobs, runs, sessions and audit events',
    statements: (db) => [
      jobsTable(db.schema.createTable('jobs')),
      jobsDueIndex(db),
      jobsAgentIndex(db),
      db.schema.createIndex('jobs_status').on('jobs').columns(['status', 'name']),

      db.schema
        .createTable('runs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('job_id', 'text', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
        .addColumn('job_name', 'text', (c) => c.notNull())
        .addColumn('agent_id', 'text', (c) => c.notNull())
        .addColumn('scheduled_for', 'integer', (c) => c.notNull())
        .addColumn('due_at', 'integer', (c) => c.notNull())
        .addColumn('trigger', 'text', (c) => c.notNull())
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('input', 'text')
        .addColumn('output', 'text')
        .addColumn('summary', 'text')
        .addColumn('error', 'text')
        .addColumn('stderr', 'text')
        .addColumn('started_at', 'integer')
        .addColumn('completed_at', 'integer')
        .addColumn('execution_time_ms', 'real')
        .addColumn('iterations', 'text', (c) => c.notNull())
        .addColumn('deliveries', 'text', (c) => c.notNull())
        .addColumn('approval', 'text')
        .addColumn('owner', 'text')
        .addColumn('lease_expires_at', 'integer')
        .addColumn('fire_key', 'text', (c) => c.unique())
        .addColumn('wait_for_slot', 'integer', (c) => c.notNull())
        .addColumn('cancel_requested', 'integer', (c) => c.notNull())
        .addColumn('delivery_pending', 'integer', (c) => c.notNull()),
      // The claim query walks queued runs by due time; history rows never enter this index.
      db.schema.createIndex('runs_claim').on('runs').columns(['due_at', 'id']).where(sql.ref('status'), '=', 'scheduled'),
      // Runs buffered until their job has a free slot (overlap `buffer_one`): few, but looked up often.
      db.schema
        .createIndex('runs_waiting')
        .on('runs')
        .columns(['due_at', 'id'])
        .where(sql<boolean>`status = 'scheduled' and wait_for_slot = 1`),
      // Per-job history (newest first) and the foreign key's cascade on job deletion.
      db.schema.createIndex('runs_job_history').on('runs').columns(['job_id', 'scheduled_for', 'id']),
      // A job's load inside the claim transaction. Partial: finished runs, nearly all of the table,
      // leave it, so it stays small and finishing a run does not grow it.
      db.schema
        .createIndex('runs_job_active')
        .on('runs')
        .columns(['job_id', 'status'])
        .where(sql<boolean>`status in ${IN_FLIGHT_RUN_STATUSES}`),
      db.schema.createIndex('runs_status').on('runs').columns(['status', 'scheduled_for']),
      db.schema.createIndex('runs_agent').on('runs').columns(['agent_id', 'scheduled_for']),
      // Earliest lease expiry of owned runs in flight, for nextWakeAt.
      db.schema
        .createIndex('runs_lease')
        .on('runs')
        .column('lease_expires_at')
        .where(sql<boolean>`owner is not null and status in ${LEASED_RUN_STATUSES}`),
      // The delivery outbox: finished runs with a pending delivery, oldest first.
      db.schema.createIndex('runs_outbox').on('runs').expression(OUTBOX_ORDER).where(sql.ref('delivery_pending'), '=', 1),

      db.schema
        .createTable('sessions')
        .addColumn('job_id', 'text', (c) => c.primaryKey().references('jobs.id').onDelete('cascade'))
        .addColumn('summary', 'text')
        .addColumn('history', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'integer', (c) => c.notNull()),

      // No foreign key: audit events outlive the jobs they tell about.
      db.schema
        .createTable('audit_events')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('at', 'integer', (c) => c.notNull())
        .addColumn('job_id', 'text')
        .addColumn('run_id', 'text')
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('details', 'text', (c) => c.notNull()),
      db.schema.createIndex('audit_at').on('audit_events').column('at'),
      db.schema.createIndex('audit_type').on('audit_events').columns(['type', 'at']),
      db.schema.createIndex('audit_job').on('audit_events').columns(['job_id', 'at']),

      // `analyze sqlite_schema` creates sqlite_stat1 without scanning a table, and again reloads it.
      raw(db, sql`analyze sqlite_schema`),
      withStatistics(db).insertInto('sqlite_stat1').values(PLANNER_STATISTICS),
      raw(db, sql`analyze sqlite_schema`),
    ],
  },
  {
    version: 2,
    name: 'instances: the scheduler processes using the file, for liveness',
    statements: (db) => [
      db.schema
        .createTable('instances')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('host', 'text', (c) => c.notNull())
        .addColumn('pid', 'integer', (c) => c.notNull())
        .addColumn('start_token', 'text')
        .addColumn('started_at', 'integer', (c) => c.notNull())
        .addColumn('heartbeat_at', 'integer', (c) => c.notNull())
        .addColumn('beats', 'integer', (c) => c.notNull()),
    ],
  },
  {
    version: 3,
    name: 'per-job history retention',
    // Null: the scheduler's `history_retention_days` / `history_retention_runs` apply.
    statements: (db) => [
      db.schema.alterTable('jobs').addColumn('history_retention_days', 'integer'),
      db.schema.alterTable('jobs').addColumn('history_retention_runs', 'integer'),
    ],
  },
  {
    version: 4,
    name: 'no index on job status',
    // Both writes of a job per run (its fire, its finish) set `status`, so `jobs_status` was
    // rewritten twice per run for the sake of `listJobs` by status, which walks the jobs in name
    // order (the name's unique index) instead.
    statements: (db) => [
      db.schema.dropIndex('jobs_status'),
      withStatistics(db).deleteFrom('sqlite_stat1').where('idx', '=', 'jobs_status'),
      raw(db, sql`analyze sqlite_schema`),
    ],
  },
  {
    version: 5,
    name: 'lease index condition without an in list',
    // The same index, its condition written as `LEASED_RUN` (see there). Dropping the index drops
    // its planner statistics, which are written again.
    statements: (db) => [
      db.schema.dropIndex('runs_lease'),
      db.schema.createIndex('runs_lease').on('runs').column('lease_expires_at').where(sql<boolean>`${LEASED_RUN}`),
      withStatistics(db)
        .insertInto('sqlite_stat1')
        .values(PLANNER_STATISTICS.filter((row) => row.idx === 'runs_lease')),
      raw(db, sql`analyze sqlite_schema`),
    ],
  },
  {
    version: 6,
    name: 'status index over the rarely listed statuses only',
    // `runs_status` held every run and named `status` in its key, so a run's insert, start and
    // finish wrote 5 of its entries. `runs_listed` holds only the statuses worth an index to list
    // by (`LISTED_RUN`): a run that goes scheduled, running, succeeded never enters it. The busy
    // statuses are listed by walking `runs_recent`, newest first, which a run enters once, at its
    // insert, and its start and finish never touch.
    statements: (db) => [
      db.schema.dropIndex('runs_status'),
      withStatistics(db).deleteFrom('sqlite_stat1').where('idx', '=', 'runs_status'),
      db.schema.createIndex('runs_listed').on('runs').columns(['status', 'scheduled_for', 'id']).where(sql<boolean>`${LISTED_RUN}`),
      db.schema.createIndex('runs_recent').on('runs').columns(['scheduled_for', 'id']),
      withStatistics(db).insertInto('sqlite_stat1').values(LISTED_STATISTICS),
      raw(db, sql`analyze sqlite_schema`),
    ],
  },
  {
    version: 7,
    name: 'jobs clustered by id',
    // `jobs` again, as a table without rowid: its rows stored in id order rather than in the order
    // they were inserted. A claim takes due jobs in `next_run, id` order and writes each (its fire),
    // and their runs' finishes write them again, so jobs due at the same time sit on neighbouring
    // pages instead of one page each: a claim of 1,000 of 20,000 such jobs wrote about 450 pages of
    // `jobs` (1.6 WAL frames per run), now about 0.2 per run. A lookup by id also reads one b-tree
    // instead of the id index and then the table. Run with foreign keys off (see `migrate`), so that
    // dropping the old table deletes none of the runs and sessions that refer to it.
    rebuildsTables: true,
    statements: (db) => [
      jobsTable(db.schema.createTable('jobs_clustered'))
        .addColumn('history_retention_days', 'integer')
        .addColumn('history_retention_runs', 'integer')
        .modifyEnd(sql`without rowid`),
      // Every version made the old table's columns in this order.
      raw(db, sql`insert into jobs_clustered select * from jobs`),
      db.schema.dropTable('jobs'),
      db.schema.alterTable('jobs_clustered').renameTo('jobs'),
      jobsDueIndex(db),
      jobsAgentIndex(db),
      // Dropping the old table dropped its statistics.
      withStatistics(db).insertInto('sqlite_stat1').values(CLUSTERED_JOBS_STATISTICS),
      raw(db, sql`analyze sqlite_schema`),
    ],
  },
  {
    version: 8,
    name: 'routine run events kept as marks on runs',
    // A succeeded run's `CronJobExecuted` event, written as an `audit_events` row, cost each run an
    // insert into that table and its four indexes (the id's included). Marked on the run
    // (`AUDITED_RUN`) by the finish's own update, it costs an entry in `runs_audited`, which serves
    // the audit log newest first, and one in `runs_job_audited`, a job's (as `audit_job` serves
    // the rows; without it a job's events were sorted from all its runs). The event is made from
    // the run when read, and written as a row before the run is deleted or pruned. Runs of older
    // versions stay unmarked: their events are rows already.
    statements: (db) => [
      db.schema.alterTable('runs').addColumn('audited', 'integer', (c) => c.notNull().defaultTo(0)),
      db.schema.createIndex('runs_audited').on('runs').columns(['completed_at', 'id']).where(AUDITED_RUN),
      db.schema.createIndex('runs_job_audited').on('runs').columns(['job_id', 'completed_at', 'id']).where(AUDITED_RUN),
      withStatistics(db).insertInto('sqlite_stat1').values(AUDITED_STATISTICS),
      raw(db, sql`analyze sqlite_schema`),
    ],
  },
];

/**
 * Brings the schema up to date in one `BEGIN IMMEDIATE` transaction, so processes opening the same
 * file at once apply each migration exactly once. Returns the versions applied now. Refuses a file
 * written by a newer version of this package rather than guess at its schema. Foreign keys are
 * off while it runs (a migration may rebuild a table others refer to) and enforced again after, if
 * they were.
 */
export function migrate(runner: SqliteRunner, db: Kysely<StoreDatabase>, migrations: readonly Migration[] = MIGRATIONS): number[] {
  return runner.withoutForeignKeys(() => applyPending(runner, db, migrations));
}

/** {@link migrate}'s transaction; foreign keys are off, which a migration that rebuilds a table checks. */
function applyPending(runner: SqliteRunner, db: Kysely<StoreDatabase>, migrations: readonly Migration[]): number[] {
  return runner.immediate(() => {
    runner.execute(
      db.schema
        .createTable('schema_migrations')
        .ifNotExists()
        .addColumn('version', 'integer', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('applied_at', 'integer', (c) => c.notNull()),
    );
    const current =
      runner.query('migrations.current', () => db.selectFrom('schema_migrations').select((eb) => eb.fn.max('version').as('version'))).get()
        ?.version ?? 0;
    const latest = migrations.at(-1)?.version ?? 0;
    if (current > latest) {
      throw new StoreError(`database schema version ${current} is newer than this package supports (${latest}); upgrade @symbi/store-sqlite`);
    }
    const record = runner.query('migrations.record', (p) =>
      db.insertInto('schema_migrations').values({ version: p('version'), name: p('name'), applied_at: p('appliedAt') }),
    );
    const applied: number[] = [];
    for (const migration of migrations) {
      if (migration.version <= current) continue;
      if (migration.rebuildsTables && runner.foreignKeysEnforced()) {
        throw new StoreError(`migration ${migration.version} (${migration.name}) needs foreign keys off; is a transaction open on the connection?`);
      }
      for (const statement of migration.statements(db)) runner.execute(statement);
      // Unchecked while foreign keys were off: a rebuild that lost a row others refer to rolls back.
      const violations = migration.rebuildsTables ? runner.foreignKeyViolations() : 0;
      if (violations > 0) {
        throw new StoreError(`migration ${migration.version} (${migration.name}) left ${violations} row(s) referring to a missing row; nothing was changed`);
      }
      record.run({ version: migration.version, name: migration.name, appliedAt: Date.now() });
      applied.push(migration.version);
    }
    return applied;
  });
}
