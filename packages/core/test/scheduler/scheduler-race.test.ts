import { describe, expect, it } from 'vitest';
import { CronScheduler, InMemoryJobStore } from '@symbi/core';
import { FakeExecutor, VirtualClock } from '@symbi/core/testing';

describe('CronScheduler: two schedulers on one store', () => {
  it('run each fire exactly once between them', async () => {
    const clock = new VirtualClock('2026-03-02T09:00:00Z');
    const store = new InMemoryJobStore();
    const executor = new FakeExecutor(clock, {}, { durationMs: 300 });
    const make = (id: string) => new CronScheduler({ store, executor, clock, config: { instanceId: id, tickIntervalMs: 1000, shutdownTimeoutMs: 0 } });
    const [a, b] = [make('a'), make('b')];
    await a.start();
    await b.start();
    for (let i = 0; i < 20; i++) await a.add({ name: `job-${i}`, agentId: 'x', cronExpr: '* * * * * *' });
    await clock.advance('10s500ms');
    await a.stop();
    await b.stop();
    const runs = await store.listRuns({ limit: 10_000 });
    const keys = runs.map((r) => `${r.jobId}@${r.scheduledFor.toISOString()}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(runs.filter((r) => r.status === 'succeeded')).toHaveLength(200);
    expect(executor.calls).toHaveLength(200);
    const owners = new Set(executor.calls.map((c) => c.request.run.id));
    expect(owners.size).toBe(200);
  });
});
