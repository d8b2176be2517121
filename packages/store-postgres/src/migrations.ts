import { StoreError } from '@symbi/core';
import { sql, type ColumnDefinitionBuilder, type Compilable, type Kysely, type RawBuilder, type SqlBool } from 'kysely';
import { statement, type Transaction } from './postgres-runner.js';
import type { Database } from './schema.js';

/** One step of the schema's history. Applied steps are never edited; changes come as new steps. */
interface Migration {
  version: number;
  name: string;
  /** The step's DDL, for kysely on the store's schema (named `schema`, for what kysely cannot build). */
  statements(db: Kysely<Database>, schema: string): Compilable<unknown>[];
}

/**
 * Ids and names use the "C" collation so ordering (names, id tie-breaks) is by code point, the same
 * on every server whatever its locale.
 */
const byCodePoint = (column: ColumnDefinitionBuilder) => column.modifyFront(sql`COLLATE "C"`);
const required = (column: ColumnDefinitionBuilder) => column.notNull();
const requiredByCodePoint = (column: ColumnDefinitionBuilder) => byCodePoint(column).notNull();

/** Job and session rows leave room on their pages so that counter and summary updates stay HOT (no index writes). */
const ROOM_FOR_UPDATES = sql`WITH (fillfactor = 70)`;

/**
 * Sets a table's fillfactor (for pages written from now on): kysely has no builder for storage
 * parameters, and its schema plugin does not qualify raw SQL, so the table is named in full.
 */
function fillfactor(db: Kysely<Database>, schema: string, table: keyof Database, percent: number): Compilable<unknown> {
  return { compile: () => sql`ALTER TABLE ${sql.id(schema, table)} SET (fillfactor = ${sql.lit(percent)})`.compile(db) };
}

/** The written columns of `runs` as migration 5 left them (frozen: a migration never changes). */
const RUNS_V5_COLUMNS = (
  'id job_id job_name agent_id scheduled_for due_at trigger attempt status input output summary error stderr started_at ' +
  'completed_at execution_time_ms iterations deliveries approval owner lease_expires_at fire_key wait_for_slot cancel_requested'
).split(' ');

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'jobs, runs, sessions and audit events',
    // Every change of a run's status rewrites the row and adds an entry to each index whose
    // predicate it meets, so the run indexes are few and mostly partial: the queue, waiting runs,
    // in-flight runs (job load), held leases, the delivery outbox, and statuses worth looking up
    // (all but the busy `scheduled`, `running` and `succeeded`). Per-job history has its index;
    // a listing across all jobs without a status scans.
    statements: (db) => [
      db.schema
        .createTable('jobs')
        .addColumn('id', 'text', requiredByCodePoint)
        .addColumn('name', 'text', requiredByCodePoint)
        .addColumn('agent_id', 'text', requiredByCodePoint)
        .addColumn('cron_expr', 'text')
        .addColumn('at', 'text')
        .addColumn('timezone', 'text', required)
        .addColumn('input', 'text')
        .addColumn('session_mode', 'text', required)
        .addColumn('delivery', 'jsonb', required)
        .addColumn('webhook_url', 'text')
        .addColumn('webhook_headers', 'jsonb', required)
        .addColumn('slack_channel', 'text')
        .addColumn('email_recipients', 'jsonb', required)
        .addColumn('policy', 'jsonb', required)
        .addColumn('heartbeat', 'jsonb')
        .addColumn('max_concurrent', 'integer', required)
        .addColumn('max_retries', 'integer')
        .addColumn('agent_pin_jwt', 'text')
        .addColumn('jitter_seconds', 'double precision')
        .addColumn('catchup', 'text', required)
        .addColumn('overlap', 'text', required)
        .addColumn('status', 'text', required)
        .addColumn('next_run', 'timestamptz')
        .addColumn('last_run', 'timestamptz')
        .addColumn('run_count', 'integer', required)
        .addColumn('failure_count', 'integer', required)
        .addColumn('consecutive_failures', 'integer', required)
        .addColumn('created_at', 'timestamptz', required)
        .addColumn('updated_at', 'timestamptz', required)
        .addColumn('version', 'integer', required)
        .addPrimaryKeyConstraint('jobs_pkey', ['id'])
        .addUniqueConstraint('jobs_name_key', ['name'])
        .modifyEnd(ROOM_FOR_UPDATES),
      db.schema
        .createIndex('jobs_due_idx')
        .on('jobs')
        .column('next_run')
        .where(sql<SqlBool>`status = 'active'`),
      db.schema.createIndex('jobs_status_idx').on('jobs').column('status'),
      db.schema.createIndex('jobs_agent_idx').on('jobs').column('agent_id'),

      db.schema
        .createTable('runs')
        .addColumn('id', 'text', requiredByCodePoint)
        .addColumn('job_id', 'text', requiredByCodePoint)
        .addColumn('job_name', 'text', required)
        .addColumn('agent_id', 'text', requiredByCodePoint)
        .addColumn('scheduled_for', 'timestamptz', required)
        .addColumn('due_at', 'timestamptz', required)
        .addColumn('trigger', 'text', required)
        .addColumn('attempt', 'integer', required)
        .addColumn('status', 'text', required)
        .addColumn('input', 'text')
        .addColumn('output', 'text')
        .addColumn('summary', 'text')
        .addColumn('error', 'text')
        .addColumn('stderr', 'text')
        .addColumn('started_at', 'timestamptz')
        .addColumn('completed_at', 'timestamptz')
        .addColumn('execution_time_ms', 'double precision')
        .addColumn('iterations', 'jsonb', required)
        .addColumn('deliveries', 'jsonb', required)
        .addColumn('approval', 'jsonb')
        .addColumn('owner', 'text')
        .addColumn('lease_expires_at', 'timestamptz')
        .addColumn('fire_key', 'text', byCodePoint)
        .addColumn('wait_for_slot', 'boolean', required)
        .addColumn('cancel_requested', 'boolean', required)
        .addColumn('delivery_pending', 'boolean', (column) => column.generatedAlwaysAs(sql`deliveries @> '[{"status":"pending"}]'`).stored())
        .addPrimaryKeyConstraint('runs_pkey', ['id'])
        .addUniqueConstraint('runs_fire_key_key', ['fire_key'])
        .addForeignKeyConstraint('runs_job_fkey', ['job_id'], 'jobs', ['id'], (constraint) => constraint.onDelete('cascade')),
      db.schema
        .createIndex('runs_queue_idx')
        .on('runs')
        .columns(['due_at', 'id'])
        .where(sql<SqlBool>`status = 'scheduled' AND NOT wait_for_slot`),
      db.schema
        .createIndex('runs_waiting_idx')
        .on('runs')
        .columns(['due_at', 'id'])
        .where(sql<SqlBool>`status = 'scheduled' AND wait_for_slot`),
      db.schema
        .createIndex('runs_in_flight_idx')
        .on('runs')
        .column('job_id')
        .where(sql<SqlBool>`status IN ('scheduled', 'awaiting_approval', 'running')`),
      db.schema
        .createIndex('runs_lease_idx')
        .on('runs')
        .column('lease_expires_at')
        .where(sql<SqlBool>`owner IS NOT NULL AND status IN ('scheduled', 'awaiting_approval', 'running')`),
      db.schema
        .createIndex('runs_outbox_idx')
        .on('runs')
        .expression(sql`(coalesce(completed_at, scheduled_for))`)
        .column('id')
        .where(sql<SqlBool>`delivery_pending`),
      db.schema.createIndex('runs_job_history_idx').on('runs').columns(['job_id', 'scheduled_for desc', 'id desc']),
      db.schema
        .createIndex('runs_status_idx')
        .on('runs')
        .columns(['status', 'scheduled_for desc', 'id desc'])
        .where(sql<SqlBool>`status NOT IN ('scheduled', 'running', 'succeeded')`),

      db.schema
        .createTable('sessions')
        .addColumn('job_id', 'text', requiredByCodePoint)
        .addColumn('summary', 'text')
        .addColumn('history', 'jsonb', required)
        .addColumn('updated_at', 'timestamptz', required)
        .addPrimaryKeyConstraint('sessions_pkey', ['job_id'])
        .addForeignKeyConstraint('sessions_job_fkey', ['job_id'], 'jobs', ['id'], (constraint) => constraint.onDelete('cascade'))
        .modifyEnd(ROOM_FOR_UPDATES),

      db.schema
        .createTable('audit_events')
        .addColumn('id', 'text', requiredByCodePoint)
        .addColumn('seq', 'bigint', (column) => column.generatedAlwaysAsIdentity())
        .addColumn('type', 'text', required)
        .addColumn('at', 'timestamptz', required)
        .addColumn('job_id', 'text', byCodePoint)
        .addColumn('run_id', 'text', byCodePoint)
        .addColumn('actor', 'text', required)
        .addColumn('details', 'jsonb', required)
        .addPrimaryKeyConstraint('audit_events_pkey', ['id']),
      db.schema.createIndex('audit_events_at_idx').on('audit_events').columns(['at desc', 'seq desc']),
      db.schema.createIndex('audit_events_job_idx').on('audit_events').columns(['job_id', 'at desc', 'seq desc']),
      db.schema.createIndex('audit_events_type_idx').on('audit_events').columns(['type', 'at desc', 'seq desc']),
    ],
  },
  {
    version: 2,
    name: 'instances: the scheduler instances working on the schema, for liveness',
    statements: (db) => [
      db.schema
        .createTable('instances')
        .addColumn('id', 'text', requiredByCodePoint)
        .addColumn('host', 'text', required)
        .addColumn('pid', 'integer', required)
        .addColumn('start_token', 'text')
        .addColumn('started_at', 'timestamptz', (column) => column.notNull().defaultTo(sql`now()`))
        .addColumn('heartbeat_at', 'timestamptz', (column) => column.notNull().defaultTo(sql`now()`))
        .addColumn('beats', 'integer', required)
        .addPrimaryKeyConstraint('instances_pkey', ['id'])
        // Beaten every second: keep room on the page so the update stays HOT.
        .modifyEnd(ROOM_FOR_UPDATES),
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
    name: 'job updates that finish a run touch no index',
    // A job's row is written twice per run: the fire advances `next_run` (an index write), the
    // finish stores counters and, for a one-shot job, `completed`. With no index on `status` the
    // finish is a HOT update, given room on the page for both new versions (fillfactor 50, for
    // pages written from now on). `listJobs` by status walks `jobs_name_key` in name order instead,
    // and the due walk finds the active jobs among those with a next fire (pausing or completing a
    // job clears `next_run`; the queries still test `status`).
    statements: (db, schema) => [
      fillfactor(db, schema, 'jobs', 50),
      db.schema.dropIndex('jobs_status_idx'),
      db.schema.dropIndex('jobs_due_idx'),
      db.schema.createIndex('jobs_due_idx').on('jobs').column('next_run').where(sql<SqlBool>`next_run IS NOT NULL`),
    ],
  },
  {
    version: 5,
    name: 'starting a run touches no index',
    // An update is HOT (no index entry, the new row version on the same page) only if it changes
    // no column that an index names in its key, expression or condition. Every live index of `runs`
    // named `status`, so each of the three versions of a run wrote an entry in each index. The
    // indexes now name two columns the database derives from `status` instead: `live` (in flight:
    // scheduled, awaiting approval or running), which a start leaves as it was, and
    // `listed_status` (the statuses worth an index to list by, null for the busy `scheduled`,
    // `running` and `succeeded`), which neither a start nor a success changes. A start, which sets
    // only `status` and `started_at`, is then HOT given room on the page (fillfactor 50). The queue
    // holds only runs nobody owns: a run inserted already claimed never enters it, and a queued run
    // whose owner's lease lapsed is found by the lease index.
    statements: (db, schema) => [
      db.schema
        .alterTable('runs')
        .addColumn('live', 'boolean', (column) => column.generatedAlwaysAs(sql`status IN ('scheduled', 'awaiting_approval', 'running')`).stored()),
      db.schema
        .alterTable('runs')
        .addColumn('listed_status', 'text', (column) =>
          column.generatedAlwaysAs(sql`CASE WHEN status IN ('scheduled', 'running', 'succeeded') THEN NULL ELSE status END`).stored(),
        ),
      fillfactor(db, schema, 'runs', 50),
      db.schema.dropIndex('runs_queue_idx'),
      db.schema.dropIndex('runs_waiting_idx'),
      db.schema.dropIndex('runs_in_flight_idx'),
      db.schema.dropIndex('runs_lease_idx'),
      db.schema.dropIndex('runs_status_idx'),
      db.schema
        .createIndex('runs_queue_idx')
        .on('runs')
        .columns(['due_at', 'id'])
        .where(sql<SqlBool>`live AND owner IS NULL AND NOT wait_for_slot`),
      db.schema
        .createIndex('runs_waiting_idx')
        .on('runs')
        .columns(['due_at', 'id'])
        .where(sql<SqlBool>`live AND wait_for_slot`),
      db.schema.createIndex('runs_in_flight_idx').on('runs').column('job_id').where(sql<SqlBool>`live`),
      db.schema.createIndex('runs_lease_idx').on('runs').column('lease_expires_at').where(sql<SqlBool>`live AND owner IS NOT NULL`),
      db.schema
        .createIndex('runs_status_idx')
        .on('runs')
        .columns(['listed_status', 'scheduled_for desc', 'id desc'])
        .where(sql<SqlBool>`listed_status IS NOT NULL`),
    ],
  },
  {
    version: 6,
    name: 'runs in flight live in live_runs, finished runs in runs',
    // `runs` was queue, outbox and history at once: a run was inserted there, started and finished
    // in place, and its finish (which changes `live`) wrote an entry into every index. Runs in
    // flight now live in `live_runs`, with the columns of `runs` (so a finish moves the row whole:
    // it deletes the live row and appends the finished run to `runs` once) and only the indexes the
    // live queries walk: the queue, waiting runs, per-job load, leases and the fire key. `runs`
    // keeps the history's: id, fire key, per-job history, listed statuses and the delivery outbox
    // (a finished run's pending deliveries stay on its history row). Non-terminal rows move over
    // in this transaction; the fire key's uniqueness across both tables is the writers' (see
    // `Statements`), under their job's row lock.
    statements: (db, schema) => {
      const live = sql.id(schema, 'live_runs');
      const runs = sql.id(schema, 'runs');
      const columns = sql.join(RUNS_V5_COLUMNS.map((column) => sql.id(column)));
      const raw = (query: RawBuilder<unknown>): Compilable<unknown> => ({ compile: () => query.compile(db) });
      return [
        raw(sql`CREATE TABLE ${live} (LIKE ${runs} INCLUDING DEFAULTS INCLUDING GENERATED) WITH (fillfactor = 50)`),
        db.schema.alterTable('live_runs').addPrimaryKeyConstraint('live_runs_pkey', ['id']),
        db.schema.alterTable('live_runs').addUniqueConstraint('live_runs_fire_key_key', ['fire_key']),
        db.schema.alterTable('live_runs').addForeignKeyConstraint('live_runs_job_fkey', ['job_id'], 'jobs', ['id'], (constraint) => constraint.onDelete('cascade')),
        raw(sql`INSERT INTO ${live} (${columns}) SELECT ${columns} FROM ${runs} WHERE live`),
        raw(sql`DELETE FROM ${runs} WHERE live`),
        ...['runs_queue_idx', 'runs_waiting_idx', 'runs_in_flight_idx', 'runs_lease_idx'].map((index) => db.schema.dropIndex(index)),
        // Every row here is in flight: the conditions need no `live`, nor a status a start changes.
        db.schema
          .createIndex('live_runs_queue_idx')
          .on('live_runs')
          .columns(['due_at', 'id'])
          .where(sql<SqlBool>`owner IS NULL AND NOT wait_for_slot`),
        db.schema.createIndex('live_runs_waiting_idx').on('live_runs').columns(['due_at', 'id']).where(sql<SqlBool>`wait_for_slot`),
        db.schema.createIndex('live_runs_job_idx').on('live_runs').column('job_id'),
        db.schema.createIndex('live_runs_lease_idx').on('live_runs').column('lease_expires_at').where(sql<SqlBool>`owner IS NOT NULL`),
      ];
    },
  },
  {
    version: 7,
    name: 'no live column: an instance of schema 5 still running fails instead of claiming',
    // Since migration 6 no query reads `live`, nor does an index name it (a drop would fail if one
    // did). The claims and loads of the package of schema 5 read `runs` alone, where runs in flight no
    // longer are: such an instance, still running after the upgrade, would fire again a run that is in
    // flight in `live_runs`. Its claims and loads all name `live`, so they now fail.
    statements: (db) => [db.schema.alterTable('runs').dropColumn('live'), db.schema.alterTable('live_runs').dropColumn('live')],
  },
  {
    version: 8,
    name: "a success's routine audit event kept as a mark on its run",
    // A success's `CronJobExecuted` event was an `audit_events` row: an insert and four index
    // entries per run. The finish now marks the run instead (`executed_audit`, see
    // `executed-audit.ts`), one entry in a partial index the audit query walks newest first. A job
    // filter reads that job's marked runs by the per-job history index (`runs_job_history_idx`)
    // and sorts them (bounded by the job's history): no second index entry per run for a rarer
    // query. `live_runs` gets the
    // column too (always false there), so the two tables keep the same columns. A column added
    // NOT NULL with a constant default rewrites no row.
    statements: (db) => [
      ...(['runs', 'live_runs'] as const).map((table) =>
        db.schema.alterTable(table).addColumn('executed_audit', 'boolean', (column) => column.notNull().defaultTo(false)),
      ),
      db.schema
        .createIndex('runs_executed_audit_idx')
        .on('runs')
        .columns(['completed_at desc', 'id desc'])
        .where(sql<SqlBool>`executed_audit`),
    ],
  },
  {
    version: 9,
    name: 'runs name their job without a foreign key',
    // Each run inserted (into `live_runs` by its claim, into `runs` by its finish) had its job
    // checked by the foreign key: a probe of `jobs_pkey` and a KEY SHARE lock of the job's row,
    // about 4 % of the server's CPU per run. Every writer that inserts a run or moves one between
    // the tables holds its job's row lock already (see `Statements`), and `insertRun` refuses a job
    // its lock does not find; deleting a job deletes its runs itself, under the job's lock, in the
    // statement that deletes the job (see `Statements.deleteJob`).
    statements: (db) => [
      db.schema.alterTable('live_runs').dropConstraint('live_runs_job_fkey'),
      db.schema.alterTable('runs').dropConstraint('runs_job_fkey'),
    ],
  },
  {
    version: 10,
    name: 'the per-job history index serves only statements that name a job',
    // It holds `id` as its last column, so a lookup by id alone could walk all of it. After `runs`
    // was analyzed while empty, the planner costs that walk as low as a probe of `runs_pkey`, and
    // chose it where a join on `job_id` let it (the finish's lock of the jobs of its runs); a
    // generic plan made then is kept while the table grows, and each finish read the whole history.
    // As a partial index whose condition every job filter implies (`job_id = …` is strict) and a
    // lookup by id does not, it can no longer serve one. Rebuilding it reads `runs` once.
    statements: (db) => [
      db.schema.dropIndex('runs_job_history_idx'),
      db.schema
        .createIndex('runs_job_history_idx')
        .on('runs')
        .columns(['job_id', 'scheduled_for desc', 'id desc'])
        .where(sql<SqlBool>`job_id IS NOT NULL`),
    ],
  },
];

/** The schema version this package writes and reads. */
const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

/**
 * Creates the schema and applies the migrations it lacks, inside the caller's transaction.
 * A transaction-scoped advisory lock keyed by the schema name makes instances that start at the
 * same moment wait for each other instead of racing on `CREATE`.
 *
 * @param db - kysely on the store's schema.
 * @param schema - the plain (validated) schema name.
 */
export async function migrate(tx: Transaction, db: Kysely<Database>, schema: string): Promise<void> {
  await tx.query(
    statement(
      db.selectNoFrom((eb) =>
        eb.fn<void>('pg_advisory_xact_lock', [eb.fn('hashtext', [sql.lit('@symbi/store-postgres')]), eb.fn('hashtext', [eb.val(schema)])]).as('locked'),
      ),
    ),
  );
  await tx.script([
    db.schema.createSchema(schema).ifNotExists(),
    db.schema
      .createTable('schema_migrations')
      .ifNotExists()
      .addColumn('version', 'integer', (column) => column.primaryKey())
      .addColumn('name', 'text', required)
      .addColumn('applied_at', 'timestamptz', (column) => column.notNull().defaultTo(sql`now()`)),
  ]);
  const { rows } = await tx.query(statement(db.selectFrom('schema_migrations').select('version')));
  const applied = new Set(rows.map((row) => row.version));
  const newest = Math.max(0, ...applied);
  if (newest > SCHEMA_VERSION) {
    throw new StoreError(
      `schema ${schema} is at version ${newest}, newer than this @symbi/store-postgres knows (${SCHEMA_VERSION}); upgrade the package`,
    );
  }
  for (const migration of MIGRATIONS) {
    if (applied.has(migration.version)) continue;
    await tx.script(migration.statements(db, schema));
    await tx.query(statement(db.insertInto('schema_migrations').values({ version: migration.version, name: migration.name })));
  }
}
