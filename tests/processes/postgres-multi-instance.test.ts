import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CronScheduler, type CronJobDefinition, type RunFilter } from '@symbi/core';
import { PostgresJobStore } from '@symbi/store-postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CONNECTION_STRING, describePostgres, dropSchema, randomSchemaName } from '../../packages/store-postgres/test/support/postgres.js';
import { attemptOf, auditRuns, firesEvery, fireOf, stuckRuns, toAuditRun, type AuditRun } from './fire-audit.mjs';
import { ensureBuilt, readExecutions, startWorker, unfinishedStarts, waitUntil, type WorkerProcess } from './worker-control.mjs';

const FAST_JOBS = 200;
const SLOW_JOBS = 30;
const WINDOW_MS = 20_000;
const LEASE_MS = 2_500;
const SLOW_AGENT_MS = 2_500;
/**
 * The last second before a window ends is left out of the "none missed" check: a fire due then
 * may still be queued when the window closes. Its runs are still checked for duplicates.
 */
const EDGE_MS = 1_000;

/** The test process only edits jobs; the workers run them. */
const noAgents = { execute: async (): Promise<never> => Promise.reject(new Error('the test process runs no agents')) };

describePostgres('three scheduler processes on one PostgreSQL schema', () => {
  const schema = randomSchemaName();
  const workers: WorkerProcess[] = [];
  const killed = new Set<string>();
  const fastJobs: CronJobDefinition[] = [];
  let dir: string;
  let store: PostgresJobStore | undefined;
  let admin: CronScheduler;

  beforeAll(async () => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'symbi-pg-instances-'));
    store = new PostgresJobStore({ connectionString: CONNECTION_STRING, schema });
    await store.init();
    admin = new CronScheduler({ store, executor: noAgents, config: { instanceId: 'test-admin' } });
    for (const name of ['a', 'b', 'c']) {
      workers.push(
        startWorker({
          instance: `instance-${name}`,
          log: join(dir, `instance-${name}.jsonl`),
          store: 'postgres',
          url: CONNECTION_STRING,
          schema,
          settings: { 'lease-ms': LEASE_MS, 'tick-ms': 500, 'agent-ms': 20, 'retry-base-ms': 200, 'shutdown-ms': 15_000 },
        }),
      );
    }
    await Promise.all(workers.map((worker) => worker.ready));
  });

  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.kill9()));
    if (store) {
      await store.close();
      await dropSchema(schema);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const listRuns = (filter: RunFilter) => store!.listRuns({ limit: 1_000_000, ...filter });
  const allRuns = async (): Promise<AuditRun[]> => (await listRuns({})).map(toAuditRun);
  const executions = () => readExecutions(workers.map((worker) => worker.log));

  /** Waits until every run of a fire due by `until` is finished, the retries of interrupted ones included. */
  const settled = (until: number) =>
    waitUntil(
      `every fire due by ${new Date(until).toISOString()} is finished`,
      async () => {
        const open = await listRuns({ status: ['scheduled', 'running'] });
        return open.every((run) => run.scheduledFor.getTime() > until);
      },
      { timeoutMs: 20_000, everyMs: 250 },
    );

  /** Expected fires of the fast jobs (first fire to `until`) without exactly one succeeded run. */
  const unevenFires = (runs: AuditRun[], until: number): string[] => {
    const byFire = new Map<string, AuditRun[]>();
    for (const run of runs) byFire.set(fireOf(run), [...(byFire.get(fireOf(run)) ?? []), run]);
    return fastJobs.flatMap((job) =>
      firesEvery(1, job.nextRun!.getTime(), until).flatMap((t) => {
        const fire = fireOf({ jobId: job.id, scheduledFor: t });
        const fireRuns = byFire.get(fire) ?? [];
        if (fireRuns.filter((run) => run.status === 'succeeded').length === 1) return [];
        return [`${fire}: ${fireRuns.map((run) => `${run.status} (attempt ${run.attempt})`).join(', ') || 'no run'}`];
      }),
    );
  };

  it(`runs each fire of ${FAST_JOBS} every-second jobs exactly once over ${WINDOW_MS / 1000} s, missing none`, async () => {
    for (let i = 0; i < FAST_JOBS; i += 20) {
      // Overlap `allow_all`: with the default `skip`, a fire whose previous run is not finished
      // (claimed by a busy or dead instance) is recorded `skipped` instead of running, which is the
      // overlap rule at work, not what this test is about.
      const batch = Array.from({ length: 20 }, (_, k) =>
        admin.add({ name: `fast-${i + k}`, agentId: 'noop', cronExpr: '* * * * * *', overlap: 'allow_all' }),
      );
      fastJobs.push(...(await Promise.all(batch)));
    }
    await sleep(WINDOW_MS);
    const until = Date.now() - EDGE_MS;
    await settled(until);

    const runs = await allRuns();
    const audit = auditRuns({ runs, executions: executions(), killed, until });
    expect(audit.duplicates).toEqual([]);
    expect(audit.inconsistent).toEqual([]);
    expect(audit.interrupted).toBe(0);
    expect(unevenFires(runs, until)).toEqual([]);
    expect(audit.fires).toBeGreaterThanOrEqual(FAST_JOBS * (WINDOW_MS / 1000 - 2));
    const perInstance = workers.map((worker) => executions().filter((e) => e.instance === worker.instance && e.event === 'end').length);
    console.info(`[processes] ${audit.fires} fires of ${FAST_JOBS} jobs in ${WINDOW_MS / 1000} s; completions per instance: ${perInstance.join(', ')}`);
    for (const count of perInstance) expect(count).toBeGreaterThan(0);
  }, 90_000);

  it('ends the in-flight runs of a killed instance interrupted and retries them on the others', async () => {
    const slowJobs = new Set<string>();
    for (let i = 0; i < SLOW_JOBS; i++) {
      const { id } = await admin.add({
        name: `slow-${i}`,
        agentId: 'sleeper',
        cronExpr: '* * * * * *',
        input: JSON.stringify({ ms: SLOW_AGENT_MS }),
        overlap: 'allow_all',
      });
      slowJobs.add(id);
    }
    const victim = workers[1]!;
    const slowInFlight = () => unfinishedStarts(executions(), victim.instance).filter((e) => slowJobs.has(e.jobId));
    await waitUntil(`${victim.instance} has slow runs in flight`, () => slowInFlight().length >= 5, { timeoutMs: 15_000, everyMs: 100 });
    await victim.kill9();
    killed.add(victim.instance);
    const killedAt = Date.now();
    // Runs the victim had started when it died: what its log says was in flight at the kill.
    const orphans = unfinishedStarts(executions(), victim.instance);
    expect(orphans.filter((e) => slowJobs.has(e.jobId)).length).toBeGreaterThanOrEqual(1);

    await waitUntil(
      'a retry of every run the victim had in flight succeeded',
      async () => {
        const succeeded = new Set((await listRuns({ status: 'succeeded' })).map((run) => attemptOf(toAuditRun(run))));
        return orphans.every((orphan) => succeeded.has(attemptOf({ ...orphan, attempt: orphan.attempt + 1 })));
      },
      { timeoutMs: 30_000, everyMs: 500 },
    );
    const until = Date.now() - EDGE_MS;
    await settled(until);
    const runs = await allRuns();
    const byId = new Map(runs.map((run) => [run.id, run]));
    const log = executions();
    let recoveredAt = killedAt;
    for (const orphan of orphans) {
      expect(byId.get(orphan.runId)?.status, `run ${orphan.runId} the victim had in flight`).toBe('interrupted');
      const retry = runs.find((run) => fireOf(run) === fireOf(orphan) && run.attempt === orphan.attempt + 1);
      expect(retry, `retry of ${fireOf(orphan)}`).toMatchObject({ trigger: 'retry', status: 'succeeded' });
      const end = log.find((e) => e.runId === retry!.id && e.event === 'end');
      expect(end === undefined || end.instance === victim.instance, `retry of ${fireOf(orphan)} ran on ${end?.instance}`).toBe(false);
      recoveredAt = Math.max(recoveredAt, end!.at);
    }

    const audit = auditRuns({ runs, executions: log, killed, until });
    expect(audit.duplicates).toEqual([]);
    expect(audit.inconsistent).toEqual([]);
    expect(audit.unretried).toEqual([]);
    expect(audit.interrupted).toBeGreaterThanOrEqual(orphans.length);
    // The fast jobs lost no fire to the crash: whatever the victim had claimed ran elsewhere.
    expect(unevenFires(runs, until)).toEqual([]);
    expect(stuckRuns(runs, { now: Date.now(), graceMs: LEASE_MS + 2_000, allStopped: false })).toEqual([]);
    console.info(
      `[processes] killed ${victim.instance} with ${orphans.length} runs in flight; ${audit.interrupted} interrupted, ${audit.retried} retried, ` +
        `${audit.unrecorded} completions unrecorded at the kill; the last retry of its runs ended ${((recoveredAt - killedAt) / 1000).toFixed(1)} s after the kill`,
    );

    const survivors = workers.filter((worker) => worker !== victim);
    const exits = await Promise.all(survivors.map((worker) => worker.stop()));
    for (const exit of exits) expect(exit.report, exit.stderr).toMatchObject({ stopped: true, errors: 0 });
    const final = await allRuns();
    expect(final.filter((run) => run.status === 'running')).toEqual([]);
    expect(auditRuns({ runs: final, executions: executions(), killed }).duplicates).toEqual([]);
  }, 90_000);
});
