import { CronScheduler, systemClock } from '@symbi/core';
import { FakeExecutor } from '@symbi/core/testing';
import { expect, it } from 'vitest';
import { describePostgres, useSchema } from './support/postgres.js';

const JOBS = 8;
const FIRES_PER_JOB = 3;

describePostgres('CronScheduler on PostgresJobStore', () => {
  const db = useSchema();

  // Real time on purpose: what is under test is two processes' worth of schedulers coordinating
  // through the database (locks, leases, NOTIFY), which a virtual clock cannot drive.
  it('two instances on one schema run every fire exactly once between them', async () => {
    const stores = [await db.open(), await db.open()];
    const executor = new FakeExecutor(systemClock, {}, { durationMs: 20 });
    const schedulers = stores.map(
      (store, i) => new CronScheduler({ store, executor, clock: systemClock, config: { instanceId: `instance-${i}`, tickIntervalMs: 200, shutdownTimeoutMs: 5_000 } }),
    );
    await Promise.all(schedulers.map((scheduler) => scheduler.start()));
    try {
      for (let i = 0; i < JOBS; i++) await schedulers[i % 2]!.add({ name: `every-second-${i}`, agentId: 'agent', cronExpr: '* * * * * *' });
      const deadline = Date.now() + 20_000;
      for (;;) {
        const succeeded = await stores[0]!.listRuns({ status: 'succeeded', limit: 10_000 });
        const perJob = new Map<string, number>();
        for (const run of succeeded) perJob.set(run.jobId, (perJob.get(run.jobId) ?? 0) + 1);
        if (perJob.size === JOBS && [...perJob.values()].every((n) => n >= FIRES_PER_JOB)) break;
        if (Date.now() > deadline) throw new Error(`only ${succeeded.length} runs succeeded in time`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await Promise.all(schedulers.map((scheduler) => scheduler.stop()));
    }
    const runs = await stores[1]!.listRuns({ limit: 10_000 });
    const fires = runs.map((run) => `${run.jobId}@${run.scheduledFor.toISOString()}#${run.attempt}`);
    expect(new Set(fires).size).toBe(fires.length);
    const executed = executor.calls.map((call) => call.request.run.id);
    expect(new Set(executed).size).toBe(executed.length);
    expect(runs.filter((run) => run.status === 'running')).toEqual([]);
  });
});

describePostgres('CronScheduler on PostgresJobStore: a graceful stop hands back the runs it claimed', () => {
  const db = useSchema();

  it('another instance takes at once the runs it claimed and had not started, instead of waiting for the stop', async () => {
    const stores = [await db.open(), await db.open()];
    const executor = new FakeExecutor(systemClock, {}, { durationMs: 3_000 });
    const config = { tickIntervalMs: 200, shutdownTimeoutMs: 10_000 };
    // One slot and two runs prefetched: at stop, one run executes and two wait for the slot.
    const first = new CronScheduler({ store: stores[0]!, executor, clock: systemClock, config: { ...config, instanceId: 'instance-0', maxConcurrentJobs: 1, prefetch: 2 } });
    const second = new CronScheduler({ store: stores[1]!, executor, clock: systemClock, config: { ...config, instanceId: 'instance-1' } });
    await first.start();
    try {
      const at = new Date(Date.now() + 1_000).toISOString();
      for (let i = 0; i < 3; i++) await first.add({ name: `one-shot-${i}`, agentId: 'agent', at });
      for (const deadline = Date.now() + 10_000; (await stores[0]!.listRuns({ status: 'running' })).length === 0; ) {
        if (Date.now() > deadline) throw new Error('instance 0 started no run');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await second.start();
      const stopping = Date.now();
      await first.stop();
      const runs = await stores[1]!.listRuns({ limit: 10 });
      expect(runs.filter((run) => run.owner === 'instance-0').map((run) => run.status)).toEqual(['succeeded']);
      const handedBack = runs.filter((run) => run.owner === 'instance-1');
      expect(handedBack).toHaveLength(2);
      for (const run of handedBack) expect(run.startedAt!.getTime() - stopping).toBeLessThan(1_000);
    } finally {
      await first.stop();
      await second.stop();
    }
  });
});

describePostgres('CronScheduler on PostgresJobStore: overlap cancel_other across instances', () => {
  const db = useSchema();

  it('cancel_other reaches a run on another instance within a second (NOTIFY), not at its lease renewal', async () => {
    const stores = [await db.open(), await db.open()];
    const executor = new FakeExecutor(systemClock, {}, { durationMs: 5_000 });
    const config = { tickIntervalMs: 200, shutdownTimeoutMs: 0 };
    // Instance 0 has one slot: while its run executes it claims nothing, so instance 1 plans the newer fire.
    const older = new CronScheduler({ store: stores[0]!, executor, clock: systemClock, config: { ...config, instanceId: 'instance-0', maxConcurrentJobs: 1 } });
    const newer = new CronScheduler({ store: stores[1]!, executor, clock: systemClock, config: { ...config, instanceId: 'instance-1' } });
    await older.start();
    try {
      const job = await older.add({ name: 'cancel-other', agentId: 'agent', cronExpr: '*/2 * * * * *', overlap: 'cancel_other' });
      const waitFor = async (what: string, found: () => Promise<boolean>) => {
        for (const deadline = Date.now() + 10_000; !(await found()); await new Promise((resolve) => setTimeout(resolve, 50))) {
          if (Date.now() > deadline) throw new Error(`no ${what} in time`);
        }
      };
      await waitFor('run on instance 0', async () => (await stores[0]!.listRuns({ jobId: job.id, status: 'running' })).length > 0);
      await newer.start();
      await waitFor('cancelled run', async () => (await stores[0]!.listRuns({ jobId: job.id, status: 'interrupted' })).length > 0);
      const runs = (await stores[0]!.listRuns({ jobId: job.id, limit: 100 })).reverse();
      const cancelled = runs.find((run) => run.status === 'interrupted')!;
      const next = runs.find((run) => run.scheduledFor.getTime() > cancelled.scheduledFor.getTime())!;
      expect(cancelled).toMatchObject({ owner: 'instance-0', error: 'interrupted: cancelled by a newer fire (overlap cancel_other)' });
      expect(cancelled.completedAt!.getTime() - next.scheduledFor.getTime()).toBeLessThan(1_000);
    } finally {
      await newer.stop();
      await older.stop();
    }
  });
});
