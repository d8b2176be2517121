import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLiveServer, waitFor, type LiveServer } from './live-server.js';

/** The spec's "HTTP API Endpoints" curl examples, in order, against a live server. */
describe('the spec curl sequence', () => {
  let live: LiveServer;
  let jobId: string;

  beforeAll(async () => {
    live = await startLiveServer({ apiKey: 'curl-test-key', agents: { reporter: (req) => `report for ${req.input ?? 'schedule'}` } });
    await live.scheduler.add({ name: 'other-agent-job', agentId: 'someone-else', cronExpr: '0 0 * * * *' });
  });
  afterAll(() => live.close());

  it('POST /api/v1/schedule creates hourly-report', async () => {
    const res = await live.call('/api/v1/schedule', {
      method: 'POST',
      json: { name: 'hourly-report', agent_id: 'reporter', cron_expr: '0 0 * * * *', session_mode: 'ephemeral_with_summary', delivery: ['stdout'] },
    });
    expect(res.status).toBe(201);
    const job = await res.json();
    expect(job).toMatchObject({
      name: 'hourly-report',
      agent_id: 'reporter',
      cron_expr: '0 0 * * * *',
      session_mode: 'ephemeral_with_summary',
      delivery: ['stdout'],
      status: 'active',
    });
    expect(new Date(job.next_run).getUTCMinutes()).toBe(0);
    expect(new Date(job.next_run).getTime()).toBeGreaterThan(Date.now());
    expect(res.headers.get('location')).toBe(`/api/v1/schedule/${job.id}`);
    jobId = job.id;
  });

  it('GET /api/v1/schedule?status=active&agent_id=reporter filters', async () => {
    const res = await live.call('/api/v1/schedule?status=active&agent_id=reporter');
    expect(res.status).toBe(200);
    const jobs = await res.json();
    expect(jobs.map((j: { name: string }) => j.name)).toEqual(['hourly-report']);
    const all = await (await live.call('/api/v1/schedule')).json();
    expect(all.map((j: { name: string }) => j.name)).toEqual(['hourly-report', 'other-agent-job']);
    const paused = await (await live.call('/api/v1/schedule?status=paused')).json();
    expect(paused).toEqual([]);
  });

  it('GET /api/v1/schedule/{job_id} by id and by name', async () => {
    const byId = await (await live.call(`/api/v1/schedule/${jobId}`)).json();
    const byName = await (await live.call('/api/v1/schedule/hourly-report')).json();
    expect(byId.id).toBe(jobId);
    expect(byName).toEqual(byId);
  });

  it('PUT /api/v1/schedule/{job_id} changes the cron expression', async () => {
    const res = await live.call(`/api/v1/schedule/${jobId}`, { method: 'PUT', json: { cron_expr: '0 0 */2 * * *' } });
    expect(res.status).toBe(200);
    const job = await res.json();
    expect(job.cron_expr).toBe('0 0 */2 * * *');
    expect(new Date(job.next_run).getUTCHours() % 2).toBe(0);
  });

  it('POST …/pause and …/resume', async () => {
    const paused = await live.call(`/api/v1/schedule/${jobId}/pause`, { method: 'POST' });
    expect(paused.status).toBe(200);
    expect(await paused.json()).toMatchObject({ status: 'paused', next_run: null, enabled: false });
    const again = await live.call(`/api/v1/schedule/${jobId}/pause`, { method: 'POST' });
    expect(again.status).toBe(409);
    expect((await again.json()).error.code).toBe('INVALID_STATE');
    const resumed = await live.call(`/api/v1/schedule/${jobId}/resume`, { method: 'POST' });
    expect(resumed.status).toBe(200);
    const job = await resumed.json();
    expect(job.status).toBe('active');
    expect(job.next_run).not.toBeNull();
  });

  it('POST …/run with input runs now; GET …/history shows it', async () => {
    const res = await live.call(`/api/v1/schedule/${jobId}/run`, { method: 'POST', json: { input: 'Run with custom input' } });
    expect(res.status).toBe(202);
    const queued = await res.json();
    expect(queued).toMatchObject({ job_id: jobId, trigger: 'manual', input: 'Run with custom input' });
    const done = await waitFor(async () => {
      const run = await (await live.call(`/api/v1/runs/${queued.id}`)).json();
      return run.status === 'succeeded' ? run : undefined;
    });
    expect(done.output).toBe('report for Run with custom input');
    expect(done.execution_time_ms).toBeGreaterThanOrEqual(0);

    const history = await (await live.call(`/api/v1/schedule/${jobId}/history?limit=20`)).json();
    expect(history.map((r: { id: string }) => r.id)).toEqual([queued.id]);
    const failed = await live.call(`/api/v1/schedule/${jobId}/history?limit=20&status=failed`);
    expect(failed.status).toBe(200);
    expect(await failed.json()).toEqual([]);
  });

  it('GET …/next_run', async () => {
    const job = await live.scheduler.getJob(jobId);
    const res = await live.call(`/api/v1/schedule/${jobId}/next_run`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ job_id: jobId, next_run: job.nextRun!.toISOString() });
  });

  it('GET /api/v1/health/scheduler answers exactly the spec JSON', async () => {
    const res = await live.call('/api/v1/health/scheduler');
    expect(res.status).toBe(200);
    const health = await res.json();
    expect(Object.keys(health).sort()).toEqual(['active_jobs', 'in_flight_jobs', 'metrics', 'paused_jobs', 'status']);
    expect(Object.keys(health.metrics).sort()).toEqual(['avg_execution_time_ms', 'runs_failed', 'runs_succeeded', 'runs_total']);
    expect(health).toMatchObject({ status: 'healthy', active_jobs: 2, paused_jobs: 0, in_flight_jobs: 0 });
    expect(health.metrics).toMatchObject({ runs_total: 1, runs_succeeded: 1, runs_failed: 0 });
  });

  it('DELETE /api/v1/schedule/{job_id}', async () => {
    const res = await live.call(`/api/v1/schedule/${jobId}`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect((await res.json()).id).toBe(jobId);
    const gone = await live.call(`/api/v1/schedule/${jobId}`);
    expect(gone.status).toBe(404);
    expect(await gone.json()).toEqual({ error: { code: 'JOB_NOT_FOUND', message: `job not found: ${jobId}` } });
  });
});
