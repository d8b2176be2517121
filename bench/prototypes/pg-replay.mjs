// SQL-level replay of the PostgreSQL store's run life cycle, current shape (A) against the proposed
// "in-flight run on the job row" shape (B). Not production code: a sizing experiment.
//
// A: the store's own statement texts, as captured from a real drain by pg-capture.mjs (pg's
//    Client.query wrapped), on a schema made by the store's migrations
//    (`new PostgresJobStore({connectionString, schema}).init()`), replayed in batches of BATCH runs
//    with parameters of the captured shape, pipelined as the store sends them:
//      claim  RT1: BEGIN+SET LOCAL, due jobs (FOR NO KEY UPDATE SKIP LOCKED), jobs with waiting runs
//             RT2: claim (advance jobs, insert live_runs owned) + COMMIT
//      start  RT1: BEGIN+SET LOCAL, patch live_runs (running, started_at) + COMMIT
//      finish RT1: BEGIN+SET LOCAL, DELETE live_runs RETURNING -> INSERT runs, lock jobs of runs
//             RT2: jobs' counters (+ empty retries/audit CTEs) + COMMIT
// B: the same migrations' schema plus in-flight run columns on jobs (see B_DDL), and:
//      claim  RT1: same (due query also counts the job row's own run), RT2: one UPDATE jobs
//             (advance + in-flight run, guards against runs/live_runs) + COMMIT
//      start  RT1: UPDATE jobs (run_status, run_started_at) keyed by run_id + COMMIT
//      finish RT1: lock jobs by run_id (read job + run), RT2: UPDATE jobs (clear run, counters)
//             RETURNING the old run -> INSERT runs (+ empty audit CTE) + COMMIT
//
// Env: NO_ANALYZE=1 leaves the loaded tables unanalysed, as the real benchmark's are (with ANALYZE
// of an empty `runs`, A's claim checks `runs.id` through runs_job_history_idx, whole, per planned
// run: its claim grew to 360-615 us per run); B_FILLFACTOR=n sets B's jobs fillfactor (at 50, two
// concurrent drains left ~43 % of B's starts non-HOT); B_LEAN=1 drops B's run id, lease and queue
// indexes (start/finish by job id; an upper bound, lease recovery would have no index);
// EXPLAIN=n logs every statement's plan (auto_explain, this session only) for n runs.
//   node bench/prototypes/pg-capture.mjs /tmp/capture.jsonl 20000     # prints the capture schema
//   NO_ANALYZE=1 node bench/prototypes/pg-replay.mjs pairs /tmp/capture.jsonl <capture schema> 10 500
//   (drop the capture schema afterwards)
//   node bench/prototypes/pg-replay.mjs pairs <capture.jsonl> <capture schema> [pairs] [batch]
//   node bench/prototypes/pg-replay.mjs solo  <capture.jsonl> <capture schema> [rounds] [batch]   # WAL, one at a time
import { readFileSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const url = process.env.SYMBI_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const [mode, captureFile, captureSchema, countArg, batchArg, shapeArg, schemaArg] = process.argv.slice(2);
const BATCH = Number(batchArg ?? 500);
const BEGIN = 'BEGIN; SET LOCAL jit = off; SET LOCAL plan_cache_mode = force_generic_plan; SET LOCAL enable_seqscan = off; SET LOCAL random_page_cost = 1.1';

/** The captured statement texts, by what they do, with the schema as `__S__`. */
function capturedTexts() {
  const lines = readFileSync(captureFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const pick = (prefix) => {
    const line = lines.find((l) => l.text.startsWith(prefix));
    if (!line) throw new Error(`no captured statement starting ${prefix}`);
    return line.text.replaceAll(`"${captureSchema}"`, '"__S__"');
  };
  return {
    due: pick('with "due" as'),
    waitLock: pick('select "j"."id" from'),
    claim: pick('with "advanced" as'),
    start: pick('with "i" as'),
    finish: pick('with "ended" as'),
    lockJobsOfRuns: pick('select "j".* from'),
    writeJobs: pick('with "retried" as'),
  };
}

const B_DDL = (s) => `
  ALTER TABLE "${s}".jobs ADD COLUMN run_id text COLLATE "C", ADD COLUMN run_status text, ADD COLUMN run_owner text,
    ADD COLUMN run_lease_expires_at timestamptz, ADD COLUMN run_scheduled_for timestamptz, ADD COLUMN run_due_at timestamptz,
    ADD COLUMN run_trigger text, ADD COLUMN run_attempt integer, ADD COLUMN run_fire_key text COLLATE "C", ADD COLUMN run_input text,
    ADD COLUMN run_started_at timestamptz, ADD COLUMN run_cancel_requested boolean NOT NULL DEFAULT false;
  ${process.env.B_LEAN ? '' : `CREATE UNIQUE INDEX jobs_run_idx ON "${s}".jobs (run_id) WHERE run_id IS NOT NULL;
  CREATE INDEX jobs_run_lease_idx ON "${s}".jobs (run_lease_expires_at) WHERE run_owner IS NOT NULL;
  CREATE INDEX jobs_run_queue_idx ON "${s}".jobs (run_due_at, id) WHERE run_id IS NOT NULL AND run_owner IS NULL;`}`;

const RUNS_INSERT_COLS = '"id", "job_id", "job_name", "agent_id", "scheduled_for", "due_at", "trigger", "attempt", "status", "input", "output", "summary", "error", "stderr", "started_at", "completed_at", "execution_time_ms", "iterations", "deliveries", "approval", "owner", "lease_expires_at", "fire_key", "wait_for_slot", "cancel_requested", "executed_audit"';
const RUN_RETURNING = '"id", "job_id", "job_name", "agent_id", "scheduled_for", "due_at", "trigger", "attempt", "status", "input", "output", "summary", "error", "stderr", "started_at", "completed_at", "execution_time_ms", "iterations", "deliveries", "approval", "owner", "lease_expires_at", "fire_key", "wait_for_slot", "cancel_requested"';

/** B's statements (schema `__S__`). */
function bTexts(a) {
  const due = a.due.replace('select "d".*, "l"."active", "l"."waiting" from', 'select "d".*, "l"."active" + ("d"."run_id" is not null)::int as "active", "l"."waiting" from');
  if (due === a.due) throw new Error('due query text not as expected');
  // Each planned job found by its primary key, the guards at the join (h.job_id = j.id): pushed into
  // the function scan they made the planner estimate a dozen rows and compare 500 x 500 pairs.
  const claim = `with "p" as (select * from json_to_recordset($1::json) as p("id" text, "next_run" timestamptz, "status" text, "version" integer, "updated_at" timestamptz,
      "run_id" text, "run_scheduled_for" timestamptz, "run_due_at" timestamptz, "run_trigger" text, "run_attempt" integer, "run_fire_key" text) offset 0),
    "plain" as (select "j"."id" from "__S__"."jobs" as "j" where "j"."run_id" is not null and "j"."run_owner" is null and "j"."run_due_at" <= $3 order by "j"."run_due_at", "j"."id" limit $4 for no key update of "j" skip locked),
    "lapsed" as (select "j"."id" from "__S__"."jobs" as "j" where "j"."run_owner" is not null and "j"."run_lease_expires_at" < $5 and "j"."run_status" = 'scheduled' and "j"."run_due_at" <= $3 order by "j"."run_lease_expires_at" limit $4 for no key update of "j" skip locked),
    "claimed" as (update "__S__"."jobs" as "j" set "run_owner" = $6, "run_lease_expires_at" = $7 from (select "id" from "plain" union all select "id" from "lapsed") as "c" where "j"."id" = "c"."id" returning "j"."id", "j"."run_id"),
    "overlapping" as (insert into "__S__"."live_runs" (${RUN_RETURNING}) select ${RUN_RETURNING} from json_populate_recordset(NULL::"__S__"."runs", $8::json) as "o"
      where not (exists (select from "__S__"."runs" h where h.id = o.id offset 0) or exists (select from "__S__"."runs" h where h.fire_key = o.fire_key offset 0)) on conflict do nothing returning "id"),
    "advanced" as (update "__S__"."jobs" as "j" set "next_run" = "p"."next_run", "status" = "p"."status", "version" = "p"."version", "updated_at" = "p"."updated_at",
      "run_id" = "p"."run_id", "run_status" = 'scheduled', "run_owner" = $6, "run_lease_expires_at" = $7, "run_scheduled_for" = "p"."run_scheduled_for", "run_due_at" = "p"."run_due_at",
      "run_trigger" = "p"."run_trigger", "run_attempt" = "p"."run_attempt", "run_fire_key" = "p"."run_fire_key", "run_input" = NULL, "run_started_at" = NULL, "run_cancel_requested" = false
      from "p" where "j"."id" = "p"."id" and "j"."run_id" is null and $2::text[] is not null
        and not (exists (select from "__S__"."runs" h where h.id = p.run_id and h.job_id = j.id offset 0) or exists (select from "__S__"."runs" h where h.fire_key = p.run_fire_key and h.job_id = j.id offset 0)
          or exists (select from "__S__"."live_runs" h where h.fire_key = p.run_fire_key and h.job_id = j.id offset 0))
      returning "j"."run_id")
    select (select json_agg("run_id")::text from "advanced") as "fresh", (select json_agg("id")::text from "overlapping") as "overlapping", (select json_agg(c)::text from "claimed" as c) as "runs"`;
  const runOfJob = (j) => `"${j}"."run_id" as "id", "${j}"."id" as "job_id", "${j}"."name" as "job_name", "${j}"."agent_id", "${j}"."run_scheduled_for" as "scheduled_for", "${j}"."run_due_at" as "due_at", "${j}"."run_trigger" as "trigger", "${j}"."run_attempt" as "attempt", "${j}"."run_status" as "status", "${j}"."run_input" as "input", "${j}"."run_started_at" as "started_at", "${j}"."run_owner" as "owner", "${j}"."run_lease_expires_at" as "lease_expires_at", "${j}"."run_fire_key" as "fire_key", "${j}"."run_cancel_requested" as "cancel_requested"`;
  const patched = (col, cur) => `case when "i"."patch" ? '${col}' then ("i"."rec")."${col}" else ${cur} end`;
  const start = `with "i" as (select "e"."id", "e"."owner", "e"."status_in", "e"."patch", p as "rec" from jsonb_to_recordset($1::jsonb) as e(id text, owner text, status_in text[], patch jsonb) cross join lateral jsonb_populate_record(NULL::"__S__"."runs", "e"."patch") as "p"),
    "on_jobs" as (update "__S__"."jobs" as "r" set "run_status" = ${patched('status', '"r"."run_status"')}, "run_input" = ${patched('input', '"r"."run_input"')}, "run_started_at" = ${patched('started_at', '"r"."run_started_at"')},
      "run_owner" = ${patched('owner', '"r"."run_owner"')}, "run_lease_expires_at" = ${patched('lease_expires_at', '"r"."run_lease_expires_at"')}, "run_due_at" = ${patched('due_at', '"r"."run_due_at"')}, "run_cancel_requested" = ${patched('cancel_requested', '"r"."run_cancel_requested"')}
      from "i" where "r"."run_id" = "i"."id" and "r"."run_id" = any($2::text[]) and ("i"."owner" is null or "r"."run_owner" = "i"."owner") and ("i"."status_in" is null or "r"."run_status" = any("i"."status_in"))
      returning ${runOfJob('r')}),
    "on_live" as (update "__S__"."live_runs" as "r" set "status" = ${patched('status', '"r"."status"')}, "started_at" = ${patched('started_at', '"r"."started_at"')}
      from "i" where "r"."id" = "i"."id" and "r"."id" = any($2::text[]) and "r"."id" not in (select "id" from "on_jobs") and ("i"."owner" is null or "r"."owner" = "i"."owner") and ("i"."status_in" is null or "r"."status" = any("i"."status_in"))
      returning "r"."id", "r"."job_id", "r"."job_name", "r"."agent_id", "r"."scheduled_for", "r"."due_at", "r"."trigger", "r"."attempt", "r"."status", "r"."input", "r"."started_at", "r"."owner", "r"."lease_expires_at", "r"."fire_key", "r"."cancel_requested")
    select * from "on_jobs" union all select * from "on_live"`;
  const lock = `select "j".* from "__S__"."jobs" as "j" where "j"."id" = any(array(select "k"."id" from "__S__"."jobs" as "k" where "k"."run_id" = any($1::text[]) union all select "r"."job_id" from "__S__"."live_runs" as "r" where "r"."id" = any($1::text[]))) order by "j"."id" for no key update`;
  const finish = `with "p" as (select * from jsonb_to_recordset($1::jsonb) as p("id" text, "run_id" text, "owner" text, "run_count" integer, "failure_count" integer, "consecutive_failures" integer, "last_run" timestamptz, "status" text, "next_run" timestamptz, "version" integer, "updated_at" timestamptz, "patch" jsonb, "executed_audit" boolean)),
    "ended" as (update "__S__"."jobs" as "j" set "run_count" = "p"."run_count", "failure_count" = "p"."failure_count", "consecutive_failures" = "p"."consecutive_failures", "last_run" = "p"."last_run", "status" = "p"."status", "next_run" = "p"."next_run", "version" = "p"."version", "updated_at" = "p"."updated_at",
      "run_id" = NULL, "run_status" = NULL, "run_owner" = NULL, "run_lease_expires_at" = NULL, "run_scheduled_for" = NULL, "run_due_at" = NULL, "run_trigger" = NULL, "run_attempt" = NULL, "run_fire_key" = NULL, "run_input" = NULL, "run_started_at" = NULL, "run_cancel_requested" = false
      from "p", "__S__"."jobs" as "o" where "o"."id" = "j"."id" and "j"."id" = "p"."id" and "j"."id" = any($2::text[]) and "j"."run_id" = "p"."run_id" and ("p"."owner" is null or "j"."run_owner" = "p"."owner")
        and "o"."run_status" not in ('succeeded', 'failed', 'timed_out', 'skipped', 'denied', 'interrupted')
      returning row("o"."run_id", "o"."id", "o"."name", "o"."agent_id", "o"."run_scheduled_for", "o"."run_due_at", "o"."run_trigger", "o"."run_attempt", "o"."run_status", "o"."run_input", NULL, NULL, NULL, NULL, "o"."run_started_at", NULL, NULL, '[]'::jsonb, '[]'::jsonb, NULL, "o"."run_owner", "o"."run_lease_expires_at", "o"."run_fire_key", false, "o"."run_cancel_requested", NULL, NULL, false)::"__S__"."runs" as "run", "p"."patch", "p"."executed_audit"),
    "audited" as (insert into "__S__"."audit_events" ("id", "type", "at", "job_id", "run_id", "actor", "details") select "a"."id", "a"."type", "a"."at", "a"."job_id", "a"."run_id", "a"."actor", "a"."details" from json_populate_recordset(NULL::"__S__"."audit_events", $3::json) WITH ORDINALITY as "a" order by "a"."ordinality")
    insert into "__S__"."runs" (${RUNS_INSERT_COLS}) select "f"."id", "f"."job_id", "f"."job_name", "f"."agent_id", "f"."scheduled_for", "f"."due_at", "f"."trigger", "f"."attempt", "f"."status", "f"."input", "f"."output", "f"."summary", "f"."error", "f"."stderr", "f"."started_at", "f"."completed_at", "f"."execution_time_ms", "f"."iterations", "f"."deliveries", "f"."approval", "f"."owner", "f"."lease_expires_at", "f"."fire_key", "f"."wait_for_slot", "f"."cancel_requested", e.executed_audit IS TRUE AND f.status = 'succeeded' AND f.completed_at IS NOT NULL as "executed_audit"
    from "ended" as "e" cross join lateral jsonb_populate_record("e"."run", "e"."patch") as "f" returning ${RUN_RETURNING}`;
  if (process.env.B_LEAN) {
    // B_LEAN: no index on the in-flight run (no run id, lease or queue index): start and finish find
    // the job by its id (the client passes the runs' job ids), the claim looks for no queued or
    // lapsed runs on jobs (lease recovery would have no index: an upper bound, not a design)
    return {
      due,
      waitLock: a.waitLock,
      claim: claim.replace(/"plain" as \(.*?skip locked\),\n\s*"lapsed" as \(.*?skip locked\),\n\s*"claimed" as \(.*?returning "j"."id", "j"."run_id"\),/s, '"claimed" as (select NULL::text as "id", $3::timestamptz as "a", $4::int as "b", $5::timestamptz as "c" where false),'),
      start: start.replace('"r"."run_id" = any($2::text[]) and', '"r"."id" = any($3::text[]) and'),
      lock: lock.replace('select "k"."id" from "__S__"."jobs" as "k" where "k"."run_id" = any($1::text[])', 'select unnest($2::text[])'),
      finish,
    };
  }
  return { due, waitLock: a.waitLock, claim, start, lock, finish };
}

let seq = 0;
/** A time-ordered id shaped like the store's run ids (UUIDv7). */
function uuidv7() {
  const h = Date.now().toString(16).padStart(12, '0');
  const r = randomBytes(8).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8)}-7${(seq++ & 0xfff).toString(16).padStart(3, '0')}-${(8 | (parseInt(r[0], 16) & 3)).toString(16)}${r.slice(1, 4)}-${r.slice(4, 16)}`;
}
const arrayLiteral = (ids) => (ids.length === 0 ? '{}' : `{"${ids.join('","')}"}`);
const iso = (d) => (d instanceof Date ? d.toISOString() : d);

/** One shape's drain on `schema`, in this process: prints its figures as JSON. */
async function child(shape, schema) {
  const a = capturedTexts();
  const texts = Object.fromEntries(Object.entries(shape === 'A' ? a : bTexts(a)).map(([k, t]) => [k, t.replaceAll('"__S__"', `"${schema}"`)]));
  const c = new pg.Client({ connectionString: url, pipeline: true });
  await c.connect();
  const pid = c.processID;
  const ticks = () => {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(f[11]) + Number(f[12]);
  };
  const q = (name, values) => c.query({ name: `${shape}_${name}`, text: texts[name], values });
  if (process.env.EXPLAIN) {
    // one batch, each statement's plan with its actual times, as notices (this session only)
    await c.query("LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0; SET auto_explain.log_analyze = on; SET auto_explain.log_buffers = on; SET auto_explain.log_level = notice");
    c.on('notice', (m) => console.error(m.message));
  }
  const owner = randomUUID();
  const lsn0 = (await c.query('SELECT pg_current_wal_lsn() AS l')).rows[0].l;
  const t0 = ticks();
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  let runs = 0;
  const phase = { claim: 0, start: 0, finish: 0 };
  let mark = t0;
  const lap = (k) => { const t = ticks(); phase[k] += t - mark; mark = t; };
  for (;;) {
    const now = new Date();
    const nowIso = now.toISOString();
    const cutoff = new Date(now.getTime() - 250).toISOString();
    const lease = new Date(now.getTime() + 30_000).toISOString();
    const [, due] = await Promise.all([c.query(BEGIN), q('due', [nowIso, null, null, BATCH, 'retry', nowIso]), q('waitLock', [nowIso, cutoff, null, null, BATCH])]);
    if (due.rows.length === 0) {
      await c.query('COMMIT');
      break;
    }
    const jobs = due.rows;
    const jobIds = jobs.map((j) => j.id);
    const planned = jobs.map((j) => {
      const at = iso(j.next_run);
      return { id: uuidv7(), job_id: j.id, job_name: j.name, agent_id: j.agent_id, scheduled_for: at, due_at: at, trigger: 'catchup', attempt: 1, status: 'scheduled', iterations: [], deliveries: [], fire_key: `${j.id}@${at}#1`, wait_for_slot: false, cancel_requested: false };
    });
    const idsLit = arrayLiteral(jobIds);
    if (shape === 'A') {
      const advanced = JSON.stringify(jobs.map((j) => ({ id: j.id, status: 'active', version: j.version, updated_at: iso(j.updated_at) })));
      const v = [advanced, idsLit, JSON.stringify(planned), nowIso, cutoff, null, null, BATCH, cutoff, nowIso, cutoff, null, null, BATCH, '{}', nowIso, cutoff, null, null, BATCH, '{}', nowIso, cutoff, null, null, nowIso, cutoff, null, null, BATCH, owner, lease, owner, lease, idsLit];
      await Promise.all([q('claim', v), c.query('COMMIT')]);
    } else {
      const advanced = JSON.stringify(jobs.map((j, i) => ({ id: j.id, status: 'active', version: j.version, updated_at: iso(j.updated_at), run_id: planned[i].id, run_scheduled_for: planned[i].scheduled_for, run_due_at: planned[i].due_at, run_trigger: 'catchup', run_attempt: 1, run_fire_key: planned[i].fire_key })));
      await Promise.all([q('claim', [advanced, idsLit, nowIso, BATCH, cutoff, owner, lease, '[]']), c.query('COMMIT')]);
    }
    lap('claim');
    const runIds = planned.map((p) => p.id);
    const runLit = arrayLiteral(runIds);
    const startedAt = new Date().toISOString();
    const startInput = JSON.stringify(runIds.map((id) => ({ id, owner, status_in: ['scheduled'], patch: { status: 'running', started_at: startedAt } })));
    const [, started] = await Promise.all([c.query(BEGIN), q('start', shape === 'B' && process.env.B_LEAN ? [startInput, runLit, idsLit] : [startInput, runLit]), c.query('COMMIT')]);
    if (started.rows.length !== runIds.length) throw new Error(`${shape}: started ${started.rows.length} of ${runIds.length}`);
    lap('start');
    const completedAt = new Date().toISOString();
    const patch = { status: 'succeeded', output: 'ok', summary: null, stderr: null, error: null, iterations: [], execution_time_ms: 13, completed_at: completedAt };
    if (shape === 'A') {
      const input = JSON.stringify(runIds.map((id) => ({ id, owner, status_in: null, patch, executed_audit: true })));
      const [, finished, locked] = await Promise.all([c.query(BEGIN), q('finish', [input, runLit]), q('lockJobsOfRuns', [runLit, 0])]);
      const jobRows = locked.rows.map((j) => ({ id: j.id, run_count: j.run_count + 1, failure_count: 0, consecutive_failures: 0, last_run: startedAt, status: 'completed', version: j.version + 1, updated_at: completedAt }));
      if (finished.rows.length !== runIds.length) throw new Error(`A: finished ${finished.rows.length}`);
      await Promise.all([q('writeJobs', ['[]', '[]', '[]', JSON.stringify(jobRows), arrayLiteral(jobRows.map((r) => r.id))]), c.query('COMMIT')]);
    } else {
      const [, locked] = await Promise.all([c.query(BEGIN), q('lock', process.env.B_LEAN ? [runLit, idsLit] : [runLit])]);
      const input = JSON.stringify(locked.rows.map((j) => ({ id: j.id, run_id: j.run_id, owner, run_count: j.run_count + 1, failure_count: 0, consecutive_failures: 0, last_run: startedAt, status: 'completed', version: j.version + 1, updated_at: completedAt, patch, executed_audit: true })));
      const [finished] = await Promise.all([q('finish', [input, arrayLiteral(locked.rows.map((j) => j.id)), '[]']), c.query('COMMIT')]);
      if (finished.rows.length !== runIds.length) throw new Error(`B: finished ${finished.rows.length}`);
    }
    runs += runIds.length;
    lap('finish');
    if (process.env.EXPLAIN && runs >= Number(process.env.EXPLAIN)) break;
  }
  const wall = performance.now() - w0;
  const cpu = process.cpuUsage(cpu0);
  const server = ticks() - t0;
  const lsn1 = (await c.query('SELECT pg_current_wal_lsn() AS l')).rows[0].l;
  const wal = Number((await c.query('SELECT pg_wal_lsn_diff($1, $2) AS d', [lsn1, lsn0])).rows[0].d);
  await c.end();
  console.log(JSON.stringify({ shape, runs, server_us: (server * 10_000) / runs, process_us: (cpu.user + cpu.system) / runs, wall_us: (wall * 1000) / runs, wal_bytes: wal / runs, phase_us: Object.fromEntries(Object.entries(phase).map(([k, v]) => [k, (v * 10_000) / runs])) }));
}

/** Makes `schema` by the store's migrations (plus B's columns for B) and loads the captured jobs. */
async function setUp(admin, shape, schema) {
  const { PostgresJobStore } = await import('@symbi/store-postgres');
  const store = new PostgresJobStore({ connectionString: url, schema });
  await store.init();
  await store.close();
  if (shape === 'B') await admin.query(B_DDL(schema));
  // B_FILLFACTOR: B's jobs packed looser, so a start finds room for a HOT version beside the claim's
  if (shape === 'B' && process.env.B_FILLFACTOR) await admin.query(`ALTER TABLE "${schema}".jobs SET (fillfactor = ${Number(process.env.B_FILLFACTOR)})`);
  const cols = (await admin.query(`SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) AS c FROM pg_attribute WHERE attrelid = '"${captureSchema}".jobs_loaded'::regclass AND attnum > 0 AND NOT attisdropped`)).rows[0].c;
  await admin.query(`INSERT INTO "${schema}".jobs (${cols}) SELECT ${cols} FROM "${captureSchema}".jobs_loaded`);
  // what autovacuum does to a table 20,000 inserts old (both shapes alike): plans see real counts
  if (!process.env.NO_ANALYZE) await admin.query(`ANALYZE "${schema}".jobs, "${schema}".live_runs, "${schema}".runs`);
}

/** Row writes of the drain, from the statistics (after the child's backend ended). */
async function writesOf(admin, schema) {
  await new Promise((r) => setTimeout(r, 1500));
  const rows = (await admin.query(`SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del FROM pg_stat_user_tables WHERE schemaname = $1 AND relname IN ('jobs', 'live_runs', 'runs')`, [schema])).rows;
  return Object.fromEntries(rows.map((r) => [r.relname, { ins: +r.n_tup_ins, upd: +r.n_tup_upd, hot: +r.n_tup_hot_upd, del: +r.n_tup_del }]));
}

function runChild(shape, schema) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [fileURLToPath(import.meta.url), 'child', captureFile, captureSchema, '0', String(BATCH), shape, schema], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop())) : reject(new Error(`${shape} exited ${code}`))));
  });
}

const median = (xs) => { const s = [...xs].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

async function main() {
  if (mode === 'child') return child(shapeArg, schemaArg);
  const n = Number(countArg ?? 8);
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  if (mode === 'setup') {
    await setUp(admin, shapeArg, schemaArg);
    return admin.end();
  }
  if (mode === 'one') {
    const s = `hp11_${shapeArg.toLowerCase()}_${Date.now()}`;
    try {
      await setUp(admin, shapeArg, s);
      const r = await runChild(shapeArg, s);
      r.writes = await writesOf(admin, s);
      console.log(JSON.stringify(r));
    } finally {
      if (!process.env.KEEP) await admin.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    }
    return admin.end();
  }
  const results = [];
  for (let i = 0; i < n; i++) {
    const sa = `hp11_a_${Date.now()}_${i}`;
    const sb = `hp11_b_${Date.now()}_${i}`;
    try {
      await setUp(admin, 'A', sa);
      await setUp(admin, 'B', sb);
      await admin.query('CHECKPOINT').catch(() => {});
      let ra, rb;
      if (mode === 'pairs') {
        const first = i % 2 === 0 ? ['A', sa] : ['B', sb];
        const second = i % 2 === 0 ? ['B', sb] : ['A', sa];
        const p1 = runChild(...first);
        const p2 = runChild(...second);
        [ra, rb] = i % 2 === 0 ? await Promise.all([p1, p2]) : (await Promise.all([p1, p2])).reverse();
      } else {
        if (i % 2 === 0) { ra = await runChild('A', sa); rb = await runChild('B', sb); } else { rb = await runChild('B', sb); ra = await runChild('A', sa); }
      }
      ra.writes = await writesOf(admin, sa);
      rb.writes = await writesOf(admin, sb);
      results.push({ A: ra, B: rb });
      console.log(JSON.stringify({ pair: i, first: i % 2 === 0 ? 'A' : 'B', A: ra, B: rb }));
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS "${sa}" CASCADE; DROP SCHEMA IF EXISTS "${sb}" CASCADE`);
    }
  }
  for (const k of ['server_us', 'process_us', 'wall_us', 'wal_bytes']) {
    const A = median(results.map((r) => r.A[k]));
    const B = median(results.map((r) => r.B[k]));
    const ratios = results.map((r) => r.B[k] / r.A[k]);
    console.log(`${k}: A ${A.toFixed(1)}  B ${B.toFixed(1)}  ratio of medians ${(B / A).toFixed(3)}  median pair ratio ${median(ratios).toFixed(3)}  B lower in ${ratios.filter((x) => x < 1).length}/${ratios.length}`);
  }
  const tot = results.map((r) => (r.B.server_us + r.B.process_us) / (r.A.server_us + r.A.process_us));
  console.log(`server+process: A ${median(results.map((r) => r.A.server_us + r.A.process_us)).toFixed(1)}  B ${median(results.map((r) => r.B.server_us + r.B.process_us)).toFixed(1)}  median pair ratio ${median(tot).toFixed(3)}`);
  await admin.end();
}
await main();
