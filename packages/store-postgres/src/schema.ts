import type {
  AuditEvent,
  CronJobDefinition,
  DeliveryOutcome,
  HeartbeatIteration,
  RunApproval,
  SessionState,
} from '@symbi/core';
import type { ColumnType, Generated, GeneratedAlways, Insertable, Selectable } from 'kysely';

/**
 * A value as PostgreSQL hands JSON back: dates, which JSON has no type for, come back as ISO 8601
 * strings at any depth.
 */
export type Stored<T> = T extends string | number | boolean | null | undefined
  ? T
  : T extends Date
    ? string
    : T extends readonly (infer E)[]
      ? Stored<E>[]
      : { [K in keyof T]: Stored<T[K]> };

/** A `jsonb` column: read back as {@link Stored}, written (as part of a JSON row) as the domain value. */
type JsonColumn<T> = ColumnType<Stored<T>, T, T>;

/**
 * A row of `jobs`. Columns hold what node-postgres returns: `timestamptz` as `Date`, `integer` and
 * `double precision` as numbers, `jsonb` parsed.
 */
export interface JobsTable {
  id: string;
  name: string;
  agent_id: string;
  cron_expr: string | null;
  at: string | null;
  timezone: string;
  input: string | null;
  session_mode: CronJobDefinition['sessionMode'];
  delivery: JsonColumn<CronJobDefinition['delivery']>;
  webhook_url: string | null;
  webhook_headers: JsonColumn<Record<string, string>>;
  slack_channel: string | null;
  email_recipients: JsonColumn<string[]>;
  policy: JsonColumn<CronJobDefinition['policy']>;
  heartbeat: JsonColumn<CronJobDefinition['heartbeat']>;
  max_concurrent: number;
  max_retries: number | null;
  agent_pin_jwt: string | null;
  jitter_seconds: number | null;
  catchup: CronJobDefinition['catchup'];
  overlap: CronJobDefinition['overlap'];
  status: CronJobDefinition['status'];
  next_run: Date | null;
  last_run: Date | null;
  run_count: number;
  failure_count: number;
  consecutive_failures: number;
  created_at: Date;
  updated_at: Date;
  version: number;
  history_retention_days: number | null;
  history_retention_runs: number | null;
}

/**
 * A row of `runs` (finished runs: the history, and the delivery outbox on it) or of `live_runs` (runs
 * in flight), which has the same columns.
 */
export interface RunsTable {
  id: string;
  job_id: string;
  job_name: string;
  agent_id: string;
  scheduled_for: Date;
  due_at: Date;
  trigger: string;
  attempt: number;
  status: string;
  input: string | null;
  output: string | null;
  summary: string | null;
  error: string | null;
  stderr: string | null;
  started_at: Date | null;
  completed_at: Date | null;
  execution_time_ms: number | null;
  iterations: JsonColumn<HeartbeatIteration[]>;
  deliveries: JsonColumn<DeliveryOutcome[]>;
  approval: JsonColumn<RunApproval | null>;
  owner: string | null;
  lease_expires_at: Date | null;
  fire_key: string | null;
  wait_for_slot: boolean;
  cancel_requested: boolean;
  /** True while some delivery is `pending` (computed by the database); the outbox index is partial on it. */
  delivery_pending: GeneratedAlways<boolean>;
  /** The status, when it is one a listing by status finds by index (not `scheduled`, `running` nor `succeeded`); computed by the database. */
  listed_status: GeneratedAlways<string | null>;
  /**
   * The run's routine `CronJobExecuted` event belongs to the audit log (migration 8): set by a
   * success finished with `executedAudit`, on `runs` only (false in `live_runs`). See `executed-audit.ts`.
   */
  executed_audit: Generated<boolean>;
}

/** A row of `sessions`, one per job at most. */
export interface SessionsTable {
  job_id: string;
  summary: string | null;
  history: JsonColumn<SessionState['history']>;
  updated_at: Date;
}

/** A row of `audit_events`. */
export interface AuditEventsTable {
  id: string;
  /** Append order (a `bigint`, which node-postgres returns as a string): orders events of equal time. */
  seq: GeneratedAlways<string>;
  type: AuditEvent['type'];
  at: Date;
  job_id: string | null;
  run_id: string | null;
  actor: string;
  details: JsonColumn<Record<string, unknown>>;
}

/** A row of `schema_migrations`: one per applied migration. */
export interface SchemaMigrationsTable {
  version: number;
  name: string;
  applied_at: Generated<Date>;
}

/** A row of `instances`: a scheduler instance working on the schema, while it runs (see core's `lifecycle/liveness.ts`). */
export interface InstancesTable {
  id: string;
  host: string;
  pid: number;
  start_token: string | null;
  started_at: Generated<Date>;
  /** The server's `now()` at the instance's last heartbeat: every instance is judged by one clock. */
  heartbeat_at: Generated<Date>;
  beats: number;
}

/** The tables of one store schema, as kysely sees them. */
export interface Database {
  jobs: JobsTable;
  runs: RunsTable;
  live_runs: RunsTable;
  sessions: SessionsTable;
  audit_events: AuditEventsTable;
  schema_migrations: SchemaMigrationsTable;
  instances: InstancesTable;
}

/** A `jobs` row as read. */
export type JobRow = Selectable<JobsTable>;
/** A `jobs` row as written. */
export type NewJobRow = Insertable<JobsTable>;
/** A `runs` row as read. */
export type RunRow = Selectable<RunsTable>;
/** A `runs` row as the hot statements read it back: without the columns the database derives, nor the audit mark. */
export type ReadRunRow = Omit<RunRow, 'delivery_pending' | 'listed_status' | 'executed_audit'>;
/** A `runs` row as written (`delivery_pending` and `listed_status` are the database's). */
export type NewRunRow = Insertable<RunsTable>;
/** A `sessions` row as read and written. */
export type SessionRow = Selectable<SessionsTable>;
/** An `audit_events` row as read. */
export type AuditRow = Selectable<AuditEventsTable>;
/** An `audit_events` row as written (`seq` is the database's). */
export type NewAuditRow = Insertable<AuditEventsTable>;
