import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { SqliteJobStore, type SqliteJobStoreOptions } from '../src/index.js';

const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A fresh temporary folder, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'symbi-store-sqlite-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A path for a database file in a fresh temporary folder. */
export function tempDbPath(): string {
  return join(tempDir(), 'scheduler.db');
}

/** An initialised store on `path` (a fresh temporary file by default), closed after the test. */
export async function openStore(options: SqliteJobStoreOptions = { path: tempDbPath() }): Promise<SqliteJobStore> {
  const store = new SqliteJobStore(options);
  cleanups.push(() => store.close());
  await store.init();
  return store;
}

/** Registers something to undo after the test (closing a raw connection, restoring the cwd…). */
export function onCleanup(cleanup: () => unknown): void {
  cleanups.push(cleanup);
}
