import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CronScheduler, type CronJobDefinition } from '@symbi/core';
import { PostgresJobStore } from '@symbi/store-postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CONNECTION_STRING, describePostgres, dropSchema, randomSchemaName } from '../../packages/store-postgres/test/support/postgres.js';
import { auditRuns, stuckRuns, toAuditRun } from './fire-audit.mjs';
import { ensureBuilt, readExecutions, startWorker, unfinishedStarts, waitUntil, type WorkerProcess } from './worker-control.mjs';

/** The default lease: a killed instance's runs used to wait this long. */
const LEASE_MS = 30_000;
const SLOW_AGENT_MS = 2_000;
/** "Within a few seconds": a survivor sweeps every tick, so the takeover lands well inside this. */
const TAKEOVER_MS = 5_000;

const noAgents = { execute: async (): Promise<never> => Promise.reject(new Error('the test process runs no agents')) };

describePostgres('a scheduler process on PostgreSQL killed with -9, beside a survivor', () => {
  const schema = randomSchemaName();
  const workers: WorkerProcess[] = [];
  let dir: string;
  let store: PostgresJobStore | undefined;

  beforeAll(async () => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'symbi-pg-liveness-'));
    store = new PostgresJobStore({ connectionString: CONNECTION_STRING, schema });
    await store.init();
    for (const name of ['doomed', 'survivor']) {
      workers.push(
        startWorker({
          instance: `liveness-${name}`,
          log: join(dir, `${name}.jsonl`),
          store: 'postgres',
          url: CONNECTION_STRING,
          schema,
          settings: { 'lease-ms': LEASE_MS, 'tick-ms': 1_000, 'agent-ms': SLOW_AGENT_MS, 'retry-base-ms': 200, 'shutdown-ms': 15_000 },
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

  it('has the survivor take over the dead instance runs within a few seconds, not after the 30 s lease, and run none twice', async () => {
    const [doomed, survivor] = workers as [WorkerProcess, WorkerProcess];
    const admin = new CronScheduler({ store: store!, executor: noAgents, config: { instanceId: 'test-admin' } });
    const jobs: CronJobDefinition[] = [];
    for (let i = 0; i < 10; i++) jobs.push(await admin.add({ name: `slow-${i}`, agentId: 'sleeper', cronExpr: '* * * * * *', overlap: 'allow_all' }));
    await waitUntil('the doomed instance has runs in flight', () => unfinishedStarts(readExecutions([doomed.log]), doomed.instance).length >= 2, {
      timeoutMs: 15_000,
      everyMs: 50,
    });
    await doomed.kill9();
    const killedAt = Date.now();
    const orphans = unfinishedStarts(readExecutions([doomed.log]), doomed.instance);
    const orphanIds = new Set(orphans.map((orphan) => orphan.runId));

    const takenOver = await waitUntil(
      'every run in flight on the dead instance is interrupted',
      async () => {
        const interrupted = (await store!.listRuns({ status: 'interrupted', limit: 10_000 })).filter((run) => orphanIds.has(run.id));
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
    expect((await store!.listRuns({ limit: 10_000 })).filter((run) => run.owner === doomed.instance && run.status !== 'interrupted' && run.completedAt === null)).toEqual([]);
    expect((await store!.listInstances()).map((row) => row.id)).toEqual([survivor.instance]);

    await sleep(2_000);
    const exit = await survivor.stop();
    expect(exit.report, exit.stderr).toMatchObject({ stopped: true, errors: 0 });
    // A graceful stop deregisters: nobody is left to judge.
    expect(await store!.listInstances()).toEqual([]);
    const runs = (await store!.listRuns({ limit: 100_000 })).map(toAuditRun);
    expect(stuckRuns(runs, { now: Date.now(), graceMs: 0, allStopped: true })).toEqual([]);
    const audit = auditRuns({ runs, executions: readExecutions(workers.map((worker) => worker.log)), killed: new Set([doomed.instance]) });
    expect(audit.duplicates).toEqual([]);
    expect(audit.inconsistent).toEqual([]);
    expect(audit.unretried).toEqual([]);
    console.info(`[processes] postgres liveness: ${orphans.length} runs of the killed instance interrupted ${takeoverMs} ms after the kill (lease ${LEASE_MS} ms), retried on the survivor; ${audit.fires} fires, 0 duplicates`);
  }, 90_000);
});
