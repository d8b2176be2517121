import { describe, expect, it } from 'vitest';
import { CronScheduler, InMemoryJobStore, type JobRunRecord } from '@symbi/core';
import { FakeExecutor, VirtualClock } from '@symbi/core/testing';
import { startHarness } from './harness.js';

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

describe('CronScheduler: runNow({ wait: true }) when another instance runs the job', () => {
  it('answers with the finished run once the other instance finished it, and keeps no listener', async () => {
    const { store, clock, scheduler: runner } = await startHarness({ config: { tickIntervalMs: 1_000 } });
    const { scheduler: caller } = await startHarness({ store, clock, start: false, config: { tickIntervalMs: 1_000 } });
    const job = await caller.add({ name: 'elsewhere', agentId: 'a', cronExpr: '0 0 0 1 1 *' });
    const listeners = () => caller.listenerCount('run:succeeded') + caller.listenerCount('run:awaiting_approval');
    let answered: JobRunRecord | null = null;
    const waiting = caller.runNow(job.id, { wait: true }).then((run) => (answered = run));
    await clock.advance(5_000);
    await waiting;
    expect(answered).toMatchObject({ jobId: job.id, status: 'succeeded', trigger: 'manual' });
    expect(listeners()).toBe(0);
    await runner.stop();
  });

  it('drops its listeners when the run cannot even be queued', async () => {
    const { scheduler, store } = await startHarness({ start: false });
    const job = await scheduler.add({ name: 'gone', agentId: 'a', cronExpr: '0 0 0 1 1 *' });
    store.insertRun = async () => {
      throw new Error('disk full');
    };
    await expect(scheduler.runNow(job.id, { wait: true })).rejects.toThrow('disk full');
    expect(scheduler.listenerCount('run:succeeded')).toBe(0);
  });
});
