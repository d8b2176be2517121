import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createJobDefinition,
  firstFire,
  InMemoryJobStore,
  type AgentExecutor,
  type CronJobDefinition,
  type JobSpec,
  type JobStore,
} from '@symbi/core';
import { PostgresJobStore } from '@symbi/store-postgres';
import { SqliteJobStore } from '@symbi/store-sqlite';
import { dropSchema, POSTGRES_URL, uniqueSchema } from './services.js';

/** Which of our stores a benchmark runs on. */
export type OurStoreKind = 'memory' | 'sqlite' | 'postgres';

/**
 * Where a store's data lives, so that another process can open the same store: a SQLite file or a
 * PostgreSQL schema (the in-memory store lives only in the process that made it).
 */
export interface StoreLocation {
  /** The store. */
  kind: OurStoreKind;
  /** SQLite: the database file. */
  path?: string;
  /** PostgreSQL: the schema. */
  schema?: string;
}

/** A fresh, empty place for a store of `kind`: a new temporary folder or a new schema. */
export function newStoreLocation(kind: OurStoreKind, label: string): StoreLocation {
  if (kind === 'sqlite') return { kind, path: join(mkdtempSync(join(tmpdir(), `symbi-bench-${label}-`)), 'bench.db') };
  if (kind === 'postgres') return { kind, schema: uniqueSchema(label) };
  return { kind };
}

/** Opens (without initialising) the store at `location`. */
export function openStore(location: StoreLocation): JobStore {
  if (location.kind === 'sqlite') return new SqliteJobStore({ path: required(location.path, 'path') });
  if (location.kind === 'postgres') return new PostgresJobStore({ connectionString: POSTGRES_URL, schema: required(location.schema, 'schema') });
  return new InMemoryJobStore();
}

/** Removes what {@link newStoreLocation} made: the SQLite folder or the schema. */
export async function disposeStoreLocation(location: StoreLocation): Promise<void> {
  if (location.kind === 'sqlite' && location.path) rmSync(join(location.path, '..'), { recursive: true, force: true });
  if (location.kind === 'postgres' && location.schema) await dropSchema(location.schema);
}

function required(value: string | undefined, field: string): string {
  if (value === undefined) throw new Error(`store location has no ${field}`);
  return value;
}

/** A job definition as `CronScheduler.add` would store it, with its first fire computed. */
export function jobDefinition(spec: JobSpec, now: Date): CronJobDefinition {
  const job = createJobDefinition(spec, now);
  job.nextRun = firstFire(job, now);
  return job;
}

/**
 * A one-shot job due now, with no session state to keep: the closest thing in our model to a
 * queued job of a job queue.
 */
export function dueOneShot(index: number, now: Date): CronJobDefinition {
  return jobDefinition({ name: `due-${index}`, agentId: 'noop', at: now.toISOString(), sessionMode: 'fully_ephemeral' }, now);
}

/** Creates `jobs` through the store, `concurrency` at a time (one connection each on PostgreSQL). */
export async function createJobs(store: JobStore, jobs: readonly CronJobDefinition[], concurrency: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      await store.createJob(job);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
}

/** How many jobs a store takes at once while a benchmark loads it. */
export function loadConcurrency(kind: OurStoreKind): number {
  return kind === 'postgres' ? 8 : 1;
}

/** An agent that does nothing and answers at once. */
export const noopExecutor: AgentExecutor = {
  execute: async () => ({ output: 'ok' }),
};
