import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import { makeJob } from '@symbi/core/testing';
import { WalCheckpointer } from '../src/wal-checkpointer.js';
import { onCleanup, openStore, tempDbPath, tempDir } from './temp-files.js';

/** Jobs in a copy of the database file alone, without its WAL: what checkpoints copied into it so far. */
function jobsInFileAlone(path: string): number {
  const copy = join(tempDir(), 'copy.db');
  copyFileSync(path, copy);
  const database = new Database(copy, { readonly: true });
  try {
    return (database.prepare('select count(*) as n from jobs').get() as { n: number }).n;
  } finally {
    database.close();
  }
}

// The worker runs on real time: these tests wait for it (vi.waitFor), briefly.
describe('checkpoints off the event loop', () => {
  it('copies committed writes into the database file from a worker while the store stays open', async () => {
    const path = tempDbPath();
    const store = await openStore({ path });
    for (let i = 0; i < 20; i++) await store.createJob(makeJob());
    // Far below the connection's own threshold (10,000 frames): only the worker copies them.
    await vi.waitFor(() => expect(jobsInFileAlone(path)).toBe(20), { timeout: 5000, interval: 100 });
  });

  it('holds nothing that keeps the process alive while open', async () => {
    const handles = () => process.getActiveResourcesInfo().filter((kind) => kind !== 'Timeout' && kind !== 'Immediate');
    const before = handles();
    await openStore({ path: tempDbPath() });
    expect(handles()).toEqual(before);
  });

  it('ends the worker on close: its connection is closed, so the WAL is folded into the file and removed', async () => {
    const path = tempDbPath();
    const store = await openStore({ path });
    await store.createJob(makeJob());
    await store.close();
    expect(existsSync(`${path}-wal`)).toBe(false);
    expect(jobsInFileAlone(path)).toBe(1);
  });

  it('leaves a handed-in database checkpointing on its own connection', async () => {
    const database = new Database(tempDbPath());
    onCleanup(() => database.close());
    const store = await openStore({ database });
    await store.createJob(makeJob());
    expect(database.pragma('wal_autocheckpoint', { simple: true })).toBe(10_000);
  });

  it('keeps working in memory, where there is no WAL', async () => {
    const store = await openStore({ path: ':memory:' });
    const job = await store.createJob(makeJob());
    expect(await store.getJob(job.id)).toEqual(job);
    await store.close();
  });

  it('reports a worker that cannot checkpoint, and stops all the same', async () => {
    const onFailure = vi.fn();
    const checkpointer = new WalCheckpointer({ path: join(tempDir(), 'missing.db'), busyTimeoutMs: 100, onFailure, onBehind: () => true });
    await vi.waitFor(() => expect(onFailure).toHaveBeenCalledTimes(1), { timeout: 5000, interval: 20 });
    expect(onFailure.mock.calls[0]![0]).toMatchObject({ message: expect.stringContaining('SQLITE_CANTOPEN') });
    await checkpointer.stop();
  });
});
