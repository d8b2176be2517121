import { StoreError } from '@symbi/core';
import type { Transaction } from './database.js';

/** One step of the schema's history. Applied steps are never edited; changes come as new steps. */
interface Migration {
  version: number;
  name: string;
  /** DDL for the quoted schema name `s`. */
  sql(s: string): string;
}

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'jobs, runs, sessions and audit events',
    // Ids and names use the "C" collation so ordering (names, id tie-breaks) is by code point,
    // the same on every server whatever its locale.
    //
    // Every change of a run's status rewrites the row and adds an entry to each index whose
    // predicate it meets, so the run indexes are few and mostly partial: the queue, waiting runs,
    // in-flight runs (job load), held leases, the delivery outbox, and statuses worth looking up
    // (all but the busy `scheduled`, `running` and `succeeded`). Per-job history has its index;
    // a listing across all jobs without a status scans. Job and session rows leave room on their
    // pages so that counter and summary updates stay HOT (no index writes).
    sql: (s) => `
      CREATE TABLE ${s}.jobs (
        id text COLLATE "C" NOT NULL,
        name text COLLATE "C" NOT NULL,
        agent_id text COLLATE "C" NOT NULL,
        cron_expr text,
        at text,
        timezone text NOT NULL,
        input text,
        session_mode text NOT NULL,
        delivery jsonb NOT NULL,
        webhook_url text,
        webhook_headers jsonb NOT NULL,
        slack_channel text,
        email_recipients jsonb NOT NULL,
        policy jsonb NOT NULL,
        heartbeat jsonb,
        max_concurrent integer NOT NULL,
        max_retries integer,
        agent_pin_jwt text,
        jitter_seconds double precision,
        catchup text NOT NULL,
        overlap text NOT NULL,
        status text NOT NULL,
        next_run timestamptz,
        last_run timestamptz,
        run_count integer NOT NULL,
        failure_count integer NOT NULL,
        consecutive_failures integer NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        version integer NOT NULL,
        CONSTRAINT jobs_pkey PRIMARY KEY (id),
        CONSTRAINT jobs_name_key UNIQUE (name)
      ) WITH (fillfactor = 70);
      CREATE INDEX jobs_due_idx ON ${s}.jobs (next_run) WHERE status = 'active';
      CREATE INDEX jobs_status_idx ON ${s}.jobs (status);
      CREATE INDEX jobs_agent_idx ON ${s}.jobs (agent_id);

      CREATE TABLE ${s}.runs (
        id text COLLATE "C" NOT NULL,
        job_id text COLLATE "C" NOT NULL,
        job_name text NOT NULL,
        agent_id text COLLATE "C" NOT NULL,
        scheduled_for timestamptz NOT NULL,
        due_at timestamptz NOT NULL,
        trigger text NOT NULL,
        attempt integer NOT NULL,
        status text NOT NULL,
        input text,
        output text,
        summary text,
        error text,
        stderr text,
        started_at timestamptz,
        completed_at timestamptz,
        execution_time_ms double precision,
        iterations jsonb NOT NULL,
        deliveries jsonb NOT NULL,
        approval jsonb,
        owner text,
        lease_expires_at timestamptz,
        fire_key text COLLATE "C",
        wait_for_slot boolean NOT NULL,
        cancel_requested boolean NOT NULL,
        delivery_pending boolean GENERATED ALWAYS AS (deliveries @> '[{"status":"pending"}]') STORED,
        CONSTRAINT runs_pkey PRIMARY KEY (id),
        CONSTRAINT runs_fire_key_key UNIQUE (fire_key),
        CONSTRAINT runs_job_fkey FOREIGN KEY (job_id) REFERENCES ${s}.jobs (id) ON DELETE CASCADE
      );
      CREATE INDEX runs_queue_idx ON ${s}.runs (due_at, id) WHERE status = 'scheduled' AND NOT wait_for_slot;
      CREATE INDEX runs_waiting_idx ON ${s}.runs (due_at, id) WHERE status = 'scheduled' AND wait_for_slot;
      CREATE INDEX runs_in_flight_idx ON ${s}.runs (job_id) WHERE status IN ('scheduled', 'awaiting_approval', 'running');
      CREATE INDEX runs_lease_idx ON ${s}.runs (lease_expires_at)
        WHERE owner IS NOT NULL AND status IN ('scheduled', 'awaiting_approval', 'running');
      CREATE INDEX runs_outbox_idx ON ${s}.runs ((coalesce(completed_at, scheduled_for)), id) WHERE delivery_pending;
      CREATE INDEX runs_job_history_idx ON ${s}.runs (job_id, scheduled_for DESC, id DESC);
      CREATE INDEX runs_status_idx ON ${s}.runs (status, scheduled_for DESC, id DESC)
        WHERE status NOT IN ('scheduled', 'running', 'succeeded');

      CREATE TABLE ${s}.sessions (
        job_id text COLLATE "C" NOT NULL,
        summary text,
        history jsonb NOT NULL,
        updated_at timestamptz NOT NULL,
        CONSTRAINT sessions_pkey PRIMARY KEY (job_id),
        CONSTRAINT sessions_job_fkey FOREIGN KEY (job_id) REFERENCES ${s}.jobs (id) ON DELETE CASCADE
      ) WITH (fillfactor = 70);

      CREATE TABLE ${s}.audit_events (
        id text COLLATE "C" NOT NULL,
        seq bigint GENERATED ALWAYS AS IDENTITY,
        type text NOT NULL,
        at timestamptz NOT NULL,
        job_id text COLLATE "C",
        run_id text COLLATE "C",
        actor text NOT NULL,
        details jsonb NOT NULL,
        CONSTRAINT audit_events_pkey PRIMARY KEY (id)
      );
      CREATE INDEX audit_events_at_idx ON ${s}.audit_events (at DESC, seq DESC);
      CREATE INDEX audit_events_job_idx ON ${s}.audit_events (job_id, at DESC, seq DESC);
      CREATE INDEX audit_events_type_idx ON ${s}.audit_events (type, at DESC, seq DESC);
    `,
  },
];

/** The schema version this package writes and reads. */
const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

/**
 * Creates the schema and applies the migrations it lacks, inside the caller's transaction.
 * A transaction-scoped advisory lock keyed by the schema name makes instances that start at the
 * same moment wait for each other instead of racing on `CREATE`.
 *
 * @param schemaName - the plain (validated) schema name, for the lock key.
 * @param s - the same name, quoted.
 */
export async function migrate(tx: Transaction, schemaName: string, s: string): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('@symbi/store-postgres'), hashtext($1))`, [schemaName]);
  await tx.script(`CREATE SCHEMA IF NOT EXISTS ${s}`);
  await tx.script(
    `CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (
       version integer PRIMARY KEY,
       name text NOT NULL,
       applied_at timestamptz NOT NULL DEFAULT now()
     )`,
  );
  const { rows } = await tx.query(`SELECT version FROM ${s}.schema_migrations`);
  const applied = new Set(rows.map((row) => row.version as number));
  const newest = Math.max(0, ...applied);
  if (newest > SCHEMA_VERSION) {
    throw new StoreError(
      `schema ${schemaName} is at version ${newest}, newer than this @symbi/store-postgres knows (${SCHEMA_VERSION}); upgrade the package`,
    );
  }
  for (const migration of MIGRATIONS) {
    if (applied.has(migration.version)) continue;
    await tx.script(migration.sql(s));
    await tx.query(`INSERT INTO ${s}.schema_migrations (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
  }
}
