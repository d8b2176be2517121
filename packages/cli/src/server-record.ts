import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { STATE_DIR } from './runtime.js';

/**
 * What `symbi up` leaves behind about itself, so that later commands in the same folder can find
 * its HTTP API (`symbi cron run` goes through it) and the agent files it loaded. One record per
 * store, in `.symbi/servers/`. It never holds the API key.
 */
export interface ServerRecord {
  /** Process id of `symbi up`. */
  pid: number;
  /** Base URL of its HTTP API, or null when it serves none. */
  url: string | null;
  /** The store it schedules (`describeStore`). */
  store: string;
  /** The configuration file it read, if any. */
  config: string | null;
  /** The `.symbi` files it loaded, absolute. */
  files: string[];
  /** When it started (ISO 8601). */
  started_at: string;
  /** When it stopped gracefully; null while it runs (or if it died). */
  stopped_at: string | null;
}

function recordPath(cwd: string, store: string): string {
  const key = createHash('sha256').update(store).digest('hex').slice(0, 16);
  return join(resolve(cwd, STATE_DIR), 'servers', `${key}.json`);
}

/** Writes the record of the `up` serving `record.store` (atomically). */
export function writeServerRecord(cwd: string, record: ServerRecord): void {
  const path = recordPath(cwd, record.store);
  mkdirSync(join(path, '..'), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(temporary, path);
}

/** The record of the last `up` on `store` started from `cwd`, or null. */
export function readServerRecord(cwd: string, store: string): ServerRecord | null {
  try {
    const record = JSON.parse(readFileSync(recordPath(cwd, store), 'utf8')) as ServerRecord;
    return record.store === store ? record : null;
  } catch {
    return null;
  }
}

/** Whether the process that wrote `record` is still running. */
export function isAlive(record: ServerRecord): boolean {
  if (record.stopped_at !== null) return false;
  try {
    process.kill(record.pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
