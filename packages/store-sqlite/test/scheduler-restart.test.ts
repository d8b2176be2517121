import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CronScheduler, newRun, thisProcess, type DeliveryRouter } from '@symbi/core';
import { FakeExecutor, makeJob, RecordingRouter, VirtualClock } from '@symbi/core/testing';
import { openStore, tempDbPath } from './temp-files.js';

/** A scheduler on a SQLite file, as a process would build it; `router` defaults to a recorder. */
async function schedulerOn(path: string, clock: VirtualClock, agents: ConstructorParameters<typeof FakeExecutor>[1], router: DeliveryRouter = new RecordingRouter()) {
  const store = await openStore({ path });
  const executor = new FakeExecutor(clock, agents);
  const scheduler = new CronScheduler({ store, executor, router, clock, config: { leaseMs: 10_000, shutdownTimeoutMs: 0 } });
  await scheduler.start();
  return { store, executor, scheduler };
}

describe('a scheduler restarted on the same SQLite file', () => {
  it('hands the next run the summary of the run before the restart', async () => {
    const path = tempDbPath();
    const clock = new VirtualClock('2026-03-02T09:00:00Z');
    const first = await schedulerOn(path, clock, { etl: (_req, call) => ({ output: `batch ${call}`, summary: `loaded batch ${call}` }) });
    await first.scheduler.add({ name: 'data-pipeline', agentId: 'etl', cronExpr: '0 * * * * *' });
    await clock.advance('1m');
    await first.scheduler.stop();
    await first.store.close();

    const second = await schedulerOn(path, clock, { etl: () => 'next' });
    await clock.advance('1m');
    expect(second.executor.calls[0]?.request.context.previousSummary).toBe('loaded batch 1');
    expect((await second.scheduler.history('data-pipeline')).map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
    await second.scheduler.stop();
  });

  it('keeps a shared_persistent history across the restart', async () => {
    const path = tempDbPath();
    const clock = new VirtualClock('2026-03-02T09:00:00Z');
    const first = await schedulerOn(path, clock, { dbg: () => 'found the leak' });
    await first.scheduler.add({ name: 'debug', agentId: 'dbg', cronExpr: '0 * * * * *', sessionMode: 'shared_persistent', input: 'why?' });
    await clock.advance('1m');
    await first.scheduler.stop();
    await first.store.close();

    const second = await schedulerOn(path, clock, { dbg: () => 'fixed' });
    await clock.advance('1m');
    expect(second.executor.calls[0]?.request.context.history.map((m) => `${m.role}:${m.content}`)).toEqual([
      'user:why?',
      'assistant:found the leak',
    ]);
    await second.scheduler.stop();
  });

  it('retries a delivery that was not acknowledged when the process died (the durable outbox)', async () => {
    const path = tempDbPath();
    const clock = new VirtualClock('2026-03-02T09:00:00Z');
    const hanging: DeliveryRouter = { route: () => new Promise(() => undefined) };
    const first = await schedulerOn(path, clock, { a: () => 'precious output' }, hanging);
    await first.scheduler.add({ name: 'report', agentId: 'a', at: '2026-03-02T09:00:01Z', delivery: ['slack'] });
    await clock.advance('2s');
    await first.scheduler.stop();
    await first.store.close();

    const router = new RecordingRouter();
    const second = await schedulerOn(path, clock, {}, router);
    await clock.advance('15s');
    expect(router.delivered.map((d) => [d.channel, d.output])).toEqual([['slack', 'precious output']]);
    const [run] = await second.scheduler.history('report');
    expect(run!.deliveries).toMatchObject([{ channel: 'slack', status: 'delivered' }]);
    expect(second.executor.calls).toHaveLength(0);
    await second.scheduler.stop();
  });
});

describe('a scheduler opening a SQLite file a dead process used', () => {
  /** The pid of a process that has exited. */
  const deadPid = (): number => spawnSync(process.execPath, ['-e', '']).pid as number;

  it('interrupts and retries the dead process running run at its first tick, not after the lease, and deregisters on stop', async () => {
    const path = tempDbPath();
    const clock = new VirtualClock('2026-03-02T09:00:00Z');
    const store = await openStore({ path });
    const ghost = { ...thisProcess('ghost'), pid: deadPid(), startToken: null };
    await store.registerInstance(ghost, new Date(clock.now()));
    const job = await store.createJob(makeJob({ name: 'etl', agentId: 'etl', nextRun: null, maxRetries: 3 }));
    const orphan = await store.insertRun({
      ...newRun(job, { scheduledFor: new Date(clock.now() - 500), trigger: 'schedule' }),
      status: 'running',
      startedAt: new Date(clock.now() - 500),
      owner: 'ghost',
      leaseExpiresAt: new Date(clock.now() + 30_000),
    });

    const { scheduler, executor } = await schedulerOn(path, clock, { etl: () => 'done' });
    await clock.advance('3s');
    expect(await store.getRun(orphan.id)).toMatchObject({ status: 'interrupted', error: expect.stringContaining(`instance ghost (pid ${ghost.pid}`) });
    expect((await scheduler.history('etl')).map((run) => `${run.trigger}#${run.attempt}:${run.status}`).sort()).toEqual(['retry#2:succeeded', 'schedule#1:interrupted']);
    expect(executor.calls).toHaveLength(1);
    expect((await store.listInstances(new Date(clock.now()))).map((row) => row.id)).toEqual([scheduler.config.instanceId]);
    await scheduler.stop();
    expect(await store.listInstances(new Date(clock.now()))).toEqual([]);
  });

  it('releases the runs of an earlier life of its own fixed instance id at its first tick', async () => {
    const path = tempDbPath();
    const clock = new VirtualClock('2026-03-02T09:00:00Z');
    const store = await openStore({ path });
    await store.registerInstance({ ...thisProcess('fixed-id'), pid: deadPid(), startToken: null }, new Date(clock.now()));
    const job = await store.createJob(makeJob({ name: 'etl', agentId: 'etl', nextRun: null, maxRetries: 3 }));
    const orphan = await store.insertRun({
      ...newRun(job, { scheduledFor: new Date(clock.now() - 500), trigger: 'schedule' }),
      status: 'running',
      owner: 'fixed-id',
      leaseExpiresAt: new Date(clock.now() + 30_000),
    });
    const executor = new FakeExecutor(clock, { etl: () => 'done' });
    const scheduler = new CronScheduler({ store, executor, clock, config: { instanceId: 'fixed-id', leaseMs: 30_000, shutdownTimeoutMs: 0 } });
    await scheduler.start();
    await clock.advance('3s');
    expect(await store.getRun(orphan.id)).toMatchObject({ status: 'interrupted', error: expect.stringContaining('instance fixed-id (pid') });
    expect(executor.calls.map((call) => call.request.run.trigger)).toEqual(['retry']);
    await scheduler.stop();
  });

  it('leaves the runs of a live process on this host alone, however long it has been silent', async () => {
    const path = tempDbPath();
    const clock = new VirtualClock('2026-03-02T09:00:00Z');
    const store = await openStore({ path });
    await store.registerInstance({ ...thisProcess('sibling'), pid: process.ppid, startToken: null }, new Date(clock.now() - 3_600_000));
    const job = await store.createJob(makeJob({ name: 'etl', agentId: 'etl', nextRun: null }));
    const held = await store.insertRun({
      ...newRun(job, { scheduledFor: new Date(clock.now()), trigger: 'manual' }),
      status: 'running',
      owner: 'sibling',
      leaseExpiresAt: new Date(clock.now() + 30_000),
    });
    const { scheduler } = await schedulerOn(path, clock, { etl: () => 'done' });
    await clock.advance('3s');
    expect(await store.getRun(held.id)).toEqual(held);
    await scheduler.stop();
  });
});
