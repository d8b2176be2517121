import { ValidationError } from '@symbi/core';
import type {
  AuditEvent,
  CronJobDefinition,
  DeliveryOutcome,
  JobRunRecord,
  RunApproval,
  RunPatch,
  SessionState,
} from '@symbi/core';

/**
 * A row as node-postgres returns it, or as `to_json(row)` renders it: timestamps arrive as `Date`
 * objects from plain columns and as ISO strings from JSON, so readers accept both.
 */
export type Row = Record<string, unknown>;

/** Columns of `jobs`, in table order. */
export const JOB_COLUMNS = [
  'id',
  'name',
  'agent_id',
  'cron_expr',
  'at',
  'timezone',
  'input',
  'session_mode',
  'delivery',
  'webhook_url',
  'webhook_headers',
  'slack_channel',
  'email_recipients',
  'policy',
  'heartbeat',
  'max_concurrent',
  'max_retries',
  'agent_pin_jwt',
  'jitter_seconds',
  'catchup',
  'overlap',
  'status',
  'next_run',
  'last_run',
  'run_count',
  'failure_count',
  'consecutive_failures',
  'created_at',
  'updated_at',
  'version',
] as const;

/** Columns of `runs` that callers write (`delivery_pending` is derived by the database). */
export const RUN_COLUMNS = [
  'id',
  'job_id',
  'job_name',
  'agent_id',
  'scheduled_for',
  'due_at',
  'trigger',
  'attempt',
  'status',
  'input',
  'output',
  'summary',
  'error',
  'stderr',
  'started_at',
  'completed_at',
  'execution_time_ms',
  'iterations',
  'deliveries',
  'approval',
  'owner',
  'lease_expires_at',
  'fire_key',
  'wait_for_slot',
  'cancel_requested',
] as const;

/** Column of each field a {@link RunPatch} may carry. */
export const RUN_PATCH_COLUMNS: Readonly<Record<keyof RunPatch, (typeof RUN_COLUMNS)[number]>> = {
  status: 'status',
  input: 'input',
  output: 'output',
  summary: 'summary',
  error: 'error',
  stderr: 'stderr',
  startedAt: 'started_at',
  completedAt: 'completed_at',
  executionTimeMs: 'execution_time_ms',
  iterations: 'iterations',
  deliveries: 'deliveries',
  approval: 'approval',
  owner: 'owner',
  leaseExpiresAt: 'lease_expires_at',
  dueAt: 'due_at',
  cancelRequested: 'cancel_requested',
};

function readDate(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value : new Date(value as string);
}

function readRequiredDate(value: unknown): Date {
  return readDate(value) ?? new Date(Number.NaN);
}

/** Rejects invalid dates up front: JSON would silently turn them into null. */
export function writeDate(field: string, value: Date | null): Date | null {
  if (value === null) return null;
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new ValidationError(field, 'must be a valid date', String(value));
  }
  return value;
}

function holdsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(holdsNul);
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.entries(value).some(([key, inner]) => key.includes('\u0000') || holdsNul(inner));
  }
  return false;
}

/**
 * Checks that every string of `row` can be stored: PostgreSQL text and JSON cannot hold the NUL
 * character, so it is refused up front with an error naming the column, not a driver error later.
 */
export function storable<T extends Row>(row: T): T {
  for (const [column, value] of Object.entries(row)) {
    if (holdsNul(value)) throw new ValidationError(column, 'cannot hold the NUL character (\\u0000): PostgreSQL text cannot store it');
  }
  return row;
}

/** The row of `job`, keyed by column, ready for `json_populate_record`. */
export function jobToRow(job: CronJobDefinition): Row {
  return storable({
    id: job.id,
    name: job.name,
    agent_id: job.agentId,
    cron_expr: job.cronExpr,
    at: job.at,
    timezone: job.timezone,
    input: job.input,
    session_mode: job.sessionMode,
    delivery: job.delivery,
    webhook_url: job.webhookUrl,
    webhook_headers: job.webhookHeaders,
    slack_channel: job.slackChannel,
    email_recipients: job.emailRecipients,
    policy: job.policy,
    heartbeat: job.heartbeat,
    max_concurrent: job.maxConcurrent,
    max_retries: job.maxRetries,
    agent_pin_jwt: job.agentPinJwt,
    jitter_seconds: job.jitterSeconds,
    catchup: job.catchup,
    overlap: job.overlap,
    status: job.status,
    next_run: writeDate('next_run', job.nextRun),
    last_run: writeDate('last_run', job.lastRun),
    run_count: job.runCount,
    failure_count: job.failureCount,
    consecutive_failures: job.consecutiveFailures,
    created_at: writeDate('created_at', job.createdAt),
    updated_at: writeDate('updated_at', job.updatedAt),
    version: job.version,
  });
}

/** The job stored in `row`. */
export function rowToJob(row: Row): CronJobDefinition {
  return {
    id: row.id as string,
    name: row.name as string,
    agentId: row.agent_id as string,
    cronExpr: row.cron_expr as string | null,
    at: row.at as string | null,
    timezone: row.timezone as string,
    input: row.input as string | null,
    sessionMode: row.session_mode as CronJobDefinition['sessionMode'],
    delivery: row.delivery as CronJobDefinition['delivery'],
    webhookUrl: row.webhook_url as string | null,
    webhookHeaders: row.webhook_headers as Record<string, string>,
    slackChannel: row.slack_channel as string | null,
    emailRecipients: row.email_recipients as string[],
    policy: row.policy as CronJobDefinition['policy'],
    heartbeat: (row.heartbeat ?? null) as CronJobDefinition['heartbeat'],
    maxConcurrent: row.max_concurrent as number,
    maxRetries: row.max_retries as number | null,
    agentPinJwt: row.agent_pin_jwt as string | null,
    jitterSeconds: row.jitter_seconds as number | null,
    catchup: row.catchup as CronJobDefinition['catchup'],
    overlap: row.overlap as CronJobDefinition['overlap'],
    status: row.status as CronJobDefinition['status'],
    nextRun: readDate(row.next_run),
    lastRun: readDate(row.last_run),
    runCount: row.run_count as number,
    failureCount: row.failure_count as number,
    consecutiveFailures: row.consecutive_failures as number,
    createdAt: readRequiredDate(row.created_at),
    updatedAt: readRequiredDate(row.updated_at),
    version: row.version as number,
  };
}

const RUN_PATCH_DATES = new Set<keyof RunPatch>(['startedAt', 'completedAt', 'leaseExpiresAt', 'dueAt']);

/** The columns a patch sets, keyed by column; absent fields are left out, so they keep their values. */
export function runPatchToRow(patch: RunPatch): Row {
  const row: Row = {};
  for (const field of Object.keys(patch) as (keyof RunPatch)[]) {
    const value = patch[field];
    const column = RUN_PATCH_COLUMNS[field];
    if (value === undefined || column === undefined) continue;
    row[column] = RUN_PATCH_DATES.has(field) ? writeDate(column, value as Date | null) : value;
  }
  return storable(row);
}

/** The row of `run`, keyed by column, ready for `json_populate_recordset`. */
export function runToRow(run: JobRunRecord): Row {
  return storable({
    id: run.id,
    job_id: run.jobId,
    job_name: run.jobName,
    agent_id: run.agentId,
    scheduled_for: writeDate('scheduled_for', run.scheduledFor),
    due_at: writeDate('due_at', run.dueAt),
    trigger: run.trigger,
    attempt: run.attempt,
    status: run.status,
    input: run.input,
    output: run.output,
    summary: run.summary,
    error: run.error,
    stderr: run.stderr,
    started_at: writeDate('started_at', run.startedAt),
    completed_at: writeDate('completed_at', run.completedAt),
    execution_time_ms: run.executionTimeMs,
    iterations: run.iterations,
    deliveries: run.deliveries,
    approval: run.approval,
    owner: run.owner,
    lease_expires_at: writeDate('lease_expires_at', run.leaseExpiresAt),
    fire_key: run.fireKey,
    wait_for_slot: run.waitForSlot,
    cancel_requested: run.cancelRequested,
  });
}

function readDeliveries(value: unknown): DeliveryOutcome[] {
  return ((value ?? []) as Row[]).map((d) => ({ ...(d as unknown as DeliveryOutcome), completedAt: readDate(d.completedAt) }));
}

function readApproval(value: unknown): RunApproval | null {
  if (value === null || value === undefined) return null;
  const a = value as Row;
  return {
    ...(a as unknown as RunApproval),
    requestedAt: readRequiredDate(a.requestedAt),
    expiresAt: readRequiredDate(a.expiresAt),
    decidedAt: readDate(a.decidedAt),
  };
}

/** The run stored in `row`. */
export function rowToRun(row: Row): JobRunRecord {
  return {
    id: row.id as string,
    jobId: row.job_id as string,
    jobName: row.job_name as string,
    agentId: row.agent_id as string,
    scheduledFor: readRequiredDate(row.scheduled_for),
    dueAt: readRequiredDate(row.due_at),
    trigger: row.trigger as JobRunRecord['trigger'],
    attempt: row.attempt as number,
    status: row.status as JobRunRecord['status'],
    input: row.input as string | null,
    output: row.output as string | null,
    summary: row.summary as string | null,
    error: row.error as string | null,
    stderr: row.stderr as string | null,
    startedAt: readDate(row.started_at),
    completedAt: readDate(row.completed_at),
    executionTimeMs: row.execution_time_ms as number | null,
    iterations: (row.iterations ?? []) as JobRunRecord['iterations'],
    deliveries: readDeliveries(row.deliveries),
    approval: readApproval(row.approval),
    owner: row.owner as string | null,
    leaseExpiresAt: readDate(row.lease_expires_at),
    fireKey: row.fire_key as string | null,
    waitForSlot: row.wait_for_slot as boolean,
    cancelRequested: row.cancel_requested as boolean,
  };
}

/** The session stored in `row`. */
export function rowToSession(row: Row): SessionState {
  return {
    summary: row.summary as string | null,
    history: row.history as SessionState['history'],
    updatedAt: readRequiredDate(row.updated_at),
  };
}

/** The row of an audit event, keyed by column. */
export function auditToRow(event: AuditEvent): Row {
  return storable({
    id: event.id,
    type: event.type,
    at: writeDate('at', event.at),
    job_id: event.jobId,
    run_id: event.runId,
    actor: event.actor,
    details: event.details,
  });
}

/** The audit event stored in `row`. */
export function rowToAudit(row: Row): AuditEvent {
  return {
    id: row.id as string,
    type: row.type as AuditEvent['type'],
    at: readRequiredDate(row.at),
    jobId: row.job_id as string | null,
    runId: row.run_id as string | null,
    actor: row.actor as string,
    details: row.details as Record<string, unknown>,
  };
}
