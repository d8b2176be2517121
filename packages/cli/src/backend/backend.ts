import type { JobSpec, WireAuditEvent, WireJob, WireRun } from '@symbi/core';

/** A job as the CLI renders it: the wire format of `@symbi/core` (`jobToWire`). */
export type JobView = WireJob;

/** A run as the CLI renders it (`runToWire`). */
export type RunView = WireRun;

/** An audit event as the CLI renders it (`auditToWire`). */
export type AuditView = WireAuditEvent;

/** The scheduler's health JSON (`GET /api/v1/health/scheduler`). */
export interface HealthView extends Record<string, unknown> {
  status: string;
  active_jobs: number;
  paused_jobs: number;
  in_flight_jobs: number;
  metrics: { runs_total: number; runs_succeeded: number; runs_failed: number; avg_execution_time_ms: number };
}

/** What `symbi cron prune` did (the API's `PruneResult`). */
export interface PruneView {
  /** Finished runs deleted (with a dry run, that would be deleted). */
  deleted: number;
  /** Whether nothing was deleted, only counted. */
  dry_run: boolean;
  /** False when the store cannot prune (a custom store): every run is kept. */
  supported: boolean;
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
  /** Changes the fields `changes` names, given in the wire format (snake_case, as `PUT /api/v1/schedule/{job}` takes). */
  updateJob(ref: string, changes: Record<string, unknown>): Promise<JobView>;
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
  /** Deletes finished runs by the retention policies now; with `dryRun`, only counts them. */
  pruneRuns(dryRun: boolean): Promise<PruneView>;
  /**
   * The health JSON: a server's, or on a store opened here its job counts (no scheduler runs in
   * this process, so the status is `stopped` and the run counters are zero).
   */
  health(): Promise<HealthView>;
  /** Releases connections. */
  close(): Promise<void>;
}
