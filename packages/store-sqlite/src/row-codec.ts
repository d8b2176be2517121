import { DEFAULT_POLICY } from '@symbi/core';
import type {
  AuditEvent,
  CronJobDefinition,
  DeliveryOutcome,
  JobRunRecord,
  RunApproval,
  RunPatch,
  SessionState,
} from '@symbi/core';
import type { AuditEventsTable, JobRow, RunRow, SessionsTable } from './schema.js';

/** Parses stored JSON; the empty list and the empty object, by far the most common values, skip the parser. */
function parseJson<T>(text: string): T {
  return (text === '[]' ? [] : text === '{}' ? {} : JSON.parse(text)) as T;
}

/** A JSON value copied, so that the copy shares no object or array with `value`. */
function copyJson<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(copyJson) as T;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const item = copyJson((value as Record<string, unknown>)[key]);
    // As JSON.parse makes it: an own property, where an assignment would set the prototype.
    if (key === '__proto__') Object.defineProperty(copy, key, { value: item, enumerable: true, writable: true, configurable: true });
    else copy[key] = item;
  }
  return copy as T;
}

type Policy = CronJobDefinition['policy'];

/** How many distinct stored policies {@link decodePolicy} keeps decoded; past it, it starts over. */
const DECODED_POLICIES_KEPT = 64;

/** The longest stored policy text {@link decodePolicy} keeps decoded, so that the kept ones stay small. */
const DECODED_POLICY_MAX_CHARS = 2048;

/** Stored policy texts decoded (merged over the defaults), never handed out: each caller gets a copy. */
const decodedPolicies = new Map<string, Policy>();

/**
 * The policy a job's `policy` column holds; rows written before a policy field existed read as its
 * default. Nearly every job has one of a few policies, and a run decodes its job three times (its
 * fire twice, its finish once): a copy of the policy decoded before costs less than half of parsing
 * the text again.
 */
function decodePolicy(text: string): Policy {
  if (text.length > DECODED_POLICY_MAX_CHARS) return copyJson(parsePolicy(text));
  let policy = decodedPolicies.get(text);
  if (policy === undefined) {
    policy = parsePolicy(text);
    if (decodedPolicies.size >= DECODED_POLICIES_KEPT) decodedPolicies.clear();
    decodedPolicies.set(text, policy);
  }
  return copyJson(policy);
}

/** A stored policy text merged over the defaults; the fields it lacks are `DEFAULT_POLICY`'s own values, so never handed out as is. */
function parsePolicy(text: string): Policy {
  return { ...DEFAULT_POLICY, ...parseJson<Policy>(text) };
}

/** Epoch milliseconds of a date. */
export function toMs(date: Date): number {
  return date.getTime();
}

function toMsOrNull(date: Date | null): number | null {
  return date === null ? null : date.getTime();
}

function toDateOrNull(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms);
}

/** The `jobs` row of a job. */
export function jobToRow(job: CronJobDefinition): JobRow {
  return {
    id: job.id,
    name: job.name,
    agent_id: job.agentId,
    cron_expr: job.cronExpr,
    at: job.at,
    timezone: job.timezone,
    input: job.input,
    session_mode: job.sessionMode,
    delivery: JSON.stringify(job.delivery),
    webhook_url: job.webhookUrl,
    webhook_headers: JSON.stringify(job.webhookHeaders),
    slack_channel: job.slackChannel,
    email_recipients: JSON.stringify(job.emailRecipients),
    policy: JSON.stringify(job.policy),
    heartbeat: job.heartbeat === null ? null : JSON.stringify(job.heartbeat),
    max_concurrent: job.maxConcurrent,
    max_retries: job.maxRetries,
    agent_pin_jwt: job.agentPinJwt,
    jitter_seconds: job.jitterSeconds,
    catchup: job.catchup,
    overlap: job.overlap,
    status: job.status,
    next_run: toMsOrNull(job.nextRun),
    last_run: toMsOrNull(job.lastRun),
    run_count: job.runCount,
    failure_count: job.failureCount,
    consecutive_failures: job.consecutiveFailures,
    created_at: toMs(job.createdAt),
    updated_at: toMs(job.updatedAt),
    version: job.version,
    history_retention_days: job.historyRetentionDays,
    history_retention_runs: job.historyRetentionRuns,
  };
}

/** The job a `jobs` row holds. */
export function rowToJob(row: JobRow): CronJobDefinition {
  return {
    id: row.id,
    name: row.name,
    agentId: row.agent_id,
    cronExpr: row.cron_expr,
    at: row.at,
    timezone: row.timezone,
    input: row.input,
    sessionMode: row.session_mode as CronJobDefinition['sessionMode'],
    delivery: parseJson<CronJobDefinition['delivery']>(row.delivery),
    webhookUrl: row.webhook_url,
    webhookHeaders: parseJson<CronJobDefinition['webhookHeaders']>(row.webhook_headers),
    slackChannel: row.slack_channel,
    emailRecipients: parseJson<CronJobDefinition['emailRecipients']>(row.email_recipients),
    policy: decodePolicy(row.policy),
    heartbeat: row.heartbeat === null ? null : parseJson<CronJobDefinition['heartbeat']>(row.heartbeat),
    maxConcurrent: row.max_concurrent,
    maxRetries: row.max_retries,
    agentPinJwt: row.agent_pin_jwt,
    jitterSeconds: row.jitter_seconds,
    catchup: row.catchup as CronJobDefinition['catchup'],
    overlap: row.overlap as CronJobDefinition['overlap'],
    historyRetentionDays: row.history_retention_days,
    historyRetentionRuns: row.history_retention_runs,
    status: row.status as CronJobDefinition['status'],
    nextRun: toDateOrNull(row.next_run),
    lastRun: toDateOrNull(row.last_run),
    runCount: row.run_count,
    failureCount: row.failure_count,
    consecutiveFailures: row.consecutive_failures,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    version: row.version,
  };
}

interface StoredDelivery extends Omit<DeliveryOutcome, 'completedAt'> {
  completedAt: number | null;
}

interface StoredApproval extends Omit<RunApproval, 'requestedAt' | 'expiresAt' | 'decidedAt'> {
  requestedAt: number;
  expiresAt: number;
  decidedAt: number | null;
}

function encodeDeliveries(deliveries: DeliveryOutcome[]): string {
  const stored: StoredDelivery[] = deliveries.map((d) => ({ ...d, completedAt: toMsOrNull(d.completedAt) }));
  return JSON.stringify(stored);
}

function decodeDeliveries(text: string): DeliveryOutcome[] {
  return parseJson<StoredDelivery[]>(text).map((d) => ({ ...d, completedAt: toDateOrNull(d.completedAt) }));
}

function encodeApproval(approval: RunApproval | null): string | null {
  if (approval === null) return null;
  const stored: StoredApproval = {
    ...approval,
    requestedAt: toMs(approval.requestedAt),
    expiresAt: toMs(approval.expiresAt),
    decidedAt: toMsOrNull(approval.decidedAt),
  };
  return JSON.stringify(stored);
}

function decodeApproval(text: string | null): RunApproval | null {
  if (text === null) return null;
  const stored = JSON.parse(text) as StoredApproval;
  return {
    ...stored,
    requestedAt: new Date(stored.requestedAt),
    expiresAt: new Date(stored.expiresAt),
    decidedAt: toDateOrNull(stored.decidedAt),
  };
}

function deliveryPending(deliveries: DeliveryOutcome[]): number {
  return deliveries.some((d) => d.status === 'pending') ? 1 : 0;
}

/** The `runs` row of a run. */
export function runToRow(run: JobRunRecord): RunRow {
  return {
    id: run.id,
    job_id: run.jobId,
    job_name: run.jobName,
    agent_id: run.agentId,
    scheduled_for: toMs(run.scheduledFor),
    due_at: toMs(run.dueAt),
    trigger: run.trigger,
    attempt: run.attempt,
    status: run.status,
    input: run.input,
    output: run.output,
    summary: run.summary,
    error: run.error,
    stderr: run.stderr,
    started_at: toMsOrNull(run.startedAt),
    completed_at: toMsOrNull(run.completedAt),
    execution_time_ms: run.executionTimeMs,
    iterations: JSON.stringify(run.iterations),
    deliveries: encodeDeliveries(run.deliveries),
    approval: encodeApproval(run.approval),
    owner: run.owner,
    lease_expires_at: toMsOrNull(run.leaseExpiresAt),
    fire_key: run.fireKey,
    wait_for_slot: run.waitForSlot ? 1 : 0,
    cancel_requested: run.cancelRequested ? 1 : 0,
    delivery_pending: deliveryPending(run.deliveries),
    // Only a finish marks a run (see executed-audit.ts).
    audited: 0,
  };
}

/** The run a `runs` row holds. */
export function rowToRun(row: RunRow): JobRunRecord {
  return {
    id: row.id,
    jobId: row.job_id,
    jobName: row.job_name,
    agentId: row.agent_id,
    scheduledFor: new Date(row.scheduled_for),
    dueAt: new Date(row.due_at),
    trigger: row.trigger as JobRunRecord['trigger'],
    attempt: row.attempt,
    status: row.status as JobRunRecord['status'],
    input: row.input,
    output: row.output,
    summary: row.summary,
    error: row.error,
    stderr: row.stderr,
    startedAt: toDateOrNull(row.started_at),
    completedAt: toDateOrNull(row.completed_at),
    executionTimeMs: row.execution_time_ms,
    iterations: parseJson<JobRunRecord['iterations']>(row.iterations),
    deliveries: decodeDeliveries(row.deliveries),
    approval: decodeApproval(row.approval),
    owner: row.owner,
    leaseExpiresAt: toDateOrNull(row.lease_expires_at),
    fireKey: row.fire_key,
    waitForSlot: row.wait_for_slot === 1,
    cancelRequested: row.cancel_requested === 1,
  };
}

/** Writes the columns one patched field sets into `row`. */
type PatchEncoders = { [K in keyof RunPatch]-?: (value: Exclude<RunPatch[K], undefined>, row: Partial<RunRow>) => void };

const PATCH_ENCODERS: PatchEncoders = {
  status: (status, row) => void (row.status = status),
  input: (input, row) => void (row.input = input),
  output: (output, row) => void (row.output = output),
  summary: (summary, row) => void (row.summary = summary),
  error: (error, row) => void (row.error = error),
  stderr: (stderr, row) => void (row.stderr = stderr),
  startedAt: (at, row) => void (row.started_at = toMsOrNull(at)),
  completedAt: (at, row) => void (row.completed_at = toMsOrNull(at)),
  executionTimeMs: (ms, row) => void (row.execution_time_ms = ms),
  iterations: (iterations, row) => void (row.iterations = JSON.stringify(iterations)),
  deliveries: (deliveries, row) => {
    row.deliveries = encodeDeliveries(deliveries);
    row.delivery_pending = deliveryPending(deliveries);
  },
  approval: (approval, row) => void (row.approval = encodeApproval(approval)),
  owner: (owner, row) => void (row.owner = owner),
  leaseExpiresAt: (at, row) => void (row.lease_expires_at = toMsOrNull(at)),
  dueAt: (at, row) => void (row.due_at = toMs(at)),
  cancelRequested: (requested, row) => void (row.cancel_requested = requested ? 1 : 0),
};

/** The column values a run patch sets; keys whose value is `undefined`, or that name no field, are left alone. */
export function runPatchToRow(patch: RunPatch): Partial<RunRow> {
  const row: Partial<RunRow> = {};
  for (const key of Object.keys(patch) as (keyof RunPatch)[]) {
    const value = patch[key];
    if (value === undefined || !Object.hasOwn(PATCH_ENCODERS, key)) continue;
    (PATCH_ENCODERS[key] as (value: unknown, row: Partial<RunRow>) => void)(value, row);
  }
  return row;
}

/** The `audit_events` row of an event. */
export function auditToRow(event: AuditEvent): AuditEventsTable {
  return {
    id: event.id,
    type: event.type,
    at: toMs(event.at),
    job_id: event.jobId,
    run_id: event.runId,
    actor: event.actor,
    details: JSON.stringify(event.details),
  };
}

/** The event an `audit_events` row holds. */
export function rowToAudit(row: AuditEventsTable): AuditEvent {
  return {
    id: row.id,
    type: row.type as AuditEvent['type'],
    at: new Date(row.at),
    jobId: row.job_id,
    runId: row.run_id,
    actor: row.actor,
    details: parseJson<AuditEvent['details']>(row.details),
  };
}

/** The `sessions` row of a job's session. */
export function sessionToRow(jobId: string, state: SessionState): SessionsTable {
  return { job_id: jobId, summary: state.summary, history: JSON.stringify(state.history), updated_at: toMs(state.updatedAt) };
}

/** The session a `sessions` row holds. */
export function rowToSession(row: SessionsTable): SessionState {
  return { summary: row.summary, history: parseJson<SessionState['history']>(row.history), updatedAt: new Date(row.updated_at) };
}
