import { ConflictError, JobNotFoundError, StoreError, ValidationError, executedAuditEvent, newRun, type CronJobDefinition, type ExecutedRunFacts, type JobRunRecord, type RunStatus } from '@symbi/core';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { PostgresJobStore } from '@symbi/store-postgres';
import { makeJob } from '@symbi/core/testing';
import { CONNECTION_STRING, describePostgres, dropSchema, queryRows, randomSchemaName } from './support/postgres.js';

/** When the runs of the upgrade tests are scheduled. */
const AT = new Date('2026-01-01T00:00:00.000Z');

/** The written columns of `runs` (and `live_runs`). */
const RUN_COLUMNS =
  'id, job_id, job_name, agent_id, scheduled_for, due_at, trigger, attempt, status, input, output, summary, error, stderr, started_at, ' +
  'completed_at, execution_time_ms, iterations, deliveries, approval, owner, lease_expires_at, fire_key, wait_for_slot, cancel_requested';

/** SQL taking a schema the current package made back to version 8: runs refer to their job by foreign keys. */
function toVersion8(schema: string): string {
  return `ALTER TABLE "${schema}".live_runs ADD CONSTRAINT live_runs_job_fkey FOREIGN KEY (job_id) REFERENCES "${schema}".jobs (id) ON DELETE CASCADE;
    ALTER TABLE "${schema}".runs ADD CONSTRAINT runs_job_fkey FOREIGN KEY (job_id) REFERENCES "${schema}".jobs (id) ON DELETE CASCADE;
    DELETE FROM "${schema}".schema_migrations WHERE version = 9;`;
}

/** SQL taking a schema the current package made back to version 7: no audit mark on runs. */
function toVersion7(schema: string): string {
  return `${toVersion8(schema)}
    DROP INDEX "${schema}".runs_executed_audit_idx;
    ALTER TABLE "${schema}".runs DROP COLUMN executed_audit;
    ALTER TABLE "${schema}".live_runs DROP COLUMN executed_audit;
    DELETE FROM "${schema}".schema_migrations WHERE version = 8;`;
}

/** SQL taking a schema the current package made back to version 5: runs in flight back in `runs`, with its live indexes. */
function toVersion5(schema: string): string {
  return `${toVersion7(schema)}
    ALTER TABLE "${schema}".runs ADD COLUMN live boolean GENERATED ALWAYS AS (status IN ('scheduled', 'awaiting_approval', 'running')) STORED;
    INSERT INTO "${schema}".runs (${RUN_COLUMNS}) SELECT ${RUN_COLUMNS} FROM "${schema}".live_runs;
    DROP TABLE "${schema}".live_runs;
    CREATE INDEX runs_queue_idx ON "${schema}".runs (due_at, id) WHERE live AND owner IS NULL AND NOT wait_for_slot;
    CREATE INDEX runs_waiting_idx ON "${schema}".runs (due_at, id) WHERE live AND wait_for_slot;
    CREATE INDEX runs_in_flight_idx ON "${schema}".runs (job_id) WHERE live;
    CREATE INDEX runs_lease_idx ON "${schema}".runs (lease_expires_at) WHERE live AND owner IS NOT NULL;
    DELETE FROM "${schema}".schema_migrations WHERE version IN (6, 7)`;
}

describePostgres('PostgresJobStore migrations', () => {
  const schemas: string[] = [];
  const stores: PostgresJobStore[] = [];
  const open = (schema: string) => {
    const store = new PostgresJobStore({ connectionString: CONNECTION_STRING, schema });
    stores.push(store);
    return store;
  };
  const fresh = () => {
    const schema = randomSchemaName();
    schemas.push(schema);
    return schema;
  };
  const query = (text: string) => queryRows(text);
  /** A new schema holding a paused job named `name` and one run of each status, in this order, as `runOf` makes it; the store is closed. */
  const withRunOfEachStatus = async (name: string, runOf: (job: CronJobDefinition, status: RunStatus, i: number) => JobRunRecord) => {
    const schema = fresh();
    const before = open(schema);
    await before.init();
    const job = await before.createJob(makeJob({ name, status: 'paused', nextRun: null }));
    const runs: JobRunRecord[] = [];
    for (const [i, status] of (['scheduled', 'running', 'awaiting_approval', 'succeeded', 'failed'] as const).entries()) runs.push(await before.insertRun(runOf(job, status, i)));
    await before.close();
    return { schema, job, at: AT, runs };
  };
  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
    for (const schema of schemas) await dropSchema(schema);
  });

  it('creates the schema and its tables, and a second init changes nothing', async () => {
    const schema = fresh();
    const store = open(schema);
    await store.init();
    const job = await store.createJob(makeJob());
    await store.init();
    expect(await store.getJob(job.id)).toEqual(job);
    const tables = await query(`SELECT table_name FROM information_schema.tables WHERE table_schema = '${schema}' ORDER BY 1`);
    expect(tables.map((row) => row.table_name)).toEqual(['audit_events', 'instances', 'jobs', 'live_runs', 'runs', 'schema_migrations', 'sessions']);
    const versions = await query(`SELECT version FROM "${schema}".schema_migrations ORDER BY 1`);
    expect(versions).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }, { version: 5 }, { version: 6 }, { version: 7 }, { version: 8 }, { version: 9 }, { version: 10 }]);
  });

  it('creates the indexes the claims and listings rely on, partial where the queue is', async () => {
    const schema = fresh();
    await open(schema).init();
    const indexes = await query(
      `SELECT indexname, regexp_replace(indexdef, '^.* USING btree ', '') AS def FROM pg_indexes WHERE schemaname = '${schema}' ORDER BY 1`,
    );
    expect(Object.fromEntries(indexes.map((row) => [row.indexname, row.def]))).toEqual({
      audit_events_at_idx: '(at DESC, seq DESC)',
      audit_events_job_idx: '(job_id, at DESC, seq DESC)',
      audit_events_pkey: '(id)',
      audit_events_type_idx: '(type, at DESC, seq DESC)',
      instances_pkey: '(id)',
      jobs_agent_idx: '(agent_id)',
      jobs_due_idx: '(next_run) WHERE (next_run IS NOT NULL)',
      jobs_name_key: '(name)',
      jobs_pkey: '(id)',
      live_runs_fire_key_key: '(fire_key)',
      live_runs_job_idx: '(job_id)',
      live_runs_lease_idx: '(lease_expires_at) WHERE (owner IS NOT NULL)',
      live_runs_pkey: '(id)',
      live_runs_queue_idx: '(due_at, id) WHERE ((owner IS NULL) AND (NOT wait_for_slot))',
      live_runs_waiting_idx: '(due_at, id) WHERE wait_for_slot',
      runs_executed_audit_idx: '(completed_at DESC, id DESC) WHERE executed_audit',
      runs_fire_key_key: '(fire_key)',
      runs_job_history_idx: '(job_id, scheduled_for DESC, id DESC) WHERE (job_id IS NOT NULL)',
      runs_outbox_idx: '(COALESCE(completed_at, scheduled_for), id) WHERE delivery_pending',
      runs_pkey: '(id)',
      runs_status_idx: '(listed_status, scheduled_for DESC, id DESC) WHERE (listed_status IS NOT NULL)',
      schema_migrations_pkey: '(version)',
      sessions_pkey: '(job_id)',
    });
    const collations = await query(
      `SELECT table_name || '.' || column_name AS col FROM information_schema.columns
       WHERE table_schema = '${schema}' AND collation_name = 'C' ORDER BY 1`,
    );
    expect(collations.map((row) => row.col)).toEqual([
      'audit_events.id',
      'audit_events.job_id',
      'audit_events.run_id',
      'instances.id',
      'jobs.agent_id',
      'jobs.id',
      'jobs.name',
      'live_runs.agent_id',
      'live_runs.fire_key',
      'live_runs.id',
      'live_runs.job_id',
      'runs.agent_id',
      'runs.fire_key',
      'runs.id',
      'runs.job_id',
      'sessions.job_id',
    ]);
  });

  it('lets many instances initialise one new schema at the same moment', async () => {
    const schema = fresh();
    const instances = Array.from({ length: 6 }, () => open(schema));
    await Promise.all(instances.map((store) => store.init()));
    expect(await query(`SELECT version FROM "${schema}".schema_migrations ORDER BY 1`)).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }, { version: 5 }, { version: 6 }, { version: 7 }, { version: 8 }, { version: 9 }, { version: 10 }]);
    const job = await instances[0]!.createJob(makeJob());
    expect(await instances[5]!.getJob(job.id)).toEqual(job);
  });

  it('upgrades a schema of version 2: its jobs keep their data, gain the retention columns (null) and lose the status index', async () => {
    const schema = fresh();
    const before = open(schema);
    await before.init();
    const job = await before.createJob(makeJob({ name: 'from-v2' }));
    await before.close();
    await query(`ALTER TABLE "${schema}".jobs DROP COLUMN history_retention_days, DROP COLUMN history_retention_runs;
      DROP INDEX "${schema}".jobs_due_idx;
      CREATE INDEX jobs_due_idx ON "${schema}".jobs (next_run) WHERE status = 'active';
      CREATE INDEX jobs_status_idx ON "${schema}".jobs (status);
      ALTER TABLE "${schema}".jobs SET (fillfactor = 70);
      DELETE FROM "${schema}".schema_migrations WHERE version IN (3, 4)`);
    const store = open(schema);
    await store.init();
    expect(await store.getJob(job.id)).toEqual(job);
    const jobIndexes = await query(`SELECT indexname, regexp_replace(indexdef, '^.* USING btree ', '') AS def FROM pg_indexes
      WHERE schemaname = '${schema}' AND tablename = 'jobs' ORDER BY 1`);
    expect(jobIndexes.map((row) => `${row.indexname} ${row.def}`)).toEqual([
      'jobs_agent_idx (agent_id)',
      'jobs_due_idx (next_run) WHERE (next_run IS NOT NULL)',
      'jobs_name_key (name)',
      'jobs_pkey (id)',
    ]);
    expect(await query(`SELECT reloptions FROM pg_class WHERE oid = '"${schema}".jobs'::regclass`)).toEqual([{ reloptions: ['fillfactor=50'] }]);
    await store.saveJob({ ...job, historyRetentionDays: 7, historyRetentionRuns: 50 });
    expect(await store.getJob(job.id)).toMatchObject({ historyRetentionDays: 7, historyRetentionRuns: 50 });
  });

  it('upgrades a schema of version 4: its runs keep their data, and their indexes name no status, so a start is a HOT update', async () => {
    const { schema, at, runs } = await withRunOfEachStatus('from-v4', (job, status, i) => ({
      ...newRun(job, { scheduledFor: new Date(AT.getTime() + i), trigger: 'manual' }),
      status,
    }));
    await query(`${toVersion5(schema)};
      ALTER TABLE "${schema}".runs DROP COLUMN live, DROP COLUMN listed_status, RESET (fillfactor);
      CREATE INDEX runs_queue_idx ON "${schema}".runs (due_at, id) WHERE status = 'scheduled' AND NOT wait_for_slot;
      CREATE INDEX runs_waiting_idx ON "${schema}".runs (due_at, id) WHERE status = 'scheduled' AND wait_for_slot;
      CREATE INDEX runs_in_flight_idx ON "${schema}".runs (job_id) WHERE status IN ('scheduled', 'awaiting_approval', 'running');
      CREATE INDEX runs_lease_idx ON "${schema}".runs (lease_expires_at) WHERE owner IS NOT NULL AND status IN ('scheduled', 'awaiting_approval', 'running');
      CREATE INDEX runs_status_idx ON "${schema}".runs (status, scheduled_for DESC, id DESC) WHERE status NOT IN ('scheduled', 'running', 'succeeded');
      DELETE FROM "${schema}".schema_migrations WHERE version = 5`);
    // (Migration 6 then moves the runs in flight to `live_runs`.)
    const store = open(schema);
    await store.init();
    for (const run of runs) expect(await store.getRun(run.id)).toEqual(run);
    expect(await query(`SELECT status, listed_status FROM "${schema}".runs UNION ALL SELECT status, listed_status FROM "${schema}".live_runs ORDER BY 1`)).toEqual([
      { status: 'awaiting_approval', listed_status: 'awaiting_approval' },
      { status: 'failed', listed_status: 'failed' },
      { status: 'running', listed_status: null },
      { status: 'scheduled', listed_status: null },
      { status: 'succeeded', listed_status: null },
    ]);
    expect(await query(`SELECT status FROM "${schema}".live_runs ORDER BY 1`)).toEqual([
      { status: 'awaiting_approval' },
      { status: 'running' },
      { status: 'scheduled' },
    ]);
    expect((await store.listRuns({ status: 'failed' })).map((run) => run.id)).toEqual([runs[4]!.id]);
    expect(await query(`SELECT reloptions FROM pg_class WHERE oid = '"${schema}".runs'::regclass`)).toEqual([{ reloptions: ['fillfactor=50'] }]);
    const indexes = await query(`SELECT indexdef FROM pg_indexes WHERE schemaname = '${schema}' AND tablename IN ('runs', 'live_runs')`);
    expect(indexes.filter((row) => /\bstatus\b/.test(row.indexdef.replace(/listed_status/g, '')))).toEqual([]);
    // The queued run is unowned: a claim takes it from the rebuilt queue.
    const plan = () => {
      throw new Error('no job is due');
    };
    const claimed = await store.claimDue({ now: new Date(at.getTime() + 60_000), limit: 10, owner: 'me', leaseMs: 60_000, plan });
    expect(claimed.map((c) => c.run.id)).toEqual([runs[0]!.id]);
  });

  it('upgrades a schema of version 5 with runs in flight: they move to live_runs, finished ones stay, and no fire key runs twice', async () => {
    const { schema, job, at, runs } = await withRunOfEachStatus('from-v5', (job, status, i) => ({
      ...newRun(job, { scheduledFor: new Date(AT.getTime() + i * 1000), trigger: 'schedule' }),
      status,
      ...(status === 'running' ? { owner: 'me', leaseExpiresAt: new Date(Date.now() + 60_000) } : {}),
    }));
    await query(toVersion5(schema));
    expect(await query(`SELECT count(*)::int AS n FROM "${schema}".runs`)).toEqual([{ n: 5 }]);

    const store = open(schema);
    await store.init();
    expect(await query(`SELECT status FROM "${schema}".live_runs ORDER BY 1`)).toEqual([{ status: 'awaiting_approval' }, { status: 'running' }, { status: 'scheduled' }]);
    expect(await query(`SELECT status FROM "${schema}".runs ORDER BY 1`)).toEqual([{ status: 'failed' }, { status: 'succeeded' }]);
    const runIndexes = await query(`SELECT indexname FROM pg_indexes WHERE schemaname = '${schema}' AND tablename = 'runs' ORDER BY 1`);
    expect(runIndexes.map((row) => row.indexname)).toEqual(['runs_executed_audit_idx', 'runs_fire_key_key', 'runs_job_history_idx', 'runs_outbox_idx', 'runs_pkey', 'runs_status_idx']);
    for (const run of runs) expect(await store.getRun(run.id)).toEqual(run);
    expect((await store.listRuns({ jobId: job.id })).map((run) => run.id)).toEqual(runs.map((run) => run.id).reverse());

    // A fire key is taken whichever table holds its run: finished or in flight, it is not run again.
    for (const taken of [runs[3]!, runs[1]!]) {
      const twin = newRun(job, { scheduledFor: taken.scheduledFor, trigger: 'schedule' });
      expect(twin.fireKey).toBe(taken.fireKey);
      await expect(store.insertRun(twin)).rejects.toBeInstanceOf(ConflictError);
      expect(await store.getRun(twin.id)).toBeNull();
    }
    // The running run finishes into the history, once.
    const finished = await store.finishRun({ runId: runs[1]!.id, owner: 'me', outcome: 'success', patch: { status: 'succeeded', completedAt: new Date() }, plan: () => ({}) });
    expect(finished?.run).toMatchObject({ id: runs[1]!.id, status: 'succeeded', owner: 'me' });
    expect(await query(`SELECT status FROM "${schema}".runs WHERE id = '${runs[1]!.id}'`)).toEqual([{ status: 'succeeded' }]);
    expect(await query(`SELECT id FROM "${schema}".live_runs WHERE id = '${runs[1]!.id}'`)).toEqual([]);
    // The queued run is unowned: a claim takes it from the live queue.
    const plan = () => {
      throw new Error('no job is due');
    };
    const claimed = await store.claimDue({ now: new Date(at.getTime() + 60_000), limit: 10, owner: 'me', leaseMs: 60_000, plan });
    expect(claimed.map((c) => c.run.id)).toEqual([runs[0]!.id]);
  });

  it("upgrades a schema of version 7: its runs and audit rows are kept, unmarked, and a success's event is then kept as a mark", async () => {
    const { schema, job, runs } = await withRunOfEachStatus('from-v7', (job, status, i) => ({
      ...newRun(job, { scheduledFor: new Date(AT.getTime() + i * 1000), trigger: 'schedule' }),
      status,
      ...(status === 'running' ? { owner: 'me', leaseExpiresAt: new Date(Date.now() + 60_000) } : {}),
      ...(status === 'succeeded' ? { completedAt: AT, executionTimeMs: 5 } : {}),
    }));
    await query(toVersion7(schema));
    const before = open(schema);
    const appended = { id: 'executed-before', type: 'CronJobExecuted' as const, at: AT, jobId: job.id, runId: runs[3]!.id, actor: 'scheduler', details: { status: 'succeeded' } };
    await before.appendAudit(appended);

    const store = open(schema);
    await store.init();
    expect(await query(`SELECT count(*)::int AS n FROM "${schema}".runs WHERE executed_audit`)).toEqual([{ n: 0 }]);
    expect(await query(`SELECT indexdef FROM pg_indexes WHERE schemaname = '${schema}' AND indexname = 'runs_executed_audit_idx'`)).toHaveLength(1);
    for (const run of runs) expect(await store.getRun(run.id)).toEqual(run);
    expect(await store.queryAudit()).toEqual([appended]);
    const finished = await store.finishRun({
      runId: runs[1]!.id,
      owner: 'me',
      outcome: 'success',
      patch: { status: 'succeeded', completedAt: new Date(AT.getTime() + 60_000), executionTimeMs: 9 },
      plan: () => ({}),
      executedAudit: true,
    });
    expect(await store.queryAudit()).toEqual([executedAuditEvent(finished?.run as ExecutedRunFacts), appended]);
    expect(await query(`SELECT id FROM "${schema}".audit_events`)).toEqual([{ id: appended.id }]);
  });

  it('upgrades a schema of version 8: its runs are kept, no foreign key checks them, and deleting a job still deletes its runs in both tables', async () => {
    const { schema, job, runs } = await withRunOfEachStatus('from-v8', (job, status, i) => ({
      ...newRun(job, { scheduledFor: new Date(AT.getTime() + i * 1000), trigger: 'schedule' }),
      status,
      ...(status === 'succeeded' ? { completedAt: AT, executionTimeMs: 5 } : {}),
    }));
    await query(toVersion8(schema));
    const store = open(schema);
    await store.init();
    const foreignKeys = await query(
      `SELECT conname FROM pg_constraint WHERE contype = 'f' AND connamespace = '"${schema}"'::regnamespace ORDER BY conname`,
    );
    expect(foreignKeys).toEqual([{ conname: 'sessions_job_fkey' }]);
    for (const run of runs) expect(await store.getRun(run.id)).toEqual(run);
    const other = await store.createJob(makeJob({ name: 'from-v8-other', status: 'paused', nextRun: null }));
    const kept = await store.insertRun({ ...newRun(other, { scheduledFor: AT, trigger: 'schedule' }) });
    await expect(store.insertRun({ ...newRun({ ...other, id: 'no-such-job' }, { scheduledFor: AT, trigger: 'schedule' }) })).rejects.toBeInstanceOf(JobNotFoundError);
    expect(await store.deleteJob(job.id)).toBe(true);
    const left = (table: string) => query(`SELECT id FROM "${schema}".${table} ORDER BY id`);
    expect([...(await left('live_runs')), ...(await left('runs'))]).toEqual([{ id: kept.id }]);
  });

  it('upgrades a schema of version 5 so that an instance of that version still running fails to claim or load instead of firing a run again', async () => {
    const { schema, runs } = await withRunOfEachStatus('old-instance', (job, status, i) => ({
      ...newRun(job, { scheduledFor: new Date(AT.getTime() + i * 1000), trigger: 'schedule' }),
      status,
    }));
    await query(toVersion5(schema));
    // What the package of schema 5 asks of `runs` to claim a queued run and to count a job's load.
    const claimV5 = `UPDATE "${schema}".runs SET owner = 'old', lease_expires_at = now() + interval '1 minute'
      WHERE id IN (SELECT r.id FROM "${schema}".runs r WHERE r.live AND r.owner IS NULL AND NOT r.wait_for_slot AND r.status = 'scheduled' ORDER BY r.due_at, r.id LIMIT 10 FOR NO KEY UPDATE SKIP LOCKED)
      RETURNING id`;
    const loadV5 = `SELECT job_id, count(*)::int AS n FROM "${schema}".runs WHERE live GROUP BY job_id`;
    expect(await query(loadV5)).toEqual([{ job_id: runs[0]!.jobId, n: 3 }]);

    await open(schema).init();
    const columns = await query(`SELECT table_name FROM information_schema.columns WHERE table_schema = '${schema}' AND column_name = 'live'`);
    expect(columns).toEqual([]);
    for (const text of [claimV5, loadV5]) await expect(query(text)).rejects.toThrow(/column "?(r\.)?live"? does not exist/);
    // The queued run, now in `live_runs`, was not taken by the old claim.
    expect(await query(`SELECT owner FROM "${schema}".live_runs WHERE id = '${runs[0]!.id}'`)).toEqual([{ owner: null }]);
  });

  it('refuses a schema migrated by a newer version of the package', async () => {
    const schema = fresh();
    await open(schema).init();
    await query(`INSERT INTO "${schema}".schema_migrations (version, name) VALUES (99, 'from the future')`);
    const error = await open(schema).init().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toMatch(/version 99, newer than this @symbi\/store-postgres knows/);
  });

  it('quotes the schema name, so upper case names work as written', async () => {
    const schema = `Mixed_${fresh()}`;
    schemas.push(schema);
    const store = open(schema);
    await store.init();
    const job = await store.createJob(makeJob());
    expect(await store.getJob(job.id)).toEqual(job);
    expect(await query(`SELECT nspname FROM pg_namespace WHERE nspname = '${schema}'`)).toHaveLength(1);
  });

  it.each(['', 'has-dash', '1starts_with_digit', 'quote"d', 'semi;colon', 'public; DROP SCHEMA public', 'x'.repeat(56), 'ünïcode'])(
    'rejects the schema name %j before touching the database',
    (schema) => {
      expect(() => new PostgresJobStore({ connectionString: CONNECTION_STRING, schema })).toThrow(ValidationError);
    },
  );

  it('rejects a notify channel that is not an identifier', () => {
    const error = (() => {
      try {
        return new PostgresJobStore({ connectionString: CONNECTION_STRING, notifyChannel: 'a"; NOTIFY x; --' });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('notify_channel');
  });

  it('uses a pool it is given and leaves it open on close', async () => {
    const schema = fresh();
    const pool = new pg.Pool({ connectionString: CONNECTION_STRING, max: 2 });
    try {
      const store = new PostgresJobStore({ pool, schema });
      await store.init();
      await store.createJob(makeJob());
      await store.close();
      expect((await pool.query(`SELECT count(*)::int AS n FROM "${schema}".jobs`)).rows).toEqual([{ n: 1 }]);
    } finally {
      await pool.end();
    }
  });
});
