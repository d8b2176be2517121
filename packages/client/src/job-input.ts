import type { SessionMode } from './wire-types.js';

/** A duration as the API accepts it: `"30m"`, `"1h30m"`, or milliseconds. */
export type DurationInput = string | number;

/** A job's `policy` block, camelCase. */
export interface PolicyInput {
  /** Hold every run for a human decision. */
  requireApproval?: boolean;
  /** Who is asked. */
  approver?: string | null;
  /** How long an approval request waits. */
  approvalTimeout?: DurationInput | null;
  /** Abort runs longer than this. */
  maxRuntime?: DurationInput | null;
  /** Capabilities the agent must declare. */
  requireCapabilities?: string[];
  /** Daily UTC window in which runs may start. */
  allowedHours?: { start: string; end: string } | null;
  /** Environments in which the job may run. */
  allowedEnvironments?: string[];
  /** Require a valid AgentPin credential. */
  requireAgentPin?: boolean;
}

/** A job's heartbeat block, camelCase. */
export interface HeartbeatInput {
  /** Run the assess → act → sleep loop. */
  enabled?: boolean;
  /** Context carried across iterations. */
  contextMode?: SessionMode;
  /** Safety limit of iterations. */
  maxIterations?: number;
}

/** The fields of a job, camelCase as in the spec's JavaScript example. */
export interface JobFields {
  /** Unique name. */
  name: string;
  /** The agent to run. */
  agentId: string;
  /** Cron expression (5, 6 or 7 fields, or a nickname). */
  cronExpr?: string | null;
  /** ISO instant of a one-shot job. */
  at?: string | null;
  /** IANA time zone of the cron expression (default UTC). */
  timezone?: string;
  /** Input of scheduled runs. */
  input?: string | null;
  /** Context carried across runs. */
  sessionMode?: SessionMode;
  /** Delivery channels. */
  delivery?: string[];
  /** Webhook target. */
  webhookUrl?: string | null;
  /** Webhook headers (may hold `${ENV}` references). */
  webhookHeaders?: Record<string, string>;
  /** Slack channel. */
  slackChannel?: string | null;
  /** Email recipients. */
  emailRecipients?: string[];
  /** Pre-execution policy. */
  policy?: PolicyInput;
  /** Heartbeat settings. */
  heartbeat?: HeartbeatInput | null;
  /** Most runs in flight at once. */
  maxConcurrent?: number;
  /** Consecutive failures before dead_letter. */
  maxRetries?: number | null;
  /** AgentPin credential. */
  agentPinJwt?: string | null;
  /** Random start delay of 0..N seconds. */
  jitterSeconds?: number | null;
  /** Missed-fire policy. */
  catchup?: 'skip' | 'once' | 'all';
  /** Overlap policy. */
  overlap?: 'skip' | 'buffer_one' | 'cancel_other' | 'allow_all';
  /** Days finished runs are kept before pruning (null: the scheduler's `history_retention_days`). */
  historyRetentionDays?: number | null;
  /** Most finished runs kept, the newest (null: the scheduler's `history_retention_runs`). */
  historyRetentionRuns?: number | null;
  /** Optional id (default: a generated UUID). */
  id?: string;
  /** Create the job paused. */
  paused?: boolean;
}

/** The same fields in the API's snake_case (as sent by `curl` or read from a file). */
export interface WireJobFields {
  /** Unique name. */
  name: string;
  /** The agent to run. */
  agent_id: string;
  /** Any other wire field: `cron_expr`, `session_mode`, `webhook_url`, `policy: { require_approval }`, … */
  [field: string]: unknown;
}

/** Input of `schedule.create`: camelCase (`agentId`, `cronExpr`) or the API's snake_case. */
export type CreateJobInput = JobFields | WireJobFields;

/** Input of `schedule.update`: any subset of the fields, in either case. */
export type UpdateJobInput = Partial<Omit<JobFields, 'id' | 'paused'>> | Partial<WireJobFields>;

/** camelCase names whose wire name is not simply their snake_case form. */
const RENAMED: Record<string, string> = { jitterSeconds: 'jitter' };

/**
 * Converts a job from camelCase (or a mix) to the API's snake_case. Only the names of job,
 * `policy` and `heartbeat` fields change; values (header names, allowed hours) are sent as given.
 */
export function toWireJob(input: object): Record<string, unknown> {
  const out = renameKeys(input, 'job');
  for (const nested of ['policy', 'heartbeat']) {
    const value = out[nested];
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) out[nested] = renameKeys(value, nested);
  }
  return out;
}

function renameKeys(input: object, where: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue;
    const wire = RENAMED[key] ?? key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    if (Object.hasOwn(out, wire)) throw new TypeError(`${where} field ${wire} is given twice (as ${key} and ${wire})`);
    out[wire] = value;
  }
  return out;
}
