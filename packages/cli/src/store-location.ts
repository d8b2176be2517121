import { resolve } from 'node:path';
import type { JobStore } from '@symbi/core';
import { parseStoreUrl, type StoreLocation, type SymbiConfig } from '@symbi/dsl';
import { UsageError } from './errors.js';

/**
 * The store commands work on: `--db` when given, else the configuration's (`store_url`,
 * `SYMBI_DB`, `job_store_path`, default `./.symbi/scheduler.db`). Relative SQLite paths are
 * read from the working directory.
 */
export function resolveStoreLocation(db: string | undefined, config: SymbiConfig): StoreLocation {
  if (db === undefined) return config.scheduler.store;
  const location = parseStoreUrl(db);
  if (location === undefined) {
    throw new UsageError(`--db ${JSON.stringify(db)} is not a store`, 'give an SQLite path, sqlite:PATH or a postgres:// URL');
  }
  return location;
}

/**
 * A PostgreSQL URL split into what `pg` connects with and the parameters this CLI reads:
 * `?schema=` and `?startup_wait_seconds=` (how long start-up waits for the database).
 */
function postgresTarget(url: string): { connectionString: string; schema?: string; startupWaitMs?: number } {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema');
  const wait = parsed.searchParams.get('startup_wait_seconds');
  parsed.searchParams.delete('schema');
  parsed.searchParams.delete('startup_wait_seconds');
  if (wait !== null && !/^\d+(\.\d+)?$/.test(wait)) {
    throw new UsageError(`startup_wait_seconds=${JSON.stringify(wait)} in the store URL is not a number of seconds`, 'e.g. ?startup_wait_seconds=60');
  }
  return {
    connectionString: parsed.toString(),
    ...(schema === null ? {} : { schema }),
    ...(wait === null ? {} : { startupWaitMs: Math.round(Number(wait) * 1000) }),
  };
}

/**
 * Opens (without initialising) the store at `location`. Only the adapter it needs is loaded, so
 * an SQLite user never loads `pg` and commands that need no store start fast.
 */
export async function openStore(location: StoreLocation): Promise<JobStore> {
  if (location.kind === 'sqlite') {
    const { SqliteJobStore } = await import('@symbi/store-sqlite');
    return new SqliteJobStore({ path: location.path });
  }
  const { PostgresJobStore } = await import('@symbi/store-postgres');
  return new PostgresJobStore(postgresTarget(location.url));
}

/**
 * The store as shown to people and used to tell whether two processes share one: an absolute
 * SQLite path, or a PostgreSQL URL without its password.
 */
export function describeStore(location: StoreLocation, cwd: string = process.cwd()): string {
  if (location.kind === 'sqlite') return location.path === ':memory:' ? 'sqlite::memory:' : `sqlite:${resolve(cwd, location.path)}`;
  const parsed = new URL(location.url);
  if (parsed.password !== '') parsed.password = '***';
  return parsed.toString();
}
