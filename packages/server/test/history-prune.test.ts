import { newRun } from '@symbi/core';
import type { ApiKey } from '@symbi/server';
import { afterEach, describe, expect, it } from 'vitest';
import { startLiveServer, type ApiResponse, type LiveServer } from './live-server.js';

const KEYS: ApiKey[] = [
  { key: 'key-operator', label: 'ops-bot', role: 'operator' },
  { key: 'key-viewer', label: 'dashboard', role: 'read-only' },
];

let server: LiveServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

/** A request with the API key `key`. */
const as = (key: string, path: string, init: { method?: string; json?: unknown } = {}): Promise<ApiResponse> =>
  server!.call(path, { ...init, headers: { authorization: `Bearer ${key}` } });

/** Stores `count` succeeded runs of the job, a minute apart, an hour ago. */
async function finishedRuns(jobName: string, count: number): Promise<void> {
  const job = await server!.scheduler.getJob(jobName);
  const start = Date.now() - 3_600_000;
  for (let i = 0; i < count; i++) {
    const at = new Date(start + i * 60_000);
    await server!.scheduler.store.insertRun({ ...newRun(job, { scheduledFor: at, trigger: 'manual' }), status: 'succeeded', completedAt: at });
  }
}

describe('history retention through the HTTP API', () => {
  it('sets a job\'s retention on create and update, and shows it', async () => {
    server = await startLiveServer({ apiKeys: KEYS });
    const created = await as('key-operator', '/api/v1/schedule', {
      method: 'POST',
      json: { name: 'chatty', agent_id: 'a', cron_expr: '@yearly', history_retention_days: 7 },
    });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ history_retention_days: 7, history_retention_runs: null });
    const updated = await as('key-operator', '/api/v1/schedule/chatty', { method: 'PUT', json: { history_retention_runs: 100 } });
    expect(await updated.json()).toMatchObject({ history_retention_days: 7, history_retention_runs: 100 });
    const refused = await as('key-operator', '/api/v1/schedule/chatty', { method: 'PUT', json: { history_retention_days: 0 } });
    expect(refused.status).toBe(422);
    expect((await refused.json()).error).toMatchObject({ field: 'history_retention_days', message: expect.stringContaining('between 1 and 36500') });
  });

  it('prunes on demand for an operator: a dry run counts, a real one deletes, is audited with the key\'s label and counted', async () => {
    server = await startLiveServer({ apiKeys: KEYS });
    await server.scheduler.add({ name: 'chatty', agentId: 'a', cronExpr: '@yearly', historyRetentionRuns: 1 });
    await finishedRuns('chatty', 4);

    expect((await as('key-viewer', '/api/v1/runs/prune', { method: 'POST' })).status).toBe(403);
    const bad = await as('key-operator', '/api/v1/runs/prune', { method: 'POST', json: { dry_run: 'yes' } });
    expect(bad.status).toBe(422);
    expect((await bad.json()).error).toMatchObject({ field: 'dry_run' });

    const dry = await as('key-operator', '/api/v1/runs/prune', { method: 'POST', json: { dry_run: true } });
    expect(dry.status).toBe(200);
    expect(await dry.json()).toEqual({ deleted: 3, dry_run: true, supported: true });
    expect(await server.scheduler.history('chatty')).toHaveLength(4);

    const real = await as('key-operator', '/api/v1/runs/prune', { method: 'POST' });
    expect(await real.json()).toEqual({ deleted: 3, dry_run: false, supported: true });
    expect(await server.scheduler.history('chatty')).toHaveLength(1);
    const audit = await (await as('key-viewer', '/api/v1/audit?type=HistoryPruned')).json();
    expect(audit).toMatchObject([{ type: 'HistoryPruned', actor: 'ops-bot', details: { deleted: 3 } }]);
    const metrics = await (await as('key-viewer', '/metrics')).text();
    expect(metrics).toMatch(/^symbiont_cron_runs_pruned_total 3$/m);
  });
});
