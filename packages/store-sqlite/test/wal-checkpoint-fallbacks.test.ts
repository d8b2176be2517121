import { copyFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkerOptions } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeJob } from '@symbi/core/testing';
import { WAL_LIMIT_FRAMES } from '../src/wal-checkpointer.js';
import { openStore, tempDbPath, tempDir } from './temp-files.js';

/**
 * The seam: the checkpoint worker is started through this wrapper of `Worker`, which changes what
 * the next worker is given (an idle worker, a file it cannot open) or fails to start it, and keeps
 * the shared memory where the worker leaves the WAL's length for the store.
 */
const seam = vi.hoisted(() => ({
  /** Changes the next worker's data (it is the worker's own object: keep the shared buffer). */
  workerData: null as ((data: Record<string, unknown>) => Record<string, unknown>) | null,
  /** Makes the next `new Worker` throw, as when a thread cannot be started. */
  failToStart: false,
  /** The shared WAL length of the last worker started. */
  walFrames: null as Int32Array | null,
}));

vi.mock('node:worker_threads', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:worker_threads')>();
  class SeamWorker extends original.Worker {
    constructor(source: string, options: WorkerOptions & { workerData: Record<string, unknown> }) {
      if (seam.failToStart) throw new Error('cannot start a thread (test seam)');
      const workerData = seam.workerData?.(options.workerData) ?? options.workerData;
      seam.walFrames = new Int32Array(workerData['walFrames'] as SharedArrayBuffer);
      super(source, { ...options, workerData });
    }
  }
  return { ...original, Worker: SeamWorker };
});

/** A worker that never starts a round while a test runs (its timer looks every 10 minutes). */
const idleWorker = (data: Record<string, unknown>) => ({ ...data, intervalMs: 6_000_000 });

/** Jobs in a copy of the database file alone, without its WAL: what checkpoints copied into it so far. */
function jobsInFileAlone(path: string): number {
  const copy = join(tempDir(), 'copy.db');
  copyFileSync(path, copy);
  const database = new Database(copy, { readonly: true });
  try {
    // Before a first checkpoint the file does not even hold the schema.
    const tables = database.prepare("select count(*) as n from sqlite_master where name = 'jobs'").get() as { n: number };
    return tables.n === 0 ? 0 : (database.prepare('select count(*) as n from jobs').get() as { n: number }).n;
  } finally {
    database.close();
  }
}

const walBytes = (path: string) => statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0;

/** A job whose row spans about 50 pages, so that a few hundred of them make a WAL past its limit. */
const bigJob = () => makeJob({ input: 'x'.repeat(200_000) });

/** The store's warnings about its database (others, e.g. Node's own, are not counted). */
let warnings: string[] = [];
const onWarning = (warning: Error) => {
  if (warning.message.includes('sqlite database')) warnings.push(warning.message);
};

beforeEach(() => {
  warnings = [];
  process.on('warning', onWarning);
});

afterEach(() => {
  process.off('warning', onWarning);
  seam.workerData = null;
  seam.failToStart = false;
  seam.walFrames = null;
});

/** The jobs a store opened afresh on `path` finds (with a worker as usual): what a restart finds. */
async function jobsAfterReopen(path: string): Promise<number> {
  seam.workerData = null;
  seam.failToStart = false;
  const store = await openStore({ path });
  return (await store.listJobs({ limit: 100_000 })).length;
}

describe('the store catches up when the worker leaves the WAL long', () => {
  it('copies the WAL into the database file from its own connection after its next commit, so the WAL starts again', async () => {
    seam.workerData = idleWorker;
    const path = tempDbPath();
    const store = await openStore({ path });
    for (let i = 0; i < 200; i++) await store.createJob(makeJob());
    // Neither the idle worker nor the connection (automatic checkpoints off) copied anything yet.
    expect(jobsInFileAlone(path)).toBe(0);

    // What the worker leaves after a round whose checkpoints never completed under a stream of writes.
    Atomics.store(seam.walFrames!, 0, WAL_LIMIT_FRAMES + 1);
    await store.createJob(makeJob());
    expect(jobsInFileAlone(path)).toBe(201);
    const grown = walBytes(path);

    // The WAL starts again from its beginning: fewer writes than before do not grow its file.
    for (let i = 0; i < 100; i++) await store.createJob(makeJob());
    expect(walBytes(path)).toBe(grown);
    expect(warnings).toEqual([]);
    await store.close();
    expect(await jobsAfterReopen(path)).toBe(301);
  });

  it('does not checkpoint on its own connection while the worker keeps the WAL short', async () => {
    seam.workerData = idleWorker;
    const path = tempDbPath();
    const store = await openStore({ path });
    Atomics.store(seam.walFrames!, 0, WAL_LIMIT_FRAMES);
    for (let i = 0; i < 50; i++) await store.createJob(makeJob());
    expect(jobsInFileAlone(path)).toBe(0);
  });
});

describe('the store checkpoints on its own connection again when the worker fails', () => {
  it.each([
    {
      failure: 'fails as it opens the file',
      // The worker is given a file that does not exist.
      arrange: () => (seam.workerData = (data) => ({ ...data, path: join(tempDir(), 'missing.db') })),
      reason: /SQLITE_CANTOPEN/,
    },
    { failure: 'cannot even start', arrange: () => (seam.failToStart = true), reason: /cannot start a thread \(test seam\)/ },
  ])('warns once when the worker $failure, then bounds the WAL itself and loses no write', async ({ arrange, reason }) => {
    arrange();
    const path = tempDbPath();
    const store = await openStore({ path });
    await vi.waitFor(() => expect(warnings).toHaveLength(1), { timeout: 5000, interval: 20 });
    expect(warnings[0]).toMatch(/checkpoint worker .* failed, its store checkpoints on its own connection: /);
    expect(warnings[0]).toMatch(reason);

    // Big jobs (about 50 pages of 4 KiB each) until the WAL would have passed its limit twice over.
    let written = 0;
    let largestWal = 0;
    for (; written * 50 < 2 * WAL_LIMIT_FRAMES; written++) {
      await store.createJob(bigJob());
      largestWal = Math.max(largestWal, walBytes(path));
    }
    // The connection's automatic checkpoints copied the writes into the file, and the WAL started
    // again instead of holding them all.
    expect(jobsInFileAlone(path)).toBeGreaterThan(0);
    expect(largestWal).toBeLessThan(written * 50 * 4096);
    expect(warnings).toHaveLength(1);
    await store.close();
    expect(await jobsAfterReopen(path)).toBe(written);
  });
});
