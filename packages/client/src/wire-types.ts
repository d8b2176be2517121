/*
 * What the API returns. Jobs, runs and audit events are the wire types of `@symbi/core`, the
 * same ones the server produces with `jobToWire` and friends, under the names the spec's SDK uses.
 */
export type {
  JobStatus,
  RunStatus,
  SecurityEventType,
  SessionIsolationMode as SessionMode,
  WireJobPolicy as JobPolicy,
  WireJobHeartbeat as JobHeartbeat,
  WireJob as Job,
  WireRunIteration as RunIteration,
  WireRunDelivery as RunDelivery,
  WireRunApproval as RunApproval,
  WireRun as Run,
  WireAuditEvent as AuditEvent,
} from '@symbi/core';

/** The spec's scheduler health JSON. */
export interface SchedulerHealth {
  /** Overall state. */
  status: 'healthy' | 'degraded' | 'stopped';
  /** Why it is `degraded` (e.g. the store cannot be reached, or its disk is full); absent otherwise. */
  reason?: string;
  /** Active jobs. */
  active_jobs: number;
  /** Paused jobs. */
  paused_jobs: number;
  /** Runs executing now. */
  in_flight_jobs: number;
  /** Run counters. */
  metrics: { runs_total: number; runs_succeeded: number; runs_failed: number; avg_execution_time_ms: number };
}

/** Answer of `pruneRuns`. */
export interface PruneResult {
  /** Finished runs deleted (with `dry_run`, that would be deleted). */
  deleted: number;
  /** Whether nothing was deleted, only counted. */
  dry_run: boolean;
  /** False when the server's job store cannot prune (a custom store): every run is kept. */
  supported: boolean;
}

/** Answer of `nextRun`. */
export interface NextRun {
  /** Job id. */
  job_id: string;
  /** Next fire time (ISO), or null. */
  next_run: string | null;
}
