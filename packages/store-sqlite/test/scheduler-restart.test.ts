import { describe, expect, it } from 'vitest';
import { CronScheduler, type DeliveryRouter } from '@symbi/core';
import { FakeExecutor, RecordingRouter, VirtualClock } from '@symbi/core/testing';
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
