/**
 * The soak: scheduler instances on one PostgreSQL schema under load, killed with SIGKILL and
 * restarted at random, with API traffic from a process of its own, then a verdict on every fire.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CronScheduler } from '@symbi/core';
import { PostgresJobStore } from '@symbi/store-postgres';
import pg from 'pg';
import { stuckRuns } from '../../tests/processes/fire-audit.mjs';
import { clockStepsFrom, droppedFrom, executionsFrom, readLogLines, schedulerReportsLogger, waitUntil } from '../../tests/processes/worker-control.mjs';
import { Fleet } from './fleet.mjs';
import { JobLedger } from './job-ledger.mjs';
import { Traffic } from './traffic.mjs';
import { countUnfinished, readJobIds, readRuns, verdict } from './verify.mjs';

const INSTANCES = 3;
/**
 * Leases must outlast the longest stall of a live instance, or the stalled instance's runs are
 * recovered as if it had died and run again (at-least-once, by design). On a loaded 2-core CI
 * machine sharing PostgreSQL with other tests, stalls of 2–3 s happen; 8 s leaves room while a
 * killed instance's runs are still recovered well within the soak.
 */
const LEASE_MS = 8_000;
/** Fires this close to a change of their job, or to the end of the load, are not expected. */
const MARGIN_MS = 1_000;
const SEED_JOBS = { fast: 80, slow: 60, failing: 30, traffic: 60 };

/**
 * @typedef {object} SoakOptions
 * @property {number} minutes  how long the load runs
 * @property {string} url  PostgreSQL connection string
 * @property {number} seed  seed of the random choices (kills, traffic), printed to replay them
 * @property {boolean} keep  keep the schema and logs for inspection (they are kept anyway when a
 *   violation is found, so it can be looked into)
 * @property {(line: string) => void} progress  where progress lines go
 */

/**
 * @typedef {import('./verify.mjs').SoakVerdict & {
 *   stuck: string[], kills: number, seconds: number, unexpectedExits: string[],
 *   jobs: number, calls: number, rejected: number, schema: string,
 *   kept: { schema: string, dir: string } | null, clockSteps: number[]
 * }} SoakReport
 */

/**
 * Small, fast, seedable PRNG (mulberry32).
 * @param {number} seed
 * @returns {() => number}
 */
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Whether a report holds no violation.
 * @param {SoakReport} report
 * @returns {boolean}
 */
export function isClean(report) {
  return [report.duplicates, report.lost, report.stuck, report.unretried, report.inconsistent, report.unexpectedExits].every((list) => list.length === 0);
}

/**
 * Runs the soak and returns its report. A report with a violation keeps the schema and the
 * instances' logs (named in `kept`) whatever `keep` says.
 * @param {SoakOptions} options
 * @returns {Promise<SoakReport>}
 */
export async function runSoak({ minutes, url, seed, keep, progress }) {
  const schema = `symbi_soak_${randomBytes(5).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'symbi-soak-'));
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  let keepEvidence = keep;
  const store = new PostgresJobStore({ connectionString: url, schema });
  const fleet = new Fleet({
    size: INSTANCES,
    url,
    schema,
    dir,
    settings: { 'lease-ms': LEASE_MS, 'tick-ms': 500, 'retry-base-ms': 200, 'shutdown-ms': 20_000, 'agent-ms': 20 },
  });
  try {
    await store.init();
    /** @type {object[]} */
    const apiReports = [];
    const scheduler = new CronScheduler({
      store,
      executor: { execute: () => Promise.reject(new Error('the API process runs no agents')) },
      config: { instanceId: 'soak-api' },
      // The traffic's reschedules and pauses report the overdue fires they drop.
      logger: schedulerReportsLogger('soak-api', (line) => apiReports.push(line)),
    });
    const random = seededRandom(seed);
    const ledger = new JobLedger();
    const traffic = new Traffic({ scheduler, ledger, random });
    progress(`soak: schema ${schema}, seed ${seed}, logs in ${dir}`);
    await fleet.fillSlots();
    await traffic.seed(SEED_JOBS);

    const started = Date.now();
    const endAt = started + minutes * 60_000;
    let kills = 0;
    /** @type {Promise<void>[]} */
    const restarts = [];
    const chaos = async () => {
      while (Date.now() < endAt) {
        await sleep(Math.min(8_000 + random() * 12_000, Math.max(0, endAt - Date.now())));
        const live = fleet.liveSlots();
        if (Date.now() >= endAt || live.length <= 1) continue;
        const slot = /** @type {number} */ (live[Math.floor(random() * live.length)]);
        await fleet.kill(slot);
        kills++;
        // A restart that fails is recorded by the fleet as an unexpected exit; the slot stays empty.
        restarts.push(sleep(1_000 + random() * 5_000).then(() => fleet.restart(slot)).catch(() => undefined));
      }
    };
    const load = async () => {
      while (Date.now() < endAt) {
        await traffic.step();
        await sleep(100 + random() * 400);
      }
    };
    const announce = async () => {
      while (Date.now() < endAt) {
        await sleep(Math.min(30_000, Math.max(0, endAt - Date.now())));
        progress(`soak: ${Math.round((Date.now() - started) / 1000)} s, ${fleet.liveSlots().length} live, ${kills} kills, ${traffic.calls} API calls`);
      }
    };
    await Promise.all([chaos(), load(), announce()]);
    const windowEnd = Date.now();
    await Promise.all(restarts);
    await fleet.fillSlots();

    // With every instance up again, whatever was due by the end of the load must finish.
    const settled = await waitUntil(
      'every fire due by the end of the load finished',
      async () => (await countUnfinished(pool, schema, windowEnd)) === 0,
      { timeoutMs: 60_000, everyMs: 1_000 },
    ).catch(() => false);
    if (!settled) progress('soak: some runs due by the end of the load did not finish within 60 s');
    const stuckWhileUp = stuckRuns(await readRuns(pool, schema), { now: Date.now(), graceMs: LEASE_MS + 3_000, allStopped: false });
    const exits = await fleet.stopAll();
    const runs = await readRuns(pool, schema);
    const stuck = new Map([...stuckWhileUp, ...runs.filter((run) => run.status === 'running')].map((run) => [run.id, `${run.id} ${run.status}`]));
    const unexpectedExits = [...fleet.unexpectedExits];
    for (const exit of exits) if (exit.code !== 0) unexpectedExits.push(`an instance did not stop cleanly (${exit.code ?? exit.signal}): ${exit.stderr.slice(-2000)}`);

    const logLines = readLogLines(fleet.logs());
    const report = {
      ...verdict({
        runs,
        jobIds: await readJobIds(pool, schema),
        executions: executionsFrom(logLines),
        dropped: [...droppedFrom(logLines), ...droppedFrom(apiReports)],
        killed: fleet.killed,
        ledger,
        manualRuns: traffic.manualRuns,
        windowEnd,
        marginMs: MARGIN_MS,
      }),
      stuck: [...stuck.values()],
      clockSteps: [...clockStepsFrom(logLines), ...clockStepsFrom(apiReports)],
      kills,
      seconds: Math.round((windowEnd - started) / 1000),
      unexpectedExits,
      jobs: ledger.entries().length,
      calls: traffic.calls,
      rejected: traffic.rejected,
      schema,
      kept: null,
    };
    if (!isClean(report)) {
      keepEvidence = true;
      report.kept = { schema, dir };
    }
    return report;
  } finally {
    await fleet.stopAll();
    await store.close();
    if (!keepEvidence) {
      // A cleanup that fails must not hide why the soak ended.
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch((error) => progress(`soak: could not drop schema ${schema}: ${error.message}`));
      rmSync(dir, { recursive: true, force: true });
    }
    await pool.end();
  }
}
