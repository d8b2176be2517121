import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CronScheduler, type CatchupPolicy, type CronJobDefinition } from '@symbi/core';
import { SqliteJobStore } from '@symbi/store-sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attemptOf, auditRuns, firesEvery, fireOf, stuckRuns, toAuditRun, type AuditRun } from './fire-audit.mjs';
import { ensureBuilt, readExecutions, startWorker, unfinishedStarts, waitUntil, type WorkerProcess } from './worker-control.mjs';

const LEASE_MS = 2_000;
/** A fire claimed more than this late counts as missed, so a few seconds down miss several fires. */
const MISFIRE_MS = 1_000;
const DOWNTIME_MS = 5_000;
const SLOW_AGENT_MS = 1_500;
const EDGE_MS = 1_000;
const WORKER_SETTINGS = { 'lease-ms': LEASE_MS, 'tick-ms': 200, 'misfire-ms': MISFIRE_MS, 'retry-base-ms': 200, 'agent-ms': 20, 'shutdown-ms': 10_000 };

const noAgents = { execute: async (): Promise<never> => Promise.reject(new Error('the test process runs no agents')) };

describe('a scheduler process on a SQLite file, killed and restarted', () => {
  const dir = mkdtempSync(join(tmpdir(), 'symbi-sqlite-crash-'));
  const path = join(dir, 'scheduler.db');
  const workers: WorkerProcess[] = [];
  let store: SqliteJobStore;
  let admin: CronScheduler;

  const spawnWorker = async (instance: string): Promise<WorkerProcess> => {
    const worker = startWorker({ instance, log: join(dir, `${instance}.jsonl`), store: 'sqlite', path, settings: WORKER_SETTINGS });
    workers.push(worker);
    await worker.ready;
    return worker;
  };

  beforeAll(async () => {
    ensureBuilt();
    store = new SqliteJobStore({ path });
    await store.init();
    admin = new CronScheduler({ store, executor: noAgents, config: { instanceId: 'test-admin' } });
  });

  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.kill9()));
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses no run, leaves none running, reruns no completed fire, and catches up per job policy', async () => {
    const first = await spawnWorker('sqlite-first');
    const slowJobs: CronJobDefinition[] = [];
    for (let i = 0; i < 3; i++) {
      slowJobs.push(
        await admin.add({
          name: `slow-${i}`,
          agentId: 'sleeper',
          cronExpr: '* * * * * *',
          input: JSON.stringify({ ms: SLOW_AGENT_MS }),
          overlap: 'allow_all',
          catchup: 'skip',
        }),
      );
    }
    const catchupJobs = new Map<CatchupPolicy, CronJobDefinition>();
    for (const policy of ['skip', 'once', 'all'] as const) {
      catchupJobs.set(policy, await admin.add({ name: `catchup-${policy}`, agentId: 'quick', cronExpr: '* * * * * *', catchup: policy, overlap: 'allow_all' }));
    }
    const slowIds = new Set(slowJobs.map((job) => job.id));
    await sleep(3_000);
    // Two slow runs started less than half their length ago are still running at the kill.
    await waitUntil(
      'the first scheduler has slow runs in flight',
      () => {
        const recent = Date.now() - SLOW_AGENT_MS / 2;
        return unfinishedStarts(readExecutions([first.log]), first.instance).filter((e) => slowIds.has(e.jobId) && e.at > recent).length >= 2;
      },
      { timeoutMs: 10_000, everyMs: 50 },
    );
    await first.kill9();
    const killedAt = Date.now();
    const orphans = unfinishedStarts(readExecutions([first.log]), first.instance);
    const completedBeforeKill = (await store.listRuns({ status: 'succeeded', limit: 100_000 })).map(toAuditRun);

    await sleep(DOWNTIME_MS);
    const restartAt = Date.now();
    const second = await spawnWorker('sqlite-second');
    const readyAt = Date.now();
    await waitUntil(
      'every run in flight at the kill was retried to success',
      async () => {
        const succeeded = new Set((await store.listRuns({ status: 'succeeded', limit: 100_000 })).map((run) => attemptOf(toAuditRun(run))));
        return orphans.every((orphan) => succeeded.has(attemptOf({ ...orphan, attempt: orphan.attempt + 1 })));
      },
      { timeoutMs: 20_000, everyMs: 200 },
    );
    await sleep(Math.max(0, readyAt + 3_000 - Date.now()));
    const until = Date.now() - EDGE_MS;
    await waitUntil(
      'every fire due by the end of the window is finished',
      async () => (await store.listRuns({ status: ['scheduled', 'running'], limit: 100_000 })).every((run) => run.scheduledFor.getTime() > until),
      { timeoutMs: 10_000 },
    );
    expect(stuckRuns((await store.listRuns({ limit: 100_000 })).map(toAuditRun), { now: Date.now(), graceMs: LEASE_MS + 1_000, allStopped: false })).toEqual([]);
    const exit = await second.stop();
    expect(exit.report, exit.stderr).toMatchObject({ stopped: true, errors: 0 });

    const runs = (await store.listRuns({ limit: 100_000 })).map(toAuditRun);
    const executions = readExecutions(workers.map((worker) => worker.log));
    const byId = new Map(runs.map((run) => [run.id, run]));

    // In flight at the kill: ended interrupted, and retried on the restarted scheduler.
    expect(orphans.filter((e) => slowIds.has(e.jobId)).length).toBeGreaterThanOrEqual(2);
    for (const orphan of orphans) {
      expect(byId.get(orphan.runId)?.status, `run ${orphan.runId} in flight at the kill`).toBe('interrupted');
      const retry = runs.find((run) => fireOf(run) === fireOf(orphan) && run.attempt === orphan.attempt + 1);
      expect(retry, `retry of ${fireOf(orphan)}`).toMatchObject({ trigger: 'retry', status: 'succeeded' });
      expect(executions.find((e) => e.runId === retry!.id && e.event === 'end')?.instance).toBe(second.instance);
    }
    expect(runs.filter((run) => run.status === 'running')).toEqual([]);

    const audit = auditRuns({ runs, executions, killed: new Set([first.instance]) });
    expect(audit.duplicates).toEqual([]);
    expect(audit.inconsistent).toEqual([]);
    expect(audit.unretried).toEqual([]);

    // Nothing completed before the kill ran again after the restart.
    const completedFires = new Set(completedBeforeKill.map(fireOf));
    expect(executions.filter((e) => e.instance === second.instance && completedFires.has(fireOf(e)))).toEqual([]);
    expect(completedBeforeKill.length).toBeGreaterThan(0);

    // Fires certainly missed: due after the kill and before the restart. Each policy decides.
    const missed = firesEvery(1, killedAt + 1, restartAt - 1);
    expect(missed.length).toBeGreaterThanOrEqual(DOWNTIME_MS / 1000 - 1);
    const runsOf = (policy: CatchupPolicy): AuditRun[] => runs.filter((run) => run.jobId === catchupJobs.get(policy)!.id && run.attempt === 1);
    const at = (list: AuditRun[]) => list.map((run) => run.scheduledFor).sort((a, b) => a - b);
    const before = (job: CronJobDefinition) => firesEvery(1, job.nextRun!.getTime(), killedAt - EDGE_MS);
    const after = firesEvery(1, readyAt + EDGE_MS, until);
    for (const [policy, job] of catchupJobs) {
      const fired = new Set(at(runsOf(policy)));
      expect(before(job).filter((t) => !fired.has(t)), `${policy}: fires before the kill without a run`).toEqual([]);
      expect(after.filter((t) => !fired.has(t)), `${policy}: fires after the restart without a run`).toEqual([]);
    }

    const skip = runsOf('skip');
    expect(skip.filter((run) => run.trigger === 'catchup')).toEqual([]);
    expect(skip.filter((run) => missed.includes(run.scheduledFor))).toEqual([]);

    const once = runsOf('once');
    const onceCatchup = once.filter((run) => run.trigger === 'catchup');
    expect(onceCatchup).toHaveLength(1);
    expect(onceCatchup[0]!.status).toBe('succeeded');
    // The one catch-up run is the newest missed fire; the older ones are not run.
    expect(onceCatchup[0]!.scheduledFor).toBeGreaterThanOrEqual(missed.at(-1)!);
    expect(onceCatchup[0]!.scheduledFor).toBeLessThanOrEqual(readyAt + EDGE_MS);
    expect(once.filter((run) => missed.includes(run.scheduledFor) && run.scheduledFor !== onceCatchup[0]!.scheduledFor)).toEqual([]);

    const all = runsOf('all');
    const allCatchup = all.filter((run) => run.trigger === 'catchup');
    expect(missed.filter((t) => !allCatchup.some((run) => run.scheduledFor === t)), 'missed fires `all` did not catch up').toEqual([]);
    expect(allCatchup.filter((run) => run.status !== 'succeeded')).toEqual([]);
    expect(firesEvery(1, catchupJobs.get('all')!.nextRun!.getTime(), until).filter((t) => !all.some((run) => run.scheduledFor === t))).toEqual([]);

    console.info(
      `[processes] sqlite: killed with ${orphans.length} runs in flight (all interrupted and retried), down ${((restartAt - killedAt) / 1000).toFixed(1)} s; ` +
        `${missed.length} fires certainly missed; caught up: skip 0, once ${onceCatchup.length}, all ${allCatchup.length}; ${audit.fires} fires, 0 duplicates`,
    );
  }, 90_000);
});
