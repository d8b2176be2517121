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

  it('a held run whose timer fires while the wall clock is still a little early waits again: it never starts early', async () => {
    const h = await startHarness({ config: { claimAheadMs: 300 } });
    const job = await h.scheduler.add({ name: 'nine', agentId: 'x', at: '2026-03-02T09:00:05Z' });
    await h.clock.advance('4s800ms'); // claimed and held
    await h.clock.stepWall(-2); // the wall clock lags its timers by 2 ms, too little to count as a step
    await h.clock.advance('200ms'); // the timer fires at wall 09:00:04.998
    expect(h.executor.calls).toHaveLength(0);
    await h.clock.advance('2ms');
    expect(h.executor.calls.map((c) => new Date(c.startedAt).toISOString())).toEqual(['2026-03-02T09:00:05.000Z']);
    expect((await h.store.listRuns({ jobId: job.id }))[0]?.startedAt).toEqual(new Date('2026-03-02T09:00:05Z'));
    await h.scheduler.stop();
  });

  it('hands a run claimed ahead to another instance at stop: the other one starts it at its time, not after the lease', async () => {
    const a = await startHarness({ config: { claimAheadMs: 500, tickIntervalMs: 60_000 } });
    const job = await a.scheduler.add({ name: 'nine', agentId: 'x', at: '2026-03-02T09:00:05Z' });
    const b = await startHarness({ store: a.store, clock: a.clock, config: { claimAheadMs: 0, tickIntervalMs: 60_000 } });
    await a.clock.advance('4s700ms');
    expect((await a.store.listRuns({ jobId: job.id }))[0]?.owner).toBe(a.scheduler.config.instanceId);
    await a.scheduler.stop();
    await a.clock.advance('300ms');
    expect(b.executor.calls.map((c) => new Date(c.startedAt).toISOString())).toEqual(['2026-03-02T09:00:05.000Z']);
    expect((await a.store.listRuns({ jobId: job.id })).map((r) => [r.status, r.owner])).toEqual([['succeeded', b.scheduler.config.instanceId]]);
    await b.scheduler.stop();
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

  it('hands back at stop the prefetched runs still waiting for a slot: they stay queued for the next start, not interrupted', async () => {
    const h = await startHarness({ config: { maxConcurrentJobs: 1, prefetch: 2, claimBatchSize: 10 }, durationMs: 5000 });
    for (let i = 0; i < 3; i++) await h.scheduler.add({ name: `job-${i}`, agentId: 'x', at: '2026-03-02T09:00:01Z' });
    await h.clock.advance('1s');
    expect(h.executor.calls).toHaveLength(1);
    await h.scheduler.stop();
    const runs = await h.store.listRuns({ limit: 100 });
    const started = h.executor.calls[0]!.request.run.id;
    expect(runs.filter((r) => r.id !== started && r.trigger === 'schedule').map((r) => [r.status, r.owner, r.startedAt])).toEqual([
      ['scheduled', null, null],
      ['scheduled', null, null],
    ]);
    await h.scheduler.start();
    await h.clock.advance('15s');
    expect((await h.store.listRuns({ limit: 100 })).filter((r) => r.trigger === 'schedule').map((r) => r.status).sort()).toEqual(['interrupted', 'succeeded', 'succeeded']);
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
