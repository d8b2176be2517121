import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { ConflictError, JOB_STATUSES, RUN_STATUSES, jobSpecFromWire, nextRuns, type JobSpec } from '@symbi/core';
import type { Backend, JobView } from '../backend/backend.js';
import { collect, integerOption, notice, print, withBackend } from '../command-support.js';
import { CliError, EXIT_ERROR, UsageError } from '../errors.js';
import type { CommandContext } from '../io.js';
import { relativeTime } from '../output/format.js';
import { FORMATS, jobDetails, jobTable, renderRecords, runTable, upcomingRun, type Format } from '../output/views.js';
import { examples, type Registrar } from '../program.js';
import { canAsk, confirm } from '../prompt.js';
import { loadAgentFiles } from '../runtime.js';
import { watch } from '../watch.js';
import { runJobNow } from './cron-run.js';

const formatOption = () => new Option('--format <format>', 'output format').choices(FORMATS).default('table');

/**
 * `--history-retention-days` / `--history-retention-runs`: a whole number of at least 1, or
 * `default` for the scheduler's (kept as the word: commander turns a null from a parser into '').
 */
function retentionOption(value: string): number | 'default' {
  return value.trim() === 'default' ? 'default' : integerOption(1)(value);
}

/** The retention flags of `add` and `update`. */
interface RetentionFlags {
  historyRetentionDays?: number | 'default';
  historyRetentionRuns?: number | 'default';
}

/** Adds the retention flags to `command`. */
function withRetentionFlags(command: Command): Command {
  return command
    .option('--history-retention-days <days>', "keep this job's finished runs this many days (`default`: the scheduler's history_retention_days)", retentionOption)
    .option('--history-retention-runs <runs>', "keep at most this many of this job's finished runs, the newest (`default`: the scheduler's history_retention_runs)", retentionOption);
}

/** The retention flags given, as job fields (`default` is null: the scheduler's). */
function retentionSpec(flags: RetentionFlags): Pick<JobSpec, 'historyRetentionDays' | 'historyRetentionRuns'> {
  const limit = (value: number | 'default') => (value === 'default' ? null : value);
  return {
    ...(flags.historyRetentionDays === undefined ? {} : { historyRetentionDays: limit(flags.historyRetentionDays) }),
    ...(flags.historyRetentionRuns === undefined ? {} : { historyRetentionRuns: limit(flags.historyRetentionRuns) }),
  };
}

/** `--status a,b` for run history: each must be a run status. */
function runStatuses(value: string): string[] {
  const statuses = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const unknown = statuses.filter((s) => !(RUN_STATUSES as readonly string[]).includes(s));
  if (unknown.length > 0 || statuses.length === 0) {
    throw new UsageError(`--status ${JSON.stringify(value)} is not a run status`, `one or more of: ${RUN_STATUSES.join(', ')}`);
  }
  return statuses;
}

/** The next fires of an active cron job, for `status`. */
function upcoming(job: JobView, now: Date): Date[] {
  if (job.status !== 'active' || job.cron_expr === null) return [];
  const from = job.next_run === null ? now : new Date(Math.max(now.getTime(), new Date(job.next_run).getTime() - 1));
  return nextRuns(job.cron_expr, { tz: job.timezone, count: 3, from });
}

/** The body `--json` gives: the JSON text itself, or `-` for standard input. */
function jsonBody(text: string, example: string): unknown {
  const source = text === '-' ? readFileSync(0, 'utf8') : text;
  try {
    return JSON.parse(source);
  } catch (error) {
    throw new UsageError(`--json is not valid JSON: ${(error as Error).message}`, `give an object such as '${example}'`);
  }
}

/** The spec `add --json` describes. */
function specFromJson(text: string): JobSpec {
  // The operator typed this on their own command line: their `${VAR}` references stay references.
  return jobSpecFromWire(jsonBody(text, '{"name":"n","agent_id":"a","cron_expr":"0 * * * * *"}'), { envReferences: 'all' });
}

/**
 * The spec `add --file F… [--schedule NAME]` names: the named schedule, or the files' only one.
 * The files are read together, so a schedule may use a policy another of them defines.
 */
function specFromFiles(ctx: CommandContext, files: string[], name: string | undefined): JobSpec {
  const { specs, notes } = loadAgentFiles(files, ctx.io.cwd);
  for (const note of notes) notice(ctx, `${ctx.err.paint('grey', 'note:')} ${note}`);
  const names = specs.map((spec) => spec.name);
  const given = files.join(', ');
  if (name === undefined) {
    if (specs.length === 1) return specs[0] as JobSpec;
    throw new UsageError(`${given} define${files.length === 1 ? 's' : ''} ${specs.length} schedules; say which with --schedule`, names.length > 0 ? `one of: ${names.join(', ')}` : null);
  }
  const spec = specs.find((s) => s.name === name);
  if (!spec) throw new CliError(`schedule not found in ${given}: ${name}`, names.length > 0 ? `it defines: ${names.join(', ')}` : 'it defines no schedule');
  return spec;
}

async function statusFrame(ctx: CommandContext, backend: Backend, ref: string, history: number | undefined): Promise<string> {
  const now = ctx.io.now();
  const job = await backend.getJob(ref);
  let text = jobDetails(job, now, ctx.out, upcoming(job, now));
  if (history !== undefined) {
    const runs = await backend.history(job.id, { limit: history });
    text += `\n${ctx.out.bold(`Last ${history} runs`)}\n${runTable(runs, now, ctx.out)}`;
  }
  return text;
}

/** Registers `symbi cron …`. */
export function registerCron(program: Command, registrar: Registrar): void {
  const cron = program
    .command('cron')
    .description('manage scheduled jobs: list, add, update, remove, pause, resume, status, run, history, prune, reset, approve, deny');
  examples(cron, ['symbi cron list', 'symbi cron add --file agents.symbi --schedule daily-report', 'symbi cron run daily-report --input "Check production"']);

  examples(
    cron
      .command('list')
      .description('list jobs with their schedule, status and next run')
      .addOption(new Option('--status <status>', 'only jobs with this status').choices(JOB_STATUSES))
      .option('--agent <agent>', 'only jobs of this agent')
      .addOption(formatOption()),
    ['symbi cron list', 'symbi cron list --status dead_letter', 'symbi cron list --agent reporter-agent --format json'],
  ).action(
    registrar.action(async (ctx, options: { status?: string; agent?: string; format: Format }) => {
      const jobs = await withBackend(ctx, (backend) => backend.listJobs({ status: options.status, agentId: options.agent }));
      print(ctx, renderRecords(options.format, 'job', jobs, (list) => jobTable(list, ctx.io.now(), ctx.out)));
    }),
  );

  examples(
    withRetentionFlags(
      cron
        .command('add')
        .description('add a job from a .symbi file or from JSON')
        .option('--file <file>', '.symbi file holding the schedule (repeatable: files read together, e.g. for shared policies)', collect, [])
        .option('--schedule <name>', 'name of the schedule in --file (optional when it holds one)')
        .option('--json <json>', 'the job as JSON (snake_case fields as in the HTTP API), or - to read it from stdin'),
    ),
    [
      'symbi cron add --file agent.symbi --schedule daily-report',
      `symbi cron add --json '{"name":"quick-task","agent_id":"agent-123","cron_expr":"0 0 * * * *"}'`,
      'symbi cron add --file agent.symbi --schedule heartbeat --history-retention-runs 500',
    ],
  ).action(
    registrar.action(async (ctx, options: RetentionFlags & { file: string[]; schedule?: string; json?: string }) => {
      if ((options.file.length === 0) === (options.json === undefined)) {
        throw new UsageError('give either --file (with --schedule) or --json', 'see: symbi cron add --help');
      }
      if (options.schedule !== undefined && options.file.length === 0) throw new UsageError('--schedule needs --file');
      const given = options.json !== undefined ? specFromJson(options.json) : specFromFiles(ctx, options.file, options.schedule);
      const spec: JobSpec = { ...given, ...retentionSpec(options) };
      const job = await withBackend(ctx, (backend) => backend.createJob(spec), { create: true }).catch((error: unknown) => {
        // Stores word a taken name differently; say it one way, naming the job.
        if (error instanceof ConflictError || (error as { status?: unknown }).status === 409) {
          throw new CliError(`a job named ${spec.name} exists already`, 'see: symbi cron list', { cause: error });
        }
        throw error;
      });
      const next = job.next_run === null ? job.status : `next run ${relativeTime(job.next_run, ctx.io.now())}`;
      print(ctx, `created ${ctx.out.bold(job.name)} ${ctx.out.dim(job.id)} (${next})\n`);
    }),
  );

  examples(
    withRetentionFlags(
      cron
        .command('update')
        .description("change some of a job's fields; the others keep their values")
        .argument('<job>', 'job id or name')
        .option('--json <json>', 'the fields to change as JSON (snake_case, as in the HTTP API), or - to read them from stdin'),
    ),
    [
      'symbi cron update daily-report --history-retention-days 30',
      'symbi cron update daily-report --history-retention-runs default',
      `symbi cron update daily-report --json '{"cron_expr":"0 0 8 * * *","max_retries":5}'`,
    ],
  ).action(
    registrar.action(async (ctx, ref: string, options: RetentionFlags & { json?: string }) => {
      const body = options.json === undefined ? {} : jsonBody(options.json, '{"max_retries":5}');
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new UsageError('--json must be a JSON object of the fields to change');
      const { historyRetentionDays, historyRetentionRuns } = retentionSpec(options);
      const changes = {
        ...(body as Record<string, unknown>),
        ...(historyRetentionDays === undefined ? {} : { history_retention_days: historyRetentionDays }),
        ...(historyRetentionRuns === undefined ? {} : { history_retention_runs: historyRetentionRuns }),
      };
      if (Object.keys(changes).length === 0) throw new UsageError('nothing to change', 'give --json or a --history-retention-* flag');
      const job = await withBackend(ctx, (backend) => backend.updateJob(ref, changes));
      print(ctx, `updated ${ctx.out.bold(job.name)} ${ctx.out.dim(job.id)}\n`);
    }),
  );

  examples(
    cron
      .command('prune')
      .description("delete finished runs now by the retention policies ([scheduler] history_retention_days / history_retention_runs, each job's own first)")
      .option('--dry-run', 'only count the runs that would be deleted'),
    ['symbi cron prune --dry-run', 'symbi cron prune'],
  ).action(
    registrar.action(async (ctx, options: { dryRun?: boolean }) => {
      const outcome = await withBackend(ctx, (backend) => backend.pruneRuns(options.dryRun ?? false));
      if (!outcome.supported) throw new CliError('this job store cannot prune its history; every run is kept');
      print(ctx, `${outcome.dry_run ? 'would delete' : 'deleted'} ${outcome.deleted} finished run(s)\n`);
    }),
  );

  examples(
    cron
      .command('remove')
      .description('delete a job and its run history (asks for confirmation unless --force)')
      .argument('[job]', 'job id or name')
      .option('--name <name>', 'the job to remove, by name')
      .option('--force', 'do not ask for confirmation'),
    ['symbi cron remove 0193c2d4-…', 'symbi cron remove --name daily-report', 'symbi cron remove daily-report --force'],
  ).action(
    registrar.action(async (ctx, ref: string | undefined, options: { name?: string; force?: boolean }) => {
      if ((ref === undefined) === (options.name === undefined)) throw new UsageError('give the job as an argument or with --name, not both');
      const target = (ref ?? options.name) as string;
      return withBackend(ctx, async (backend) => {
        const job = await backend.getJob(target);
        if (!options.force) {
          if (!canAsk(ctx.io)) {
            throw new UsageError(`refusing to remove ${job.name} without confirmation: standard input is not a terminal`, 'pass --force');
          }
          if (!(await confirm(ctx.io, `Remove job ${job.name} (${job.id}) and its run history?`))) {
            notice(ctx, 'not removed');
            return EXIT_ERROR;
          }
        }
        await backend.removeJob(job.id);
        print(ctx, `removed ${ctx.out.bold(job.name)} ${ctx.out.dim(job.id)}\n`);
        return undefined;
      });
    }),
  );

  const transitions = [
    ['pause', 'stop scheduling a job, keeping its state and history', 'paused', (b: Backend, r: string) => b.pauseJob(r)],
    ['resume', 'resume a paused job from its next fire after now', 'resumed', (b: Backend, r: string) => b.resumeJob(r)],
    ['reset', 'reactivate a dead-lettered or failed job and clear its failure streak', 'reset', (b: Backend, r: string) => b.resetJob(r)],
  ] as const;
  for (const [name, description, done, change] of transitions) {
    examples(cron.command(name).description(description).argument('<job>', 'job id or name'), [`symbi cron ${name} daily-report`]).action(
      registrar.action(async (ctx, ref: string) => {
        const job = await withBackend(ctx, (backend) => change(backend, ref));
        const upcoming = upcomingRun(job);
        const next = upcoming === null ? '' : `, next run ${relativeTime(upcoming, ctx.io.now())}`;
        print(ctx, `${done} ${ctx.out.bold(job.name)} (${ctx.out.status(job.status)}${next})\n`);
      }),
    );
  }

  examples(
    cron
      .command('status')
      .description('show a job: schedule, status, next and last run, policy, recent runs')
      .argument('<job>', 'job id or name')
      .option('--history <n>', 'also show the last N runs', integerOption(1))
      .option('--watch', 'redraw every few seconds until Ctrl-C')
      .option('--interval <seconds>', 'seconds between redraws with --watch', integerOption(1), 5),
    ['symbi cron status daily-report', 'symbi cron status daily-report --history 10', 'symbi cron status daily-report --watch'],
  ).action(
    registrar.action(async (ctx, ref: string, options: { history?: number; watch?: boolean; interval: number }) => {
      await withBackend(ctx, async (backend) => {
        if (!options.watch) return print(ctx, await statusFrame(ctx, backend, ref, options.history));
        return watch(ctx.io, ctx.out, options.interval * 1000, () => statusFrame(ctx, backend, ref, options.history));
      });
    }),
  );

  examples(
    cron
      .command('run')
      .description('run a job now, bypassing its schedule, and print its output (through a running server when one serves this store)')
      .argument('<job>', 'job id or name')
      .option('--input <text>', 'input for this run instead of the job\'s')
      .option('--file <file>', 'agent definitions for an in-process run (default: those `symbi up` loaded)', collect, [])
      .option('--no-wait', 'queue the run and return without waiting for its end'),
    ['symbi cron run daily-report', 'symbi cron run daily-report --input "Check production database"'],
  ).action(
    registrar.action(async (ctx, ref: string, options: { input?: string; file: string[]; wait: boolean }) => runJobNow(ctx, ref, options)),
  );

  examples(
    cron
      .command('history')
      .description('list a job\'s runs, newest first')
      .argument('<job>', 'job id or name')
      .option('--limit <n>', 'most runs to show', integerOption(1), 20)
      .option('--status <status>', `only runs with this status (comma-separated: ${RUN_STATUSES.join(', ')})`)
      .addOption(formatOption()),
    ['symbi cron history daily-report', 'symbi cron history daily-report --limit 20', 'symbi cron history daily-report --status failed', 'symbi cron history daily-report --format csv > runs.csv'],
  ).action(
    registrar.action(async (ctx, ref: string, options: { limit: number; status?: string; format: Format }) => {
      const status = options.status === undefined ? undefined : runStatuses(options.status);
      const runs = await withBackend(ctx, (backend) => backend.history(ref, { limit: options.limit, ...(status ? { status } : {}) }));
      print(ctx, renderRecords(options.format, 'run', runs, (list) => runTable(list, ctx.io.now(), ctx.out)));
    }),
  );

  for (const decision of ['approve', 'deny'] as const) {
    examples(
      cron
        .command(decision)
        .description(decision === 'approve' ? 'approve a run waiting for approval; it runs at once' : 'deny a run waiting for approval; it ends denied')
        .argument('<run-id>', 'the run (shown by `symbi up` and `symbi cron history --status awaiting_approval`)')
        .option('--note <text>', 'a note recorded with the decision'),
      [`symbi cron ${decision} 0193c2d4-… --note "${decision === 'approve' ? 'change window confirmed' : 'not during the freeze'}"`],
    ).action(
      registrar.action(async (ctx, runId: string, options: { note?: string }) => {
        const run = await withBackend(ctx, (backend) => (decision === 'approve' ? backend.approve(runId, options.note ?? null) : backend.deny(runId, options.note ?? null)));
        print(ctx, `${decision === 'approve' ? 'approved' : 'denied'} run ${run.id} of ${ctx.out.bold(run.job_name)} (${ctx.out.status(run.status)})\n`);
      }),
    );
  }
}
