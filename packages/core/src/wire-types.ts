import type { SecurityEventType } from './domain/audit.js';
import type { AuditLevel } from './domain/job.js';
import type { CatchupPolicy, HeartbeatContextMode, JobStatus, OverlapPolicy, SessionIsolationMode } from './domain/job.js';
import type { RunStatus, RunTrigger } from './domain/run.js';

/*
 * The wire format of the HTTP API, the CLI's `--json` output and the SDKs: snake_case, instants
 * as ISO strings, secrets redacted. `jobToWire`, `runToWire` and `auditToWire` produce these
 * types; the server's JSON Schemas and the client's result types are checked against them.
 */

/** A job's `policy` block as the API shows it. */
export interface WireJobPolicy {
  /** Hold every run for a human decision. */
  require_approval: boolean;
  /** Who is asked. */
  approver: string | null;
  /** How long a request waits, e.g. `1h`. */
  approval_timeout: string | null;
  /** Longest run, e.g. `30m`. */
  max_runtime: string | null;
  /** Capabilities the agent must declare. */
  require_capabilities: string[];
  /** Daily UTC window in which runs may start. */
  allowed_hours: { start: string; end: string } | null;
  /** Environments in which the job may run. */
  allowed_environments: string[];
  /** Require a valid AgentPin credential. */
  require_agent_pin: boolean;
  /** Which of the job's run events the audit log records. */
  audit: AuditLevel;
}

/** A job's heartbeat settings. */
export interface WireJobHeartbeat {
  /** Whether each fire runs the assess → act → sleep loop. */
  enabled: boolean;
  /** Context carried across iterations. */
  context_mode: HeartbeatContextMode;
  /** Safety limit of iterations per fire. */
  max_iterations: number;
}

/** A job as the API returns it (secrets show as `[redacted]`). */
export interface WireJob {
  /** Job id. */
  id: string;
  /** Unique name. */
  name: string;
  /** Agent it runs. */
  agent_id: string;
  /** Cron expression, or null for a one-shot job. */
  cron_expr: string | null;
  /** ISO instant of a one-shot job. */
  at: string | null;
  /** IANA time zone of the cron expression. */
  timezone: string;
  /** Input of scheduled runs. */
  input: string | null;
  /** Context carried across runs. */
  session_mode: SessionIsolationMode;
  /** Delivery channels. */
  delivery: string[];
  /** Webhook target. */
  webhook_url: string | null;
  /** Webhook headers, values redacted. */
  webhook_headers: Record<string, string>;
  /** Slack channel. */
  slack_channel: string | null;
  /** Email recipients. */
  email_recipients: string[];
  /** Pre-execution policy. */
  policy: WireJobPolicy;
  /** Heartbeat settings, or null. */
  heartbeat: WireJobHeartbeat | null;
  /** Most runs in flight at once. */
  max_concurrent: number;
  /** Consecutive failures before dead_letter (null: scheduler default). */
  max_retries: number | null;
  /** `[redacted]` when a credential is set. */
  agent_pin_jwt: string | null;
  /** Random start delay of 0..N seconds (null: scheduler default). */
  jitter: number | null;
  /** Missed-fire policy. */
  catchup: CatchupPolicy;
  /** Overlap policy. */
  overlap: OverlapPolicy;
  /** Days finished runs are kept (null: scheduler's `history_retention_days`). */
  history_retention_days: number | null;
  /** Most finished runs kept (null: scheduler's `history_retention_runs`). */
  history_retention_runs: number | null;
  /** Life-cycle status. */
  status: JobStatus;
  /** Whether the job is active. */
  enabled: boolean;
  /** Next fire time (ISO), or null. */
  next_run: string | null;
  /** Start of the latest finished run (ISO). */
  last_run: string | null;
  /** Finished runs. */
  run_count: number;
  /** Failed runs in total. */
  failure_count: number;
  /** Failures since the last success. */
  consecutive_failures: number;
  /** Creation time (ISO). */
  created_at: string;
  /** Last change (ISO). */
  updated_at: string;
}

/** One heartbeat iteration of a run. */
export interface WireRunIteration {
  /** 1-based number. */
  index: number;
  /** Output. */
  output: string;
  /** Summary. */
  summary: string | null;
  /** Whether the agent asked to sleep. */
  action: 'sleep' | 'continue';
  /** Wall time. */
  duration_ms: number;
}

/** Delivery outcome on one channel. */
export interface WireRunDelivery {
  /** Channel. */
  channel: string;
  /** Outcome. */
  status: 'pending' | 'delivered' | 'failed';
  /** Attempts made. */
  attempts: number;
  /** Last error. */
  error: string | null;
  /** When delivered or given up (ISO). */
  completed_at: string | null;
}

/** An approval request of a run. */
export interface WireRunApproval {
  /** Who was asked. */
  approver: string;
  /** Why. */
  reason: string;
  /** Policy that asked. */
  policy_id: string;
  /** Request time (ISO). */
  requested_at: string;
  /** Expiry (ISO). */
  expires_at: string;
  /** Decision, or null while pending. */
  decision: 'approved' | 'denied' | 'expired' | null;
  /** Who decided. */
  decided_by: string | null;
  /** When (ISO). */
  decided_at: string | null;
  /** Note of the decider. */
  note: string | null;
}

/** A run as the API returns it. */
export interface WireRun {
  /** Run id. */
  id: string;
  /** Job id. */
  job_id: string;
  /** Job name when the run was created. */
  job_name: string;
  /** Agent. */
  agent_id: string;
  /** Fire time it belongs to (ISO). */
  scheduled_for: string;
  /** When it may start (ISO). */
  due_at: string;
  /** Why it exists. */
  trigger: RunTrigger;
  /** Attempt number. */
  attempt: number;
  /** Status. */
  status: RunStatus;
  /** Input. */
  input: string | null;
  /** Agent output. */
  output: string | null;
  /** Agent summary. */
  summary: string | null;
  /** Why it failed, was denied, skipped or interrupted. */
  error: string | null;
  /** Same as `error` (the spec's SDK name). */
  error_message: string | null;
  /** Executor diagnostics. */
  stderr: string | null;
  /** Start (ISO). */
  started_at: string | null;
  /** End (ISO). */
  completed_at: string | null;
  /** Execution wall time. */
  execution_time_ms: number | null;
  /** Heartbeat iterations. */
  iterations: WireRunIteration[];
  /** Delivery outcomes. */
  deliveries: WireRunDelivery[];
  /** Approval request, if any. */
  approval: WireRunApproval | null;
}

/** An audit log entry. */
export interface WireAuditEvent {
  /** Event id. */
  id: string;
  /** What happened. */
  type: SecurityEventType;
  /** When (ISO). */
  at: string;
  /** Job concerned. */
  job_id: string | null;
  /** Run concerned. */
  run_id: string | null;
  /** Who did it. */
  actor: string;
  /** Extra facts. */
  details: Record<string, unknown>;
}
