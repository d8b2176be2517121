import type { JobSpec } from '@symbi/core';

/**
 * A job in the wire format (`jobToWire`): what the HTTP API returns, and what the CLI renders
 * whether it reads the store or a server. Only the fields the CLI reads are named.
 */
export interface JobView extends Record<string, unknown> {
  id: string;
  name: string;
  agent_id: string;
  cron_expr: string | null;
  at: string | null;
  timezone: string;
  status: string;
  next_run: string | null;
  last_run: string | null;
  run_count: number;
  failure_count: number;
  consecutive_failures: number;
  delivery: string[];
  session_mode: string;
  input: string | null;
  max_concurrent: number;
  max_retries: number | null;
  catchup: string;
  overlap: string;
  heartbeat: { enabled: boolean; context_mode: string; max_iterations: number } | null;
  policy: {
    require_approval: boolean;
    approver: string | null;
    max_runtime: string | null;
    require_capabilities: string[];
    allowed_hours: { start: string; end: string } | null;
    allowed_environments: string[];
    require_agent_pin: boolean;
    audit: string;
  };
}

/** A run in the wire format (`runToWire`). */
export interface RunView extends Record<string, unknown> {
  id: string;
  job_id: string;
  job_name: string;
  agent_id: string;
  scheduled_for: string;
  trigger: string;
  attempt: number;
  status: string;
  input: string | null;
  output: string | null;
  error: string | null;
  stderr: string | null;
  started_at: string | null;
  completed_at: string | null;
  execution_time_ms: number | null;
  deliveries: { channel: string; status: string; attempts: number; error: string | null }[];
  approval: { approver: string; reason: string; expires_at: string; decision: string | null } | null;
}

/** An audit event in the wire format (`auditToWire`). */
export interface AuditView extends Record<string, unknown> {
  id: string;
  type: string;
  at: string;
  job_id: string | null;
  run_id: string | null;
  actor: string;
  details: Record<string, unknown>;
}

/** The scheduler's health JSON (`GET /api/v1/health/scheduler`). */
export interface HealthView extends Record<string, unknown> {
  status: string;
  active_jobs: number;
  paused_jobs: number;
  in_flight_jobs: number;
  metrics: { runs_total: number; runs_succeeded: number; runs_failed: number; avg_execution_time_ms: number };
}

/** Filter of {@link Backend.listJobs}. */
export interface JobListFilter {
  status?: string;
  agentId?: string;
}

/** Filter of {@link Backend.history}. */
export interface HistoryFilter {
  limit?: number;
  status?: string[];
}

/** Filter of {@link Backend.audit}. */
export interface AuditQuery {
  type?: string;
  since?: Date;
  limit?: number;
}

/**
 * What `symbi cron` and `symbi audit` do, on a store opened directly or through a running
 * server's HTTP API. Jobs are named by id or name; results are in the wire format.
 */
export interface Backend {
  /** Where commands go: `sqlite:/path`, `postgres://…` or the server URL. */
  readonly target: string;
  /** Whether commands go through a server's HTTP API. */
  readonly remote: boolean;
  listJobs(filter: JobListFilter): Promise<JobView[]>;
  getJob(ref: string): Promise<JobView>;
  createJob(spec: JobSpec): Promise<JobView>;
  removeJob(ref: string): Promise<void>;
  pauseJob(ref: string): Promise<JobView>;
  resumeJob(ref: string): Promise<JobView>;
  resetJob(ref: string): Promise<JobView>;
  /** Queues a manual run (it executes wherever a scheduler claims it). */
  runNow(ref: string, input: string | undefined): Promise<RunView>;
  history(ref: string, filter: HistoryFilter): Promise<RunView[]>;
  getRun(runId: string): Promise<RunView>;
  approve(runId: string, note: string | null): Promise<RunView>;
  deny(runId: string, note: string | null): Promise<RunView>;
  audit(query: AuditQuery): Promise<AuditView[]>;
  /**
   * The health JSON: a server's, or on a store opened here its job counts (no scheduler runs in
   * this process, so the status is `stopped` and the run counters are zero).
   */
  health(): Promise<HealthView>;
  /** Releases connections. */
  close(): Promise<void>;
}
