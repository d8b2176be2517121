import { setTimeout as sleep } from 'node:timers/promises';
import { CronScheduler, type CronJobDefinition } from '@symbi/core';
import { describe, expect, it } from 'vitest';
import { auditRuns, firesEvery, missingFires, stuckRuns, toAuditRun } from './fire-audit.mjs';
import { killWhileBusy, readExecutions, waitUntil } from './worker-control.mjs';
import { sqliteWorkers } from './worker-suite.js';

const JOBS = 20;
/** The defaults of `symbi up`: a dead owner's runs used to wait out this lease. */
const LEASE_MS = 30_000;
/**
 * Agents long enough that some runs are still in flight when the kill lands: the test sees runs
 * start in the worker's log (polled every 20 ms) and then kills it. With 20 ms agents a slow kill
 * once found them all finished (no run in flight at the kill); 200 ms still ends each run well
 * before its job's next fire a second later.
 */
const AGENT_MS = 200;
const WORKER_SETTINGS = { 'lease-ms': LEASE_MS, 'tick-ms': 1_000, 'agent-ms': AGENT_MS, 'retry-base-ms': 1_000, 'shutdown-ms': 10_000 };
const EDGE_MS = 1_000;

const noAgents = { execute: async (): Promise<never> => Promise.reject(new Error('the test process runs no agents')) };

describe('a scheduler on a SQLite file, killed with -9 and restarted a second later', () => {
  const suite = sqliteWorkers('sqlite-restart', WORKER_SETTINGS);

  it('frees the dead process runs at once: no fire skipped for a slot it held, none lost, none run twice', async () => {
    const store = suite.store();
    const admin = new CronScheduler({ store, executor: noAgents, config: { instanceId: 'test-admin' } });
    const jobs: CronJobDefinition[] = [];
    // The defaults a new user gets: overlap skip, catch-up once, max_concurrent 1.
    for (let i = 0; i < JOBS; i++) jobs.push(await admin.add({ name: `every-second-${i}`, agentId: 'worker', cronExpr: '* * * * * *' }));
    const first = await suite.spawn('restart-first');
    const firstReadyAt = Date.now();
    await sleep(3_000);
    const { killedAt, orphans } = await killWhileBusy(first, 1, 10_000);
    await sleep(1_000);
    const second = await suite.spawn('restart-second');
    const readyAt = Date.now();
    await sleep(8_000);
    const until = Date.now() - EDGE_MS;
    await waitUntil(
      'every fire due by the end of the window is finished',
      async () => (await store.listRuns({ status: ['scheduled', 'running'], limit: 100_000 })).every((run) => run.scheduledFor.getTime() > until),
      { timeoutMs: 10_000 },
    );
    expect(stuckRuns((await store.listRuns({ limit: 100_000 })).map(toAuditRun), { now: Date.now(), graceMs: 2_000, allStopped: false })).toEqual([]);
    const exit = await second.stop();
    expect(exit.report, exit.stderr).toMatchObject({ stopped: true, errors: 0 });

    const records = await store.listRuns({ limit: 100_000 });
    const runs = records.map(toAuditRun);
    const executions = readExecutions(suite.workers.map((worker) => worker.log));
    const byId = new Map(runs.map((run) => [run.id, run]));

    // The runs in flight at the kill ended interrupted and were retried, not left for the lease.
    expect(orphans.length).toBeGreaterThanOrEqual(1);
    for (const orphan of orphans) {
      const run = byId.get(orphan.runId);
      expect(run?.status, `run ${orphan.runId} in flight at the kill`).toBe('interrupted');
      const retry = runs.find((r) => r.jobId === orphan.jobId && r.scheduledFor === orphan.scheduledFor && r.attempt === orphan.attempt + 1);
      expect(retry, `retry of ${orphan.runId}`).toMatchObject({ trigger: 'retry', status: 'succeeded' });
      expect(retry!.dueAt - killedAt, 'the retry was planned at the restart, not after the 30 s lease').toBeLessThan(LEASE_MS / 3);
    }

    // No fire was skipped for a slot the dead process held: its runs were released before the
    // restarted scheduler planned its first fire. Overlap is judged at each fire's due time, so the
    // restart's own catch-up run or retry ending just before a fire does not skip it: at most one
    // skipped fire per job (the target), and none later.
    const interruptedAt = records.filter((run) => run.status === 'interrupted').map((run) => run.completedAt?.getTime() ?? Infinity);
    expect(interruptedAt.length).toBeGreaterThanOrEqual(orphans.length);
    const releasedAt = Math.max(...interruptedAt);
    // Skips the first process decided before it was killed (a run of its own still in flight at a
    // fire, on a starved machine) are overlap at work, not slots held by the dead.
    const skips = records.filter((run) => run.status === 'skipped' && (run.completedAt?.getTime() ?? 0) > killedAt);
    expect(skips.filter((run) => (run.completedAt?.getTime() ?? 0) <= releasedAt)).toEqual([]);
    expect(skips.filter((run) => run.scheduledFor.getTime() > readyAt + 3_000)).toEqual([]);
    // Each skipped fire met a run of its job in flight when it was decided. When that run is the
    // retry of a run the kill interrupted, the skip is overlap `skip` doing its work (the retry's
    // back-off is random, and on a busy machine it may still run at a fire's instant), not a slot
    // held by the dead: those are the skips the target bounds.
    const blockerOf = (skip: (typeof records)[number]) => {
      const decidedAt = skip.completedAt?.getTime() ?? 0;
      return records.find(
        (run) =>
          run.jobId === skip.jobId &&
          run.status !== 'skipped' &&
          (run.startedAt?.getTime() ?? run.dueAt.getTime()) <= decidedAt &&
          (run.completedAt?.getTime() ?? Infinity) >= decidedAt,
      );
    };
    for (const skip of skips) expect(blockerOf(skip), `the run in flight when fire ${skip.scheduledFor.toISOString()} was skipped`).toBeDefined();
    const skipped = new Map(jobs.map((job) => [job.id, skips.filter((run) => run.jobId === job.id && blockerOf(run)?.trigger !== 'retry').length]));
    const expected = firesEvery(1, firstReadyAt + EDGE_MS, until);
    for (const job of jobs) {
      expect(skipped.get(job.id), `fires of ${job.name} recorded skipped (besides those meeting a retry)`).toBeLessThanOrEqual(1);
      expect(missingFires(runs, job.id, expected), `fires of ${job.name} without a run`).toEqual([]);
    }
    const audit = auditRuns({ runs, executions, killed: new Set([first.instance]) });
    expect(audit.duplicates).toEqual([]);
    expect(audit.inconsistent).toEqual([]);
    expect(audit.unretried).toEqual([]);
    const total = [...skipped.values()].reduce((a, b) => a + b, 0);
    console.info(
      `[processes] sqlite restart: killed with ${orphans.length} runs in flight, restarted ${((readyAt - killedAt) / 1000).toFixed(1)} s later; ` +
        `its runs released ${releasedAt - killedAt} ms after the kill; ${total} fires skipped over ${JOBS} jobs (most per job: ${Math.max(...skipped.values())}) ` +
        `and ${skips.length - total} more that met a retry of an interrupted run, ${audit.fires} fires, 0 duplicates`,
    );
  }, 90_000);
});
