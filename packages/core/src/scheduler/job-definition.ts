import { randomUUID } from 'node:crypto';
import {
  AUDIT_LEVELS,
  CATCHUP_POLICIES,
  OVERLAP_POLICIES,
  SESSION_MODES,
  type CronJobDefinition,
  type HeartbeatConfig,
  type JobSpec,
  type JobSpecFields,
  type JobUpdate,
  type SchedulePolicy,
} from '../domain/job.js';
import { identifier, isJobId } from '../domain/identifier.js';
import { ValidationError } from '../errors.js';
import { MAX_RETENTION_DAYS, MAX_RETENTION_RUNS } from '../lifecycle/retention.js';
import { compileSchedule, parseTimeOfDay, validateTimezone } from '../time/index.js';

const CHANNEL = /^[a-z][a-z0-9_.:-]{0,63}$/i;
const MAX_INPUT = 1_000_000;

/** Default `policy` of a job: every condition off. */
export const DEFAULT_POLICY: SchedulePolicy = {
  requireApproval: false,
  approver: null,
  approvalTimeoutMs: null,
  maxRuntimeMs: null,
  requireCapabilities: [],
  allowedHours: null,
  allowedEnvironments: [],
  requireAgentPin: false,
  audit: 'all_operations',
};

/** Default heartbeat settings once `heartbeat` is given. */
export const DEFAULT_HEARTBEAT: HeartbeatConfig = { enabled: true, contextMode: 'ephemeral_with_summary', maxIterations: 100 };

/**
 * Validates a job spec and builds the stored definition (status `active`, or `paused` when asked;
 * `nextRun` unset — the scheduler computes it; the id a new UUID). Throws a `ValidationError`
 * naming the first bad field in snake_case (`cron_expr`, `policy.allowed_hours.start`, …) and its value.
 */
export function createJobDefinition(spec: JobSpec, now: Date): CronJobDefinition {
  const fields = normalizeSpec(spec);
  return {
    id: randomUUID(),
    ...fields,
    status: spec.paused ? 'paused' : 'active',
    nextRun: null,
    lastRun: null,
    runCount: 0,
    failureCount: 0,
    consecutiveFailures: 0,
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
}

/**
 * Applies an update to a job: the merged definition is validated as a whole, so an update can
 * never leave a job invalid. Policy and heartbeat merge field by field. An update that moves
 * `webhook_url` to another origin drops the stored `webhook_headers` (they were written for the old
 * destination) unless it brings its own.
 */
export function applyJobUpdate(job: CronJobDefinition, update: JobUpdate, now: Date): CronJobDefinition {
  const movedAway = update.webhookUrl !== undefined && !sameOrigin(update.webhookUrl, job.webhookUrl);
  const merged: JobSpec = {
    ...specOf(job),
    ...(movedAway && { webhookHeaders: {} }),
    ...withoutUndefined(update),
    policy: { ...job.policy, ...withoutUndefined(update.policy ?? {}) },
    heartbeat:
      update.heartbeat === null ? null : update.heartbeat === undefined ? job.heartbeat : { ...(job.heartbeat ?? DEFAULT_HEARTBEAT), ...withoutUndefined(update.heartbeat) },
  };
  if (update.cronExpr && update.at === undefined) merged.at = null;
  if (update.at && update.cronExpr === undefined) merged.cronExpr = null;
  return { ...job, ...normalizeSpec(merged), updatedAt: now };
}

/**
 * Whether two webhook URLs are the same text or share scheme, host and port: stored secret
 * headers may follow a URL only within its origin.
 */
export function sameOrigin(a: string | null, b: string | null): boolean {
  if (a === b) return true;
  const origin = (text: string | null) => (text !== null && URL.canParse(text) ? new URL(text).origin : 'null');
  const first = origin(a);
  return first !== 'null' && first === origin(b);
}

/** The user-written fields of a job, e.g. to compare a file's definition with the stored one. */
export function specOf(job: CronJobDefinition): JobSpecFields {
  const { name, agentId, cronExpr, at, timezone, input, sessionMode, delivery, webhookUrl, webhookHeaders } = job;
  const { slackChannel, emailRecipients, policy, heartbeat, maxConcurrent, maxRetries, agentPinJwt } = job;
  const { jitterSeconds, catchup, overlap, historyRetentionDays, historyRetentionRuns } = job;
  return {
    name, agentId, cronExpr, at, timezone, input, sessionMode, delivery, webhookUrl, webhookHeaders,
    slackChannel, emailRecipients, policy, heartbeat, maxConcurrent, maxRetries, agentPinJwt,
    jitterSeconds, catchup, overlap, historyRetentionDays, historyRetentionRuns,
  };
}

function normalizeSpec(spec: JobSpec): JobSpecFields {
  if (spec === null || typeof spec !== 'object') throw new ValidationError('body', 'must be an object', spec);
  const name = identifier(spec.name, 'name');
  if (isJobId(name)) throw new ValidationError('name', 'must not have the shape of a job id (a UUID)', name);
  const timezone = validateTimezone(spec.timezone ?? 'UTC');
  const cronExpr = optionalText(spec.cronExpr, 'cron_expr');
  const at = optionalText(spec.at, 'at');
  compileSchedule({ cronExpr, at, timezone });
  const delivery = unique(identifiers(spec.delivery, 'delivery'));
  delivery.forEach((channel, i) => {
    if (!CHANNEL.test(channel)) throw new ValidationError(`delivery[${i}]`, 'is not a channel name', channel);
  });
  const webhookUrl = optionalText(spec.webhookUrl, 'webhook_url');
  if (webhookUrl !== null) url(webhookUrl, 'webhook_url');
  if (delivery.includes('webhook') && webhookUrl === null) {
    throw new ValidationError('webhook_url', 'is required when delivery includes "webhook"', null);
  }
  const emailRecipients = unique(identifiers(spec.emailRecipients, 'email_recipients'));
  emailRecipients.forEach((address, i) => {
    if (!/^[^\s@]+@[^\s@]+$/.test(address)) throw new ValidationError(`email_recipients[${i}]`, 'is not an email address', address);
  });
  if (delivery.includes('email') && emailRecipients.length === 0) {
    throw new ValidationError('email_recipients', 'is required when delivery includes "email"', []);
  }
  return {
    name,
    agentId: identifier(spec.agentId, 'agent_id'),
    cronExpr,
    at,
    timezone,
    input: spec.input == null ? null : text(spec.input, 'input', { max: MAX_INPUT, allowEmpty: true }),
    sessionMode: oneOf(spec.sessionMode ?? 'ephemeral_with_summary', SESSION_MODES, 'session_mode'),
    delivery,
    webhookUrl,
    webhookHeaders: headers(spec.webhookHeaders ?? {}),
    slackChannel: spec.slackChannel == null ? null : identifier(spec.slackChannel, 'slack_channel'),
    emailRecipients,
    policy: policy(spec.policy ?? {}),
    heartbeat: spec.heartbeat == null ? null : heartbeat(spec.heartbeat),
    maxConcurrent: integer(spec.maxConcurrent ?? 1, 'max_concurrent', 1, 10_000),
    maxRetries: spec.maxRetries == null ? null : integer(spec.maxRetries, 'max_retries', 0, 1_000),
    agentPinJwt: optionalText(spec.agentPinJwt, 'agent_pin_jwt'),
    jitterSeconds: spec.jitterSeconds == null ? null : integer(spec.jitterSeconds, 'jitter', 0, 86_400),
    catchup: oneOf(spec.catchup ?? 'once', CATCHUP_POLICIES, 'catchup'),
    overlap: oneOf(spec.overlap ?? 'skip', OVERLAP_POLICIES, 'overlap'),
    historyRetentionDays: spec.historyRetentionDays == null ? null : integer(spec.historyRetentionDays, 'history_retention_days', 1, MAX_RETENTION_DAYS),
    historyRetentionRuns: spec.historyRetentionRuns == null ? null : integer(spec.historyRetentionRuns, 'history_retention_runs', 1, MAX_RETENTION_RUNS),
  };
}

function policy(input: Partial<SchedulePolicy>): SchedulePolicy {
  if (typeof input !== 'object' || input === null) throw new ValidationError('policy', 'must be an object', input);
  const p = { ...DEFAULT_POLICY, ...withoutUndefined(input) };
  let allowedHours = null;
  if (p.allowedHours != null) {
    if (typeof p.allowedHours !== 'object') throw new ValidationError('policy.allowed_hours', 'must be { start, end }', p.allowedHours);
    const start = text(p.allowedHours.start, 'policy.allowed_hours.start');
    const end = text(p.allowedHours.end, 'policy.allowed_hours.end');
    parseTimeOfDay(start, 'policy.allowed_hours.start');
    parseTimeOfDay(end, 'policy.allowed_hours.end');
    allowedHours = { start, end };
  }
  return {
    requireApproval: bool(p.requireApproval, 'policy.require_approval'),
    approver: p.approver == null ? null : identifier(p.approver, 'policy.approver'),
    approvalTimeoutMs: p.approvalTimeoutMs == null ? null : integer(p.approvalTimeoutMs, 'policy.approval_timeout', 1, 365 * 86_400_000),
    maxRuntimeMs: p.maxRuntimeMs == null ? null : integer(p.maxRuntimeMs, 'policy.max_runtime', 1, 30 * 86_400_000),
    requireCapabilities: identifiers(p.requireCapabilities, 'policy.require_capabilities'),
    allowedHours,
    allowedEnvironments: identifiers(p.allowedEnvironments, 'policy.allowed_environments'),
    requireAgentPin: bool(p.requireAgentPin, 'policy.require_agent_pin'),
    audit: oneOf(p.audit, AUDIT_LEVELS, 'policy.audit'),
  };
}

function heartbeat(input: Partial<HeartbeatConfig>): HeartbeatConfig {
  if (typeof input !== 'object') throw new ValidationError('heartbeat', 'must be an object', input);
  const h = { ...DEFAULT_HEARTBEAT, ...withoutUndefined(input) };
  return {
    enabled: bool(h.enabled, 'heartbeat.enabled'),
    contextMode: oneOf(h.contextMode, SESSION_MODES, 'heartbeat.context_mode'),
    maxIterations: integer(h.maxIterations, 'heartbeat.max_iterations', 1, 1_000_000),
  };
}

function headers(input: Record<string, string>): Record<string, string> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError('webhook_headers', 'must be an object of header names to strings', undefined);
  }
  for (const [key, value] of Object.entries(input)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key)) throw new ValidationError('webhook_headers', 'has an invalid header name', key);
    if (typeof value !== 'string' || /[\r\n]/.test(value)) {
      throw new ValidationError(`webhook_headers.${key}`, 'must be a single-line string', undefined);
    }
  }
  return { ...input };
}

function text(value: unknown, field: string, options: { max?: number; allowEmpty?: boolean } = {}): string {
  if (typeof value !== 'string') throw new ValidationError(field, value === undefined ? 'is required' : 'must be a string', value);
  if (!options.allowEmpty && value.trim() === '') throw new ValidationError(field, 'must not be empty', value);
  if (value.length > (options.max ?? 10_000)) throw new ValidationError(field, `must be at most ${options.max ?? 10_000} characters`, `${value.slice(0, 40)}…`);
  return value;
}

function optionalText(value: unknown, field: string): string | null {
  return value == null ? null : text(value, field);
}

function identifiers(value: unknown, field: string): string[] {
  if (value == null) return [];
  if (!Array.isArray(value)) throw new ValidationError(field, 'must be a list of strings', value);
  return value.map((item, i) => identifier(item, `${field}[${i}]`, 1000));
}

/** A list without repeats, in first-seen order: a channel or recipient named twice is served once. */
function unique(values: string[]): string[] {
  return [...new Set(values)];
}

function integer(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new ValidationError(field, 'must be a whole number', value);
  if (value < min || value > max) throw new ValidationError(field, `must be between ${min} and ${max}`, value);
  return value;
}

function bool(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw new ValidationError(field, 'must be true or false', value);
  return value;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (!allowed.includes(value as T)) throw new ValidationError(field, `must be one of ${allowed.join(', ')}`, value);
  return value as T;
}

function url(value: string, field: string): void {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ValidationError(field, 'is not a valid URL', value);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ValidationError(field, 'must be an http(s) URL', value);
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
