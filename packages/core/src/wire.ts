import type { AuditEvent } from './domain/audit.js';
import type { CronJobDefinition, JobSpec, JobUpdate } from './domain/job.js';
import type { JobRunRecord } from './domain/run.js';
import { literalEnvText, type EnvReferencePolicy } from './env-template.js';
import { ValidationError } from './errors.js';
import { sameOrigin } from './scheduler/job-definition.js';
import { formatDuration, parseDuration } from './time/index.js';
import type { WireAuditEvent, WireJob, WireRun } from './wire-types.js';

/** Shown instead of a secret (webhook header values, AgentPin JWTs) in every response. */
export const REDACTED = '[redacted]';

type Json = Record<string, unknown>;

/** A job as the HTTP API, CLI and SDKs show it: the spec's snake_case, secrets redacted. */
export function jobToWire(job: CronJobDefinition): WireJob {
  return {
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
    webhook_headers: Object.fromEntries(Object.keys(job.webhookHeaders).map((k) => [k, REDACTED])),
    slack_channel: job.slackChannel,
    email_recipients: job.emailRecipients,
    policy: {
      require_approval: job.policy.requireApproval,
      approver: job.policy.approver,
      approval_timeout: job.policy.approvalTimeoutMs === null ? null : formatDuration(job.policy.approvalTimeoutMs),
      max_runtime: job.policy.maxRuntimeMs === null ? null : formatDuration(job.policy.maxRuntimeMs),
      require_capabilities: job.policy.requireCapabilities,
      allowed_hours: job.policy.allowedHours,
      allowed_environments: job.policy.allowedEnvironments,
      require_agent_pin: job.policy.requireAgentPin,
      audit: job.policy.audit,
    },
    heartbeat: job.heartbeat && {
      enabled: job.heartbeat.enabled,
      context_mode: job.heartbeat.contextMode,
      max_iterations: job.heartbeat.maxIterations,
    },
    max_concurrent: job.maxConcurrent,
    max_retries: job.maxRetries,
    agent_pin_jwt: job.agentPinJwt === null ? null : REDACTED,
    jitter: job.jitterSeconds,
    catchup: job.catchup,
    overlap: job.overlap,
    history_retention_days: job.historyRetentionDays,
    history_retention_runs: job.historyRetentionRuns,
    status: job.status,
    enabled: job.status === 'active',
    next_run: iso(job.nextRun),
    last_run: iso(job.lastRun),
    run_count: job.runCount,
    failure_count: job.failureCount,
    consecutive_failures: job.consecutiveFailures,
    created_at: iso(job.createdAt),
    updated_at: iso(job.updatedAt),
  };
}

/** A run as the HTTP API, CLI and SDKs show it. */
export function runToWire(run: JobRunRecord): WireRun {
  return {
    id: run.id,
    job_id: run.jobId,
    job_name: run.jobName,
    agent_id: run.agentId,
    scheduled_for: iso(run.scheduledFor),
    due_at: iso(run.dueAt),
    trigger: run.trigger,
    attempt: run.attempt,
    status: run.status,
    input: run.input,
    output: run.output,
    summary: run.summary,
    error: run.error,
    error_message: run.error,
    stderr: run.stderr,
    started_at: iso(run.startedAt),
    completed_at: iso(run.completedAt),
    execution_time_ms: run.executionTimeMs,
    iterations: run.iterations.map((it) => ({
      index: it.index,
      output: it.output,
      summary: it.summary,
      action: it.action,
      duration_ms: it.durationMs,
    })),
    deliveries: run.deliveries.map((d) => ({
      channel: d.channel,
      status: d.status,
      attempts: d.attempts,
      error: d.error,
      completed_at: iso(d.completedAt),
    })),
    approval: run.approval && {
      approver: run.approval.approver,
      reason: run.approval.reason,
      policy_id: run.approval.policyId,
      requested_at: iso(run.approval.requestedAt),
      expires_at: iso(run.approval.expiresAt),
      decision: run.approval.decision,
      decided_by: run.approval.decidedBy,
      decided_at: iso(run.approval.decidedAt),
      note: run.approval.note,
    },
  };
}

/** An audit event as the HTTP API and CLI show it. */
export function auditToWire(event: AuditEvent): WireAuditEvent {
  return {
    id: event.id,
    type: event.type,
    at: event.at.toISOString(),
    job_id: event.jobId,
    run_id: event.runId,
    actor: event.actor,
    details: event.details,
  };
}

const TOP_LEVEL: Record<string, keyof JobSpec | 'id'> = {
  id: 'id',
  name: 'name',
  agent_id: 'agentId',
  agent: 'agentId',
  cron_expr: 'cronExpr',
  cron: 'cronExpr',
  at: 'at',
  timezone: 'timezone',
  input: 'input',
  session_mode: 'sessionMode',
  delivery: 'delivery',
  webhook_url: 'webhookUrl',
  webhook_headers: 'webhookHeaders',
  slack_channel: 'slackChannel',
  email_recipients: 'emailRecipients',
  max_concurrent: 'maxConcurrent',
  max_retries: 'maxRetries',
  agent_pin_jwt: 'agentPinJwt',
  jitter: 'jitterSeconds',
  catchup: 'catchup',
  overlap: 'overlap',
  history_retention_days: 'historyRetentionDays',
  history_retention_runs: 'historyRetentionRuns',
  paused: 'paused',
};
const POLICY: Record<string, string> = {
  require_approval: 'requireApproval',
  approver: 'approver',
  approval_timeout: 'approvalTimeoutMs',
  max_runtime: 'maxRuntimeMs',
  require_capabilities: 'requireCapabilities',
  allowed_hours: 'allowedHours',
  allowed_environments: 'allowedEnvironments',
  require_agent_pin: 'requireAgentPin',
  audit: 'audit',
};
const HEARTBEAT: Record<string, string> = { enabled: 'enabled', context_mode: 'contextMode', max_iterations: 'maxIterations' };
/** Fields the API shows but a client cannot set; ignored on input so a fetched job can be sent back. */
const READ_ONLY = new Set([
  'status',
  'enabled',
  'next_run',
  'last_run',
  'run_count',
  'failure_count',
  'consecutive_failures',
  'created_at',
  'updated_at',
]);

/** How a job body is read. */
export interface WireInputOptions {
  /**
   * Which `${VAR}` references in `webhook_headers` values and `agent_pin_jwt` stay references,
   * resolved from the scheduler's environment at send or run time. Default none: the text is
   * literal (a `${…}` in it is kept as written), because a body that arrives through the API must
   * never read the scheduler's environment. The server passes the variables an operator
   * allow-listed; `'all'` is for input an operator wrote (a file on the command line).
   */
  envReferences?: EnvReferencePolicy;
}

/**
 * Reads a snake_case job body (HTTP API, CLI `--json`) into a {@link JobSpec}. Unknown fields are
 * a `ValidationError` naming them; durations (`max_runtime: "30m"`) are parsed; redacted values
 * sent back unchanged are dropped so they never overwrite the stored secret; `${VAR}` is literal
 * unless `options.envReferences` allows it.
 */
export function jobSpecFromWire(body: unknown, options: WireInputOptions = {}): JobSpec {
  const spec = fromWire(body, options) as JobSpec & { id?: unknown };
  if (spec.id !== undefined) throw new ValidationError('id', 'is assigned by the scheduler; leave it out and refer to the job by its name', spec.id);
  return spec;
}

/**
 * Like {@link jobSpecFromWire} for a partial update (`PUT`): every field optional. Given the
 * stored job, a `webhook_headers` map sent back with `[redacted]` values keeps the stored secrets,
 * unless the same body moves `webhook_url` to another origin: secrets never follow a redirect.
 */
export function jobUpdateFromWire(body: unknown, existing?: CronJobDefinition, options: WireInputOptions = {}): JobUpdate {
  const update = fromWire(body, options, existing) as JobUpdate & { id?: string; paused?: boolean };
  if (update.id !== undefined && update.id !== existing?.id) throw new ValidationError('id', 'cannot be changed', update.id);
  delete update.id;
  if (update.paused !== undefined) throw new ValidationError('paused', 'use pause/resume to change a job status', update.paused);
  return update;
}

function fromWire(body: unknown, options: WireInputOptions, existing?: CronJobDefinition): Record<string, unknown> {
  const input = object(body, 'body');
  const references = options.envReferences ?? [];
  const literal = (value: unknown) => (typeof value === 'string' ? literalEnvText(value, references) : value);
  const movesAway = existing !== undefined && input.webhook_url !== undefined && !sameOrigin(input.webhook_url as string | null, existing.webhookUrl);
  const stored = existing === undefined || movesAway ? {} : existing.webhookHeaders;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    if (READ_ONLY.has(key) || key === 'policy' || key === 'heartbeat' || value === REDACTED) continue;
    const target = Object.hasOwn(TOP_LEVEL, key) ? TOP_LEVEL[key] : undefined;
    if (!target) throw new ValidationError(key, 'is not a known job field', value);
    if (key === 'webhook_headers') out[target] = withStoredSecrets(value, stored, literal);
    else out[target] = key === 'agent_pin_jwt' ? literal(value) : value;
  }
  if (input.policy !== undefined) out.policy = nested(input.policy, 'policy', POLICY);
  if (input.heartbeat !== undefined && input.heartbeat !== null) out.heartbeat = nested(input.heartbeat, 'heartbeat', HEARTBEAT);
  else if (input.heartbeat === null) out.heartbeat = null;
  return out;
}

/**
 * Header values sent back redacted keep their `stored` value; a redacted value never stored is
 * dropped; new values are read through `literal`.
 */
function withStoredSecrets(headers: unknown, stored: Record<string, string>, literal: (value: unknown) => unknown): unknown {
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) return headers;
  const kept = Object.entries(headers as Json).flatMap(([name, value]) => {
    if (value !== REDACTED) return [[name, literal(value)]];
    return Object.hasOwn(stored, name) ? [[name, stored[name]]] : [];
  });
  return Object.fromEntries(kept);
}

function nested(value: unknown, prefix: string, fields: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(object(value, prefix))) {
    const target = Object.hasOwn(fields, key) ? fields[key] : undefined;
    if (!target) throw new ValidationError(`${prefix}.${key}`, 'is not a known field', v);
    out[target] = target.endsWith('Ms') && v !== null ? parseDuration(v as string | number, `${prefix}.${key}`) : v;
  }
  return out;
}

function object(value: unknown, field: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ValidationError(field, 'must be a JSON object', value);
  return value as Json;
}

function iso(date: Date): string;
function iso(date: Date | null): string | null;
function iso(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}
