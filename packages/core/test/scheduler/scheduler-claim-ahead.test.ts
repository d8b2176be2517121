import { describe, expect, it } from 'vitest';
import { ValidationError } from '@symbi/core';
import { startHarness } from './harness.js';

describe('CronScheduler: claiming ahead of time', () => {
  it('claims a fire up to claimAheadMs early but starts it exactly when due', async () => {
    const h = await startHarness({ config: { claimAheadMs: 300 } });
    const job = await h.scheduler.add({ name: 'nine', agentId: 'x', at: '2026-03-02T09:00:05Z' });
    await h.clock.advance('4s699ms');
    expect(await h.store.listRuns({ jobId: job.id })).toEqual([]);
    await h.clock.advance('1ms');
    const [held] = await h.store.listRuns({ jobId: job.id });
    expect(held).toMatchObject({ status: 'scheduled', owner: h.scheduler.config.instanceId });
    expect(h.executor.calls).toHaveLength(0);
    await h.clock.advance('299ms');
    expect(h.executor.calls).toHaveLength(0);
    await h.clock.advance('1ms');
    const [run] = await h.store.listRuns({ jobId: job.id });
    expect(run).toMatchObject({ status: 'succeeded', startedAt: new Date('2026-03-02T09:00:05Z') });
    await h.scheduler.stop();
  });

  it('claims nothing early with claimAheadMs 0', async () => {
    const h = await startHarness({ config: { claimAheadMs: 0 } });
    const job = await h.scheduler.add({ name: 'nine', agentId: 'x', at: '2026-03-02T09:00:05Z' });
    await h.clock.advance('4s999ms');
    expect(await h.store.listRuns({ jobId: job.id })).toEqual([]);
    await h.clock.advance('1ms');
    expect((await h.store.listRuns({ jobId: job.id }))[0]?.status).toBe('succeeded');
    await h.scheduler.stop();
  });

  it('gives back runs claimed ahead when it stops before they are due, so a restart runs them', async () => {
    const h = await startHarness({ config: { claimAheadMs: 500 } });
    const job = await h.scheduler.add({ name: 'nine', agentId: 'x', at: '2026-03-02T09:00:05Z' });
    await h.clock.advance('4s700ms');
    expect((await h.store.listRuns({ jobId: job.id }))[0]?.owner).toBe(h.scheduler.config.instanceId);
    await h.scheduler.stop();
    const [released] = await h.store.listRuns({ jobId: job.id });
    expect(released).toMatchObject({ status: 'scheduled', owner: null, leaseExpiresAt: null });
    expect(h.executor.calls).toHaveLength(0);
    await h.scheduler.start();
    await h.clock.advance('300ms');
    expect((await h.store.listRuns({ jobId: job.id })).map((r) => r.status)).toEqual(['succeeded']);
    expect(h.executor.calls).toHaveLength(1);
    await h.scheduler.stop();
  });

  it('rejects a claimAheadMs that is not shorter than the lease, naming the field', async () => {
    await expect(startHarness({ config: { claimAheadMs: 30_000, leaseMs: 30_000 }, start: false })).rejects.toThrow(ValidationError);
    await expect(startHarness({ config: { claimAheadMs: 30_000, leaseMs: 30_000 }, start: false })).rejects.toThrow(/claimAheadMs/);
  });
});

describe('CronScheduler: prefetch', () => {
  it('claims up to prefetch runs beyond the free slots, and runs them as slots free up', async () => {
    const h = await startHarness({ config: { maxConcurrentJobs: 2, prefetch: 3, claimBatchSize: 10 }, durationMs: 1000 });
    for (let i = 0; i < 10; i++) await h.scheduler.add({ name: `job-${i}`, agentId: 'x', at: '2026-03-02T09:00:01Z' });
    await h.clock.advance('1s');
    const owned = (await h.store.listRuns({ limit: 100 })).filter((r) => r.owner === h.scheduler.config.instanceId);
    expect(owned).toHaveLength(5);
    expect(h.executor.calls).toHaveLength(2);
    await h.clock.advance('10s');
    expect((await h.store.listRuns({ limit: 100 })).map((r) => r.status)).toEqual(Array(10).fill('succeeded'));
    await h.scheduler.stop();
  });

  it('without prefetch claims only for free slots', async () => {
    const h = await startHarness({ config: { maxConcurrentJobs: 2, claimBatchSize: 10 }, durationMs: 1000 });
    for (let i = 0; i < 5; i++) await h.scheduler.add({ name: `job-${i}`, agentId: 'x', at: '2026-03-02T09:00:01Z' });
    await h.clock.advance('1s');
    const owned = (await h.store.listRuns({ limit: 100 })).filter((r) => r.owner === h.scheduler.config.instanceId);
    expect(owned).toHaveLength(2);
    await h.scheduler.stop();
  });
});
