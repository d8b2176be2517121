import { ConflictError, JobNotFoundError, newRun, StoreError, type AuditEvent, type CronJobDefinition, type JobRunRecord } from '@symbi/core';
import { FIXTURE_EPOCH, makeJob } from '@symbi/core/testing';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { SqliteJobStore } from '../src/index.js';
import { SqliteRunner } from '../src/sqlite-runner.js';
import { MAX_BATCHED_WRITES, WriteBatch } from '../src/write-batch.js';
import { onCleanup, openStore, tempDbPath } from './temp-files.js';

const at = (seconds: number): Date => new Date(FIXTURE_EPOCH.getTime() + seconds * 1000);
const OWNER = 'instance-a';

let eventSequence = 0;
const event = (overrides: Partial<AuditEvent> = {}): AuditEvent => ({
  id: `event-${(eventSequence += 1)}`,
  type: 'CronJobExecuted',
  at: at(1),
  jobId: null,
  runId: null,
  actor: 'scheduler',
  details: {},
  ...overrides,
});

/** A store on a fresh file, and a second connection on that file that sees only what was committed. */
async function storeWithPeer(options: { busyTimeoutMs?: number } = {}): Promise<{ store: SqliteJobStore; peer: Database.Database; path: string }> {
  const path = tempDbPath();
  const store = await openStore({ path, ...options });
  const peer = new Database(path);
  onCleanup(() => peer.close());
  return { store, peer, path };
}

/** Queued runs of a fresh job, owned by {@link OWNER}. */
async function ownedRuns(store: SqliteJobStore, count: number): Promise<{ job: CronJobDefinition; runs: JobRunRecord[] }> {
  const job = await store.createJob(makeJob({ nextRun: null, maxConcurrent: count }));
  const runs: JobRunRecord[] = [];
  for (let i = 0; i < count; i += 1) {
    const run = newRun(job, { scheduledFor: at(1 + i), trigger: 'manual' });
    runs.push(await store.insertRun({ ...run, owner: OWNER, leaseExpiresAt: at(600) }));
  }
  return { job, runs };
}

const statusOf = (peer: Database.Database, runId: string): unknown =>
  (peer.prepare('select status from runs where id = ?').get(runId) as { status: string } | undefined)?.status;
const auditCount = (peer: Database.Database): number => (peer.prepare('select count(*) as n from audit_events').get() as { n: number }).n;

const finish = (store: SqliteJobStore, run: JobRunRecord, audit?: (run: JobRunRecord) => AuditEvent[]) =>
  store.finishRun({
    runId: run.id,
    owner: OWNER,
    outcome: 'success',
    patch: { status: 'succeeded', completedAt: at(5), output: 'done' },
    plan: () => ({}),
    ...(audit === undefined ? {} : { audit }),
  });

describe('SqliteJobStore: group commit', () => {
  it('applies the writes asked for in one turn in one transaction, committed at its end', async () => {
    const { store, peer } = await storeWithPeer();
    const { runs } = await ownedRuns(store, 2);
    const [first, second] = runs as [JobRunRecord, JobRunRecord];
    let firstSeenByPeer: unknown;

    const started = store.updateRun(first.id, { status: 'running', startedAt: at(2) }, { owner: OWNER, statusIn: ['scheduled'] });
    const finished = finish(store, second, (run) => {
      // Runs inside the batch, after the first write applied: another connection must not see
      // that write yet, since both commit together.
      firstSeenByPeer = statusOf(peer, first.id);
      return [event({ runId: run.id })];
    });
    // Nothing is written before the turn ends.
    expect(statusOf(peer, first.id)).toBe('scheduled');

    expect(await started).toMatchObject({ id: first.id, status: 'running' });
    expect(await finished).toMatchObject({ run: { id: second.id, status: 'succeeded' } });
    expect(firstSeenByPeer).toBe('scheduled');
    expect(statusOf(peer, first.id)).toBe('running');
    expect(statusOf(peer, second.id)).toBe('succeeded');
    expect(auditCount(peer)).toBe(1);
  });

  it('rejects only the failing writes of a batch, each with its own error, and commits the rest', async () => {
    const { store, peer } = await storeWithPeer();
    const { job, runs } = await ownedRuns(store, 3);
    const [refused, kept, started] = runs as [JobRunRecord, JobRunRecord, JobRunRecord];
    const taken = event();
    const boom = new Error('audit callback exploded');

    const results = await Promise.allSettled([
      store.appendAudit(taken),
      store.appendAudit({ ...taken, details: { again: true } }),
      finish(store, refused, () => {
        throw boom;
      }),
      store.saveSession('no-such-job', { summary: null, history: [], updatedAt: at(3) }),
      finish(store, kept, (run) => [event({ runId: run.id })]),
      store.insertRun({ ...newRun(job, { scheduledFor: at(9), trigger: 'manual' }), id: refused.id }),
      store.updateRun(started.id, { status: 'running', startedAt: at(4) }, { owner: OWNER }),
    ]);

    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
    const reason = (i: number): unknown => (results[i] as PromiseRejectedResult).reason;
    expect(reason(1)).toBeInstanceOf(ConflictError);
    expect(reason(2)).toBe(boom);
    expect(reason(3)).toBeInstanceOf(JobNotFoundError);
    expect(reason(5)).toBeInstanceOf(ConflictError);
    expect(reason(5)).toMatchObject({ message: expect.stringContaining(refused.id) });

    // The thrown audit callback undid its finish entirely: run, job counters and events.
    expect(statusOf(peer, refused.id)).toBe('scheduled');
    expect(statusOf(peer, kept.id)).toBe('succeeded');
    expect(statusOf(peer, started.id)).toBe('running');
    expect((await store.getJob(job.id))?.runCount).toBe(1);
    expect((await store.queryAudit()).map((e) => e.id).sort()).toEqual([taken.id, `event-${eventSequence}`].sort());
  });

  it('commits queued writes before any other call, so reads and claims see them', async () => {
    const { store } = await storeWithPeer();
    const { job, runs } = await ownedRuns(store, 2);
    const [first, second] = runs as [JobRunRecord, JobRunRecord];

    const started = store.updateRun(first.id, { status: 'running', startedAt: at(2) }, { owner: OWNER });
    expect((await store.getRun(first.id))?.status).toBe('running');
    await started;

    const appended = store.appendAudit(event({ jobId: job.id }));
    expect(await store.queryAudit({ jobId: job.id })).toHaveLength(1);
    await appended;

    // A lease given up in this turn is free for a claim asked for right after it.
    const released = store.updateRun(second.id, { owner: null, leaseExpiresAt: null }, { owner: OWNER, statusIn: ['scheduled'] });
    const claimed = await store.claimDue({ now: at(10), owner: 'instance-b', leaseMs: 1000, limit: 10, plan: () => ({ runs: [], nextRun: null }) });
    expect(claimed.map((c) => c.run.id)).toEqual([second.id]);
    expect(await released).toMatchObject({ owner: null });
  });

  it('commits queued writes on close', async () => {
    const { store, path } = await storeWithPeer();
    const written = event();
    const appended = store.appendAudit(written);
    await store.close();
    await expect(appended).resolves.toBeUndefined();
    const reopened = await openStore({ path });
    expect(await reopened.queryAudit()).toEqual([written]);
  });

  it(`commits a batch as soon as it holds ${MAX_BATCHED_WRITES} writes`, async () => {
    const { store, peer } = await storeWithPeer();
    const pending: Promise<void>[] = [];
    for (let i = 0; i < MAX_BATCHED_WRITES; i += 1) pending.push(store.appendAudit(event()));
    expect(auditCount(peer)).toBe(MAX_BATCHED_WRITES);
    pending.push(store.appendAudit(event()));
    expect(auditCount(peer)).toBe(MAX_BATCHED_WRITES);
    await Promise.all(pending);
    expect(auditCount(peer)).toBe(MAX_BATCHED_WRITES + 1);
  });

  it('rejects every write of a batch with a retryable StoreError when the write lock stays taken, and keeps none', async () => {
    const { store, peer } = await storeWithPeer({ busyTimeoutMs: 20 });
    const { runs } = await ownedRuns(store, 1);
    peer.exec('begin immediate');
    const results = await Promise.allSettled([
      store.appendAudit(event()),
      store.updateRun(runs[0]!.id, { status: 'running', startedAt: at(2) }, { owner: OWNER }),
    ]);
    peer.exec('rollback');
    for (const result of results) {
      expect(result.status).toBe('rejected');
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(StoreError);
      expect((result as PromiseRejectedResult).reason).toMatchObject({ retryable: true });
    }
    expect(auditCount(peer)).toBe(0);
    expect(statusOf(peer, runs[0]!.id)).toBe('scheduled');
    // The store goes on working once the lock is free.
    await store.appendAudit(event());
    expect(auditCount(peer)).toBe(1);
  });
});

describe('WriteBatch', () => {
  /** A batch on an in-memory database with one table `t (v text primary key)`. */
  function batchOnMemory(maxSize?: number): { batch: WriteBatch; database: Database.Database; insert: (v: string) => () => number } {
    const database = new Database(':memory:');
    onCleanup(() => database.close());
    database.exec('create table t (v text primary key)');
    const runner = new SqliteRunner(database);
    const db = new Kysely<{ t: { v: string } }>({ dialect: new SqliteDialect({ database }) });
    const insert = (v: string) => () => runner.query('t.insert', (p) => db.insertInto('t').values({ v: p('v') })).run({ v });
    return { batch: new WriteBatch(runner, maxSize), database, insert };
  }
  const rows = (database: Database.Database): unknown[] => database.prepare('select v from t order by v').all();
  const same = (error: unknown): unknown => error;

  it('keeps nothing of a batch whose transaction SQLite ended itself, and rejects every write of it', async () => {
    const { batch, database, insert } = batchOnMemory();
    const results = Promise.allSettled([
      batch.enqueue(insert('a'), same),
      batch.enqueue(() => {
        // As SQLite does on some errors (a full disk, an I/O error): the whole transaction is gone.
        database.exec('rollback');
        throw new Error('disk full');
      }, same),
      batch.enqueue(insert('c'), same),
    ]);
    expect((await results).map((r) => (r.status === 'rejected' ? (r.reason as Error).message : r.status))).toEqual([
      'disk full',
      'disk full',
      'disk full',
    ]);
    expect(database.inTransaction).toBe(false);
    expect(rows(database)).toEqual([]);
    await batch.enqueue(insert('d'), same);
    expect(rows(database)).toEqual([{ v: 'd' }]);
  });

  it('undoes every change of a write that throws halfway, and commits each other write once', async () => {
    const { batch, database, insert } = batchOnMemory();
    const calls: string[] = [];
    const counted = (v: string) => () => {
      calls.push(v);
      return insert(v)();
    };
    const results = await Promise.allSettled([
      batch.enqueue(counted('a'), same),
      batch.enqueue(() => {
        insert('half')();
        throw new Error('callback exploded');
      }, same),
      batch.enqueue(counted('b'), same),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(rows(database)).toEqual([{ v: 'a' }, { v: 'b' }]);
    // The first attempt ran 'a' and stopped at the throw; the second ran all three, in savepoints.
    expect(calls).toEqual(['a', 'a', 'b']);
    expect(database.inTransaction).toBe(false);
  });

  it('undoes a lone write that throws halfway, running it once', async () => {
    const { batch, database, insert } = batchOnMemory();
    let calls = 0;
    const result = batch.enqueue(() => {
      calls += 1;
      insert('half')();
      throw new Error('callback exploded');
    }, same);
    await expect(result).rejects.toThrow('callback exploded');
    expect(calls).toBe(1);
    expect(rows(database)).toEqual([]);
    expect(database.inTransaction).toBe(false);
  });

  it('gives a write queued by another write while its batch runs a batch of its own', async () => {
    const { batch, database, insert } = batchOnMemory();
    let inner: Promise<number> | undefined;
    const outer = batch.enqueue(() => {
      inner = batch.enqueue(insert('inner'), same);
      return insert('outer')();
    }, same);
    await outer;
    expect(rows(database)).toEqual([{ v: 'outer' }]);
    expect(await inner).toBe(1);
    expect(rows(database)).toEqual([{ v: 'inner' }, { v: 'outer' }]);
  });

  it('maps each failure with its own write’s mapping', async () => {
    const { batch, insert } = batchOnMemory(2);
    const mapped = new ConflictError('taken');
    const results = await Promise.allSettled([batch.enqueue(insert('x'), same), batch.enqueue(insert('x'), () => mapped)]);
    expect(results).toEqual([
      { status: 'fulfilled', value: 1 },
      { status: 'rejected', reason: mapped },
    ]);
    expect(batch.size).toBe(0);
  });

  it('refuses a bound below one write', () => {
    const database = new Database(':memory:');
    onCleanup(() => database.close());
    const runner = new SqliteRunner(database);
    expect(() => new WriteBatch(runner, 0)).toThrow(RangeError);
  });
});
