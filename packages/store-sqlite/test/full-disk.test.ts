import { join } from 'node:path';
import { newRun, StorageFullError } from '@symbi/core';
import { makeJob } from '@symbi/core/testing';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { SqliteJobStore } from '../src/index.js';
import { mountSmallFilesystem, type SmallFilesystem } from './small-filesystem.js';
import { onCleanup, openStore, tempDbPath } from './temp-files.js';

/** A store that runs out of room, and a way to give it room again. */
interface FullStore {
  store: SqliteJobStore;
  grow(): void;
}

/**
 * A store on a 600 KiB tmpfs: the disk really fills, and SQLite fails the commit (the WAL write),
 * after the statement itself succeeded.
 */
async function storeOnSmallFilesystem(fs: SmallFilesystem): Promise<FullStore> {
  return { store: await openStore({ path: join(fs.dir, 'scheduler.db') }), grow: () => fs.grow() };
}

/** A store whose file may not grow: SQLite's `max_page_count` fails a write needing a new page with SQLITE_FULL. */
async function storeAtMaxPageCount(): Promise<FullStore> {
  const database = new Database(tempDbPath());
  onCleanup(() => database.close());
  const store = await openStore({ database });
  const cap = (pages: number) => database.pragma(`max_page_count = ${pages}`);
  cap(database.pragma('page_count', { simple: true }) as number);
  return { store, grow: () => cap(1_000_000) };
}

/** A job with a long name, so that a few fill the room left. */
const bigJob = (i: number) => makeJob({ name: `job-${i}-${'x'.repeat(3_000)}` });

let mounted: SmallFilesystem | null = null;
afterEach(() => {
  mounted?.release();
  mounted = null;
});

const kinds: [string, () => Promise<FullStore>][] = [
  ['at its max_page_count', storeAtMaxPageCount],
  [
    'on a full tmpfs',
    async () => {
      mounted = mountSmallFilesystem(600);
      if (mounted === null) {
        if (process.env.CI) throw new Error('CI must be able to mount a tmpfs (root or passwordless sudo)');
        console.warn('[store-sqlite] no tmpfs can be mounted here (neither root nor sudo); testing the full disk with max_page_count only');
        return storeAtMaxPageCount();
      }
      return storeOnSmallFilesystem(mounted);
    },
  ],
];

describe.each(kinds)('SqliteJobStore %s', (_, open) => {
  it('rejects a create that did not commit with StorageFullError, keeps every job it reported saved, and reports the trouble until a write commits', async () => {
    const { store, grow } = await open();
    const saved: string[] = [];
    let failure: unknown = null;
    for (let i = 0; i < 400 && failure === null; i++) {
      const job = bigJob(i);
      await store.createJob(job).then(
        () => saved.push(job.id),
        (error: unknown) => (failure = error),
      );
    }
    expect(failure).toBeInstanceOf(StorageFullError);
    expect(failure).toMatchObject({ code: 'STORAGE_FULL', retryable: true, message: expect.stringMatching(/database or disk is full/) });
    expect((await store.listJobs()).map((job) => job.id).sort()).toEqual([...saved].sort());
    expect(store.trouble()).toMatch(/^writes fail since .*: sqlite database is full/);

    await expect(store.createJobIfAbsent(bigJob(999))).rejects.toBeInstanceOf(StorageFullError);
    expect(await store.getJobByName(bigJob(999).name)).toBeNull();

    grow();
    const later = await store.createJob(bigJob(1_000));
    expect(await store.getJob(later.id)).toEqual(later);
    expect(store.trouble()).toBeNull();
    expect(await store.listJobs()).toHaveLength(saved.length + 1);
  });

  it('rejects group-committed writes that did not commit, and keeps nothing of them', async () => {
    const { store } = await open();
    const job = await store.createJob(makeJob({ nextRun: null }));
    const runs = Array.from({ length: 400 }, (_, i) => newRun(job, { scheduledFor: new Date(i * 1000), trigger: 'manual', input: `${i}-${'y'.repeat(2_000)}` }));
    const outcomes = await Promise.allSettled(runs.map((run) => store.insertRun(run)));
    const rejected = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []));
    expect(rejected.length).toBeGreaterThan(0);
    for (const reason of rejected) expect(reason).toBeInstanceOf(StorageFullError);
    const stored = await store.listRuns({ jobId: job.id, limit: 1_000 });
    const fulfilled = runs.filter((_, i) => outcomes[i]!.status === 'fulfilled').map((run) => run.id);
    expect(stored.map((run) => run.id).sort()).toEqual(fulfilled.sort());
  });
});
