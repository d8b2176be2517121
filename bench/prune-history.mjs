// How long history pruning holds the store: one batch of at most 500 deletions, a dry run, and a
// pass with nothing left to delete, on a store of 20 jobs × 5,000 finished runs (retention: 2 days
// or the newest 1,000 per job). Run after `pnpm build`:
//   node bench/prune-history.mjs sqlite
//   node bench/prune-history.mjs postgres   # SYMBI_BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newRun, pruneTermsFor, TERMINAL_RUN_STATUSES } from '@symbi/core';
import { makeJob } from '@symbi/core/testing';
import { PostgresJobStore } from '@symbi/store-postgres';
import { SqliteJobStore } from '@symbi/store-sqlite';
import pg from 'pg';

const kind = process.argv[2] ?? 'sqlite';
const JOBS = 20;
const PER_JOB = 5000;
const BATCH = 500;
const schema = `symbi_prune_bench_${Date.now()}`;
const file = join(tmpdir(), `${schema}.db`);
const url = process.env.SYMBI_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const store = kind === 'sqlite' ? new SqliteJobStore({ path: file }) : new PostgresJobStore({ connectionString: url, schema });
await store.init();
const start = Date.UTC(2026, 0, 1);
const jobs = [];
for (let j = 0; j < JOBS; j++) {
  const job = await store.createJob(makeJob({ name: `job-${j}`, nextRun: null }));
  jobs.push(job);
  await Promise.all(
    Array.from({ length: PER_JOB }, (_, i) => {
      const at = new Date(start + i * 60_000);
      return store.insertRun({ ...newRun(job, { scheduledFor: at, trigger: 'manual' }), status: 'succeeded', completedAt: at });
    }),
  );
}
const now = new Date(start + PER_JOB * 60_000);
const request = { jobs: jobs.map((job) => pruneTermsFor(job, { days: 2, runs: 1000 }, now)), statuses: TERMINAL_RUN_STATUSES, limit: BATCH };
const timed = async (work) => {
  const began = performance.now();
  const result = await work();
  return [result, performance.now() - began];
};
const [counted, dryMs] = await timed(() => store.pruneHistory({ ...request, dryRun: true }));
const batches = [];
for (;;) {
  const [deleted, ms] = await timed(() => store.pruneHistory(request));
  batches.push(ms);
  if (deleted < BATCH) break;
}
const [, idleMs] = await timed(() => store.pruneHistory(request));
batches.sort((a, b) => a - b);
const f = (ms) => `${ms.toFixed(1)} ms`;
console.log(`${kind}: ${JOBS * PER_JOB} finished runs; dry run counted ${counted} in ${f(dryMs)}`);
console.log(`${batches.length} batches of <= ${BATCH}: median ${f(batches[batches.length >> 1])}, max ${f(batches.at(-1))}`);
console.log(`nothing left to delete: ${f(idleMs)} for ${JOBS} jobs (${f(idleMs / JOBS)} per job)`);
await store.close();
if (kind === 'sqlite') for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
else {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`DROP SCHEMA "${schema}" CASCADE`);
  await client.end();
}
