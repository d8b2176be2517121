#!/usr/bin/env node
/**
 * One scheduler instance in its own process, for the cross-process reliability tests and the soak.
 *
 * It runs a `CronScheduler` of the BUILT packages (each package's `dist`, what users install) on a
 * PostgreSQL schema or a SQLite file, with an agent that sleeps and may fail on request, and writes
 * every execution it performs to a JSON-lines file: the ground truth of what really ran, to hold
 * against the runs table. Lines are appended synchronously, so they survive a `kill -9`.
 *
 * Usage:
 *   node scheduler-worker.mjs --store postgres --url postgres://… --schema s --instance a --log a.jsonl
 *   node scheduler-worker.mjs --store sqlite --path /tmp/x.db --instance a --log a.jsonl
 * With --http it also serves the HTTP API on a free loopback port (its URL in the ready line), for
 * tests that read `/api/v1/health/scheduler` or create jobs over HTTP.
 * Settings: --lease-ms, --tick-ms, --shutdown-ms, --misfire-ms, --retry-base-ms, --max-retries,
 * --max-concurrent, --agent-ms (how long an agent runs when its job's input does not say).
 *
 * A job's input may be JSON `{"ms": 2500, "failAttempts": 1}`: the agent runs `ms` milliseconds
 * and fails while the run's attempt is at most `failAttempts`.
 *
 * Protocol: one JSON line on stdout `{"ready":true,…}` once started; on SIGTERM or SIGINT it stops
 * gracefully (in-flight runs finish within --shutdown-ms), prints `{"stopped":true,…}` and exits 0.
 */
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { schedulerReportsLogger } from './worker-control.mjs';

const { values: args } = parseArgs({
  options: {
    store: { type: 'string' },
    url: { type: 'string' },
    schema: { type: 'string' },
    path: { type: 'string' },
    instance: { type: 'string' },
    log: { type: 'string' },
    'lease-ms': { type: 'string', default: '2500' },
    'tick-ms': { type: 'string', default: '500' },
    'shutdown-ms': { type: 'string', default: '15000' },
    'misfire-ms': { type: 'string', default: '60000' },
    'retry-base-ms': { type: 'string', default: '200' },
    'max-retries': { type: 'string', default: '3' },
    'max-concurrent': { type: 'string', default: '500' },
    'agent-ms': { type: 'string', default: '20' },
    http: { type: 'boolean', default: false },
  },
});

/** The flags by name, for the checks below. */
const flags = /** @type {Record<string, string | undefined>} */ (args);
for (const required of ['store', 'instance', 'log']) {
  if (!flags[required]) fail(`--${required} is required`);
}

/**
 * @param {string} message
 * @returns {never}
 */
function fail(message) {
  process.stderr.write(`scheduler-worker: ${message}\n`);
  process.exit(2);
}

/** @param {string} name */
function integer(name) {
  const value = Number(flags[name]);
  if (!Number.isInteger(value) || value < 0) fail(`--${name} must be a whole number, got ${flags[name]}`);
  return value;
}

/** @param {string} pkg */
const built = (pkg) => new URL(`../../packages/${pkg}/dist/index.js`, import.meta.url).href;

const { CronScheduler } = /** @type {typeof import('@symbi/core')} */ (await import(built('core')));

async function openStore() {
  if (args.store === 'postgres') {
    if (!args.url || !args.schema) fail('--url and --schema are required with --store postgres');
    const { PostgresJobStore } = /** @type {typeof import('@symbi/store-postgres')} */ (await import(built('store-postgres')));
    return new PostgresJobStore({ connectionString: args.url, schema: args.schema });
  }
  if (args.store === 'sqlite') {
    if (!args.path) fail('--path is required with --store sqlite');
    const { SqliteJobStore } = /** @type {typeof import('@symbi/store-sqlite')} */ (await import(built('store-sqlite')));
    return new SqliteJobStore({ path: args.path });
  }
  return fail(`--store must be postgres or sqlite, got ${args.store}`);
}

const instance = /** @type {string} */ (args.instance);
const logFile = /** @type {string} */ (args.log);
const defaultAgentMs = integer('agent-ms');

/**
 * @param {'start' | 'end' | 'fail'} event
 * @param {{ id: string, jobId: string, scheduledFor: Date, attempt: number, trigger: string }} run
 */
function record(event, run) {
  const line = {
    event,
    instance,
    runId: run.id,
    jobId: run.jobId,
    scheduledFor: run.scheduledFor.toISOString(),
    attempt: run.attempt,
    trigger: run.trigger,
    at: Date.now(),
  };
  appendFileSync(logFile, `${JSON.stringify(line)}\n`);
}

/** @param {string | null} input */
function behaviourOf(input) {
  if (input?.startsWith('{')) {
    const parsed = JSON.parse(input);
    return { ms: Number(parsed.ms ?? defaultAgentMs), failAttempts: Number(parsed.failAttempts ?? 0) };
  }
  return { ms: defaultAgentMs, failAttempts: 0 };
}

/** @type {import('@symbi/core').AgentExecutor} */
const executor = {
  async execute(request, { signal }) {
    const { run } = request;
    const behaviour = behaviourOf(request.input);
    record('start', run);
    await sleep(behaviour.ms, undefined, { signal });
    if (run.attempt <= behaviour.failAttempts) {
      record('fail', run);
      throw new Error(`agent fails attempt ${run.attempt} on purpose`);
    }
    record('end', run);
    return { output: `ran ${run.jobId}@${run.scheduledFor.toISOString()}#${run.attempt} on ${instance}` };
  },
};

/** Reports of fires the scheduler made no run for, and of clock steps, go to the log, so a check of lost fires can tell them from fires that vanished. */
const logger = schedulerReportsLogger(instance, (line) => appendFileSync(logFile, `${JSON.stringify(line)}\n`));

const store = await openStore();
const scheduler = new CronScheduler({
  store,
  executor,
  logger,
  config: {
    instanceId: instance,
    leaseMs: integer('lease-ms'),
    tickIntervalMs: integer('tick-ms'),
    shutdownTimeoutMs: integer('shutdown-ms'),
    misfireThresholdMs: integer('misfire-ms'),
    retryBaseDelayMs: integer('retry-base-ms'),
    defaultMaxRetries: integer('max-retries'),
    maxConcurrentJobs: integer('max-concurrent'),
  },
});

let errors = 0;
scheduler.on('scheduler:error', ({ error, during }) => {
  errors++;
  process.stderr.write(`[${instance}] error during ${during}: ${error instanceof Error ? error.message : String(error)}\n`);
});

await scheduler.start();
const server = args.http
  ? await (/** @type {typeof import('@symbi/server')} */ (await import(built('server')))).startServer({ scheduler, port: 0, openHealth: true })
  : null;
process.stdout.write(`${JSON.stringify({ ready: true, instance, pid: process.pid, url: server?.url ?? null })}\n`);

let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  let interrupted = 0;
  scheduler.on('scheduler:stopped', (payload) => (interrupted = payload.interrupted));
  await server?.close();
  await scheduler.stop();
  await store.close();
  process.stdout.write(`${JSON.stringify({ stopped: true, instance, interrupted, errors })}\n`);
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
