import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { ServerKind } from './cpu-meter.js';

/** The PostgreSQL every PostgreSQL-backed target shares (loopback only). */
export const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** The Redis BullMQ runs on (loopback only). */
export const REDIS = { host: process.env.BENCH_REDIS_HOST ?? '127.0.0.1', port: Number(process.env.BENCH_REDIS_PORT ?? 6379) };

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** Whose processes the CPU meter reads for PostgreSQL: the server's, when it runs on this machine (loopback). */
export const POSTGRES_SERVER: ServerKind = LOOPBACK.has(new URL(POSTGRES_URL).hostname) ? 'postgres' : null;

/** Whose processes the CPU meter reads for Redis: the server's, when it runs on this machine (loopback). */
export const REDIS_SERVER: ServerKind = LOOPBACK.has(REDIS.host) ? 'redis' : null;

/** A schema name no other run uses: `bench_<what>_<random>`. */
export function uniqueSchema(what: string): string {
  return `bench_${what.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
}

/** Runs `work` with one short-lived client of the benchmark database. */
export async function withPostgres<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Drops a schema made by a benchmark, with everything in it. */
export async function dropSchema(schema: string): Promise<void> {
  if (!/^bench_[a-z0-9_]+$/.test(schema)) throw new Error(`refusing to drop ${schema}: not a benchmark schema`);
  await withPostgres((client) => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
}

/** The server's version string, e.g. `PostgreSQL 15.20`. */
export async function postgresVersion(): Promise<string> {
  return withPostgres(async (client) => {
    const { rows } = await client.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    return `PostgreSQL ${rows[0]?.v ?? '?'}`;
  });
}
