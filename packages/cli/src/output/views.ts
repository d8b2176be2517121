import { auditToWire, createJobDefinition, jobToWire, newRun, runToWire } from '@symbi/core';
import type { AuditView, HealthView, JobView, RunView } from '../backend/backend.js';
import { formatElapsed, localTime, oneLine, relativeTime, renderTable, toCsv, toJson } from './format.js';
import { escapeUnsafe, type Style } from './style.js';

/** Output formats of list commands. */
export const FORMATS = ['table', 'json', 'csv'] as const;
/** An output format of a list command. */
export type Format = (typeof FORMATS)[number];

/** The wire fields of each kind of record, in wire order: the CSV header even when a list is empty. */
function wireColumns(): { job: string[]; run: string[]; audit: string[] } {
  const job = createJobDefinition({ name: 'columns', agentId: 'columns', cronExpr: '@daily' }, new Date(0));
  const run = newRun(job, { scheduledFor: new Date(0), trigger: 'manual' });
  const audit = { id: '', type: 'CronJobCreated' as const, at: new Date(0), jobId: null, runId: null, actor: '', details: {} };
  return { job: Object.keys(jobToWire(job)), run: Object.keys(runToWire(run)), audit: Object.keys(auditToWire(audit)) };
}

let columns: ReturnType<typeof wireColumns> | null = null;

/** CSV of wire records of one kind, with that kind's full header. */
export function recordsCsv(kind: 'job' | 'run' | 'audit', records: readonly object[]): string {
  columns ??= wireColumns();
  return toCsv(records, columns[kind]);
}

/** Renders records as a table, JSON (an array of wire records) or CSV. */
export function renderRecords<T extends object>(
  format: Format,
  kind: 'job' | 'run' | 'audit',
  records: readonly T[],
  table: (records: readonly T[]) => string,
): string {
  if (format === 'json') return toJson(records);
  if (format === 'csv') return recordsCsv(kind, records);
  return table(escaped(records));
}

/** A wire record with every string made terminal-safe ({@link escapeUnsafe}) before styles are added around its parts. */
function escaped<T>(value: T): T {
  if (typeof value === 'string') return escapeUnsafe(value) as T;
  if (Array.isArray(value)) return value.map(escaped) as T;
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, escaped(v)])) as T;
  return value;
}

/** How a job fires: its cron expression (and zone, unless UTC) or its one-shot time. */
export function scheduleText(job: Pick<JobView, 'cron_expr' | 'at' | 'timezone'>): string {
  if (job.cron_expr !== null) return job.timezone === 'UTC' ? job.cron_expr : `${job.cron_expr} (${job.timezone})`;
  return `at ${job.at ?? '-'}`;
}

/**
 * When the job fires next: only an active job fires, so a paused, finished or dead-lettered one
 * has no next run, whatever time its record kept from before.
 */
export function upcomingRun(job: Pick<JobView, 'status' | 'next_run'>): string | null {
  return job.status === 'active' ? job.next_run : null;
}

/** The jobs table of `symbi cron list`. */
export function jobTable(jobs: readonly JobView[], now: Date, style: Style): string {
  if (jobs.length === 0) return `${style.dim('no jobs')}\n`;
  return renderTable(
    [
      { header: 'name' },
      { header: 'agent' },
      { header: 'schedule' },
      { header: 'status' },
      { header: 'next run' },
      { header: 'last run' },
      { header: 'runs', align: 'right' },
      { header: 'fails', align: 'right' },
      { header: 'id' },
    ],
    jobs.map((job) => [
      style.bold(job.name),
      job.agent_id,
      scheduleText(job),
      style.status(job.status),
      relativeTime(upcomingRun(job), now),
      relativeTime(job.last_run, now),
      String(job.run_count),
      job.failure_count > 0 ? style.paint('red', String(job.failure_count)) : '0',
      style.dim(job.id),
    ]),
    (h) => style.dim(h),
  );
}

/** What a run produced, in a few words: its error, else its output. */
function runNote(run: RunView): string {
  if (run.status === 'awaiting_approval' && run.approval) return `waits for ${run.approval.approver}: ${run.approval.reason}`;
  return oneLine(run.error ?? run.output, 60);
}

/** The runs table of `symbi cron history` and `symbi cron status --history`. */
export function runTable(runs: readonly RunView[], now: Date, style: Style): string {
  if (runs.length === 0) return `${style.dim('no runs')}\n`;
  return renderTable(
    [
      { header: 'run id' },
      { header: 'status' },
      { header: 'trigger' },
      { header: 'scheduled' },
      { header: 'took', align: 'right' },
      { header: 'attempt', align: 'right' },
      { header: 'output / error' },
    ],
    runs.map((run) => [
      run.id,
      style.status(run.status),
      run.trigger,
      relativeTime(run.scheduled_for, now),
      formatElapsed(run.execution_time_ms),
      String(run.attempt),
      runNote(run),
    ]),
    (h) => style.dim(h),
  );
}

/** The audit table of `symbi audit query`. */
export function auditTable(events: readonly AuditView[], now: Date, style: Style): string {
  if (events.length === 0) return `${style.dim('no audit events')}\n`;
  return renderTable(
    [{ header: 'time' }, { header: 'when' }, { header: 'type' }, { header: 'job' }, { header: 'actor' }, { header: 'details' }],
    events.map((event) => {
      const { job_name: jobName, ...rest } = event.details;
      return [
        localTime(event.at),
        relativeTime(event.at, now),
        style.bold(event.type),
        typeof jobName === 'string' ? jobName : (event.job_id ?? '-'),
        event.actor,
        oneLine(Object.keys(rest).length > 0 ? JSON.stringify(rest) : '', 70),
      ];
    }),
    (h) => style.dim(h),
  );
}

/** `time (relative)`, or `-`. */
function when(value: string | null, now: Date): string {
  return value === null ? '-' : `${localTime(value)} (${relativeTime(value, now)})`;
}

/** The details of `symbi cron status`: one `key  value` line per fact, then the next fire times. */
export function jobDetails(shown: JobView, now: Date, style: Style, upcoming: readonly Date[]): string {
  const job = escaped(shown);
  const policy = job.policy;
  const rules = [
    policy.require_approval ? `approval by ${policy.approver ?? 'anyone'}` : null,
    policy.max_runtime ? `max runtime ${policy.max_runtime}` : null,
    policy.allowed_hours ? `hours ${policy.allowed_hours.start}-${policy.allowed_hours.end} UTC` : null,
    policy.allowed_environments.length > 0 ? `environments ${policy.allowed_environments.join(', ')}` : null,
    policy.require_capabilities.length > 0 ? `capabilities ${policy.require_capabilities.join(', ')}` : null,
    policy.require_agent_pin ? 'AgentPin' : null,
    policy.audit !== 'all_operations' ? `audit ${policy.audit}` : null,
  ].filter((rule): rule is string => rule !== null);
  const facts: [string, string][] = [
    ['id', job.id],
    ['agent', job.agent_id],
    ['schedule', scheduleText(job)],
    ['status', style.status(job.status)],
    ['next run', when(upcomingRun(job), now)],
    ['last run', when(job.last_run, now)],
    ['runs', `${job.run_count} (${job.failure_count} failed, ${job.consecutive_failures} in a row; dead-letter after ${job.max_retries ?? 'default_max_retries'})`],
    ['session', job.session_mode],
    ['delivery', job.delivery.length > 0 ? job.delivery.join(', ') : '-'],
    ['concurrency', `${job.max_concurrent} (overlap ${job.overlap}, catch-up ${job.catchup})`],
    ['policy', rules.length > 0 ? rules.join('; ') : '-'],
  ];
  const kept = [
    job.history_retention_days === null ? null : `${job.history_retention_days} days`,
    job.history_retention_runs === null ? null : `the newest ${job.history_retention_runs} runs`,
  ].filter((limit): limit is string => limit !== null);
  // Only a job's own retention is shown; without one the scheduler's history_retention_* apply.
  if (kept.length > 0) facts.push(['history', `finished runs kept ${kept.join(', at most ')}`]);
  if (job.heartbeat?.enabled) facts.push(['heartbeat', `${job.heartbeat.context_mode}, up to ${job.heartbeat.max_iterations} iterations`]);
  if (job.input !== null) facts.push(['input', oneLine(job.input, 70)]);
  if (upcoming.length > 0) facts.push(['upcoming', upcoming.map((at) => `${localTime(at)} (${relativeTime(at, now)})`).join('\n')]);
  return `${style.bold(job.name)}\n${factLines(facts, style)}`;
}

/** `key  value` lines, keys aligned; a value's further lines are indented under its first. */
function factLines(facts: readonly [string, string][], style: Style): string {
  const width = Math.max(...facts.map(([key]) => key.length));
  const lines = facts.flatMap(([key, value]) => {
    const [first, ...more] = value.split('\n');
    return [`${style.dim(key.padEnd(width))}  ${first}`, ...more.map((line) => `${' '.repeat(width)}  ${line}`)];
  });
  return `${lines.join('\n')}\n`;
}

/**
 * The details of `symbi health`: a server's status and counters, or, for a store opened by the
 * CLI (no scheduler runs in it), that the store answers and its job counts.
 */
export function healthDetails(health: HealthView, target: string, remote: boolean, style: Style): string {
  const jobs = `${health.active_jobs} active, ${health.paused_jobs} paused`;
  if (!remote) return factLines([['store', target], ['status', 'answers (no scheduler runs in this command; --api asks a running server)'], ['jobs', jobs]], style);
  const { runs_total, runs_succeeded, runs_failed, avg_execution_time_ms } = health.metrics;
  return factLines(
    [
      ['server', target],
      ['status', style.status(health.status)],
      ['jobs', jobs],
      ['in flight', String(health.in_flight_jobs)],
      ['runs', `${runs_total} (${runs_succeeded} succeeded, ${runs_failed} failed, average ${formatElapsed(avg_execution_time_ms)})`],
    ],
    style,
  );
}
