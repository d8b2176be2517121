import { Writable } from 'node:stream';
import { TERMINAL_RUN_STATUSES, runToWire } from '@symbi/core';
import type { SymbiConfig } from '@symbi/dsl';
import { ApiBackend } from '../backend/api-backend.js';
import type { Backend, RunView } from '../backend/backend.js';
import { StoreBackend } from '../backend/store-backend.js';
import { agentFilesFor, apiKeyOf, apiTarget, existingStore, loadCliConfig, notice, print, softConfig } from '../command-support.js';
import { CliError, EXIT_ERROR, EXIT_OK } from '../errors.js';
import type { CommandContext } from '../io.js';
import { DEFAULT_LOG_FILE, openFileLog } from '../logging.js';
import { formatElapsed } from '../output/format.js';
import { cliActor, createRuntime } from '../runtime.js';
import { configuredRedactor } from '../secret-values.js';
import { isAlive, readServerRecord } from '../server-record.js';
import { describeStore } from '../store-location.js';

const POLL_MS = 200;
const SETTLED: readonly string[] = [...TERMINAL_RUN_STATUSES, 'awaiting_approval'];

/** Polls `read` until the run is terminal or waits for approval. */
async function waitForRun(read: () => Promise<RunView>): Promise<RunView> {
  for (;;) {
    const run = await read();
    if (SETTLED.includes(run.status)) return run;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * Prints a settled run: its output on stdout (exactly as the agent produced it) and a status line
 * (plus the agent's stderr on failure) on stderr. Returns the exit status: 0 for a run that
 * succeeded or waits for approval, 1 otherwise.
 */
function printRunResult(ctx: CommandContext, run: RunView): number {
  const { err } = ctx;
  if (run.output !== null && run.output !== '') print(ctx, run.output.endsWith('\n') ? run.output : `${run.output}\n`);
  const head = `${run.job_name} ${err.status(run.status)}`;
  if (run.status === 'succeeded') {
    notice(ctx, `${err.paint('green', '✓')} ${head} in ${formatElapsed(run.execution_time_ms)} ${err.dim(`run ${run.id}`)}`);
    return EXIT_OK;
  }
  if (run.status === 'awaiting_approval') {
    notice(ctx, `${err.paint('magenta', '?')} ${head} by ${run.approval?.approver ?? 'anyone'}: symbi cron approve ${run.id}`);
    return EXIT_OK;
  }
  notice(ctx, `${err.paint('red', '✗')} ${head}${run.error ? `: ${run.error}` : ''} ${err.dim(`run ${run.id}`)}`);
  if (run.stderr) notice(ctx, err.dim(run.stderr.trimEnd()));
  return EXIT_ERROR;
}

/** Whether a server answers at `url`; a refused key is an error worth reporting, not "unreachable". */
async function reachable(url: string, apiKey: string | null): Promise<boolean> {
  const backend = new ApiBackend(url, apiKey);
  try {
    return await backend.ping(2000);
  } finally {
    await backend.close();
  }
}

/** Through a server: queue, then (unless `wait` is off) poll until the run settles. */
async function runThrough(ctx: CommandContext, backend: Backend, ref: string, input: string | undefined, wait: boolean): Promise<number> {
  try {
    const queued = await backend.runNow(ref, input);
    if (!wait) {
      print(ctx, `${queued.id}\n`);
      notice(ctx, `queued run ${queued.id} of ${queued.job_name}`);
      return EXIT_OK;
    }
    return printRunResult(ctx, await waitForRun(() => backend.getRun(queued.id)));
  } finally {
    await backend.close();
  }
}

/** In this process: the full run pipeline for this one run, without a scheduler loop (`runOnce`). */
async function runInProcess(ctx: CommandContext, config: SymbiConfig, ref: string, options: { input?: string; file: string[] }): Promise<number> {
  const files = agentFilesFor(ctx, options.file, config);
  const redactor = configuredRedactor(config, files, ctx.io.env, [ctx.globals.apiKey]);
  const runtime = await createRuntime({
    config,
    location: existingStore(ctx, config),
    files,
    redactor,
    log: await openFileLog(DEFAULT_LOG_FILE, 'info', redactor),
    // The job's `stdout` channel is this command's own output, printed once at the end.
    stdout: new Writable({ write: (_chunk, _encoding, done) => done() }),
    env: ctx.io.env,
    cwd: ctx.io.cwd,
  });
  try {
    await runtime.init();
    const { scheduler } = runtime;
    const job = await scheduler.getJob(ref);
    if (runtime.executor.kindOf(job.agentId) === undefined) {
      throw new CliError(
        `agent "${job.agentId}" of ${job.name} is not declared in ${files.files.length > 0 ? files.files.join(', ') : 'any loaded file'}`,
        'pass the file that declares it with --file',
      );
    }
    // Resolves once the run settled and its deliveries were made, so the printed record is final.
    const run = await scheduler.runOnce(job.id, options.input === undefined ? {} : { input: options.input });
    return printRunResult(ctx, runToWire(run));
  } finally {
    await runtime.close();
  }
}

/**
 * `symbi cron run`: through the server named by `--api`, else through the `symbi up` serving the
 * same store when it answers, else in this process with the configured agents. Says which.
 */
export async function runJobNow(ctx: CommandContext, ref: string, options: { input?: string; file: string[]; wait: boolean }): Promise<number> {
  const explicit = apiTarget(ctx, softConfig(ctx));
  if (explicit) {
    notice(ctx, `running ${ref} through the server at ${explicit.url}`);
    return runThrough(ctx, new ApiBackend(explicit.url, explicit.apiKey), ref, options.input, options.wait);
  }
  const config = loadCliConfig(ctx);
  const location = existingStore(ctx, config);
  const record = readServerRecord(ctx.io.cwd, describeStore(location, ctx.io.cwd));
  const apiKey = apiKeyOf(ctx, config);
  if (record?.url && isAlive(record) && (await reachable(record.url, apiKey))) {
    notice(ctx, `running ${ref} through the server at ${record.url} (symbi up, pid ${record.pid})`);
    return runThrough(ctx, new ApiBackend(record.url, apiKey), ref, options.input, options.wait);
  }
  if (!options.wait) {
    const backend = new StoreBackend(await createRuntime({ config, location, env: ctx.io.env, cwd: ctx.io.cwd, delivery: false }), cliActor(ctx.io.env));
    notice(ctx, 'no server is running on this store; the run waits for the next `symbi up`');
    return runThrough(ctx, backend, ref, options.input, false);
  }
  notice(ctx, `no server is running on this store; running ${ref} in this process`);
  return runInProcess(ctx, config, ref, options);
}
