/**
 * The scaffolding of a process test: a temporary folder, a store the test process reads, worker
 * processes that are all killed after the file's tests, and everything removed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostgresJobStore } from '@symbi/store-postgres';
import { SqliteJobStore } from '@symbi/store-sqlite';
import { afterAll, beforeAll } from 'vitest';
import { CONNECTION_STRING, dropSchema, randomSchemaName } from '../../packages/store-postgres/test/support/postgres.js';
import { ensureBuilt, startWorker, type WorkerProcess } from './worker-control.mjs';

/** The workers of one test file, on one store. */
export interface WorkerSuite<S> {
  /** The store as the test process reads it (opened before the tests). */
  store(): S;
  /** Starts worker `instance` on the store and waits until it is ready; it logs to `<instance>.jsonl`. */
  spawn(instance: string): Promise<WorkerProcess>;
  /** Every worker started, in order. */
  readonly workers: WorkerProcess[];
}

/** What a suite works on: the store the test process reads, where workers find it, and how it goes away. */
interface SuiteStore<S> {
  store: S;
  target: Pick<Parameters<typeof startWorker>[0], 'store' | 'path' | 'url' | 'schema'>;
  drop(): Promise<void>;
}

function workerSuite<S extends SqliteJobStore | PostgresJobStore>(
  prefix: string,
  settings: Record<string, number>,
  make: (dir: string) => SuiteStore<S>,
): WorkerSuite<S> {
  const workers: WorkerProcess[] = [];
  let dir = '';
  let suite: SuiteStore<S> | undefined;
  beforeAll(async () => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), `symbi-${prefix}-`));
    suite = make(dir);
    await suite.store.init();
  });
  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.kill9()));
    if (suite) {
      await suite.store.close();
      await suite.drop();
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return {
    store: () => (suite as SuiteStore<S>).store,
    workers,
    async spawn(instance) {
      const worker = startWorker({ instance, log: join(dir, `${instance}.jsonl`), ...(suite as SuiteStore<S>).target, settings });
      workers.push(worker);
      await worker.ready;
      return worker;
    },
  };
}

/** Workers on a fresh SQLite file, with the worker flags `settings`. */
export function sqliteWorkers(prefix: string, settings: Record<string, number>): WorkerSuite<SqliteJobStore> {
  return workerSuite(prefix, settings, (dir) => {
    const path = join(dir, 'scheduler.db');
    return { store: new SqliteJobStore({ path }), target: { store: 'sqlite', path }, drop: async () => undefined };
  });
}

/** Workers on a fresh PostgreSQL schema, dropped after the tests, with the worker flags `settings`. */
export function postgresWorkers(prefix: string, settings: Record<string, number>): WorkerSuite<PostgresJobStore> {
  return workerSuite(prefix, settings, () => {
    const schema = randomSchemaName();
    const target = { store: 'postgres' as const, url: CONNECTION_STRING, schema };
    return { store: new PostgresJobStore({ connectionString: CONNECTION_STRING, schema }), target, drop: () => dropSchema(schema) };
  });
}
