/** Life-cycle status of a job. */
export type JobStatus = 'active' | 'paused' | 'completed' | 'failed' | 'dead_letter';

/** Every job status, in display order. */
export const JOB_STATUSES: readonly JobStatus[] = ['active', 'paused', 'completed', 'failed', 'dead_letter'];

/**
 * How an agent's context carries over from one run (or heartbeat iteration) to the next.
 *
 * - `ephemeral_with_summary` (default): a fresh context holding the previous run's summary.
 * - `shared_persistent`: one context whose history is kept in the store and handed to every run.
 * - `fully_ephemeral`: nothing carried over.
 */
export type HeartbeatContextMode = 'ephemeral_with_summary' | 'shared_persistent' | 'fully_ephemeral';

/** The spec uses the same three modes for a job's `session_mode`. */
export type SessionIsolationMode = HeartbeatContextMode;

/** Every session mode. */
export const SESSION_MODES: readonly SessionIsolationMode[] = ['ephemeral_with_summary', 'shared_persistent', 'fully_ephemeral'];

/** The built-in delivery channels of the spec. */
export type BuiltinDeliveryChannel = 'stdout' | 'log_file' | 'webhook' | 'slack' | 'email';

/** Every built-in delivery channel. */
export const BUILTIN_DELIVERY_CHANNELS: readonly BuiltinDeliveryChannel[] = ['stdout', 'log_file', 'webhook', 'slack', 'email'];

/**
 * Where a run's output goes: a built-in channel, or the name of a custom channel the host
 * registered (the spec's `Custom(String)`).
 */
export type DeliveryChannel = BuiltinDeliveryChannel | (string & {});

/** What happens to fires missed while no scheduler was running. */
export type CatchupPolicy = 'skip' | 'once' | 'all';

/** Every catch-up policy. */
export const CATCHUP_POLICIES: readonly CatchupPolicy[] = ['skip', 'once', 'all'];

/**
 * What a fire does when the job already has `max_concurrent` runs in flight.
 *
 * - `skip` (spec default): record a `skipped` run and wait for the next fire.
 * - `buffer_one`: keep one fire waiting until a slot frees; further fires are skipped.
 * - `cancel_other`: interrupt the runs in flight and start the new one.
 * - `allow_all`: ignore `max_concurrent`.
 */
export type OverlapPolicy = 'skip' | 'buffer_one' | 'cancel_other' | 'allow_all';

/** Every overlap policy. */
export const OVERLAP_POLICIES: readonly OverlapPolicy[] = ['skip', 'buffer_one', 'cancel_other', 'allow_all'];

/**
 * How much of a job's activity the audit log records (`policy.audit`). Definition changes
 * (created, updated, deleted, paused, resumed, reset), dead-lettering, approvals and AgentPin
 * failures are recorded at every level: a job's own definition cannot hide them.
 *
 * - `all_operations` (default): also every finished run, `CronJobExecuted` or `CronJobFailed`.
 * - `errors_only`: failed and timed-out runs (`CronJobFailed`), not successful ones.
 * - `none`: no run events.
 */
export type AuditLevel = 'all_operations' | 'errors_only' | 'none';

/** Every audit level, the default first. */
export const AUDIT_LEVELS: readonly AuditLevel[] = ['all_operations', 'errors_only', 'none'];

/** A daily time window in UTC, `HH:MM` to `HH:MM`; `end` before `start` crosses midnight. */
export interface AllowedHours {
  /** Inclusive start, `HH:MM` (UTC). */
  start: string;
  /** Exclusive end, `HH:MM` (UTC). */
  end: string;
}

/** The spec's `policy { … }` block of a schedule. */
export interface SchedulePolicy {
  /** Hold every run for a human decision before it executes. */
  requireApproval: boolean;
  /** Who is asked to approve (shown in the approval request). */
  approver: string | null;
  /** How long an approval request waits before the run ends `denied`; null uses the scheduler default. */
  approvalTimeoutMs: number | null;
  /** Abort a run that takes longer than this (milliseconds); null for no limit. */
  maxRuntimeMs: number | null;
  /** Capabilities the agent must declare. */
  requireCapabilities: string[];
  /** Window in which runs may start (UTC); null for any time. */
  allowedHours: AllowedHours | null;
  /** Scheduler environments (config `environment` / `SYMBI_ENV`) in which the job may run; empty for any. */
  allowedEnvironments: string[];
  /** Require a valid AgentPin credential (`agent_pin_jwt`). */
  requireAgentPin: boolean;
  /** Which of the job's run events the audit log records. */
  audit: AuditLevel;
}

/** The spec's `heartbeat: { … }` block. */
export interface HeartbeatConfig {
  /** Whether each fire runs the assess → act → sleep loop. */
  enabled: boolean;
  /** How context carries across iterations within one fire. */
  contextMode: HeartbeatContextMode;
  /** Safety limit on iterations per fire. */
  maxIterations: number;
}

/**
 * A scheduled job, as stored. Field names are camelCase here; on the wire and in files they are
 * the spec's snake_case (see the wire module).
 */
export interface CronJobDefinition {
  /** Stable id: a UUID the scheduler generates (names never have this shape). */
  id: string;
  /** Unique human name, e.g. `daily-report`. */
  name: string;
  /** The agent to run. */
  agentId: string;
  /** Cron expression (5, 6 or 7 fields, or a nickname); null for a one-shot job. */
  cronExpr: string | null;
  /** ISO 8601 instant of a one-shot job; null for a cron job. */
  at: string | null;
  /** IANA time zone in which `cronExpr` is read. */
  timezone: string;
  /** Input handed to scheduled runs. */
  input: string | null;
  /** How context carries across runs. */
  sessionMode: SessionIsolationMode;
  /** Channels that receive each run's output. */
  delivery: DeliveryChannel[];
  /** Target of the `webhook` channel. */
  webhookUrl: string | null;
  /** Extra headers of the `webhook` channel; values may hold `${ENV}` references resolved at send time. */
  webhookHeaders: Record<string, string>;
  /** Channel of the `slack` channel (e.g. `#ops`); null uses the configured default. */
  slackChannel: string | null;
  /** Recipients of the `email` channel. */
  emailRecipients: string[];
  /** Pre-execution policy. */
  policy: SchedulePolicy;
  /** Heartbeat settings; null for a plain job. */
  heartbeat: HeartbeatConfig | null;
  /** Most runs of this job in flight at once. */
  maxConcurrent: number;
  /** Consecutive failures before the job moves to `dead_letter`; null uses the scheduler default. */
  maxRetries: number | null;
  /** AgentPin credential, usually a `${ENV}` reference resolved at run time (never stored resolved). */
  agentPinJwt: string | null;
  /** Random start delay of 0..N seconds; null uses the scheduler's `max_jitter_seconds`. */
  jitterSeconds: number | null;
  /** What happens to fires missed while down. */
  catchup: CatchupPolicy;
  /** What a fire does at `maxConcurrent`. */
  overlap: OverlapPolicy;
  /**
   * Days this job's finished runs are kept before history pruning deletes them; null uses the
   * scheduler's `history_retention_days` (see `lifecycle/retention.ts`).
   */
  historyRetentionDays: number | null;
  /**
   * Most finished runs of this job kept (the newest); null uses the scheduler's
   * `history_retention_runs`.
   */
  historyRetentionRuns: number | null;
  /** Life-cycle status. */
  status: JobStatus;
  /** Next fire time; null when nothing is due (paused one-shot done, etc.). */
  nextRun: Date | null;
  /** Start of the most recent finished run. */
  lastRun: Date | null;
  /** Finished runs (all outcomes except skipped). */
  runCount: number;
  /** Failed, timed-out and interrupted runs, in total. */
  failureCount: number;
  /** Failures since the last success; reaching `maxRetries` dead-letters the job. */
  consecutiveFailures: number;
  /** Creation time. */
  createdAt: Date;
  /** Last change of the definition or status. */
  updatedAt: Date;
  /** Incremented on every change; used for optimistic concurrency. */
  version: number;
}

/** Fields that describe a job (what a user writes), as opposed to its run-time state. */
export type JobSpecFields = Pick<
  CronJobDefinition,
  | 'name'
  | 'agentId'
  | 'cronExpr'
  | 'at'
  | 'timezone'
  | 'input'
  | 'sessionMode'
  | 'delivery'
  | 'webhookUrl'
  | 'webhookHeaders'
  | 'slackChannel'
  | 'emailRecipients'
  | 'policy'
  | 'heartbeat'
  | 'maxConcurrent'
  | 'maxRetries'
  | 'agentPinJwt'
  | 'jitterSeconds'
  | 'catchup'
  | 'overlap'
  | 'historyRetentionDays'
  | 'historyRetentionRuns'
>;

/** Input to create a job: `name`, `agentId` and one of `cronExpr` / `at` are required; the rest defaults. */
export type JobSpec = Partial<Omit<JobSpecFields, 'policy' | 'heartbeat'>> &
  Pick<JobSpecFields, 'name' | 'agentId'> & {
    /** Partial policy; unspecified conditions default to off. */
    policy?: Partial<SchedulePolicy>;
    /** Partial heartbeat settings. */
    heartbeat?: Partial<HeartbeatConfig> | null;
    /** Create the job paused. */
    paused?: boolean;
  };

/** A change to a job's definition; every field is optional. */
export type JobUpdate = Partial<JobSpec>;
