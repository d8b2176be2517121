import { createServer } from 'node:http';
import { CronScheduler, InMemoryJobStore, StorageFullError, StoreError, StoreUnavailableError, systemClock, type JobFilter, type JobStore, type Logger } from '@symbi/core';
import { failingAgent, FakeExecutor } from '@symbi/core/testing';
import { createApiHandler } from '@symbi/server';
import { afterEach, describe, expect, it } from 'vitest';
import { fetchApi, rawRequest, startLiveServer, waitFor, type ApiResponse, type LiveServer } from './live-server.js';

const servers: LiveServer[] = [];
async function live(options: Parameters<typeof startLiveServer>[0] = {}): Promise<LiveServer> {
  const server = await startLiveServer(options);
  servers.push(server);
  return server;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function errorOf(res: ApiResponse): Promise<{ status: number; code: string; field?: string; message: string }> {
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  const body = await res.json();
  return { status: res.status, ...body.error };
}

describe('authentication', () => {
  it('needs a bearer key on every API route, compares it exactly, and leaves the dashboard files open', async () => {
    const server = await live({ apiKey: 'k-123' });
    const bare = (path: string, headers: Record<string, string> = {}) => fetchApi(`${server.url}${path}`, { headers });
    const missing = await bare('/api/v1/schedule');
    expect(await errorOf(missing)).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="symbi"');
    for (const header of ['Bearer k-12', 'Bearer k-1234', 'Basic k-123', 'Bearer', 'k-123', 'Bearer k-123 extra']) {
      expect((await bare('/api/v1/schedule', { authorization: header })).status, header).toBe(401);
    }
    expect((await bare('/api/v1/schedule', { authorization: 'bearer k-123' })).status).toBe(200);
    for (const path of ['/api/v1/health/scheduler', '/metrics', '/api/v1/openapi.json', '/api/v1/approvals', '/api/v1/audit']) {
      expect((await bare(path)).status, path).toBe(401);
      expect((await server.call(path)).status, path).toBe(200);
    }
    for (const path of ['/', '/dashboard/app.js', '/dashboard/styles.css']) expect((await bare(path)).status, path).toBe(200);
  });

  it('opens health and metrics only when asked', async () => {
    const server = await live({ apiKey: 'k', openHealth: true, openMetrics: true });
    expect((await fetch(`${server.url}/api/v1/health/scheduler`)).status).toBe(200);
    expect((await fetch(`${server.url}/metrics`)).status).toBe(200);
    expect((await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(200);
    expect((await fetch(`${server.url}/api/v1/schedule`)).status).toBe(401);
  });

  it('lets a read-only key read but not write, and records key labels as actors', async () => {
    const server = await live({ apiKeys: [{ key: 'ops', label: 'ops-team', role: 'operator' }, { key: 'viewer', label: 'viewer', role: 'read-only' }] });
    const as = (key: string, path: string, init: RequestInit = {}) =>
      fetchApi(`${server.url}${path}`, { ...init, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } });
    const created = await as('ops', '/api/v1/schedule', { method: 'POST', body: JSON.stringify({ name: 'j', agent_id: 'a', cron_expr: '@hourly' }) });
    expect(created.status).toBe(201);
    expect((await as('viewer', '/api/v1/schedule/j')).status).toBe(200);
    const refused = await as('viewer', '/api/v1/schedule/j/pause', { method: 'POST' });
    expect(await errorOf(refused)).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect((await as('ops', '/api/v1/schedule/j/pause', { method: 'POST' })).status).toBe(200);
    const audit = await (await as('viewer', '/api/v1/audit?job_id=j')).json();
    expect(audit.map((e: { type: string; actor: string }) => [e.type, e.actor])).toEqual([
      ['CronJobPaused', 'ops-team'],
      ['CronJobCreated', 'ops-team'],
    ]);
  });

  it('refuses an empty key in the options', async () => {
    const scheduler = new CronScheduler({ store: new InMemoryJobStore(), executor: new FakeExecutor(systemClock) });
    expect(() => createApiHandler(scheduler, { apiKey: '' })).toThrow(/non-empty/);
  });
});

describe('approvals, reset, runs and audit', () => {
  it('lists a run waiting for approval, approves it as the key label, and the run then succeeds', async () => {
    const server = await live({ apiKeys: [{ key: 'k', label: 'release-manager', role: 'operator' }], agents: { deployer: () => 'deployed' } });
    const job = await server.scheduler.add({ name: 'deploy', agentId: 'deployer', cronExpr: '@yearly', policy: { requireApproval: true } });
    const other = await server.scheduler.add({ name: 'other', agentId: 'deployer', cronExpr: '@yearly' });
    const call = (path: string, init: RequestInit = {}) => fetchApi(`${server.url}${path}`, { ...init, headers: { authorization: 'Bearer k' } });
    const queued = await (await call('/api/v1/schedule/deploy/run', { method: 'POST' })).json();
    const pending = await waitFor(async () => {
      const runs = await (await call('/api/v1/approvals')).json();
      return runs.length === 1 ? runs[0] : undefined;
    });
    expect(pending).toMatchObject({ id: queued.id, status: 'awaiting_approval', approval: { decision: null } });
    expect(await (await call('/api/v1/approvals?job_id=other')).json()).toEqual([]);

    const wrongJob = await call(`/api/v1/schedule/${other.id}/runs/${queued.id}/approve`, { method: 'POST' });
    expect(await errorOf(wrongJob)).toMatchObject({ status: 404, code: 'RUN_NOT_FOUND' });

    const approved = await call(`/api/v1/schedule/${job.id}/runs/${queued.id}/approve`, { method: 'POST' });
    expect(approved.status).toBe(200);
    expect((await approved.json()).approval).toMatchObject({ decision: 'approved', decided_by: 'release-manager' });
    const done = await waitFor(async () => {
      const run = await (await call(`/api/v1/runs/${queued.id}`)).json();
      return run.status === 'succeeded' ? run : undefined;
    });
    expect(done.output).toBe('deployed');
    const twice = await call(`/api/v1/schedule/deploy/runs/${queued.id}/approve`, { method: 'POST' });
    expect(await errorOf(twice)).toMatchObject({ status: 409, code: 'INVALID_STATE' });
    const types = (await (await call('/api/v1/audit?job_id=deploy&type=ApprovalGranted')).json()).map((e: { actor: string }) => e.actor);
    expect(types).toEqual(['release-manager']);
  });

  it('denies with a note, recording the caller as the approver', async () => {
    const server = await live();
    await server.scheduler.add({ name: 'risky', agentId: 'a', cronExpr: '@yearly', policy: { requireApproval: true } });
    const run = await (await server.call('/api/v1/schedule/risky/run', { method: 'POST', json: {} })).json();
    await waitFor(async () => ((await server.scheduler.getRun(run.id)).status === 'awaiting_approval' ? true : undefined));
    const res = await server.call(`/api/v1/schedule/risky/runs/${run.id}/deny`, { method: 'POST', json: { approver: 'api', note: 'not today' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'denied', error: 'denied by api: not today', approval: { decision: 'denied', decided_by: 'api' } });
  });

  it('resets a dead-lettered job', async () => {
    const server = await live({ agents: { flaky: failingAgent('backend down') } });
    await server.scheduler.add({ name: 'flaky-job', agentId: 'flaky', cronExpr: '@yearly', maxRetries: 1 });
    await server.call('/api/v1/schedule/flaky-job/run', { method: 'POST' });
    await waitFor(async () => ((await server.scheduler.getJob('flaky-job')).status === 'dead_letter' ? true : undefined));
    const failed = await (await server.call('/api/v1/schedule/flaky-job/history?status=failed,timed_out')).json();
    expect(failed.map((r: { error_message: string }) => r.error_message)).toEqual(['backend down']);
    const listed = await (await server.call('/api/v1/schedule?status=dead_letter')).json();
    expect(listed.map((j: { name: string }) => j.name)).toEqual(['flaky-job']);
    const reset = await server.call('/api/v1/schedule/flaky-job/reset', { method: 'POST' });
    expect(await reset.json()).toMatchObject({ status: 'active', consecutive_failures: 0 });
    expect((await server.call('/api/v1/schedule/flaky-job/reset', { method: 'POST' })).status).toBe(409);
    const metrics = await (await server.call('/metrics')).text();
    expect(metrics).toContain('symbiont_cron_dead_letter_total{job_name="flaky-job"} 1');
  });

  it('filters the audit log by type, job and time', async () => {
    const server = await live();
    await server.call('/api/v1/schedule', { method: 'POST', json: { name: 'a1', agent_id: 'x', cron_expr: '@daily' } });
    // Events carry millisecond times: step past the first event's millisecond on both sides.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const middle = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await server.call('/api/v1/schedule', { method: 'POST', json: { name: 'a2', agent_id: 'x', cron_expr: '@daily' } });
    await server.call('/api/v1/schedule/a2', { method: 'DELETE' });
    const created = await (await server.call('/api/v1/audit?type=CronJobCreated')).json();
    expect(created.map((e: { details: { name: string } }) => e.details.name)).toEqual(['a2', 'a1']);
    const since = await (await server.call(`/api/v1/audit?since=${encodeURIComponent(middle)}&limit=10`)).json();
    expect(since.map((e: { type: string }) => e.type)).toEqual(['CronJobDeleted', 'CronJobCreated']);
    const deletedJobId = since[0].job_id;
    const byDeletedId = await (await server.call(`/api/v1/audit?job_id=${deletedJobId}`)).json();
    expect(byDeletedId).toHaveLength(2);
    expect((await server.call('/api/v1/audit?limit=1')).status).toBe(200);
  });
});

describe('responses', () => {
  it('serves Prometheus text at /metrics', async () => {
    const server = await live({ agents: { a: () => 'ok' } });
    await server.scheduler.add({ name: 'daily-report', agentId: 'a', cronExpr: '@daily' });
    const run = await server.scheduler.runNow('daily-report', { wait: true });
    expect(run.status).toBe('succeeded');
    const res = await server.call('/metrics');
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    expect(text).toContain('symbiont_cron_runs_total{job_name="daily-report",status="succeeded"} 1');
    expect(text).toContain('symbiont_cron_in_flight_jobs 0');
    expect(text).toBe(server.scheduler.metrics.toPrometheus());
  });

  it('never echoes webhook headers or AgentPin JWTs', async () => {
    const server = await live();
    const secret = 'Bearer sk-live-THE-SECRET';
    const jwt = 'eyJhbGciOiJFUzI1NiJ9.SECRET-PAYLOAD.sig';
    const res = await server.call('/api/v1/schedule', {
      method: 'POST',
      json: {
        name: 'metrics-report',
        agent_id: 'metrics-agent',
        cron_expr: '0 */30 * * * *',
        delivery: ['webhook'],
        webhook_url: 'https://metrics.example.com/ingest',
        webhook_headers: { Authorization: secret },
        agent_pin_jwt: jwt,
      },
    });
    const text = await res.text();
    expect(res.status).toBe(201);
    expect(JSON.parse(text)).toMatchObject({ webhook_headers: { Authorization: '[redacted]' }, agent_pin_jwt: '[redacted]' });
    for (const path of ['/api/v1/schedule', '/api/v1/schedule/metrics-report', '/api/v1/audit']) {
      const body = await (await server.call(path)).text();
      expect(body).not.toContain('THE-SECRET');
      expect(body).not.toContain('SECRET-PAYLOAD');
    }
    // Sending the fetched job back unchanged keeps the stored secrets.
    const fetched = JSON.parse(text);
    const { id: _id, ...writable } = fetched;
    const put = await server.call('/api/v1/schedule/metrics-report', { method: 'PUT', json: writable });
    expect(put.status).toBe(200);
    const stored = await server.scheduler.getJob('metrics-report');
    expect(stored.webhookHeaders).toEqual({ Authorization: secret });
    expect(stored.agentPinJwt).toBe(jwt);
  });

  it('answers 405 with Allow, OPTIONS with Allow, and HEAD like GET without a body', async () => {
    const server = await live();
    const res = await server.call('/api/v1/schedule', { method: 'PATCH' });
    expect(await errorOf(res)).toMatchObject({ status: 405, code: 'METHOD_NOT_ALLOWED' });
    expect(res.headers.get('allow')).toBe('POST, GET, HEAD');
    const options = await server.call('/api/v1/schedule/x', { method: 'OPTIONS' });
    expect(options.status).toBe(204);
    expect(options.headers.get('allow')).toBe('GET, PUT, DELETE, HEAD');
    const head = await rawRequest(server.url, { method: 'HEAD', path: '/api/v1/health/scheduler' });
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
  });

  it('serves the dashboard with a strict content security policy', async () => {
    const server = await live();
    const page = await fetch(`${server.url}/`);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).toContain('<script src="/dashboard/app.js" defer></script>');
    expect(html).not.toMatch(/https?:\/\//);
    const script = await fetch(`${server.url}/dashboard/app.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const source = await script.text();
    expect(() => new Function(source)).not.toThrow();
    expect(source).not.toContain('innerHTML');
    expect(source).not.toMatch(/https?:\/\//);
    expect((await fetch(`${server.url}/dashboard/styles.css`)).headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect((await fetch(`${server.url}/dashboard/nope.js`)).status).toBe(404);
  });
});

describe('mounting and failures', () => {
  it('mounts in a host server next to its own routes', async () => {
    const scheduler = new CronScheduler({ store: new InMemoryJobStore(), executor: new FakeExecutor(systemClock) });
    const api = createApiHandler(scheduler);
    const host = createServer((req, res) => {
      if (req.url === '/host') res.end('host route');
      else api(req, res);
    });
    await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
    const { port } = host.address() as { port: number };
    try {
      expect(await (await fetch(`http://127.0.0.1:${port}/host`)).text()).toBe('host route');
      expect(await (await fetchApi(`http://127.0.0.1:${port}/api/v1/schedule`)).json()).toEqual([]);
    } finally {
      host.closeAllConnections();
      await new Promise((resolve) => host.close(resolve));
    }
  });

  it('answers store failures with 500 or 503, a generic message, and logs the cause', async () => {
    const store = new InMemoryJobStore();
    const logged: Record<string, unknown>[] = [];
    const logger: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: (fields) => logged.push(fields) };
    let failure: Error = new Error('disk on fire at /var/lib/secret-path');
    store.listJobs = async (_filter?: JobFilter) => {
      throw failure;
    };
    const scheduler = new CronScheduler({ store, executor: new FakeExecutor(systemClock) });
    const server = createServer(createApiHandler(scheduler, { logger }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const res = await fetchApi(`${url}/api/v1/schedule`);
      expect(await res.json()).toEqual({ error: { code: 'INTERNAL', message: 'internal error; see the server log' } });
      expect(res.status).toBe(500);
      expect(logged[0]).toMatchObject({ method: 'GET', path: '/api/v1/schedule', error: 'Error: disk on fire at /var/lib/secret-path' });
      failure = new StoreError('connection lost', { retryable: true });
      const busy = await fetch(`${url}/api/v1/schedule`);
      expect(busy.status).toBe(503);
      expect(busy.headers.get('retry-after')).toBe('1');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('answers 507 to a write the full store refused, 503 while it cannot be reached, and says so in health', async () => {
    const store: JobStore = new InMemoryJobStore();
    let trouble: string | null = null;
    store.createJob = async () => {
      throw new StorageFullError('sqlite database is full, nothing was written: database or disk is full');
    };
    store.listJobs = async () => {
      throw new StoreUnavailableError('list jobs failed: the database cannot be reached (connect ECONNREFUSED 10.0.0.7:5432)');
    };
    store.trouble = () => trouble;
    const scheduler = new CronScheduler({ store, executor: new FakeExecutor(systemClock), config: { tickIntervalMs: 60_000 } });
    await scheduler.start();
    const server = createServer(createApiHandler(scheduler));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const full = await fetchApi(`${url}/api/v1/schedule`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'a', agent_id: 'x', cron_expr: '0 * * * * *' }) });
      expect(full.status).toBe(507);
      expect(await full.json()).toEqual({ error: { code: 'STORAGE_FULL', message: 'the scheduler cannot save this: its storage is full; nothing was saved' } });
      const unreachable = await fetchApi(`${url}/api/v1/schedule`);
      expect(unreachable.status).toBe(503);
      // The server's own address stays out of the answer.
      expect(await unreachable.json()).toEqual({ error: { code: 'STORE_UNAVAILABLE', message: 'the scheduler cannot reach its database right now; try again' } });

      trouble = 'writes fail since 2026-01-01T00:00:00.000Z: sqlite database is full';
      const degraded = await (await fetchApi(`${url}/api/v1/health/scheduler`)).json();
      expect(degraded).toMatchObject({ status: 'degraded', reason: trouble });
      trouble = null;
      const healthy = await (await fetchApi(`${url}/api/v1/health/scheduler`)).json();
      expect(healthy.status).toBe('healthy');
      expect(healthy).not.toHaveProperty('reason');
    } finally {
      await scheduler.stop();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
