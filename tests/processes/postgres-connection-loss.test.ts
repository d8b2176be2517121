import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CronScheduler, type CronJobDefinition, type RunFilter } from '@symbi/core';
import { PostgresJobStore } from '@symbi/store-postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  CONNECTION_STRING,
  describePostgres,
  dropSchema,
  randomSchemaName,
  openTerminator,
} from '../../packages/store-postgres/test/support/postgres.js';
import { TcpProxy } from '../../packages/store-postgres/test/support/tcp-proxy.js';
import { auditRuns, fireOf, firesEvery, toAuditRun } from './fire-audit.mjs';
import { ensureBuilt, readExecutions, startWorker, waitUntil, type WorkerProcess } from './worker-control.mjs';

const JOBS = 10;
const WINDOW_MS = 60_000;
const CUT_EVERY_MS = 2_000;
/** Once, mid-window, the database cannot be reached at all for this long. */
const OUTAGE_MS = 3_000;
const EDGE_MS = 1_000;

const noAgents = { execute: async (): Promise<never> => Promise.reject(new Error('the test process runs no agents')) };

interface HealthSample {
  at: number;
  status: string;
  reason?: string;
}

describePostgres('three scheduler processes while their PostgreSQL connections are cut', () => {
  const schema = randomSchemaName();
  /** Every connection of the workers carries it: pg_terminate_backend touches those only. */
  const appName = `symbi_cut_${randomBytes(5).toString('hex')}`;
  const target = new URL(CONNECTION_STRING);
  const proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const workers: WorkerProcess[] = [];
  const urls: string[] = [];
  const jobs: CronJobDefinition[] = [];
  let dir: string;
  let store: PostgresJobStore | undefined;

  beforeAll(async () => {
    ensureBuilt();
    await proxy.accept();
    dir = mkdtempSync(join(tmpdir(), 'symbi-pg-cut-'));
    store = new PostgresJobStore({ connectionString: CONNECTION_STRING, schema });
    await store.init();
    const workerUrl = new URL(proxy.route(CONNECTION_STRING));
    workerUrl.searchParams.set('application_name', appName);
    for (const name of ['a', 'b', 'c']) {
      workers.push(
        startWorker({
          instance: `instance-${name}`,
          log: join(dir, `instance-${name}.jsonl`),
          store: 'postgres',
          url: workerUrl.toString(),
          schema,
          http: true,
          // Leases outlast the outage, so no run is taken from a live instance.
          settings: { 'lease-ms': 10_000, 'tick-ms': 500, 'agent-ms': 20, 'shutdown-ms': 15_000 },
        }),
      );
    }
    for (const worker of workers) urls.push((await worker.ready).url as string);
  });

  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.kill9()));
    await proxy.refuse();
    await store?.close();
    await dropSchema(schema);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const listRuns = (filter: RunFilter) => store!.listRuns({ limit: 1_000_000, ...filter });

  it(`runs every fire once while connections are cut every ${CUT_EVERY_MS / 1000} s for ${WINDOW_MS / 1000} s, none crashes, health goes degraded and back`, async () => {
    const editor = new CronScheduler({ store: store!, executor: noAgents, config: { instanceId: 'test-admin' } });
    for (let i = 0; i < JOBS; i++) jobs.push(await editor.add({ name: `every-second-${i}`, agentId: 'noop', cronExpr: '* * * * * *', overlap: 'allow_all' }));

    const health: HealthSample[][] = workers.map(() => []);
    let sampling = true;
    // Each instance is sampled on its own, so one slow answer does not hold back the others'.
    const sampler = Promise.all(
      urls.map(async (url, i) => {
        while (sampling) {
          const body = (await (await fetch(`${url}/api/v1/health/scheduler`)).json()) as { status: string; reason?: string };
          health[i]!.push({ at: Date.now(), status: body.status, ...(body.reason === undefined ? {} : { reason: body.reason }) });
          await sleep(100);
        }
      }),
    );

    const terminator = await openTerminator(appName);
    let terminated = 0;
    const start = Date.now();
    let outageDone = false;
    while (Date.now() - start < WINDOW_MS) {
      await sleep(CUT_EVERY_MS);
      terminated += await terminator.terminate();
      if (!outageDone && Date.now() - start > WINDOW_MS / 2) {
        outageDone = true;
        await proxy.refuse();
        await sleep(OUTAGE_MS);
        await proxy.accept();
      }
    }
    await terminator.close();
    const until = Date.now() - EDGE_MS;
    await waitUntil(
      'every fire due by the end of the window is finished',
      async () => (await listRuns({ status: ['scheduled', 'running'] })).every((run) => run.scheduledFor.getTime() > until),
      { timeoutMs: 30_000, everyMs: 250 },
    );
    // Healthy again once the database is back.
    await waitUntil('every instance reports healthy', () => health.every((samples) => samples.at(-1)?.status === 'healthy'), { timeoutMs: 15_000 });
    sampling = false;
    await sampler;

    const runs = (await listRuns({})).map(toAuditRun);
    const audit = auditRuns({ runs, executions: readExecutions(workers.map((worker) => worker.log)), killed: new Set(), until });
    const uneven = jobs.flatMap((job) =>
      firesEvery(1, job.nextRun!.getTime(), until).flatMap((t) => {
        const fire = fireOf({ jobId: job.id, scheduledFor: t });
        const succeeded = runs.filter((run) => fireOf(run) === fire && run.status === 'succeeded').length;
        return succeeded === 1 ? [] : [`${fire}: ${succeeded} succeeded`];
      }),
    );
    const degraded = health.map((samples) => samples.filter((sample) => sample.status === 'degraded'));
    console.info(
      `[processes] ${audit.fires} fires of ${JOBS} jobs in ${WINDOW_MS / 1000} s; ${terminated} connections terminated; degraded samples per instance: ${degraded.map((d) => d.length).join(', ')}`,
    );
    expect(terminated).toBeGreaterThan(0);
    expect(audit.duplicates).toEqual([]);
    expect(audit.inconsistent).toEqual([]);
    expect(uneven).toEqual([]);
    for (const samples of degraded) {
      expect(samples.length).toBeGreaterThan(0);
      expect(samples.some((sample) => /database unreachable since/.test(sample.reason ?? ''))).toBe(true);
    }

    // Nobody crashed: each stops gracefully now.
    const exits = await Promise.all(workers.map((worker) => worker.stop()));
    expect(exits.map((exit) => [exit.code, exit.signal])).toEqual(workers.map(() => [0, null]));
  }, 180_000);
});
