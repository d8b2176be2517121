// Runs the real PostgreSQL store's drain (20,000 due no-op one-shots, one CronScheduler,
// maxConcurrentJobs 500, claimBatchSize 500, as bench/src/throughput-ours.ts) with pg's
// Client.prototype.query wrapped, and writes every statement sent during the drain (backend pid,
// name, text, values) to a JSON-lines file, plus the jobs table as loaded (for replays). Also
// reports the server CPU per run of the drain (every backend the store used, from /proc).
//   node bench/prototypes/pg-capture.mjs <out.jsonl> [jobs]
import { readFileSync, createWriteStream } from 'node:fs';
import { CronScheduler, createJobDefinition, firstFire } from '@symbi/core';
import { PostgresJobStore } from '@symbi/store-postgres';
import pg from 'pg';

const url = process.env.SYMBI_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const out = process.argv[2] ?? '/tmp/hP11-capture.jsonl';
const JOBS = Number(process.argv[3] ?? 20_000);
const schema = `hp11_cap_${Date.now()}`;
const ticks = (pid) => {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch { return null; }
};

let capturing = false;
const lines = [];
const pidsAtStart = new Map();
const original = pg.Client.prototype.query;
pg.Client.prototype.query = function (config, values, cb) {
  if (capturing) {
    const pid = this.processID;
    if (!pidsAtStart.has(pid)) pidsAtStart.set(pid, ticks(pid));
    const rec = typeof config === 'string'
      ? { pid, text: config, values: values ?? null }
      : { pid, name: config.name ?? null, text: config.text, values: config.values ?? values ?? null };
    lines.push(rec);
  }
  return original.call(this, config, values, cb);
};

const store = new PostgresJobStore({ connectionString: url, schema });
await store.init();
const now = new Date();
const jobs = Array.from({ length: JOBS }, (_, i) => {
  const job = createJobDefinition({ name: `due-${i}`, agentId: 'noop', at: now.toISOString(), sessionMode: 'fully_ephemeral' }, now);
  job.nextRun = firstFire(job, now);
  return job;
});
let next = 0;
await Promise.all(Array.from({ length: 8 }, async () => { while (next < jobs.length) await store.createJob(jobs[next++]); }));
const admin = new pg.Client({ connectionString: url });
await admin.connect();
await admin.query(`CREATE TABLE "${schema}".jobs_loaded AS SELECT * FROM "${schema}".jobs`);
// the pool's existing connections: take their CPU now
const backends = (await admin.query(`SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND datname = current_database() AND backend_type = 'client backend'`)).rows.map((r) => r.pid);

const scheduler = new CronScheduler({ store, executor: { execute: async () => ({ output: 'ok' }) }, config: { maxConcurrentJobs: 500, claimBatchSize: 500 } });
let done = 0;
let resolveDone;
const allDone = new Promise((r) => { resolveDone = r; });
scheduler.on('run:succeeded', () => { if (++done === JOBS) resolveDone(); });
scheduler.on('run:failed', ({ run }) => { console.error('failed', run.error); });
const cpu0 = process.cpuUsage();
const t0 = performance.now();
capturing = true;
await scheduler.start();
await allDone;
const wall = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
capturing = false;
let server = 0;
for (const [pid, start] of pidsAtStart) { const end = ticks(pid); if (start !== null && end !== null) server += end - start; }
await scheduler.stop();
const ws = createWriteStream(out);
for (const l of lines) ws.write(`${JSON.stringify(l)}\n`);
await new Promise((r) => ws.end(r));
console.log(JSON.stringify({ schema, jobs: JOBS, statements: lines.length, backends: pidsAtStart.size, other_backends_seen: backends.length,
  server_us_per_run: (server * 10_000) / JOBS, process_us_per_run: (cpu.user + cpu.system) / JOBS, wall_ms: Math.round(wall), runs_per_s: Math.round(JOBS / wall * 1000) }));
await store.close();
// keep the schema's jobs_loaded for replay: the caller drops the schema
await admin.end();
