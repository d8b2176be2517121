import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountSmallFilesystem, type SmallFilesystem } from '../../packages/store-sqlite/test/small-filesystem.js';
import { ensureBuilt, startWorker, waitUntil, type WorkerProcess } from './worker-control.mjs';

const fs = mountSmallFilesystem(1_024);
if (fs === null && process.env.CI) throw new Error('CI must be able to mount a tmpfs (root or passwordless sudo) for the full-disk test');
if (fs === null) console.warn('[processes] skipping the full-disk test: no tmpfs can be mounted here (neither root nor passwordless sudo)');

/** A job body big enough that a few dozen fill the filesystem. */
const jobBody = (name: string) => ({ name, agent_id: 'noop', cron_expr: '0 0 2 * * *', input: 'x'.repeat(8_000) });

(fs === null ? describe.skip : describe)('the HTTP API on a SQLite store whose filesystem is full', () => {
  const small = fs as SmallFilesystem;
  let worker: WorkerProcess;
  let url: string;
  let logDir: string;

  beforeAll(async () => {
    ensureBuilt();
    logDir = mkdtempSync(join(tmpdir(), 'symbi-full-disk-'));
    worker = startWorker({
      instance: 'full-disk',
      log: join(logDir, 'executions.jsonl'),
      store: 'sqlite',
      path: join(small.dir, 'scheduler.db'),
      http: true,
      settings: { 'tick-ms': 500, 'agent-ms': 5 },
    });
    url = (await worker.ready).url as string;
  });

  afterAll(async () => {
    await worker?.kill9();
    small.release();
    if (logDir) rmSync(logDir, { recursive: true, force: true });
  });

  const post = (body: object) =>
    fetch(`${url}/api/v1/schedule`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const health = async () => (await (await fetch(`${url}/api/v1/health/scheduler`)).json()) as { status: string; reason?: string };
  const storedNames = async () => ((await (await fetch(`${url}/api/v1/schedule?limit=10000`)).json()) as { name: string }[]).map((job) => job.name);

  it('answers every create it could not save with 507, loses nothing it saved, reports degraded, and catches up once there is room', async () => {
    const heartbeat = await post({ name: 'heartbeat', agent_id: 'noop', cron_expr: '* * * * * *' });
    expect(heartbeat.status).toBe(201);

    const saved: string[] = [];
    const refused: { name: string; status: number; body: unknown }[] = [];
    for (let i = 0; i < 400 && refused.length < 6; i++) {
      const name = `filler-${i}`;
      const res = await post(jobBody(name));
      if (res.status === 201) saved.push(name);
      else refused.push({ name, status: res.status, body: await res.json() });
    }
    expect(refused.length).toBe(6);
    for (const answer of refused) {
      expect(answer.status).toBe(507);
      expect(answer.body).toEqual({ error: { code: 'STORAGE_FULL', message: 'the scheduler cannot save this: its storage is full; nothing was saved' } });
    }
    const names = await storedNames();
    for (const name of ['heartbeat', ...saved]) expect(names).toContain(name);
    for (const { name } of refused) expect(names).not.toContain(name);
    expect(await health()).toMatchObject({ status: 'degraded', reason: expect.stringMatching(/full/) });

    small.grow();
    const runsBefore = Date.now();
    expect((await post(jobBody('after-room'))).status).toBe(201);
    await waitUntil('health is healthy again', async () => (await health()).status === 'healthy', { timeoutMs: 15_000 });
    const heartbeatId = ((await heartbeat.json()) as { id: string }).id;
    await waitUntil(
      'the every-second job runs again',
      async () => {
        const runs = (await (await fetch(`${url}/api/v1/schedule/${heartbeatId}/history?limit=5`)).json()) as { status: string; started_at: string | null }[];
        return runs.some((run) => run.status === 'succeeded' && run.started_at !== null && Date.parse(run.started_at) >= runsBefore);
      },
      { timeoutMs: 15_000 },
    );
    expect(await storedNames()).toEqual(expect.arrayContaining(['heartbeat', ...saved, 'after-room']));
    const exit = await worker.stop();
    expect([exit.code, exit.signal]).toEqual([0, null]);
  }, 120_000);
});
