/**
 * Starting, killing and stopping `scheduler-worker.mjs` processes, and reading what they executed.
 * Shared by the process tests (`tests/processes`) and the soak (`bench/soak.mjs`).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const workerFile = fileURLToPath(new URL('./scheduler-worker.mjs', import.meta.url));

/** The packages a worker loads from their build output. */
const WORKER_PACKAGES = ['core', 'store-postgres', 'store-sqlite', 'server'];

/**
 * Builds the packages the worker imports when one has no `dist` yet (the root `pnpm test` builds
 * them before the tests, so this only happens when the process tests are run on their own).
 */
export function ensureBuilt() {
  const missing = WORKER_PACKAGES.filter((pkg) => !existsSync(`${repoRoot}/packages/${pkg}/dist/index.js`));
  if (missing.length === 0) return;
  const filters = missing.flatMap((pkg) => ['--filter', `@symbi/${pkg}`]);
  execFileSync('pnpm', [...filters, 'build'], { cwd: repoRoot, stdio: 'inherit' });
}

/**
 * @typedef {object} WorkerOptions
 * @property {string} instance  the scheduler's instance id (lease owner), also its log's name
 * @property {string} log  JSON-lines file the worker appends its executions to
 * @property {'postgres' | 'sqlite'} store
 * @property {string} [url]  PostgreSQL connection string
 * @property {string} [schema]  PostgreSQL schema
 * @property {string} [path]  SQLite file
 * @property {Record<string, number>} [settings]  worker flags without their dashes, e.g. `{ 'lease-ms': 2000 }`
 * @property {boolean} [http]  also serve the HTTP API (its URL comes with `ready`)
 */

/**
 * @typedef {object} WorkerExit
 * @property {number | null} code
 * @property {NodeJS.Signals | null} signal
 * @property {string} stderr  everything the worker wrote to stderr
 * @property {{ stopped?: boolean, interrupted?: number, errors?: number } | null} report  its final stdout line after a graceful stop
 */

/**
 * A worker process.
 * @typedef {object} WorkerProcess
 * @property {string} instance
 * @property {string} log
 * @property {number} pid
 * @property {Promise<{ url: string | null }>} ready  resolves once the scheduler started, with the API's URL when
 *   it serves one (rejects if the process dies first)
 * @property {Promise<WorkerExit>} exited
 * @property {() => Promise<WorkerExit>} kill9  SIGKILL, the crash under test; resolves once it is gone
 * @property {(timeoutMs?: number) => Promise<WorkerExit>} stop  SIGTERM (graceful stop), then SIGKILL after `timeoutMs`
 */

/**
 * Spawns a worker.
 * @param {WorkerOptions} options
 * @returns {WorkerProcess}
 */
export function startWorker(options) {
  const flags = ['--store', options.store, '--instance', options.instance, '--log', options.log];
  if (options.url) flags.push('--url', options.url);
  if (options.schema) flags.push('--schema', options.schema);
  if (options.path) flags.push('--path', options.path);
  for (const [name, value] of Object.entries(options.settings ?? {})) flags.push(`--${name}`, String(value));
  if (options.http) flags.push('--http');
  const child = spawn(process.execPath, [workerFile, ...flags], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk.toString()));
  /** @type {WorkerExit['report']} */
  let report = null;
  /** @type {(message: { url: string | null }) => void} */
  let onReady = () => {};
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    let message;
    try {
      message = JSON.parse(line);
    } catch {
      return; // not the worker's protocol (a library writing to stdout)
    }
    if (message.ready) onReady({ url: message.url ?? null });
    if (message.stopped) report = message;
  });
  /** @type {Promise<WorkerExit>} */
  const exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr, report })));
  /** @type {Promise<{ url: string | null }>} */
  const ready = new Promise((resolve, reject) => {
    onReady = resolve;
    void exited.then((exit) => reject(new Error(`worker ${options.instance} exited before it was ready (${exit.code ?? exit.signal}): ${exit.stderr}`)));
  });
  ready.catch(() => undefined);
  return {
    instance: options.instance,
    log: options.log,
    pid: /** @type {number} */ (child.pid),
    ready,
    exited,
    kill9: () => {
      child.kill('SIGKILL');
      return exited;
    },
    stop: (timeoutMs = 30_000) => {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      return exited.finally(() => clearTimeout(timer));
    },
  };
}

/**
 * One thing a worker's agent did, as logged.
 * @typedef {object} Execution
 * @property {'start' | 'end' | 'fail'} event  the agent started, succeeded, or failed on purpose
 * @property {string} instance  the scheduler instance that ran it
 * @property {string} runId
 * @property {string} jobId
 * @property {number} scheduledFor  the fire time, epoch ms
 * @property {number} attempt
 * @property {string} trigger
 * @property {number} at  when it happened, epoch ms
 */

/**
 * Every execution the given log files hold. A worker killed mid-write may leave a torn last line,
 * which is ignored (the run it belongs to is judged from the runs table).
 * @param {string[]} files
 * @returns {Execution[]}
 */
export function readExecutions(files) {
  return executionsFrom(readLogLines(files));
}

const EXECUTION_EVENTS = new Set(['start', 'end', 'fail']);

/**
 * The executions among log lines (`start`, `end` and `fail` lines), as {@link Execution}s.
 * @param {any[]} lines
 * @returns {Execution[]}
 */
export function executionsFrom(lines) {
  return lines.filter((line) => EXECUTION_EVENTS.has(line.event)).map((line) => ({ ...line, scheduledFor: Date.parse(line.scheduledFor) }));
}

/**
 * @typedef {object} DroppedFires  missed fires a worker's scheduler reported making no run for
 * @property {string} instance
 * @property {string} jobName
 * @property {string} reason  `skip`, `once`, `window`, `cap`, `rescheduled` or `paused`
 * @property {number} oldest  epoch ms
 * @property {number} newest  epoch ms
 */

/**
 * The `dropped` lines among log lines, as {@link DroppedFires}.
 * @param {any[]} lines
 * @returns {DroppedFires[]}
 */
export function droppedFrom(lines) {
  return lines
    .filter((line) => line.event === 'dropped')
    .map((line) => ({ instance: line.instance, jobName: line.jobName, reason: line.reason, oldest: Date.parse(line.oldest), newest: Date.parse(line.newest) }));
}

/**
 * A scheduler logger that hands the scheduler's reports a check of lost fires needs to `onReport`
 * as log lines: each report of fires it made no run for (its catch-up and job-change reports,
 * logged at warn with a reason and a range) as a `dropped` line, and each wall-clock step it
 * noticed as a `clock-step` line (`ms` signed); every other line is dropped.
 * @param {string} instance
 * @param {(line: object) => void} onReport
 * @returns {import('@symbi/core').Logger}
 */
export function schedulerReportsLogger(instance, onReport) {
  const ignore = () => {};
  return {
    debug: ignore,
    info: ignore,
    error: ignore,
    warn(fields) {
      const at = Date.now();
      if (typeof fields.step_ms === 'number') onReport({ event: 'clock-step', instance, ms: fields.step_ms, at });
      if (typeof fields.reason !== 'string' || typeof fields.oldest !== 'string') return;
      onReport({ event: 'dropped', instance, jobName: fields.job, reason: fields.reason, oldest: fields.oldest, newest: fields.newest, at });
    },
  };
}

/**
 * The wall-clock steps the workers' schedulers noticed, from log lines, in ms (signed).
 * @param {any[]} lines
 * @returns {number[]}
 */
export function clockStepsFrom(lines) {
  return lines.filter((line) => line.event === 'clock-step').map((line) => line.ms);
}

/**
 * Every whole JSON line of the workers' logs (a line cut off by a kill is skipped).
 * @param {string[]} files
 * @returns {any[]}
 */
export function readLogLines(files) {
  const lines = [];
  for (const file of files) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (line === '') continue;
      try {
        lines.push(JSON.parse(line));
      } catch {
        // cut off by a kill
      }
    }
  }
  return lines;
}

/**
 * Runs the worker's agent started and has not finished (no `end` nor `fail`): what was in flight
 * when it was killed.
 * @param {Execution[]} executions
 * @param {string} instance
 * @returns {Execution[]}
 */
export function unfinishedStarts(executions, instance) {
  const finished = new Set(executions.filter((e) => e.instance === instance && e.event !== 'start').map((e) => e.runId));
  return executions.filter((e) => e.instance === instance && e.event === 'start' && !finished.has(e.runId));
}

/**
 * Polls `check` every `everyMs` until it returns a truthy value, which it resolves with; rejects
 * with `what` and the last value after `timeoutMs`.
 * @template T
 * @param {string} what
 * @param {() => Promise<T> | T} check
 * @param {{ timeoutMs: number, everyMs?: number }} limits
 * @returns {Promise<NonNullable<T>>}
 */
export async function waitUntil(what, check, { timeoutMs, everyMs = 200 }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return /** @type {NonNullable<T>} */ (value);
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * Waits until `worker` has at least `atLeast` runs in flight (agent started, not finished), then
 * kills it with SIGKILL; answers when it died and the runs it left in flight.
 * @param {WorkerProcess} worker
 * @param {number} atLeast
 * @param {number} timeoutMs
 * @returns {Promise<{ killedAt: number, orphans: Execution[] }>}
 */
export async function killWhileBusy(worker, atLeast, timeoutMs) {
  const inFlight = () => unfinishedStarts(readExecutions([worker.log]), worker.instance);
  await waitUntil(`${worker.instance} has ${atLeast} runs in flight`, () => inFlight().length >= atLeast, { timeoutMs, everyMs: 20 });
  await worker.kill9();
  return { killedAt: Date.now(), orphans: inFlight() };
}
