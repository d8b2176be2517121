import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { NetworkEndpoint } from '@symbi/delivery';
import { Command, Option } from 'commander';
import type { RunningServer } from '@symbi/server';
import { collect, integerOption, loadCliConfig, notice, print } from '../command-support.js';
import { CliError, UsageError } from '../errors.js';
import type { CommandContext } from '../io.js';
import { DEFAULT_LOG_FILE, LOG_LEVELS, openFileLog, type FileLog } from '../logging.js';
import { relativeTime } from '../output/format.js';
import { scheduleText } from '../output/views.js';
import { examples, type Registrar } from '../program.js';
import { attachRunPrinter } from '../run-printer.js';
import { createRuntime, loadAgentFiles, syncSchedules, undeclaredAgents, type SymbiRuntime } from '../runtime.js';
import { configuredRedactor } from '../secret-values.js';
import { writeServerRecord, type ServerRecord } from '../server-record.js';
import { describeStore, resolveStoreLocation } from '../store-location.js';

/** Options of `symbi up`. */
interface UpOptions {
  file: string[];
  port?: number;
  host?: string;
  logFile: string;
  logLevel: string;
}

/** Exit status after a second Ctrl-C cut the graceful stop short (128 + SIGINT). */
const EXIT_FORCED = 130;

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

/** Every address and port a server bound to `host` answers on: all interfaces for `0.0.0.0` and `::`. */
export function listeningEndpoints(host: string, port: number): NetworkEndpoint[] {
  if (host === 'localhost') return [{ address: '127.0.0.1', port }, { address: '::1', port }];
  if (host !== '0.0.0.0' && host !== '::') return isIP(host) === 0 ? [] : [{ address: host, port }];
  const addresses = Object.values(networkInterfaces()).flatMap((entries) => (entries ?? []).map((entry) => entry.address));
  return [...new Set(['127.0.0.1', '::1', ...addresses])].map((address) => ({ address, port }));
}

/**
 * A second signal this soon after the first is the same Ctrl-C delivered twice: the terminal
 * signals the whole process group, and a runner in it (`pnpm symbi up`) passes its copy on.
 */
const SAME_SIGNAL_MS = 1_000;

/** Resolves on the first SIGINT or SIGTERM; a second one (not a copy of the first) exits at once. */
function shutdownSignal(ctx: CommandContext, log: FileLog): Promise<string> {
  return new Promise((resolve) => {
    let received: number | null = null;
    const onSignal = (signal: string) => {
      if (received !== null) {
        if (Date.now() - received < SAME_SIGNAL_MS) return;
        notice(ctx, 'stopping now: runs still in flight end interrupted and are retried after a restart');
        log.for('cli').warn({ signal }, 'forced stop');
        log.flush();
        process.exit(EXIT_FORCED);
      }
      received = Date.now();
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

async function listen(ctx: CommandContext, runtime: SymbiRuntime, log: FileLog, options: UpOptions): Promise<RunningServer> {
  const { api } = runtime.config;
  const host = options.host ?? api.host;
  const apiKey = ctx.globals.apiKey ?? api.apiKey;
  if (apiKey === null && api.keys.length === 0 && !isLoopback(host)) {
    throw new UsageError(`refusing to serve the API on ${host} without an API key`, 'set --api-key, SYMBI_API_KEY, [api] api_key or [[api.keys]], or listen on 127.0.0.1');
  }
  const { startServer } = await import('@symbi/server');
  try {
    return await startServer({
      scheduler: runtime.scheduler,
      host,
      port: options.port ?? api.port,
      ...(apiKey === null ? {} : { apiKey }),
      apiKeys: api.keys,
      headersTimeoutMs: Math.round(api.headersTimeoutSeconds * 1000),
      requestTimeoutMs: Math.round(api.requestTimeoutSeconds * 1000),
      maxConnections: api.maxConnections,
      openHealth: api.openHealth,
      openMetrics: api.openMetrics,
      envAllow: api.envAllow,
      logger: log.for('server'),
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new CliError(`${host}:${options.port ?? api.port} is already in use`, 'choose another port with --port or [api] listen');
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new CliError(`cannot listen on ${host}`, 'check --host or [api] listen');
    throw error;
  }
}

/**
 * The active jobs in the store whose agents this instance cannot run: the scheduler does not claim
 * them (see `ClaimRequest.agents`), so they wait, untouched, for an instance that declares them.
 */
async function jobsLeftToOthers(runtime: SymbiRuntime): Promise<{ jobs: number; agents: string[] }> {
  const known = new Set(runtime.executor.agents());
  const left = (await runtime.store.listJobs({ status: 'active' })).filter((job) => !known.has(job.agentId));
  return { jobs: left.length, agents: [...new Set(left.map((job) => job.agentId))].sort() };
}

/** `symbi up`: load, sync, start, serve, and stop gracefully on a signal. */
async function up(ctx: CommandContext, options: UpOptions): Promise<void> {
  const config = loadCliConfig(ctx);
  const location = resolveStoreLocation(ctx.globals.db, config);
  const files = loadAgentFiles(options.file, ctx.io.cwd);
  const redactor = configuredRedactor(config, files, ctx.io.env, [ctx.globals.apiKey]);
  const log = await openFileLog(options.logFile, options.logLevel as never, redactor);
  const cliLog = log.for('cli');
  const store = describeStore(location, ctx.io.cwd);
  const self: NetworkEndpoint[] = [];
  const runtime = await createRuntime({ config, location, files, log, env: ctx.io.env, cwd: ctx.io.cwd, redactor, selfEndpoints: () => self });
  const { out } = ctx;
  // Listening from the start: a signal during start-up stops the scheduler once it is up.
  const stopRequested = shutdownSignal(ctx, log);
  let server: RunningServer | null = null;
  try {
    await runtime.init();
    print(ctx, `${out.bold('symbi')} ${out.dim(`store ${store}`)}\n`);
    if (files.files.length === 0) notice(ctx, `${ctx.err.paint('yellow', 'note:')} no --file given; running the jobs already in the store`);
    const now = ctx.io.now();
    const synced = await syncSchedules(runtime, 'symbi up');
    const nameWidth = Math.max(0, ...synced.map(({ job }) => job.name.length));
    const schedules = synced.map(({ job }) => scheduleText({ cron_expr: job.cronExpr, at: job.at, timezone: job.timezone }));
    const scheduleWidth = Math.max(0, ...schedules.map((text) => text.length));
    synced.forEach(({ job, action }, i) => {
      const next = job.nextRun === null ? job.status : `next run ${relativeTime(job.nextRun, now)}`;
      const paint = action === 'created' ? 'green' : action === 'updated' ? 'yellow' : 'grey';
      const columns = `${out.bold(job.name.padEnd(nameWidth))}  ${(schedules[i] as string).padEnd(scheduleWidth)}  ${out.dim(next)}`;
      print(ctx, `  ${out.paint(paint, action.padEnd(9))} ${columns}\n`);
      cliLog.info({ job: job.name, job_id: job.id, action }, `schedule ${action}`);
    });
    for (const note of files.notes) notice(ctx, `${ctx.err.paint('grey', 'note:')} ${note}`);
    for (const { schedule, agent } of undeclaredAgents(files, config)) {
      notice(ctx, `${ctx.err.paint('yellow', 'warning:')} schedule ${schedule} uses agent ${agent}, which no loaded file declares; it waits for an instance that runs ${agent}`);
    }
    const left = await jobsLeftToOthers(runtime);
    if (left.jobs > 0) {
      const count = `${left.jobs} active job${left.jobs === 1 ? '' : 's'}`;
      notice(ctx, `${ctx.err.paint('grey', 'note:')} ${count} left to other instances: their agents (${left.agents.join(', ')}) are not declared here`);
      cliLog.info({ jobs: left.jobs, agents: left.agents }, 'jobs left to other instances');
    }
    server = await listen(ctx, runtime, log, options);
    self.push(...listeningEndpoints(options.host ?? config.api.host, server.port));
    attachRunPrinter(runtime.scheduler, ctx.io.stdout, out, log.for('run'));
    await runtime.scheduler.start();
    const record: ServerRecord = {
      pid: process.pid,
      url: server.url,
      store,
      config: config.file,
      files: files.files,
      started_at: new Date().toISOString(),
      stopped_at: null,
    };
    writeServerRecord(ctx.io.cwd, record);
    const jobs = await runtime.store.countJobs();
    const keyNote = (ctx.globals.apiKey ?? config.api.apiKey) !== null || config.api.keys.length > 0 ? 'API key required' : 'no API key';
    print(ctx, `${out.paint('green', '●')} scheduling ${jobs.active} active job${jobs.active === 1 ? '' : 's'} (${jobs.paused} paused)\n`);
    print(ctx, `${out.paint('green', '●')} API listening on ${out.bold(server.url)} ${out.dim(`(${keyNote})`)}\n`);
    print(ctx, `${out.dim(`  dashboard ${server.url}/ · log ${log.file} · Ctrl-C to stop`)}\n`);
    cliLog.info({ url: server.url, store, files: files.files, pid: process.pid }, 'symbi up');

    const signal = await stopRequested;
    const inFlight = runtime.scheduler.metrics.inFlight;
    const wait = inFlight > 0 ? `, waiting up to ${config.scheduler.shutdownTimeoutSeconds}s for ${inFlight} run${inFlight === 1 ? '' : 's'} in flight` : '';
    print(ctx, `${out.paint('yellow', '●')} ${signal}: stopping${wait}…\n`);
    cliLog.info({ signal, in_flight: inFlight }, 'stopping');
    await server.close();
    server = null;
    await runtime.scheduler.stop();
    writeServerRecord(ctx.io.cwd, { ...record, stopped_at: new Date().toISOString() });
    print(ctx, `${out.paint('green', '●')} stopped\n`);
    cliLog.info({}, 'stopped');
  } finally {
    await server?.close();
    await runtime.close();
    log.flush();
  }
}

/** Registers `symbi up`. */
export function registerUp(program: Command, registrar: Registrar): void {
  examples(
    program
      .command('up')
      .description('run the scheduler: load agents and schedules, upsert the jobs by name, serve the HTTP API, stop gracefully on Ctrl-C')
      .option('-f, --file <file>', '.symbi file with agent and schedule blocks (repeatable)', collect, [])
      .option('--port <port>', 'API port (default from [api] listen, 8080; 0 picks a free one)', integerOption(0))
      .option('--host <host>', 'API interface (default from [api] listen, 127.0.0.1)')
      .option('--log-file <path>', 'structured JSON log', DEFAULT_LOG_FILE)
      .addOption(new Option('--log-level <level>', 'lowest level written to the log').choices(LOG_LEVELS).default('info').env('SYMBI_LOG_LEVEL')),
    [
      'symbi up --config examples/agents/symbi.toml --file examples/agents/scheduler.symbi',
      'symbi up --file agents.symbi --db postgres://symbi@db:5432/symbi --port 9090',
      'SYMBI_API_KEY=secret symbi up --file agents.symbi --host 0.0.0.0',
    ],
  ).action(registrar.action(async (ctx, options: UpOptions) => up(ctx, options)));
}
