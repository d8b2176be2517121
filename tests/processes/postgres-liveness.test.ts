import { setTimeout as sleep } from 'node:timers/promises';
import { CronScheduler } from '@symbi/core';
import { expect, it } from 'vitest';
import { describePostgres } from '../../packages/store-postgres/test/support/postgres.js';
import { auditRuns, stuckRuns, toAuditRun } from './fire-audit.mjs';
import { killWhileBusy, readExecutions, waitUntil } from './worker-control.mjs';
import { postgresWorkers } from './worker-suite.js';

/** The default lease: a killed instance's runs used to wait this long. */
const LEASE_MS = 30_000;
const SLOW_AGENT_MS = 2_000;
/** The workers' tick: how late a due run may still be waiting to start. */
const TICK_MS = 1_000;
/** "Within a few seconds": a survivor sweeps every tick, so the takeover lands well inside this. */
const TAKEOVER_MS = 5_000;

const noAgents = { execute: async (): Promise<never> => Promise.reject(new Error('the test process runs no agents')) };

describePostgres('a scheduler process on PostgreSQL killed with -9, beside a survivor', () => {
  const suite = postgresWorkers('pg-liveness', { 'lease-ms': LEASE_MS, 'tick-ms': TICK_MS, 'agent-ms': SLOW_AGENT_MS, 'retry-base-ms': 200, 'shutdown-ms': 15_000 });

  it('has the survivor take over the dead instance runs within a few seconds, not after the 30 s lease, and run none twice', async () => {
    const [doomed, survivor] = await Promise.all([suite.spawn('liveness-doomed'), suite.spawn('liveness-survivor')]);
    const store = suite.store();
    const admin = new CronScheduler({ store, executor: noAgents, config: { instanceId: 'test-admin' } });
    for (let i = 0; i < 10; i++) await admin.add({ name: `slow-${i}`, agentId: 'sleeper', cronExpr: '* * * * * *', overlap: 'allow_all' });
    const { killedAt, orphans } = await killWhileBusy(doomed, 2, 15_000);
    const orphanIds = new Set(orphans.map((orphan) => orphan.runId));

    const takenOver = await waitUntil(
      'every run in flight on the dead instance is interrupted',
      async () => {
        const interrupted = (await store.listRuns({ status: 'interrupted', limit: 10_000 })).filter((run) => orphanIds.has(run.id));
        return interrupted.length === orphans.length ? interrupted : null;
      },
      { timeoutMs: LEASE_MS, everyMs: 100 },
    );
    const takeoverMs = Math.max(...takenOver.map((run) => run.completedAt!.getTime())) - killedAt;
    expect(takeoverMs).toBeLessThan(TAKEOVER_MS);
    for (const run of takenOver) expect(run.error).toMatch(/^interrupted: instance liveness-doomed \(pid \d+ on .+\) is gone: its process exited$/);
    // Its retries run on the survivor, and nothing the dead instance claimed ahead waits for its lease.
    await waitUntil(
      'the retries of the interrupted runs succeeded on the survivor',
      () => orphans.every((orphan) => readExecutions([survivor.log]).some((e) => e.event === 'end' && e.jobId === orphan.jobId && e.scheduledFor === orphan.scheduledFor && e.attempt === orphan.attempt + 1)),
      { timeoutMs: 10_000, everyMs: 200 },
    );
    expect((await store.listRuns({ limit: 10_000 })).filter((run) => run.owner === doomed.instance && run.status !== 'interrupted' && run.completedAt === null)).toEqual([]);
    expect((await store.listInstances()).map((row) => row.id)).toEqual([survivor.instance]);

    await sleep(2_000);
    const stopAt = Date.now();
    const exit = await survivor.stop();
    expect(exit.report, exit.stderr).toMatchObject({ stopped: true, errors: 0 });
    // A graceful stop deregisters: nobody is left to judge.
    expect(await store.listInstances()).toEqual([]);
    const runs = (await store.listRuns({ limit: 100_000 })).map(toAuditRun);
    // The stop hands back the runs it claimed ahead and had not started: they wait, unleased, for
    // the next start. Stuck are runs still running, or scheduled runs due a tick before the stop.
    expect(stuckRuns(runs, { now: stopAt, graceMs: TICK_MS, allStopped: true })).toEqual([]);
    expect(runs.filter((run) => run.status === 'scheduled' && run.leaseExpiresAt !== null)).toEqual([]);
    const audit = auditRuns({ runs, executions: readExecutions(suite.workers.map((worker) => worker.log)), killed: new Set([doomed.instance]) });
    expect(audit.duplicates).toEqual([]);
    expect(audit.inconsistent).toEqual([]);
    expect(audit.unretried).toEqual([]);
    console.info(`[processes] postgres liveness: ${orphans.length} runs of the killed instance interrupted ${takeoverMs} ms after the kill (lease ${LEASE_MS} ms), retried on the survivor; ${audit.fires} fires, 0 duplicates`);
  }, 90_000);
});
