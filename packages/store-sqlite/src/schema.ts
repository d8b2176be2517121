/**
 * The tables as kysely sees them. Dates are integer epoch milliseconds, booleans 0/1, and nested
 * values (policy, headers, lists, deliveries, approval…) JSON text.
 */

/** A row of `jobs`. */
export interface JobsTable {
  id: string;
  name: string;
  agent_id: string;
  cron_expr: string | null;
  at: string | null;
  timezone: string;
  input: string | null;
  session_mode: string;
  delivery: string;
  webhook_url: string | null;
  webhook_headers: string;
  slack_channel: string | null;
  email_recipients: string;
  policy: string;
  heartbeat: string | null;
  max_concurrent: number;
  max_retries: number | null;
  agent_pin_jwt: string | null;
  jitter_seconds: number | null;
  catchup: string;
  overlap: string;
  status: string;
  next_run: number | null;
  last_run: number | null;
  run_count: number;
  failure_count: number;
  consecutive_failures: number;
  created_at: number;
  updated_at: number;
  version: number;
  history_retention_days: number | null;
  history_retention_runs: number | null;
}

/** A row of `runs`: the run queue and its history in one table. */
export interface RunsTable {
  id: string;
  job_id: string;
  job_name: string;
  agent_id: string;
  scheduled_for: number;
  due_at: number;
  trigger: string;
  attempt: number;
  status: string;
  input: string | null;
  output: string | null;
  summary: string | null;
  error: string | null;
  stderr: string | null;
  started_at: number | null;
  completed_at: number | null;
  execution_time_ms: number | null;
  iterations: string;
  deliveries: string;
  approval: string | null;
  owner: string | null;
  lease_expires_at: number | null;
  fire_key: string | null;
  wait_for_slot: number;
  cancel_requested: number;
  /** 1 while some delivery is `pending`: the outbox index is partial on it. */
  delivery_pending: number;
  /**
   * 1 when the run's routine `CronJobExecuted` event is kept as this mark instead of an
   * `audit_events` row (see migration 8): `runs_audited` and `runs_job_audited` are partial on it.
   */
  audited: number;
}

/** A row of `sessions`, one per job at most. */
export interface SessionsTable {
  job_id: string;
  summary: string | null;
  history: string;
  updated_at: number;
}

/** A row of `audit_events`. */
export interface AuditEventsTable {
  id: string;
  type: string;
  at: number;
  job_id: string | null;
  run_id: string | null;
  actor: string;
  details: string;
}

/** A row of `schema_migrations`: one per applied migration. */
export interface SchemaMigrationsTable {
  version: number;
  name: string;
  applied_at: number;
}

/** A row of `instances`: a scheduler instance using the file, while it runs (see core's `lifecycle/liveness.ts`). */
export interface InstancesTable {
  id: string;
  host: string;
  pid: number;
  start_token: string | null;
  started_at: number;
  heartbeat_at: number;
  beats: number;
}

/** Every table of the store. */
export interface StoreDatabase {
  jobs: JobsTable;
  runs: RunsTable;
  sessions: SessionsTable;
  audit_events: AuditEventsTable;
  schema_migrations: SchemaMigrationsTable;
  instances: InstancesTable;
}

/** A `jobs` row as read back. */
export type JobRow = JobsTable;
/** A `runs` row as read back. */
export type RunRow = RunsTable;
