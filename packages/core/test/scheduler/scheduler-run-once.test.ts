import { describe, expect, it } from 'vitest';
import { CronScheduler } from '@symbi/core';
import { startHarness } from './harness.js';

describe('CronScheduler.runOnce: one run in this process, without the loop', () => {
  it('runs the job through the pipeline and fires, recovers and claims nothing else', async () => {
    const { clock, store, executor, router, scheduler } = await startHarness({
      agents: { reporter: (request) => `report for ${request.input}` },
      start: false,
    });
    const job = await scheduler.add({ name: 'report', agentId: 'reporter', cronExpr: '* * * * * *', delivery: ['stdout'] });
    const other = await scheduler.add({ name: 'other', agentId: 'reporter', cronExpr: '* * * * * *' });
    await clock.advance('3s');

    const run = await scheduler.runOnce('report', { input: 'monday' });

    expect(run).toMatchObject({ jobId: job.id, trigger: 'manual', status: 'succeeded', output: 'report for monday' });
    expect(run.deliveries).toMatchObject([{ channel: 'stdout', status: 'delivered' }]);
    expect(router.delivered).toHaveLength(1);
    expect(executor.calls).toHaveLength(1);
    expect(await store.getJob(job.id)).toMatchObject({ runCount: 1, nextRun: job.nextRun });
    expect(await store.listRuns({ jobId: other.id })).toEqual([]);
    expect(scheduler.running).toBe(false);
  });

  it('holds its run against a scheduler sharing the store, renewing the lease while it runs', async () => {
    const { clock, store, executor, scheduler } = await startHarness({ durationMs: 5_000, start: false, config: { leaseMs: 1_000 } });
    const peer = new CronScheduler({ store, executor, clock, config: { instanceId: 'peer', tickIntervalMs: 100, leaseMs: 1_000, shutdownTimeoutMs: 0 } });
    await peer.start();
    await scheduler.add({ name: 'slow', agentId: 'slow-agent', at: '2030-01-01T00:00:00Z' });

    const settled = scheduler.runOnce('slow');
    await clock.advance('6s');
    const run = await settled;
    await peer.stop();

    // The peer neither claimed the run nor interrupted it when its first lease would have lapsed.
    expect(run.status).toBe('succeeded');
    expect(executor.calls).toHaveLength(1);
    expect(await store.listRuns({ status: 'interrupted' })).toEqual([]);
  });

  it('ends the run interrupted when its signal aborts, counting a failure', async () => {
    const { clock, store, scheduler } = await startHarness({ durationMs: 60_000, start: false });
    const job = await scheduler.add({ name: 'long', agentId: 'long-agent', at: '2030-01-01T00:00:00Z' });
    const controller = new AbortController();

    const settled = scheduler.runOnce('long', { signal: controller.signal });
    await clock.advance('1s');
    controller.abort('stopped by Ctrl-C');
    const run = await settled;

    expect(run).toMatchObject({ status: 'interrupted', error: 'interrupted: stopped by Ctrl-C' });
    expect(await store.getJob(job.id)).toMatchObject({ failureCount: 1, consecutiveFailures: 1 });
  });
});
