import { randomUUID } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { planFire, resolveSchedulerConfig, type ClaimRequest, type CronJobDefinition, type JobStore } from '@symbi/core';
import { PostgresJobStore } from '@symbi/store-postgres';
import { SqliteJobStore } from '@symbi/store-sqlite';
import { createJobs, dueOneShot, jobDefinition, openStore, type StoreLocation } from './our-stores.js';
import { POSTGRES_URL } from './services.js';
import { distribution, preciseNow, type Distribution } from './stats.js';

/** Jobs written per transaction (SQLite) while loading. */
const SQLITE_LOAD_CHUNK = 50_000;
/** Concurrent `createJob` calls (one connection each) while loading PostgreSQL. */
const POSTGRES_LOAD_CONNECTIONS = 8;

/** Arguments of {@link scaleLoad}. */
export interface ScaleLoadArgs {
  /** The store to fill (SQLite or PostgreSQL). */
  location: StoreLocation;
  /** Jobs already stored. */
  from: number;
  /** Jobs stored once done. */
  to: number;
}

/**
 * Stores jobs `from`..`to` (daily cron jobs whose next fires are spread over the day after next
 * hour, so none is due) through the store's own `createJob`. SQLite: one transaction per 50,000
 * jobs on the store's connection. PostgreSQL: 8 connections creating jobs side by side with
 * `synchronous_commit = off` (a loading shortcut only: the probes use the store's own pool).
 */
export async function scaleLoad(args: ScaleLoadArgs): Promise<{ loaded: number; ms: number }> {
  const started = preciseNow();
  const template = jobDefinition({ name: 'scale-template', agentId: 'agent', cronExpr: '@daily', sessionMode: 'fully_ephemeral' }, new Date());
  const base = Date.now() + 3_600_000;
  const jobAt = (i: number): CronJobDefinition => ({ ...template, id: randomUUID(), name: `scale-${i}`, nextRun: new Date(base + Math.floor(Math.random() * 86_400_000)) });
  if (args.location.kind === 'sqlite') {
    const database = new BetterSqlite3(args.location.path!);
    const store = new SqliteJobStore({ database });
    try {
      await store.init();
      for (let i = args.from; i < args.to; ) {
        const end = Math.min(args.to, i + SQLITE_LOAD_CHUNK);
        database.exec('BEGIN');
        for (; i < end; i++) await store.createJob(jobAt(i));
        database.exec('COMMIT');
      }
    } finally {
      await store.close();
      database.close();
    }
  } else if (args.location.kind === 'postgres') {
    const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: POSTGRES_LOAD_CONNECTIONS, options: '-c synchronous_commit=off' });
    const store = new PostgresJobStore({ pool, schema: args.location.schema! });
    try {
      await store.init();
      let next = args.from;
      const worker = async () => {
        while (next < args.to) await store.createJob(jobAt(next++));
      };
      await Promise.all(Array.from({ length: POSTGRES_LOAD_CONNECTIONS }, worker));
    } finally {
      await store.close();
      await pool.end();
    }
    // Fresh planner statistics, as autovacuum would gather after a bulk load.
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    await client.query(`ANALYZE "${args.location.schema!}".jobs`);
    await client.end();
  } else {
    throw new Error('scaleLoad fills a SQLite or PostgreSQL store');
  }
  return { loaded: args.to - args.from, ms: preciseNow() - started };
}

/** What {@link scaleProbe} measured on a store holding many jobs. */
export interface ScaleProbeResult {
  /** Jobs stored when the probe began. */
  jobs: number;
  /** One idle tick: `nextWakeAt()` then a `claimDue` that finds nothing due (ms). */
  tick: Distribution;
  /** `nextWakeAt()` alone (ms). */
  nextWakeAt: Distribution;
  /** `claimDue` finding nothing due, alone (ms). */
  emptyClaim: Distribution;
  /** `claimDue` claiming a batch of `batch` due jobs among the stored ones (ms). */
  batchClaim: Distribution;
  /** Jobs per batch claim. */
  batch: number;
  /**
   * Everything one idle cycle of `CronScheduler` asks the store: `recoverExpired`, the
   * `awaiting_approval` listing, `claimDue` and `nextWakeAt` (ms).
   */
  idleCycle: Distribution;
  /** Resident set size of this process after the probe, with the store open (bytes). */
  rssBytes: number;
  /** V8 heap in use after the probe (bytes). */
  heapUsedBytes: number;
}

/**
 * Opens a store that already holds many jobs, in a fresh process, and times the calls a scheduler
 * makes on every tick: `samples` idle ticks, and `batchSamples` claims of `batch` newly due
 * one-shot jobs (each batch then finished, untimed, so the next tick sees a clean queue).
 */
export async function scaleProbe(args: { location: StoreLocation; samples: number; batchSamples: number; batch: number }): Promise<ScaleProbeResult> {
  const store = openStore(args.location);
  const config = resolveSchedulerConfig();
  const owner = `probe-${process.pid}`;
  const request = (now: Date, limit: number): ClaimRequest => ({
    now,
    owner,
    leaseMs: config.leaseMs,
    limit,
    plan: (job, load) => planFire(job, load, { now, config, random: Math.random }),
  });
  const timed = async (work: () => Promise<unknown>): Promise<number> => {
    const start = preciseNow();
    await work();
    return preciseNow() - start;
  };
  try {
    await store.init();
    const counts = await store.countJobs();
    for (let i = 0; i < 20; i++) await idleTick(store, request);
    const tick: number[] = [];
    const wake: number[] = [];
    const empty: number[] = [];
    const cycle: number[] = [];
    for (let i = 0; i < args.samples; i++) {
      tick.push(await timed(() => idleTick(store, request)));
      wake.push(await timed(() => store.nextWakeAt()));
      empty.push(await timed(() => expectClaimed(store, request(new Date(), config.claimBatchSize), 0)));
      cycle.push(
        await timed(async () => {
          const now = new Date();
          await store.recoverExpired({ now, limit: config.claimBatchSize, plan: () => ({}) });
          await store.listRuns({ status: 'awaiting_approval', limit: config.claimBatchSize });
          await expectClaimed(store, request(now, config.claimBatchSize), 0);
          await store.nextWakeAt();
        }),
      );
    }
    const batchClaim: number[] = [];
    for (let s = 0; s < args.batchSamples; s++) {
      const now = new Date(Date.now() - 1000);
      const prefix = `probe-${process.pid}-${now.getTime()}-${s}`;
      await createJobs(store, Array.from({ length: args.batch }, (_, i) => ({ ...dueOneShot(i, now), name: `${prefix}-${i}` })), 1);
      let claimed: Awaited<ReturnType<JobStore['claimDue']>> = [];
      batchClaim.push(await timed(async () => (claimed = await expectClaimed(store, request(new Date(), config.claimBatchSize), args.batch))));
      for (const { run } of claimed) {
        await store.finishRun({ runId: run.id, owner, patch: { status: 'succeeded', completedAt: new Date() }, outcome: 'success', plan: () => ({ status: 'completed' }) });
      }
    }
    const memory = process.memoryUsage();
    return {
      jobs: Object.values(counts).reduce((sum, n) => sum + n, 0),
      tick: distribution(tick),
      nextWakeAt: distribution(wake),
      emptyClaim: distribution(empty),
      batchClaim: distribution(batchClaim),
      batch: args.batch,
      idleCycle: distribution(cycle),
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
    };
  } finally {
    await store.close();
  }
}

async function idleTick(store: JobStore, request: (now: Date, limit: number) => ClaimRequest): Promise<void> {
  await store.nextWakeAt();
  await expectClaimed(store, request(new Date(), 256), 0);
}

async function expectClaimed(store: JobStore, request: ClaimRequest, expected: number) {
  const claimed = await store.claimDue(request);
  if (claimed.length !== expected) throw new Error(`claimDue claimed ${claimed.length} runs, expected ${expected}`);
  return claimed;
}
