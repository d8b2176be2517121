import { existsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  ConflictError,
  executedAuditEvent,
  JobNotFoundError,
  SchedulerError,
  StoreError,
  newRun,
  TERMINAL_RUN_STATUSES,
  type ClaimedRun,
  type CronJobDefinition,
  type ExecutedRunFacts,
  type RunPatch,
} from '@symbi/core';
import { createTestScheduler, FIXTURE_EPOCH, makeJob } from '@symbi/core/testing';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SQLITE_PATH, SqliteJobStore, type SqliteJobStoreOptions } from '../src/index.js';
import { onCleanup, openStore, tempDbPath, tempDir } from './temp-files.js';

const at = (seconds: number): Date => new Date(FIXTURE_EPOCH.getTime() + seconds * 1000);

describe('SqliteJobStore: opening a database', () => {
  it('creates the default ./.symbi/scheduler.db, folder included, under the working directory', async () => {
    const dir = tempDir();
    const previous = process.cwd();
    process.chdir(dir);
    onCleanup(() => process.chdir(previous));
    const store = await openStore({});
    expect(DEFAULT_SQLITE_PATH).toBe('./.symbi/scheduler.db');
    expect(store.path).toBe(join(process.cwd(), '.symbi', 'scheduler.db'));
    expect(existsSync(join(dir, '.symbi', 'scheduler.db'))).toBe(true);
  });

  it('creates missing folders of an explicit path', async () => {
    const path = join(tempDir(), 'a', 'b', 'c', 'jobs.db');
    const store = await openStore({ path });
    await store.createJob(makeJob({ name: 'nested' }));
    expect(existsSync(path)).toBe(true);
    expect(store.path).toBe(path);
  });

  it('creates the database, its WAL and shared-memory files readable by their owner only (0600)', async () => {
    const path = join(tempDir(), 'private', 'jobs.db');
    const store = await openStore({ path });
    await store.createJob(makeJob({ name: 'private', webhookHeaders: { Authorization: 'Bearer s3cret' } }));
    for (const file of [path, `${path}-wal`, `${path}-shm`]) expect((statSync(file).mode & 0o777).toString(8), file).toBe('600');
    expect((statSync(dirname(path)).mode & 0o777).toString(8)).toBe('700');
  });

  it('reports a path it cannot create or open as a StoreError', async () => {
    const file = join(tempDir(), 'plain-file');
    writeFileSync(file, 'not a folder');
    await expect(openStore({ path: join(file, 'scheduler.db') })).rejects.toMatchObject({ code: 'STORE', message: /cannot create the folder/ });
    const notSqlite = join(tempDir(), 'garbage.db');
    writeFileSync(notSqlite, 'x'.repeat(4096));
    await expect(openStore({ path: notSqlite })).rejects.toMatchObject({ code: 'STORE', message: /SQLITE_NOTADB/ });
  });

  it('keeps an in-memory database for ":memory:"', async () => {
    const store = await openStore({ path: ':memory:' });
    const job = await store.createJob(makeJob());
    expect(await store.getJob(job.id)).toEqual(job);
    expect(store.path).toBe(':memory:');
  });

  it('sets WAL, NORMAL sync, foreign keys, a busy timeout and in-memory temporary files', async () => {
    const path = tempDbPath();
    const database = new Database(path);
    onCleanup(() => database.close());
    await openStore({ database });
    expect(database.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(database.pragma('synchronous', { simple: true })).toBe(1);
    expect(database.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(database.pragma('busy_timeout', { simple: true })).toBe(5000);
    // 2 = MEMORY: savepoint and statement sub-journals stay out of temporary files.
    expect(database.pragma('temp_store', { simple: true })).toBe(2);
  });

  it('leaves a handed-in database open on close, and closes its own', async () => {
    const database = new Database(':memory:');
    onCleanup(() => database.close());
    const borrowed = await openStore({ database });
    await borrowed.close();
    expect(database.open).toBe(true);
    expect(database.prepare('select count(*) as n from jobs').get()).toEqual({ n: 0 });

    const path = tempDbPath();
    const owned = await openStore({ path });
    await owned.createJob(makeJob({ name: 'kept' }));
    await owned.close();
    const reopened = new Database(path);
    onCleanup(() => reopened.close());
    expect(reopened.prepare('select name from jobs').all()).toEqual([{ name: 'kept' }]);
  });

  it('answers every call after close with a StoreError, and close twice is harmless', async () => {
    const store = await openStore();
    await store.close();
    await store.close();
    await expect(store.getJob('x')).rejects.toBeInstanceOf(StoreError);
    await expect(store.init()).rejects.toThrow(/closed/);
  });

  it('opens and migrates on the first call even without init()', async () => {
    const store = new SqliteJobStore({ path: tempDbPath() });
    onCleanup(() => store.close());
    expect(await store.listJobs()).toEqual([]);
  });

  it('declares several processes safe, no cross-process notifications, and routine run events kept as marks', () => {
    const store = new SqliteJobStore({ path: ':memory:' });
    expect(store.capabilities).toEqual({ multiInstance: true, crossProcessNotifications: false, executedAuditFromHistory: true });
    expect('notify' in store).toBe(false);
    expect('subscribe' in store).toBe(false);
  });
});

describe('SqliteJobStore: data kept in the file', () => {
  it('survives a restart: jobs, runs, sessions and audit events read back equal', async () => {
    const path = tempDbPath();
    const first = await openStore({ path });
    const job = await first.createJob(makeJob({ webhookHeaders: { Authorization: 'Bearer ${TOKEN}' }, delivery: ['webhook', 'custom:ops'] }));
    const run = await first.insertRun({
      ...newRun(job, { scheduledFor: at(1), trigger: 'schedule' }),
      deliveries: [{ channel: 'webhook', status: 'pending', attempts: 2, error: 'HTTP 503', completedAt: null }],
      approval: {
        approver: 'ops',
        reason: 'production',
        policyId: 'require_approval',
        requestedAt: at(1.5),
        expiresAt: at(3601),
        decision: 'approved',
        decidedBy: 'alice',
        decidedAt: at(30.25),
        note: null,
      },
      iterations: [{ index: 1, output: 'ok', summary: 's', action: 'sleep', durationMs: 12.5 }],
    });
    const session = { summary: 'last time', history: [{ role: 'user' as const, content: 'hi', at: at(1).toISOString() }], updatedAt: at(2) };
    await first.saveSession(job.id, session);
    const event = { id: crypto.randomUUID(), type: 'CronJobCreated' as const, at: at(0.001), jobId: job.id, runId: null, actor: 'cli', details: { n: 1, nested: { ok: true } } };
    await first.appendAudit(event);
    await first.close();

    const second = await openStore({ path });
    expect(await second.getJob(job.id)).toEqual(job);
    expect(await second.getRun(run.id)).toEqual(run);
    expect(await second.loadSession(job.id)).toEqual(session);
    expect(await second.queryAudit()).toEqual([event]);
  });

  it('deletes runs and session with their job by foreign-key cascade, keeping audit events', async () => {
    const store = await openStore();
    const job = await store.createJob(makeJob());
    const other = await store.createJob(makeJob());
    await store.insertRun(newRun(job, { scheduledFor: at(1), trigger: 'manual' }));
    const kept = await store.insertRun(newRun(other, { scheduledFor: at(1), trigger: 'manual' }));
    await store.saveSession(job.id, { summary: 's', history: [], updatedAt: at(1) });
    await store.appendAudit({ id: 'e1', type: 'CronJobDeleted', at: at(2), jobId: job.id, runId: null, actor: 'cli', details: {} });
    expect(await store.deleteJob(job.id)).toBe(true);
    expect(await store.listRuns()).toEqual([kept]);
    expect(await store.loadSession(job.id)).toBeNull();
    expect(await store.queryAudit({ jobId: job.id })).toHaveLength(1);
  });
});

describe("SqliteJobStore: a success's routine event kept as a mark on its run", () => {
  /** Rows of `audit_events` in the store's file, read on a connection of the test's own. */
  const auditRows = (path: string) => {
    const raw = new Database(path, { readonly: true });
    try {
      return raw.prepare('select id, type from audit_events order by rowid').all() as { id: string; type: string }[];
    } finally {
      raw.close();
    }
  };

  it('writes no audit row for a success the scheduler finishes, and queryAudit answers its event from the run', async () => {
    const store = await openStore();
    const { scheduler, clock, stop } = await createTestScheduler({ store, start: at(0) });
    onCleanup(stop);
    const job = await scheduler.add({ name: 'digest', agentId: 'noop', cronExpr: '*/10 * * * * *' });
    await clock.advance('30s');
    const runs = await store.listRuns({ jobId: job.id, status: 'succeeded' });
    expect(runs).toHaveLength(3);
    // Only the job's creation is a row; its runs' events are their marks.
    expect(auditRows(store.path).map((row) => row.type)).toEqual(['CronJobCreated']);
    const executed = await store.queryAudit({ type: 'CronJobExecuted' });
    expect(executed).toEqual(runs.map((run) => executedAuditEvent(run as ExecutedRunFacts)));
    expect(executed.map((event) => event.details)).toEqual(runs.map((run) => ({ job_name: 'digest', status: 'succeeded', execution_time_ms: run.executionTimeMs })));
  });

  it('marks a success only with a completion time: the patch\'s, or else the one the run has', async () => {
    const store = await openStore();
    const job = await store.createJob(makeJob({ nextRun: null }));
    const running = (s: number, completedAt: Date | null) =>
      store.insertRun({ ...newRun(job, { scheduledFor: at(s), trigger: 'manual' }), status: 'running', owner: 'a', startedAt: at(s), completedAt });
    const finish = (runId: string, patch: RunPatch) =>
      store.finishRun({ runId, owner: 'a', outcome: 'success', patch: { status: 'succeeded', executionTimeMs: 5, ...patch }, plan: () => ({}), executedAudit: true });
    const without = await running(1, null);
    const own = await running(2, at(2.5));
    const cleared = await running(3, at(3.5));
    expect((await finish(without.id, {}))?.run.status).toBe('succeeded');
    expect((await finish(cleared.id, { completedAt: null }))?.run.status).toBe('succeeded');
    const marked = (await finish(own.id, {}))!.run;
    expect(await store.queryAudit()).toEqual([executedAuditEvent(marked as ExecutedRunFacts)]);
    const raw = new Database(store.path, { readonly: true });
    onCleanup(() => raw.close());
    expect(raw.prepare('select id from runs where audited = 1').pluck().all()).toEqual([own.id]);
  });

  it('writes the marked events as rows when their runs are pruned or their job deleted, and nothing on a dry run', async () => {
    const store = await openStore();
    const job = await store.createJob(makeJob({ nextRun: null }));
    const finished = [];
    for (const s of [1, 2, 3]) {
      const run = await store.insertRun({ ...newRun(job, { scheduledFor: at(s), trigger: 'manual' }), status: 'running', owner: 'a', startedAt: at(s) });
      const patch = { status: 'succeeded' as const, completedAt: at(s + 0.5), executionTimeMs: 500 };
      finished.push((await store.finishRun({ runId: run.id, owner: 'a', outcome: 'success', patch, plan: () => ({}), executedAudit: true }))!.run);
    }
    const events = finished.map((run) => executedAuditEvent(run as ExecutedRunFacts)).reverse();
    expect(await store.queryAudit()).toEqual(events);
    expect(auditRows(store.path)).toEqual([]);

    const prune = { jobs: [{ jobId: job.id, finishedBefore: at(2), keepNewest: null }], statuses: TERMINAL_RUN_STATUSES, limit: 10 };
    expect(await store.pruneHistory({ ...prune, dryRun: true })).toBe(1);
    expect(auditRows(store.path)).toEqual([]);
    expect(await store.pruneHistory(prune)).toBe(1);
    expect(auditRows(store.path)).toEqual([{ id: finished[0]!.id, type: 'CronJobExecuted' }]);
    expect(await store.queryAudit()).toEqual(events);

    expect(await store.deleteJob(job.id)).toBe(true);
    expect(auditRows(store.path).map((row) => row.id)).toEqual(finished.map((run) => run.id));
    expect(await store.queryAudit()).toEqual(events);
    expect(await store.queryAudit({ jobId: job.id, limit: 2 })).toEqual(events.slice(0, 2));
  });
  it("writes a pruned or deleted run's event as the row core's executedAuditEvent gives: same id, time, actor, type and details", async () => {
    const store = await openStore();
    const job = await store.createJob(makeJob({ name: 'quote " back\\slash ü ✓ \n', nextRun: null }));
    const times = [0.1 + 0.2, 1500, null, 1e-7, 123456.789, 2 ** 53 + 2];
    const finished = [];
    for (const [i, executionTimeMs] of times.entries()) {
      const run = await store.insertRun({ ...newRun(job, { scheduledFor: at(i), trigger: 'manual' }), status: 'running', owner: 'a', startedAt: at(i) });
      // Two runs finish at one time: rows of equal time are written in id order.
      const patch = { status: 'succeeded' as const, completedAt: at(Math.min(i, 4) + 0.25), executionTimeMs };
      finished.push((await store.finishRun({ runId: run.id, owner: 'a', outcome: 'success', patch, plan: () => ({}), executedAudit: true }))!.run);
    }
    const expected = finished
      .map((run) => executedAuditEvent(run as ExecutedRunFacts))
      .sort((a, b) => a.at.getTime() - b.at.getTime() || (a.id < b.id ? -1 : 1));
    const prune = { jobs: [{ jobId: job.id, finishedBefore: at(2), keepNewest: null }], statuses: TERMINAL_RUN_STATUSES, limit: 10 };
    expect(await store.pruneHistory(prune)).toBe(2);
    expect(await store.deleteJob(job.id)).toBe(true);
    const raw = new Database(store.path, { readonly: true });
    onCleanup(() => raw.close());
    const rows = raw.prepare('select * from audit_events order by rowid').all() as { at: number; job_id: string; run_id: string; details: string }[];
    const written = rows.map(({ at: time, job_id, run_id, details, ...row }) => ({ ...row, at: new Date(time), jobId: job_id, runId: run_id, details: JSON.parse(details) }));
    expect(written).toEqual(expected);
    expect(await store.queryAudit()).toEqual([...expected].reverse());
  });
});

describe('SqliteJobStore: claimed jobs', () => {
  it('hands every claimed run a job object of its own, sharing nothing with the job plan saw', async () => {
    const store = await openStore();
    const job = await store.createJob(makeJob({ maxConcurrent: 5, nextRun: at(1), delivery: ['webhook'] }));
    let planned: CronJobDefinition | undefined;
    const claimed = await store.claimDue({
      now: at(1),
      owner: 'a',
      leaseMs: 1000,
      limit: 10,
      plan: (due) => {
        planned = due;
        const fire = (n: number) => newRun(due, { scheduledFor: at(n), trigger: 'schedule' });
        return { runs: [fire(1), { ...fire(1), id: crypto.randomUUID(), fireKey: 'second' }], nextRun: at(2) };
      },
    });
    expect(claimed).toHaveLength(2);
    const [first, second] = claimed as [ClaimedRun, ClaimedRun];
    expect(first.job).toEqual(second.job);
    expect(first.job).toMatchObject({ id: job.id, nextRun: at(2) });
    first.job.delivery.push('slack');
    first.job.policy.requireCapabilities.push('gpu');
    expect(second.job.delivery).toEqual(['webhook']);
    expect(second.job.policy).toEqual(job.policy);
    expect(planned?.delivery).toEqual(['webhook']);
    expect(planned?.policy).toEqual(job.policy);
  });
});

describe('SqliteJobStore: runs a claim fires', () => {
  /** A store with a queued manual run due at(1) and a job due at(2) whose fire plans two runs. */
  async function fireOfTwo() {
    const store = await openStore();
    const other = await store.createJob(makeJob());
    const queued = await store.insertRun(newRun(other, { scheduledFor: at(1), trigger: 'manual' }));
    await store.createJob(makeJob({ maxConcurrent: 5, nextRun: at(2) }));
    const claim = (owner: string, limit: number) =>
      store.claimDue({
        now: at(2),
        owner,
        leaseMs: 1000,
        limit,
        plan: (due) => {
          const fire = (key: string) => ({ ...newRun(due, { scheduledFor: at(2), trigger: 'schedule' }), fireKey: key });
          return { runs: [fire('first'), fire('second')], nextRun: null };
        },
      });
    return { store, queued, claim };
  }

  it('are claimed with the queued ones, lowest due time first, each stored as its claimer holds it', async () => {
    const { store, queued, claim } = await fireOfTwo();
    const claimed = await claim('a', 10);
    expect(claimed.map(({ run }) => run.dueAt)).toEqual([at(1), at(2), at(2)]);
    expect(claimed[0]!.run.id).toBe(queued.id);
    for (const { run } of claimed) {
      expect(run).toMatchObject({ owner: 'a', leaseExpiresAt: at(3), waitForSlot: false, status: 'scheduled' });
      expect(await store.getRun(run.id)).toEqual(run);
    }
    expect(await claim('b', 10)).toEqual([]);
  });

  it('beyond the claim\'s limit stay queued, unowned, for the next claimer', async () => {
    const { store, queued, claim } = await fireOfTwo();
    const claimed = await claim('a', 2);
    expect(claimed.map(({ run }) => run.id)[0]).toBe(queued.id);
    expect(claimed).toHaveLength(2);
    const left = (await store.listRuns()).filter((run) => !claimed.some((c) => c.run.id === run.id));
    expect(left).toHaveLength(1);
    expect(left[0]).toMatchObject({ owner: null, leaseExpiresAt: null, status: 'scheduled' });
    expect((await claim('b', 10)).map(({ run }) => [run.id, run.owner])).toEqual([[left[0]!.id, 'b']]);
  });
});

describe('SqliteJobStore: errors', () => {
  it('maps a taken name to ConflictError, and a run or session of an unknown job to JobNotFoundError', async () => {
    const store = await openStore();
    const job = await store.createJob(makeJob({ name: 'daily-report' }));
    const duplicate = store.createJob(makeJob({ name: 'daily-report' }));
    await expect(duplicate).rejects.toBeInstanceOf(ConflictError);
    await expect(duplicate).rejects.toThrow(/daily-report/);
    await expect(store.insertRun(newRun({ ...job, id: 'ghost' }, { scheduledFor: at(1), trigger: 'manual' }))).rejects.toBeInstanceOf(JobNotFoundError);
    await expect(store.saveSession('ghost', { summary: null, history: [], updatedAt: at(1) })).rejects.toBeInstanceOf(JobNotFoundError);
  });

  it('turns a write lock held elsewhere into a retryable StoreError once the busy timeout passes', async () => {
    const path = tempDbPath();
    const store = await openStore({ path, busyTimeoutMs: 50 });
    const holder = new Database(path);
    onCleanup(() => holder.close());
    holder.exec('begin immediate');
    onCleanup(() => holder.exec('rollback'));

    const started = Date.now();
    const error = await store.createJob(makeJob()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ code: 'STORE', retryable: true });
    expect((error as Error).cause).toMatchObject({ code: 'SQLITE_BUSY' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(40);
    // Reads still work in WAL mode while another connection writes.
    expect(await store.listJobs()).toEqual([]);
  });

  it('passes an error thrown by a plan through unchanged and rolls the claim back', async () => {
    const store = await openStore();
    const job = await store.createJob(makeJob());
    const boom = new Error('plan exploded');
    await expect(
      store.claimDue({
        now: at(10),
        owner: 'a',
        leaseMs: 1000,
        limit: 10,
        plan: () => {
          throw boom;
        },
      }),
    ).rejects.toBe(boom);
    expect((await store.getJob(job.id))?.nextRun).toEqual(job.nextRun);
    expect(await store.listRuns()).toEqual([]);
  });

  it('rejects a negative or fractional limit with a ValidationError naming it', async () => {
    const store = await openStore();
    await expect(store.listRuns({ limit: -1 })).rejects.toMatchObject({ code: 'VALIDATION', field: 'limit' });
    await expect(store.listJobs({ offset: 1.5 })).rejects.toMatchObject({ code: 'VALIDATION', field: 'offset' });
    await expect(store.listJobs({ offset: 1.5 })).rejects.toBeInstanceOf(SchedulerError);
  });
});

describe('SqliteJobStore: a run\'s row as the store last wrote it', () => {
  /** A store opened with `options`, one job due at(1), and the `count` runs of its fire as claimed by owner `a`. */
  async function claimedRuns(options: SqliteJobStoreOptions, count = 1) {
    const store = await openStore(options);
    const job = await store.createJob(makeJob({ maxConcurrent: count, nextRun: at(1) }));
    const claimed = await store.claimDue({
      now: at(1),
      owner: 'a',
      leaseMs: 60_000,
      limit: count,
      plan: (due) => ({
        runs: Array.from({ length: count }, (_, i) => ({ ...newRun(due, { scheduledFor: at(1), trigger: 'schedule' }), fireKey: `${due.id}:${i}` })),
        nextRun: null,
      }),
    });
    return { store, job, runs: claimed.map(({ run }) => run) };
  }

  /** {@link claimedRuns} of one run. */
  async function claimedRun(options: SqliteJobStoreOptions) {
    const { runs, ...rest } = await claimedRuns(options);
    return { ...rest, run: runs[0] as ClaimedRun['run'] };
  }

  it('answers a start and a finish with what another connection wrote to the run in between', async () => {
    const path = tempDbPath();
    const { store, run } = await claimedRun({ path });
    const other = await openStore({ path });
    await other.updateRun(run.id, { input: 'changed elsewhere', cancelRequested: true });
    const started = await store.updateRun(run.id, { status: 'running', startedAt: at(2) }, { owner: 'a', statusIn: ['scheduled'] });
    expect(started).toMatchObject({ status: 'running', input: 'changed elsewhere', cancelRequested: true });
    await other.updateRun(run.id, { summary: 'from the other' });
    const finished = await store.finishRun({ runId: run.id, owner: 'a', patch: { status: 'succeeded', completedAt: at(3) }, outcome: 'success', plan: () => ({}) });
    expect(finished?.run).toEqual(await other.getRun(run.id));
    expect(finished?.run).toMatchObject({ status: 'succeeded', summary: 'from the other', input: 'changed elsewhere' });
  });

  it('finishes a run on its job as the file holds it, changed since the fire by another connection or by a save', async () => {
    const path = tempDbPath();
    const { store, job, run } = await claimedRun({ path });
    const other = await openStore({ path });
    await other.saveJob({ ...(await other.getJob(job.id))!, name: 'renamed elsewhere', maxRetries: 3 });
    await store.updateRun(run.id, { status: 'running', startedAt: at(2) }, { owner: 'a' });
    const finished = await store.finishRun({ runId: run.id, owner: 'a', patch: { status: 'succeeded', completedAt: at(3) }, outcome: 'success', plan: () => ({}) });
    expect(finished?.job).toMatchObject({ name: 'renamed elsewhere', maxRetries: 3, runCount: 1 });
    expect(finished?.job).toEqual(await other.getJob(job.id));

    const again = await claimedRun({ path: tempDbPath() });
    await again.store.saveJob({ ...(await again.store.getJob(again.job.id))!, name: 'renamed here' });
    const done = await again.store.finishRun({ runId: again.run.id, owner: 'a', patch: { status: 'failed', completedAt: at(3) }, outcome: 'failure', plan: () => ({}) });
    expect(done?.job).toMatchObject({ name: 'renamed here', failureCount: 1 });
    expect(done?.job).toEqual(await again.store.getJob(again.job.id));
  });

  it('writes the job\'s status and next fire at a finish only when they change (they key its due index)', async () => {
    const database = new Database(tempDbPath());
    onCleanup(() => database.close());
    const updates: string[] = [];
    const prepare = database.prepare.bind(database);
    database.prepare = ((source: string) => {
      if (/^update "jobs"/.test(source)) updates.push(source);
      return prepare(source);
    }) as typeof database.prepare;
    const finish = (store: SqliteJobStore, run: ClaimedRun['run'], status?: 'paused') =>
      store.finishRun({ runId: run.id, owner: 'a', patch: { status: 'succeeded', completedAt: at(3) }, outcome: 'success', plan: () => (status ? { status } : {}) });

    const kept = await claimedRun({ database });
    updates.length = 0;
    const same = await finish(kept.store, kept.run);
    expect(updates).toHaveLength(1);
    expect(updates[0]).not.toMatch(/"status"|"next_run"/);
    expect(same?.job).toEqual(await kept.store.getJob(kept.job.id));

    const paused = await claimedRun({ path: tempDbPath() });
    const changed = await finish(paused.store, paused.run, 'paused');
    expect(changed?.job).toMatchObject({ status: 'paused', runCount: 1 });
    expect(changed?.job).toEqual(await paused.store.getJob(paused.job.id));

    // Paused by another connection since the fire: the finish reads the job as the file holds it and keeps the pause.
    const path = tempDbPath();
    const elsewhere = await claimedRun({ path });
    const other = await openStore({ path });
    await other.saveJob({ ...(await other.getJob(elsewhere.job.id))!, status: 'paused' });
    expect((await finish(elsewhere.store, elsewhere.run))?.job).toMatchObject({ status: 'paused', runCount: 1 });
    expect(await other.getJob(elsewhere.job.id)).toMatchObject({ status: 'paused', runCount: 1 });
  });

  it('counts every finished run of one fire on its job', async () => {
    const { store, job, runs } = await claimedRuns({ path: tempDbPath() }, 2);
    const finish = (run: ClaimedRun['run']) =>
      store.finishRun({ runId: run.id, owner: 'a', patch: { status: 'succeeded', completedAt: at(2) }, outcome: 'success', plan: () => ({}) });
    expect(runs).toHaveLength(2);
    expect((await finish(runs[0]!))?.job).toMatchObject({ runCount: 1 });
    expect((await finish(runs[1]!))?.job).toMatchObject({ runCount: 2 });
    expect(await store.getJob(job.id)).toMatchObject({ runCount: 2 });
  });

  it('answers what the file holds after a batch whose write failed was rolled back', async () => {
    const { store, job, run } = await claimedRun({ path: tempDbPath() });
    // One batch: the start, then an insert that fails (taken id); the batch runs again with a savepoint each.
    const [started, duplicate] = await Promise.allSettled([
      store.updateRun(run.id, { status: 'running', startedAt: at(2) }, { owner: 'a' }),
      store.insertRun({ ...newRun(job, { scheduledFor: at(2), trigger: 'manual' }), id: run.id }),
    ]);
    expect(started).toMatchObject({ status: 'fulfilled', value: { status: 'running' } });
    expect(duplicate).toMatchObject({ status: 'rejected' });
    const finished = await store.finishRun({ runId: run.id, owner: 'a', patch: { status: 'failed', error: 'x', completedAt: at(3) }, outcome: 'failure', plan: () => ({}) });
    expect(finished?.run).toEqual(await store.getRun(run.id));
    expect(finished?.run).toMatchObject({ status: 'failed', startedAt: at(2), owner: 'a' });
  });

  it('keeps nothing on a connection handed in, which others may write through', async () => {
    const raw = new Database(tempDbPath());
    onCleanup(() => raw.close());
    const { store, run } = await claimedRun({ database: raw });
    raw.prepare("update runs set input = 'written on the same connection' where id = ?").run(run.id);
    expect(await store.updateRun(run.id, { status: 'running', startedAt: at(2) }, { owner: 'a' })).toMatchObject({ input: 'written on the same connection' });
  });
});
