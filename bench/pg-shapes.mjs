// What the PostgreSQL server spends per run, in CPU, for the same run life cycle written to
// different table shapes: the sizing experiment behind the live/history split of issue 14. Raw SQL
// in 200-run batches (claim: advance the job and write the run; start; finish: end the run, count
// the job, one audit row) on 20,000 due one-shot jobs, by one connection whose backend CPU is read
// from /proc. The tables are copied from a schema the store's own migrations made, so the current
// shape is the store's. Shapes, each measured `rounds` times (default 3) round-robin:
//   current  one `runs` row written three times (what the store does today)
//   split    a narrow `live_runs` row (claim, start), deleted at the finish, which appends the
//            whole row to `runs` once, whose indexes are then only the history's
//   nostart  split, with the start folded into the finish (no start write)
//   lean     nostart, with `runs` keeping only its primary key and job-history index and
//            `audit_events` only its primary key and time index
// Run after `pnpm build`, on a quiet machine (the figure is the server's CPU, not wall time):
//   node bench/pg-shapes.mjs [rounds]   # SYMBI_BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test
import { readFileSync } from 'node:fs';
import { PostgresJobStore } from '@symbi/store-postgres';
import pg from 'pg';

const url = process.env.SYMBI_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const RUNS = 20_000;
const BATCH = 200;
const SHAPES = ['current', 'split', 'nostart', 'lean'];
const rounds = Number(process.argv[2] ?? 3);
const reference = `symbi_shapes_ref_${Date.now()}`;
const schema = `symbi_shapes_${Date.now()}`;

const store = new PostgresJobStore({ connectionString: url, schema: reference });
await store.init();
await store.close();

const client = new pg.Client({ connectionString: url });
await client.connect();
const backend = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
/** The backend's CPU time so far, in clock ticks (1/100 s). */
const cpuTicks = () => {
  const fields = readFileSync(`/proc/${backend}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]);
};
const q = (text, values) => client.query(text, values);

/** Indexes of `table` in the experiment's schema. */
async function indexesOf(table) {
  return (await q('SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = $2', [schema, table])).rows;
}

/** Drops an index, or the unique constraint behind it. */
async function dropIndex(table, name) {
  const constraint = (await q('SELECT 1 FROM pg_constraint WHERE conname = $1', [name])).rowCount > 0;
  await q(constraint ? `ALTER TABLE "${schema}"."${table}" DROP CONSTRAINT "${name}"` : `DROP INDEX "${schema}"."${name}"`);
}

async function setUp(shape) {
  await q(`DROP SCHEMA IF EXISTS "${schema}" CASCADE; CREATE SCHEMA "${schema}"`);
  for (const table of ['jobs', 'runs', 'audit_events']) {
    await q(`CREATE TABLE "${schema}"."${table}" (LIKE "${reference}"."${table}" INCLUDING ALL)`);
  }
  await q(`ALTER TABLE "${schema}".jobs SET (fillfactor = 50); ALTER TABLE "${schema}".runs SET (fillfactor = 50)`);
  if (shape !== 'current') {
    for (const { indexname, indexdef } of await indexesOf('runs')) {
      if (/\blive\b/.test(indexdef) || (shape === 'lean' && !/pkey|history/.test(indexname))) await dropIndex('runs', indexname);
    }
    if (shape === 'lean') {
      for (const { indexname } of await indexesOf('audit_events')) if (!/pkey|_at_idx/.test(indexname)) await dropIndex('audit_events', indexname);
    }
    await q(`CREATE TABLE "${schema}".live_runs (
      id text COLLATE "C" PRIMARY KEY, job_id text COLLATE "C" NOT NULL, fire_key text COLLATE "C" UNIQUE,
      status text NOT NULL, owner text, lease_expires_at timestamptz, due_at timestamptz NOT NULL,
      scheduled_for timestamptz NOT NULL, attempt integer NOT NULL, trigger text NOT NULL,
      wait_for_slot boolean NOT NULL DEFAULT false, cancel_requested boolean NOT NULL DEFAULT false,
      started_at timestamptz) WITH (fillfactor = 50)`);
    await q(`CREATE INDEX ON "${schema}".live_runs (job_id)`);
    await q(`CREATE INDEX ON "${schema}".live_runs (lease_expires_at) WHERE owner IS NOT NULL`);
    await q(`CREATE INDEX ON "${schema}".live_runs (due_at, id) WHERE owner IS NULL`);
  }
  await q(`INSERT INTO "${schema}".jobs (id, name, agent_id, at, timezone, session_mode, delivery, webhook_headers,
      email_recipients, policy, max_concurrent, catchup, overlap, status, next_run, run_count, failure_count,
      consecutive_failures, created_at, updated_at, version)
    SELECT gen_random_uuid()::text, 'due-' || i, 'noop', now()::text, 'UTC', 'fully_ephemeral', '[]', '{}', '[]', '{}',
      1, 'skip', 'skip', 'active', now(), 0, 0, 0, now(), now(), 1
    FROM generate_series(1, ${RUNS}) AS i`);
  await q('ANALYZE');
}

const RUN_COLUMNS = 'id, job_id, job_name, agent_id, scheduled_for, due_at, trigger, attempt, status, iterations, deliveries, owner, lease_expires_at, fire_key, wait_for_slot, cancel_requested';

/** Claims, starts and finishes every run in batches; the backend's CPU per run, in µs. */
async function runAll(shape) {
  const before = cpuTicks();
  for (;;) {
    await q('BEGIN');
    const jobs = (
      await q(`UPDATE "${schema}".jobs SET next_run = NULL, version = version + 1, updated_at = now()
        WHERE id IN (SELECT id FROM "${schema}".jobs WHERE next_run <= now() ORDER BY next_run LIMIT ${BATCH} FOR NO KEY UPDATE SKIP LOCKED)
        RETURNING id`)
    ).rows.map((row) => row.id);
    if (jobs.length === 0) {
      await q('COMMIT');
      break;
    }
    const runs = jobs.map((id) => `r${id}`);
    if (shape === 'current') {
      await q(
        `INSERT INTO "${schema}".runs (${RUN_COLUMNS}) SELECT 'r' || j.id, j.id, j.name, 'noop', now(), now(), 'schedule', 1,
          'scheduled', '[]', '[]', 'me', now() + interval '30 s', j.id || ':1', false, false FROM "${schema}".jobs j WHERE j.id = ANY($1)`,
        [jobs],
      );
    } else {
      await q(
        `INSERT INTO "${schema}".live_runs (id, job_id, fire_key, status, owner, lease_expires_at, due_at, scheduled_for, attempt, trigger)
        SELECT 'r' || id, id, id || ':1', 'scheduled', 'me', now() + interval '30 s', now(), now(), 1, 'schedule' FROM unnest($1::text[]) AS id`,
        [jobs],
      );
    }
    await q('COMMIT');
    if (shape === 'current' || shape === 'split') {
      const table = shape === 'current' ? 'runs' : 'live_runs';
      await q(`UPDATE "${schema}".${table} SET status = 'running', started_at = now() WHERE id = ANY($1) AND owner = 'me'`, [runs]);
    }
    await q('BEGIN');
    if (shape === 'current') {
      await q(
        `UPDATE "${schema}".runs SET status = 'succeeded', completed_at = now(), output = 'ok', execution_time_ms = 1, owner = NULL,
          lease_expires_at = NULL WHERE id = ANY($1) AND owner = 'me' AND status IN ('scheduled', 'running')`,
        [runs],
      );
    } else {
      await q(
        `WITH gone AS (DELETE FROM "${schema}".live_runs WHERE id = ANY($1) AND owner = 'me' RETURNING *)
        INSERT INTO "${schema}".runs (${RUN_COLUMNS}, started_at, completed_at, output, execution_time_ms)
        SELECT id, job_id, 'due', 'noop', scheduled_for, due_at, trigger, attempt, 'succeeded', '[]', '[]', NULL, NULL, fire_key,
          false, false, coalesce(started_at, now()), now(), 'ok', 1 FROM gone`,
        [runs],
      );
    }
    await q(
      `UPDATE "${schema}".jobs SET run_count = run_count + 1, last_run = now(), status = 'completed', version = version + 1,
        updated_at = now() WHERE id = ANY($1)`,
      [jobs],
    );
    await q(
      `INSERT INTO "${schema}".audit_events (id, type, at, job_id, run_id, actor, details)
      SELECT gen_random_uuid()::text, 'run_succeeded', now(), id, 'r' || id, 'scheduler', '{}' FROM unnest($1::text[]) AS id`,
      [jobs],
    );
    await q('COMMIT');
  }
  return ((cpuTicks() - before) * 10_000) / RUNS;
}

const measured = Object.fromEntries(SHAPES.map((shape) => [shape, []]));
try {
  for (let round = 0; round < rounds; round++) {
    for (const shape of SHAPES) {
      await setUp(shape);
      measured[shape].push(await runAll(shape));
    }
  }
} finally {
  await q(`DROP SCHEMA IF EXISTS "${schema}" CASCADE; DROP SCHEMA IF EXISTS "${reference}" CASCADE`);
  await client.end();
}
console.log(`server CPU per run, µs (${RUNS.toLocaleString('en')} runs, batches of ${BATCH}, ${rounds} rounds)`);
for (const shape of SHAPES) {
  const sorted = [...measured[shape]].sort((a, b) => a - b);
  console.log(`${shape.padEnd(8)} median ${sorted[Math.floor(sorted.length / 2)].toFixed(1)}   rounds ${measured[shape].map((v) => v.toFixed(1)).join(', ')}`);
}
