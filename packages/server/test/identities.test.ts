import { CronScheduler, InMemoryJobStore, systemClock } from '@symbi/core';
import { FakeExecutor } from '@symbi/core/testing';
import { createApiHandler, type ApiKey } from '@symbi/server';
import { afterEach, describe, expect, it } from 'vitest';
import { fetchApi, startLiveServer, waitFor, type ApiResponse, type LiveServer } from './live-server.js';

const KEYS: ApiKey[] = [
  { key: 'key-operator', label: 'ops-bot', role: 'operator' },
  { key: 'key-alice', label: 'alice', role: 'approver' },
  { key: 'key-bob', label: 'bob', role: 'approver' },
  { key: 'key-viewer', label: 'dashboard', role: 'read-only' },
];

let server: LiveServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

function as(key: string, path: string, init: { method?: string; json?: unknown } = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = { authorization: `Bearer ${key}` };
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  return fetchApi(`${server!.url}${path}`, { method: init.method ?? 'GET', headers, body: init.json === undefined ? undefined : JSON.stringify(init.json) });
}

/** Queues a run of `job` and waits until it waits for approval. */
async function pendingRun(job: string): Promise<string> {
  const run = await (await as('key-operator', `/api/v1/schedule/${job}/run`, { method: 'POST' })).json();
  await waitFor(async () => ((await server!.scheduler.getRun(run.id)).status === 'awaiting_approval' ? true : undefined));
  return run.id as string;
}

/** Type and actor of the audit events a person or key caused (the scheduler's own events left out). */
async function auditActors(job: string): Promise<string[][]> {
  const events: { type: string; actor: string }[] = await (await as('key-viewer', `/api/v1/audit?job_id=${job}`)).json();
  return events.filter((e) => e.actor !== 'scheduler').map((e) => [e.type, e.actor]).reverse();
}

describe('identities come from API keys, never from request bodies', () => {
  it('records the key label as approver and actor even when the body names someone else, which is refused', async () => {
    server = await startLiveServer({ apiKey: 'single-key' });
    await server.scheduler.add({ name: 'gated', agentId: 'a', cronExpr: '@yearly', policy: { requireApproval: true } });
    const run = await (await server.call('/api/v1/schedule/gated/run', { method: 'POST' })).json();
    await waitFor(async () => ((await server!.scheduler.getRun(run.id)).status === 'awaiting_approval' ? true : undefined));
    const spoofed = await server.call(`/api/v1/schedule/gated/runs/${run.id}/approve`, { method: 'POST', json: { approver: 'alice' } });
    expect(spoofed.status).toBe(403);
    expect((await spoofed.json()).error).toMatchObject({ code: 'FORBIDDEN', field: 'approver', message: expect.stringContaining('"api"') });
    expect((await server.scheduler.getRun(run.id)).status).toBe('awaiting_approval');
    const approved = await server.call(`/api/v1/schedule/gated/runs/${run.id}/approve`, { method: 'POST', json: { note: 'ok' } });
    expect((await approved.json()).approval).toMatchObject({ decision: 'approved', decided_by: 'api' });
    const events = await server.scheduler.auditLog({ type: 'ApprovalGranted' });
    expect(events.map((e) => e.actor)).toEqual(['api']);
  });

  it('gives each role what it may do, answering 403 with the label and role otherwise', async () => {
    server = await startLiveServer({ apiKeys: KEYS });
    const create = (key: string, name: string) =>
      as(key, '/api/v1/schedule', { method: 'POST', json: { name, agent_id: 'a', cron_expr: '@yearly', policy: { require_approval: true } } });
    expect((await create('key-operator', 'deploy')).status).toBe(201);
    for (const [key, label, role] of [
      ['key-viewer', 'dashboard', 'read-only'],
      ['key-alice', 'alice', 'approver'],
    ] as const) {
      const refused = await create(key, `by-${label}`);
      expect(refused.status).toBe(403);
      expect((await refused.json()).error.message).toBe(`the API key "${label}" has the role ${role}, which may not change jobs or start runs`);
      for (const [method, path] of [
        ['PUT', '/api/v1/schedule/deploy'],
        ['DELETE', '/api/v1/schedule/deploy'],
        ['POST', '/api/v1/schedule/deploy/pause'],
        ['POST', '/api/v1/schedule/deploy/run'],
      ] as [string, string][]) {
        expect((await as(key, path, { method, json: method === 'PUT' ? { input: 'x' } : undefined })).status, `${role} ${method} ${path}`).toBe(403);
      }
      expect((await as(key, '/api/v1/schedule/deploy')).status).toBe(200);
    }
    const runId = await pendingRun('deploy');
    const viewerDecides = await as('key-viewer', `/api/v1/schedule/deploy/runs/${runId}/approve`, { method: 'POST' });
    expect((await viewerDecides.json()).error.message).toBe('the API key "dashboard" has the role read-only, which may not approve or deny runs');
    const approved = await as('key-alice', `/api/v1/schedule/deploy/runs/${runId}/approve`, { method: 'POST' });
    expect((await approved.json()).approval.decided_by).toBe('alice');
    expect(await auditActors('deploy')).toEqual([
      ['CronJobCreated', 'ops-bot'],
      ['ApprovalGranted', 'alice'],
    ]);
    expect((await server.scheduler.getJob('deploy')).input).toBeNull();
  });

  it("restricts a job's approvals to the key its policy names", async () => {
    server = await startLiveServer({ apiKeys: KEYS });
    const created = await as('key-operator', '/api/v1/schedule', {
      method: 'POST',
      json: { name: 'payroll', agent_id: 'a', cron_expr: '@yearly', policy: { require_approval: true, approver: 'alice' } },
    });
    expect(created.status).toBe(201);
    const first = await pendingRun('payroll');
    for (const key of ['key-bob', 'key-operator']) {
      const refused = await as(key, `/api/v1/schedule/payroll/runs/${first}/deny`, { method: 'POST', json: { note: 'no' } });
      expect(refused.status, key).toBe(403);
      expect((await refused.json()).error.message).toMatch(/^only the API key labelled "alice" may decide runs of job payroll; this key is "(bob|ops-bot)"$/);
    }
    expect((await server.scheduler.getRun(first)).status).toBe('awaiting_approval');
    const denied = await as('key-alice', `/api/v1/schedule/payroll/runs/${first}/deny`, { method: 'POST', json: { approver: 'alice', note: 'wrong month' } });
    expect(await denied.json()).toMatchObject({ status: 'denied', approval: { decided_by: 'alice', note: 'wrong month' } });
    expect(await auditActors('payroll')).toEqual([
      ['CronJobCreated', 'ops-bot'],
      ['ApprovalDenied', 'alice'],
    ]);
  });

  it('keeps a single-key setup working: its key is the operator "api" and may decide every approval', async () => {
    server = await startLiveServer({ apiKey: 'only-key' });
    await server.scheduler.add({ name: 'named', agentId: 'a', cronExpr: '@yearly', policy: { requireApproval: true, approver: 'ops' } });
    const run = await (await server.call('/api/v1/schedule/named/run', { method: 'POST' })).json();
    await waitFor(async () => ((await server!.scheduler.getRun(run.id)).status === 'awaiting_approval' ? true : undefined));
    const approved = await server.call(`/api/v1/schedule/named/runs/${run.id}/approve`, { method: 'POST' });
    expect((await approved.json()).approval).toMatchObject({ approver: 'ops', decided_by: 'api' });
  });

  it('refuses key sets whose labels are not identities', () => {
    const scheduler = new CronScheduler({ store: new InMemoryJobStore(), executor: new FakeExecutor(systemClock) });
    const handler = (keys: ApiKey[], apiKey?: string) => () => createApiHandler(scheduler, { apiKeys: keys, ...(apiKey ? { apiKey } : {}) });
    expect(handler([{ key: 'k1', label: 'api', role: 'read-only' }], 'k0')).toThrow(/label "api" is already used/);
    expect(handler([{ key: 'k1', label: 'x\u001b[2J', role: 'operator' }])).toThrow(/apiKeys\[0\]\.label: must not contain control/);
    expect(handler([{ key: 'k1', label: 'x', role: 'admin' as never }])).toThrow(/role must be one of read-only, approver, operator/);
  });
});

describe('ids and names cannot be confused through the API', () => {
  it('refuses a client-chosen id, so no job can take another job name as its id', async () => {
    server = await startLiveServer();
    const slow = await (await server.call('/api/v1/schedule', { method: 'POST', json: { name: 'slow', agent_id: 'a', cron_expr: '@hourly' } })).json();
    const shadow = await server.call('/api/v1/schedule', { method: 'POST', json: { id: 'slow', name: 'shadow', agent_id: 'a', cron_expr: '@hourly' } });
    expect(shadow.status).toBe(422);
    expect((await shadow.json()).error).toMatchObject({ code: 'VALIDATION', field: 'id' });
    const byId = await server.call('/api/v1/schedule', { method: 'POST', json: { name: slow.id, agent_id: 'a', cron_expr: '@hourly' } });
    expect((await byId.json()).error).toMatchObject({ field: 'name', message: 'name: must not have the shape of a job id (a UUID)' });
    const paused = await (await server.call('/api/v1/schedule/slow/pause', { method: 'POST' })).json();
    expect(paused).toMatchObject({ id: slow.id, name: 'slow', status: 'paused' });
    expect((await server.scheduler.list()).map((job) => job.name)).toEqual(['slow']);
  });
});
