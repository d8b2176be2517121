import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import pg from 'pg';
import { afterAll } from 'vitest';
import { PostgresJobStore, type PostgresJobStoreOptions } from '@symbi/store-postgres';
import { describeNeeding } from '../../../../tests/support/describe-needing.js';

const require = createRequire(import.meta.url);

/** The test database; override with SYMBI_TEST_POSTGRES_URL. */
export const CONNECTION_STRING = process.env.SYMBI_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Why the PostgreSQL at `url` cannot be used (`PostgreSQL at … is unreachable (…)`), or null when it answers. */
export async function postgresProblem(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return `PostgreSQL at ${url} is unreachable (${error instanceof Error ? error.message : String(error)})`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const unreachable = await postgresProblem(CONNECTION_STRING);

/**
 * `describe` for tests that need the real PostgreSQL. When it cannot be reached the tests are
 * skipped with a visible warning, except on CI (`CI` set), where they fail instead.
 */
export function describePostgres(name: string, body: () => void): void {
  describeNeeding(name, unreachable, body, 'store-postgres');
}

/** A random schema name no other test run uses. */
export function randomSchemaName(): string {
  return `symbi_test_${randomBytes(6).toString('hex')}`;
}

/** The rows `text` answers, run on a connection of its own (outside any store). */
export async function queryRows(text: string, values: unknown[] = []): Promise<pg.QueryResult['rows']> {
  const client = new pg.Client({ connectionString: CONNECTION_STRING });
  await client.connect();
  try {
    return (await client.query(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** Drops a schema with everything in it. */
export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: CONNECTION_STRING });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/**
 * Gives the calling test file its own schema: `open()` returns a new initialised store (own pool)
 * on it, or on the schema named in its options. After the file's tests every store is closed and
 * every schema they used is dropped.
 */
export function useSchema(): { open(options?: PostgresJobStoreOptions): Promise<PostgresJobStore> } {
  const name = randomSchemaName();
  const stores: PostgresJobStore[] = [];
  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
    if (unreachable !== null) return;
    for (const schema of new Set(stores.map((store) => store.schema))) await dropSchema(schema);
  });
  return {
    async open(options = {}) {
      const store = new PostgresJobStore({ connectionString: CONNECTION_STRING, schema: name, ...options });
      stores.push(store);
      await store.init();
      return store;
    },
  };
}

/**
 * Terminates the server connections whose `application_name` is `$1`, and only those: the pids
 * are chosen first (a materialised CTE), so the planner can never call `pg_terminate_backend` on
 * another connection before checking its name. Each call waits (up to 5 s) until its backend has
 * ended, so its client has been told by then. Answers `n`, how many were terminated.
 */
const TERMINATE_BY_APPLICATION = `
  WITH ours AS MATERIALIZED (
    SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()
  )
  SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000))::int AS n FROM ours`;

/**
 * {@link TERMINATE_BY_APPLICATION} from a child process, blocking this one until every such
 * connection has ended: called from synchronous code (a claim's `plan`), nothing this process sends
 * next can reach the server first. Answers how many were terminated.
 */
export function terminateBlocking(name: string): number {
  const script = `const pg = require(${JSON.stringify(require.resolve('pg'))});
    const client = new pg.Client({ connectionString: process.env.URL });
    client.connect().then(() => client.query(process.env.SQL, [process.env.NAME]))
      .then((result) => { process.stdout.write(String(result.rows[0].n)); return client.end(); });`;
  const child = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, URL: CONNECTION_STRING, SQL: TERMINATE_BY_APPLICATION, NAME: name }, encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`terminating the connections of ${name} failed: ${child.stderr}`);
  return Number(child.stdout);
}

/** Terminates the server connections of one application name (see {@link openTerminator}). */
export interface Terminator {
  /** `pg_terminate_backend` on every connection with the name; answers how many. One round trip. */
  terminate(): Promise<number>;
  /** Closes its own connection. */
  close(): Promise<void>;
}

/**
 * Opens a connection that terminates every server connection whose `application_name` is `name`
 * and no other. Tests give their own stores a name of their own, so other users of the shared
 * server are never touched.
 */
export async function openTerminator(name: string): Promise<Terminator> {
  const client = new pg.Client({ connectionString: CONNECTION_STRING });
  await client.connect();
  return {
    terminate: async () => ((await client.query(TERMINATE_BY_APPLICATION, [name])).rows[0] as { n: number }).n,
    close: () => client.end(),
  };
}
