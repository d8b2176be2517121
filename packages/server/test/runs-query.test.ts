import { failingAgent } from '@symbi/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLiveServer, type LiveServer } from './live-server.js';

describe('GET /api/v1/runs', () => {
  let live: LiveServer;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    live = await startLiveServer({ apiKey: 'runs-key', agents: { writer: () => 'written', broken: failingAgent('disk full') } });
    const { scheduler } = live;
    await scheduler.add({ name: 'writer-job', agentId: 'writer', cronExpr: '@yearly' });
    await scheduler.add({ name: 'broken-job', agentId: 'broken', cronExpr: '@yearly', maxRetries: 5 });
    // Each run gets its own millisecond, so "newest first" has one answer.
    const run = async (job: string) => {
      await new Promise((resolve) => setTimeout(resolve, 2));
      return (await scheduler.runNow(job, { wait: true })).id;
    };
    ids.written = await run('writer-job');
    ids.failed = await run('broken-job');
    ids.written2 = await run('writer-job');
  });
  afterAll(() => live?.close());

  const runIds = async (query: string): Promise<string[]> => {
    const res = await live.call(`/api/v1/runs${query}`);
    expect(res.status, query).toBe(200);
    return (await res.json()).map((run: { id: string }) => run.id);
  };

  it('lists the runs of every job, newest first, and filters by job (id or name), agent, status, time and count', async () => {
    expect(await runIds('')).toEqual([ids.written2, ids.failed, ids.written]);
    const writer = await live.scheduler.getJob('writer-job');
    expect(await runIds('?job_id=writer-job')).toEqual([ids.written2, ids.written]);
    expect(await runIds(`?job_id=${writer.id}`)).toEqual([ids.written2, ids.written]);
    expect(await runIds('?agent_id=broken')).toEqual([ids.failed]);
    expect(await runIds('?status=failed,timed_out')).toEqual([ids.failed]);
    expect(await runIds('?status=succeeded&limit=1')).toEqual([ids.written2]);
    const second = await live.scheduler.getRun(ids.failed!);
    expect(await runIds(`?since=${second.scheduledFor.toISOString()}`)).toEqual([ids.written2, ids.failed]);
    expect(await runIds('?since=2999-01-01T00:00:00Z')).toEqual([]);
    expect(await runIds('?job_id=no-such-job')).toEqual([]);
  });

  it('answers runs in the same shape as GET /api/v1/runs/{run_id}', async () => {
    const [listed] = await (await live.call('/api/v1/runs?status=failed')).json();
    expect(listed).toEqual(await (await live.call(`/api/v1/runs/${ids.failed}`)).json());
    expect(listed).toMatchObject({ job_name: 'broken-job', status: 'failed', error: 'disk full' });
  });

  it('is in the OpenAPI document with its filters', async () => {
    const doc = await (await live.call('/api/v1/openapi.json')).json();
    const operation = doc.paths['/api/v1/runs'].get;
    expect(operation.operationId).toBe('listRuns');
    expect(operation.parameters.map((p: { name: string }) => p.name)).toEqual(['job_id', 'agent_id', 'status', 'since', 'limit']);
    expect(operation.responses['200'].content['application/json'].schema).toEqual({ type: 'array', items: { $ref: '#/components/schemas/Run' } });
  });

  it('refuses bad filters naming the parameter, and callers without the key', async () => {
    for (const [query, field] of [
      ['?status=broken', 'status'],
      ['?limit=0', 'limit'],
      ['?limit=1001', 'limit'],
      ['?since=yesterday', 'since'],
      ['?statuses=failed', 'statuses'],
    ] as const) {
      const res = await live.call(`/api/v1/runs${query}`);
      expect(res.status, query).toBe(422);
      expect((await res.json()).error.field, query).toBe(field);
    }
    expect((await fetch(`${live.url}/api/v1/runs`)).status).toBe(401);
  });
});
