import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runJobStoreConformance } from '@symbi/core/conformance';
import { SqliteJobStore } from '../src/index.js';

/** Opens an initialised store on `path`. */
async function open(path: string): Promise<SqliteJobStore> {
  const store = new SqliteJobStore({ path });
  await store.init();
  return store;
}

runJobStoreConformance('SqliteJobStore', {
  create: () => open(join(mkdtempSync(join(tmpdir(), 'symbi-sqlite-conformance-')), 'scheduler.db')),
  // A second connection on the same file, as a second scheduler process would have.
  openPeer: (store) => open((store as SqliteJobStore).path),
  destroy: async (store) => {
    await store.close();
    rmSync(dirname((store as SqliteJobStore).path), { recursive: true, force: true });
  },
});
