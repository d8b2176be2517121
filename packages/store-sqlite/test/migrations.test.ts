import { executedAuditEvent, newRun, StoreError, type ExecutedRunFacts, type JobRunRecord } from '@symbi/core';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, type Kysely as KyselyType } from 'kysely';
import { describe, expect, it } from 'vitest';
import { LISTED_RUN, MIGRATIONS, migrate, type Migration } from '../src/migrations.js';
import { auditToRow, jobToRow, rowToJob, runToRow, sessionToRow } from '../src/row-codec.js';
import type { JobRow, RunRow, StoreDatabase } from '../src/schema.js';
import { SqliteRunner } from '../src/sqlite-runner.js';
import { makeJob } from '@symbi/core/testing';
import { onCleanup, openStore, tempDbPath } from './temp-files.js';

/** A raw connection on `path`, closed after the test, with a runner and kysely for `migrate`. */
function connect(path: string): { raw: Database.Database; runner: SqliteRunner; db: KyselyType<StoreDatabase> } {
  const raw = new Database(path);
  onCleanup(() => raw.close());
  return { raw, runner: new SqliteRunner(raw), db: new Kysely<StoreDatabase>({ dialect: new SqliteDialect({ database: raw }) }) };
}

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));

/** The `runs` row of `run` as schema `version` holds it: before version 8, without the mark `audited`. */
function runRowOfVersion(version: number, run: JobRunRecord): RunRow {
  const { audited, ...row } = runToRow(run);
  return (version >= 8 ? { ...row, audited } : row) as RunRow;
}

/**
 * A file at schema `version` holding one job and `runs` of it (each scheduled at second `s` with
 * the given fields), written as that version's rows; `path` to open a store on it, `raw` and `db`
 * on it already.
 */
async function fileOfVersion(version: number, runs: readonly [s: number, fields: Partial<JobRunRecord>][]) {
  const path = tempDbPath();
  const { raw, runner, db } = connect(path);
  migrate(runner, db, MIGRATIONS.slice(0, version));
  const job = makeJob({ name: `from-v${version}`, nextRun: null });
  await db.insertInto('jobs').values(jobToRow(job)).execute();
  const written = runs.map(([s, fields]): JobRunRecord => ({ ...newRun(job, { scheduledFor: at(s), trigger: 'manual' }), ...fields }));
  for (const r of written) await db.insertInto('runs').values(runRowOfVersion(version, r)).execute();
  return { path, raw, db, runs: written };
}

const applied = (raw: Database.Database) => raw.prepare('select version, name from schema_migrations order by version').all();

describe('migrations', () => {
  it('are numbered 1, 2, 3… in order, each with a name', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, index) => index + 1));
    for (const migration of MIGRATIONS) expect(migration.name).not.toBe('');
  });

  it('apply once per file: init twice and reopening apply nothing more, and data stays', async () => {
    const path = tempDbPath();
    const store = await openStore({ path });
    await store.init();
    const job = await store.createJob(makeJob());
    await store.close();
    const reopened = await openStore({ path });
    expect(await reopened.getJob(job.id)).toEqual(job);

    const { raw } = connect(path);
    expect(applied(raw)).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
  });

  it('apply only the versions a file lacks, in order', () => {
    const { raw, runner, db } = connect(tempDbPath());
    expect(migrate(runner, db)).toEqual(MIGRATIONS.map((m) => m.version));
    const next: Migration = {
      version: MIGRATIONS.length + 1,
      name: 'add a column',
      statements: (k) => [k.schema.alterTable('jobs').addColumn('owner_team', 'text')],
    };
    expect(migrate(runner, db, [...MIGRATIONS, next])).toEqual([next.version]);
    expect(migrate(runner, db, [...MIGRATIONS, next])).toEqual([]);
    expect(raw.prepare("select count(*) as n from pragma_table_info('jobs') where name = 'owner_team'").get()).toEqual({ n: 1 });
    expect(applied(raw).at(-1)).toEqual({ version: next.version, name: 'add a column' });
  });

  it('upgrade a file of version 1: its jobs keep their data and read with the scheduler\'s retention (null)', async () => {
    const path = tempDbPath();
    const { runner, db } = connect(path);
    migrate(runner, db, MIGRATIONS.slice(0, 1));
    const job = makeJob({ name: 'from-v1' });
    const { history_retention_days, history_retention_runs, ...v1Row } = jobToRow(job);
    await db.insertInto('jobs').values(v1Row as JobRow).execute();
    const store = await openStore({ path });
    expect(await store.getJob(job.id)).toEqual(job);
    const saved = await store.saveJob({ ...job, historyRetentionDays: 7, historyRetentionRuns: 50 });
    expect(await store.getJob(job.id)).toMatchObject({ historyRetentionDays: 7, historyRetentionRuns: 50, version: saved.version });
  });

  it('upgrade a file of version 4: the lease index is rebuilt over its runs, and leases lapse and wake as before', async () => {
    const { path, raw, runs } = await fileOfVersion(4, [
      [1, { status: 'running', owner: 'gone', leaseExpiresAt: at(10), startedAt: at(1) }],
      [2, { status: 'scheduled', owner: 'alive', leaseExpiresAt: at(20) }],
      [3, { status: 'awaiting_approval', owner: 'alive', leaseExpiresAt: at(30) }],
      [4, { status: 'succeeded', owner: 'alive', leaseExpiresAt: at(5), completedAt: at(4) }],
    ]);
    const [lapsed, queued, awaiting] = runs as [JobRunRecord, JobRunRecord, JobRunRecord];

    const store = await openStore({ path });
    expect(applied(raw).map((m) => (m as { version: number }).version)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
    const indexed = raw.prepare('select id from runs indexed by runs_lease where lease_expires_at is not null and owner is not null and (status = \'scheduled\' or status = \'awaiting_approval\' or status = \'running\') order by lease_expires_at').all();
    expect(indexed).toEqual([lapsed, queued, awaiting].map((r) => ({ id: r.id })));
    // The earliest live lease wakes the scheduler; the finished run's earlier one does not.
    expect(await store.nextWakeAt()).toEqual(at(10));
    const recovered = await store.recoverExpired({ now: at(15), limit: 10, plan: () => ({}) });
    expect(recovered.map((r) => [r.id, r.status])).toEqual([[lapsed.id, 'interrupted']]);
    expect(await store.nextWakeAt()).toEqual(at(20));
  });

  it('upgrade a file of version 5: the status index keeps only the rarely listed statuses, and runs list by status as before', async () => {
    const statuses: JobRunRecord['status'][] = ['scheduled', 'running', 'awaiting_approval', 'succeeded', 'failed', 'interrupted', 'succeeded', 'failed', 'denied'];
    const { path, raw, db, runs } = await fileOfVersion(5, statuses.map((status, s) => [s, { status }]));

    const store = await openStore({ path });
    expect(applied(raw).map((m) => (m as { version: number }).version)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
    const indexes = raw.prepare("select name from sqlite_schema where type = 'index' and tbl_name = 'runs' and name like 'runs_%'").pluck().all();
    expect(indexes).not.toContain('runs_status');
    expect(indexes).toEqual(expect.arrayContaining(['runs_listed', 'runs_recent']));
    // Only the 5 runs of a listed status have an entry (runs_listed's condition is `LISTED_RUN`).
    expect(raw.prepare(`select count(*) from runs indexed by runs_listed where ${LISTED_RUN.compile(db).sql}`).pluck().get()).toBe(5);
    // A literal status: SQLite uses a partial index only for a condition it can check when preparing.
    const listed = raw.prepare("select status, id from runs indexed by runs_listed where status = 'failed' order by scheduled_for");
    expect(listed.all()).toEqual(runs.filter((r) => r.status === 'failed').map((r) => ({ status: 'failed', id: r.id })));
    const newestFirst = (wanted: readonly string[]) => runs.filter((r) => wanted.includes(r.status)).map((r) => r.id).reverse();
    for (const wanted of [['failed'], ['failed', 'denied'], ['awaiting_approval'], ['scheduled'], ['running'], ['succeeded'], ['succeeded', 'interrupted']] as const) {
      expect((await store.listRuns({ status: [...wanted] })).map((r) => r.id), wanted.join()).toEqual(newestFirst(wanted));
    }
    expect((await store.listRuns()).map((r) => r.id)).toEqual(runs.map((r) => r.id).reverse());
    // A run finished after the upgrade enters the status index only if its status is listed there.
    const started = runs[1] as JobRunRecord;
    await store.updateRun(started.id, { status: 'failed', completedAt: at(20) });
    expect(listed.all().map((row) => (row as { id: string }).id)).toContain(started.id);
  });

  it('upgrade a file of version 6: jobs are clustered by id, and keep their runs and sessions (foreign keys off while rebuilt)', async () => {
    const { path, raw, db, runs } = await fileOfVersion(6, [
      [1, { status: 'succeeded', completedAt: at(2) }],
      [3, { status: 'scheduled' }],
    ]);
    const job = rowToJob(raw.prepare('select * from jobs').get() as JobRow);
    const other = makeJob({ name: 'second', nextRun: at(5) });
    await db.insertInto('jobs').values(jobToRow(other)).execute();
    await db.insertInto('sessions').values(sessionToRow(job.id, { summary: 'kept', history: [], updatedAt: at(3) })).execute();
    expect(raw.pragma('foreign_keys', { simple: true })).toBe(1);

    const store = await openStore({ path });
    expect(applied(raw).map((m) => (m as { version: number }).version)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(raw.pragma('foreign_key_check')).toEqual([]);
    expect(raw.prepare("select sql from sqlite_schema where name = 'jobs'").pluck().get()).toMatch(/without rowid$/);
    expect(raw.prepare("select name from sqlite_schema where type = 'index' and tbl_name = 'jobs' and name like 'jobs_%'").pluck().all()).toEqual(
      expect.arrayContaining(['jobs_due', 'jobs_agent']),
    );
    expect(await store.getJob(job.id)).toEqual(job);
    expect(await store.getJob(other.id)).toEqual(other);
    expect((await store.listRuns({ jobId: job.id })).map((r) => r.id)).toEqual(runs.map((r) => r.id).reverse());
    expect(await store.loadSession(job.id)).toEqual({ summary: 'kept', history: [], updatedAt: at(3) });
    // Foreign keys are enforced again: deleting a job still takes its runs and session with it.
    expect(await store.deleteJob(job.id)).toBe(true);
    expect(await store.listRuns({ jobId: job.id })).toEqual([]);
    expect(await store.loadSession(job.id)).toBeNull();
  });

  it('upgrade a file of version 7: its runs stay unmarked and their stored events answer as before, beside marks of runs finished after', async () => {
    const { path, raw, db, runs } = await fileOfVersion(7, [
      [1, { status: 'succeeded', startedAt: at(1), completedAt: at(2), executionTimeMs: 1000 }],
      [3, { status: 'running', owner: 'a', startedAt: at(3) }],
    ]);
    const [old, running] = runs as [JobRunRecord, JobRunRecord];
    // Version 7 kept every run's event as a row.
    const stored = { ...executedAuditEvent(old as ExecutedRunFacts), id: 'stored-1' };
    await db.insertInto('audit_events').values(auditToRow(stored)).execute();

    const store = await openStore({ path });
    expect(applied(raw).map((m) => (m as { version: number }).version)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(raw.prepare('select id, audited from runs order by scheduled_for').all()).toEqual([
      { id: old.id, audited: 0 },
      { id: running.id, audited: 0 },
    ]);
    expect(raw.prepare("select stat from sqlite_stat1 where idx = 'runs_audited'").pluck().get()).toBeTypeOf('string');
    expect(await store.queryAudit()).toEqual([stored]);

    const patch = { status: 'succeeded' as const, completedAt: at(4), executionTimeMs: 1000 };
    const finished = await store.finishRun({ runId: running.id, owner: 'a', outcome: 'success', patch, plan: () => ({}), executedAudit: true });
    const marked = executedAuditEvent(finished!.run as ExecutedRunFacts);
    expect(raw.prepare('select count(*) from audit_events').pluck().get()).toBe(1);
    expect(await store.queryAudit()).toEqual([marked, stored]);
    expect(await store.queryAudit({ type: 'CronJobExecuted', since: at(3) })).toEqual([marked]);
    // Deleting the job writes the mark as a row; the old run had none to write.
    expect(await store.deleteJob(old.jobId)).toBe(true);
    expect(raw.prepare('select id from audit_events order by rowid').pluck().all()).toEqual(['stored-1', running.id]);
    expect(await store.queryAudit()).toEqual([marked, stored]);
  });

  it('refuse to rebuild a table inside a transaction opened by the host, where foreign keys cannot be switched off', () => {
    const { raw, runner, db } = connect(tempDbPath());
    migrate(runner, db, MIGRATIONS.slice(0, 6));
    raw.exec('begin');
    expect(() => migrate(runner, db)).toThrow(/needs foreign keys off/);
    raw.exec('rollback');
    expect(applied(raw)).toHaveLength(6);
  });

  it('roll back a table rebuild that leaves rows referring to a missing row, losing nothing', async () => {
    const { raw, db, runs } = await fileOfVersion(MIGRATIONS.length, [[1, { status: 'succeeded', completedAt: at(2) }]]);
    const runner = new SqliteRunner(raw);
    const lossy: Migration = {
      version: MIGRATIONS.length + 1,
      name: 'lossy rebuild',
      rebuildsTables: true,
      statements: (k) => [k.deleteFrom('jobs')],
    };
    expect(() => migrate(runner, db, [...MIGRATIONS, lossy])).toThrow(/left 1 row\(s\) referring to a missing row/);
    expect(applied(raw)).toHaveLength(MIGRATIONS.length);
    expect(raw.prepare('select count(*) from jobs').pluck().get()).toBe(1);
    expect(raw.prepare('select id from runs').pluck().all()).toEqual(runs.map((r) => r.id));
    expect(raw.pragma('foreign_keys', { simple: true })).toBe(1);
  });

  it('roll back a migration that fails, leaving the version unrecorded', () => {
    const { raw, runner, db } = connect(tempDbPath());
    migrate(runner, db);
    const broken: Migration = {
      version: MIGRATIONS.length + 1,
      name: 'broken',
      statements: (k) => [k.schema.alterTable('jobs').addColumn('half_done', 'text'), k.schema.alterTable('no_such_table').addColumn('x', 'text')],
    };
    expect(() => migrate(runner, db, [...MIGRATIONS, broken])).toThrow(/no_such_table/);
    expect(applied(raw)).toHaveLength(MIGRATIONS.length);
    expect(raw.prepare("select count(*) as n from pragma_table_info('jobs') where name = 'half_done'").get()).toEqual({ n: 0 });
  });

  it('refuse a file whose schema is newer than this package', async () => {
    const path = tempDbPath();
    const store = await openStore({ path });
    await store.close();
    const { raw } = connect(path);
    raw.prepare('insert into schema_migrations (version, name, applied_at) values (?, ?, ?)').run(MIGRATIONS.length + 1, 'from the future', 0);
    const newer = openStore({ path });
    await expect(newer).rejects.toBeInstanceOf(StoreError);
    await expect(newer).rejects.toThrow(/newer than this package/);
  });
});
