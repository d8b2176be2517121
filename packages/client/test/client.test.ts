import {
  ConflictError,
  NotFoundError,
  SymbiontApiError,
  SymbiontClient,
  SymbiontNetworkError,
  toWireJob,
  UnauthorizedError,
  ValidationFailedError,
} from '@symbi/client';
import { failingAgent } from '@symbi/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLiveApi, type LiveApi } from './live-api.js';

describe('toWireJob', () => {
  it('renames camelCase job, policy and heartbeat fields and leaves values alone', () => {
    expect(
      toWireJob({
        name: 'n',
        agentId: 'a',
        cronExpr: '@daily',
        jitterSeconds: 5,
        webhookHeaders: { 'X-Api-Key': '${KEY}', someHeader: 'v' },
        policy: { requireApproval: true, maxRuntime: '5m', allowedHours: { start: '00:00', end: '04:00' } },
        heartbeat: { contextMode: 'fully_ephemeral', maxIterations: 3 },
        input: undefined,
      }),
    ).toEqual({
      name: 'n',
      agent_id: 'a',
      cron_expr: '@daily',
      jitter: 5,
      webhook_headers: { 'X-Api-Key': '${KEY}', someHeader: 'v' },
      policy: { require_approval: true, max_runtime: '5m', allowed_hours: { start: '00:00', end: '04:00' } },
      heartbeat: { context_mode: 'fully_ephemeral', max_iterations: 3 },
    });
  });

  it('passes snake_case through and refuses a field given both ways', () => {
    const wire = { name: 'n', agent_id: 'a', cron_expr: '@daily', policy: { require_approval: true }, heartbeat: null };
    expect(toWireJob(wire)).toEqual(wire);
    expect(() => toWireJob({ name: 'n', agentId: 'a', agent_id: 'b' })).toThrow('job field agent_id is given twice');
  });
});

describe('SymbiontClient against a live server', () => {
  let live: LiveApi;
  let client: SymbiontClient;

  beforeAll(async () => {
    live = await startLiveApi({ apiKey: 'client-key', agents: { ok: () => 'fine', broken: failingAgent('no disk') } });
    client = new SymbiontClient({ baseUrl: `${live.url}/`, apiKey: 'client-key' });
  });
  afterAll(() => live.close());

  it('creates from camelCase and snake_case, lists with filters, gets by id and name', async () => {
    const camel = await client.schedule.create({
      name: 'weekly/report #1',
      agentId: 'ok',
      cronExpr: '0 0 18 * * 1',
      timezone: 'America/New_York',
      policy: { maxRuntime: '5m' },
      heartbeat: { maxIterations: 3 },
    });
    expect(camel).toMatchObject({ name: 'weekly/report #1', agent_id: 'ok', timezone: 'America/New_York', policy: { max_runtime: '5m' } });
    expect(camel.heartbeat).toMatchObject({ enabled: true, max_iterations: 3 });
    const snake = await client.schedule.create({ name: 'snake', agent_id: 'broken', cron_expr: '@hourly', max_retries: 1, paused: true });
    expect(snake.status).toBe('paused');
    expect((await client.schedule.list()).map((j) => j.name)).toEqual(['snake', 'weekly/report #1']);
    expect((await client.schedule.list({ agentId: 'broken' })).map((j) => j.name)).toEqual(['snake']);
    expect((await client.schedule.list({ agent_id: 'ok', status: 'active', limit: 5 })).map((j) => j.name)).toEqual(['weekly/report #1']);
    expect((await client.schedule.get('weekly/report #1')).id).toBe(camel.id);
    const status = await client.schedule.getStatus(camel.id);
    expect(status.next_run).toBe((await client.schedule.nextRun(camel.id)).next_run);
  });

  it('updates, pauses, resumes, runs, reads history and runs, resets and deletes', async () => {
    const updated = await client.schedule.update('snake', { cronExpr: '0 */30 * * * *', policy: { maxRuntime: '10m' } });
    expect(updated).toMatchObject({ cron_expr: '0 */30 * * * *', policy: { max_runtime: '10m' } });
    const resumed = await client.schedule.resume('snake');
    expect(resumed.status).toBe('active');
    const run = await client.schedule.runNow('snake', { input: 'go' });
    expect(run).toMatchObject({ status: 'scheduled', input: 'go', trigger: 'manual' });
    await live.settled('snake');
    const [failed] = await client.schedule.getHistory('snake', { status: ['failed', 'timed_out'], limit: 5, since: new Date(0) });
    expect(failed).toMatchObject({ id: run.id, status: 'failed', error_message: 'no disk' });
    expect(await client.schedule.getRun(run.id)).toEqual(failed);
    expect(await client.schedule.listRuns({ jobId: 'snake', agentId: 'broken', status: ['failed'], since: new Date(0), limit: 5 })).toEqual([failed]);
    expect(await client.schedule.listRuns({ status: 'succeeded' })).toEqual([]);
    expect((await client.schedule.get('snake')).status).toBe('dead_letter');
    expect((await client.schedule.reset('snake')).status).toBe('active');
    expect((await client.schedule.pause('snake')).status).toBe('paused');
    const events = await client.schedule.audit({ jobId: 'snake', type: 'CronJobReset', since: '2000-01-01T00:00:00Z', limit: 5 });
    expect(events.map((e) => e.actor)).toEqual(['api']);
    expect((await client.schedule.delete('snake')).name).toBe('snake');
    await expect(client.schedule.get('snake')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('approves and denies runs waiting for approval', async () => {
    await client.schedule.create({ name: 'gated', agentId: 'ok', cronExpr: '@yearly', policy: { requireApproval: true } });
    const first = await client.schedule.runNow('gated');
    const second = await client.schedule.runNow('gated');
    await live.settled('gated');
    expect((await client.schedule.approvals({ jobId: 'gated' })).map((r) => r.id)).toEqual([first.id, second.id]);
    const approved = await client.schedule.approve('gated', first.id, { note: 'fine' });
    expect(approved.approval).toMatchObject({ decision: 'approved', decided_by: 'api', note: 'fine' });
    await expect(client.schedule.deny('gated', second.id, { approver: 'carol' })).rejects.toMatchObject({
      constructor: UnauthorizedError,
      status: 403,
      code: 'FORBIDDEN',
      field: 'approver',
    });
    const denied = await client.schedule.deny('gated', second.id, { approver: 'api' });
    expect(denied).toMatchObject({ status: 'denied', approval: { decided_by: 'api' } });
    await live.settled('gated');
    expect((await client.schedule.getRun(first.id)).status).toBe('succeeded');
    expect(await client.schedule.approvals()).toEqual([]);
  });

  it('sets a job\'s history retention and prunes finished runs on demand, a dry run first', async () => {
    const job = await client.schedule.create({ name: 'short-memory', agentId: 'ok', cronExpr: '@yearly', historyRetentionRuns: 1 });
    expect(job).toMatchObject({ history_retention_runs: 1, history_retention_days: null });
    for (const input of ['first', 'second']) {
      await client.schedule.runNow('short-memory', { input });
      await live.settled('short-memory');
    }
    expect(await client.schedule.pruneRuns({ dryRun: true })).toEqual({ deleted: 1, dry_run: true, supported: true });
    expect(await client.schedule.getHistory('short-memory')).toHaveLength(2);
    expect(await client.schedule.pruneRuns()).toEqual({ deleted: 1, dry_run: false, supported: true });
    expect((await client.schedule.getHistory('short-memory')).map((run) => run.input)).toEqual(['second']);
    await client.schedule.delete('short-memory');
  });

  it('throws error classes with status, code and field', async () => {
    const invalid = await client.schedule.create({ name: 'bad', agentId: 'ok', cronExpr: 'every tuesday' }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(ValidationFailedError);
    expect(invalid).toBeInstanceOf(SymbiontApiError);
    expect(invalid).toMatchObject({ status: 422, code: 'VALIDATION', field: 'cron_expr' });
    await client.schedule.create({ name: 'dup', agentId: 'ok', cronExpr: '@daily' });
    await expect(client.schedule.create({ name: 'dup', agentId: 'ok', cronExpr: '@daily' })).rejects.toMatchObject({
      constructor: ConflictError,
      status: 409,
      code: 'CONFLICT',
    });
    await expect(client.schedule.resume('dup')).rejects.toMatchObject({ constructor: ConflictError, code: 'INVALID_STATE' });
    await expect(client.schedule.getRun('nope')).rejects.toMatchObject({ constructor: NotFoundError, status: 404, code: 'RUN_NOT_FOUND' });
    const anonymous = new SymbiontClient({ baseUrl: live.url });
    await expect(anonymous.schedule.health()).rejects.toMatchObject({ constructor: UnauthorizedError, status: 401, code: 'UNAUTHORIZED' });
    const wrong = new SymbiontClient({ baseUrl: live.url, apiKey: 'nope' });
    await expect(wrong.schedule.list()).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it('reads health', async () => {
    const health = await client.schedule.health();
    expect(health).toMatchObject({ status: 'healthy', in_flight_jobs: 0 });
    expect(health.metrics.runs_total).toBeGreaterThanOrEqual(2);
  });

  it('uses a given fetch, and reports unreachable servers as network errors', async () => {
    const seen: string[] = [];
    const custom = new SymbiontClient({
      baseUrl: live.url,
      apiKey: 'client-key',
      fetch: (url, init) => {
        seen.push(`${init.method} ${url}`);
        return fetch(url, init);
      },
    });
    await custom.schedule.list({ status: 'paused' });
    expect(seen).toEqual([`GET ${live.url}/api/v1/schedule?status=paused`]);
    const down = new SymbiontClient({ baseUrl: 'http://127.0.0.1:9', timeoutMs: 2000 });
    await expect(down.schedule.list()).rejects.toBeInstanceOf(SymbiontNetworkError);
    expect(() => new SymbiontClient({ baseUrl: 'localhost:8080' })).toThrow('baseUrl must be an http(s) URL');
  });
});
