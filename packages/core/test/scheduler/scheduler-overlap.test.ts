import { describe, expect, it } from 'vitest';
import { InMemoryJobStore } from '@symbi/core/testing';
import { startHarness } from './harness.js';

describe('CronScheduler: per-job concurrency and overlap policies', () => {
  it('skip (spec default): a fire at max_concurrent records a skipped run', async () => {
    const { clock, scheduler, executor } = await startHarness({ durationMs: 2500 });
    await scheduler.add({ name: 'sync', agentId: 'a', cronExpr: '* * * * * *' });
    await clock.advance('4s');
    // the 1 s fire runs until 3.5 s: the 2 s and 3 s fires find the slot taken, the 4 s fire runs
    const runs = await scheduler.history('sync');
    expect(runs.map((r) => r.status).reverse()).toEqual(['succeeded', 'skipped', 'skipped', 'running']);
    expect(runs[1]!.error).toContain('max_concurrent 1');
    expect(executor.maxActive).toBe(1);
    await scheduler.stop();
  });

  it('reports each skipped fire once when the store replays its claim transaction (plan called again)', async () => {
    const store = new InMemoryJobStore();
    const claimDue = store.claimDue.bind(store);
    // As a SQL store replaying a transaction after a deadlock: every job is planned twice, the second plan committed.
    store.claimDue = (request) =>
      claimDue({
        ...request,
        plan: (job, load) => {
          request.plan(job, load);
          return request.plan(job, load);
        },
      });
    const { clock, scheduler } = await startHarness({ durationMs: 2500, store });
    const skipped: string[] = [];
    scheduler.on('run:skipped', ({ run }) => skipped.push(run.id));
    await scheduler.add({ name: 'sync', agentId: 'a', cronExpr: '* * * * * *' });
    await clock.advance('4s');
    const stored = (await scheduler.history('sync')).filter((r) => r.status === 'skipped').map((r) => r.id);
    expect(stored).toHaveLength(2);
    expect(skipped.sort()).toEqual(stored.sort());
    expect(scheduler.metrics.toPrometheus()).toContain('symbiont_cron_runs_total{job_name="sync",status="skipped"} 2');
    await scheduler.stop();
  });

  it('max_concurrent 2 allows two runs at once', async () => {
    const { clock, scheduler, executor } = await startHarness({ durationMs: 2500 });
    await scheduler.add({ name: 'sync', agentId: 'a', cronExpr: '* * * * * *', maxConcurrent: 2 });
    await clock.advance('4s');
    expect(executor.maxActive).toBe(2);
    // fires at 1 s and 2 s run until 3.5 s and 4.5 s; the 3 s fire finds both slots taken
    const statuses = (await scheduler.history('sync')).map((r) => r.status).reverse();
    expect(statuses).toEqual(['succeeded', 'running', 'skipped', 'running']);
    await scheduler.stop();
  });

  it('buffer_one keeps one fire waiting and starts it when the slot frees', async () => {
    const { clock, scheduler, executor } = await startHarness({ durationMs: 2500 });
    await scheduler.add({ name: 'b', agentId: 'a', cronExpr: '* * * * * *', overlap: 'buffer_one' });
    await clock.advance('3s');
    // fire 1 runs 1s..3.5s, fire 2 is buffered, fire 3 is skipped
    expect((await scheduler.history('b')).map((r) => r.status).reverse()).toEqual(['running', 'scheduled', 'skipped']);
    await clock.advance('600ms');
    expect((await scheduler.history('b')).map((r) => r.status).reverse()).toEqual(['succeeded', 'running', 'skipped']);
    expect(new Date(executor.calls[1]!.startedAt).toISOString()).toBe('2026-03-02T09:00:03.500Z');
    expect(executor.maxActive).toBe(1);
    await scheduler.stop();
  });

  it('cancel_other interrupts the run in flight and starts the new fire', async () => {
    const { clock, scheduler, executor } = await startHarness({ durationMs: 60_000, config: { leaseMs: 3000 } });
    await scheduler.add({ name: 'c', agentId: 'a', cronExpr: '*/10 * * * * *', overlap: 'cancel_other' });
    // fires at 10 s and 20 s; the second asks the first to stop (seen at the next lease renewal)
    await clock.advance('22s');
    const runs = (await scheduler.history('c')).reverse();
    expect(runs[0]).toMatchObject({ status: 'interrupted' });
    expect(runs[0]!.error).toContain('cancel_other');
    expect(runs[1]).toMatchObject({ status: 'running' });
    expect(executor.maxActive).toBe(1);
    // a cancelled run is not a failure and is not retried
    expect((await scheduler.getJob('c')).consecutiveFailures).toBe(0);
    expect(runs.filter((r) => r.trigger === 'retry')).toHaveLength(0);
    await scheduler.stop();
  });

  it('skip is judged at the fire\'s due time: a run ending between the claim ahead and the fire does not make it skipped', async () => {
    const { clock, scheduler, executor } = await startHarness({ durationMs: 1900 });
    await scheduler.add({ name: 'sync', agentId: 'a', cronExpr: '* * * * * *' });
    // claimed 250 ms ahead: the 2 s fire at 1.75 s, the 3 s fire at 2.75 s, while the 1 s fire runs until 2.9 s
    await clock.advance('3s');
    const runs = (await scheduler.history('sync')).reverse();
    expect(runs.map((r) => [r.scheduledFor.toISOString(), r.status])).toEqual([
      ['2026-03-02T09:00:01.000Z', 'succeeded'],
      ['2026-03-02T09:00:02.000Z', 'skipped'],
      ['2026-03-02T09:00:03.000Z', 'running'],
    ]);
    // the skip was decided at the fire's time, not 250 ms before it
    expect(runs[1]!.completedAt?.toISOString()).toBe('2026-03-02T09:00:02.000Z');
    expect(executor.calls.map((c) => new Date(c.startedAt).toISOString())).toEqual(['2026-03-02T09:00:01.000Z', '2026-03-02T09:00:03.000Z']);
    await scheduler.stop();
  });

  it('cancel_other aborts the older run on this instance as the newer fire starts, and leaves nothing queued at stop', async () => {
    const { clock, scheduler, executor } = await startHarness({ durationMs: 5000 });
    await scheduler.add({ name: 'c', agentId: 'a', cronExpr: '*/2 * * * * *', overlap: 'cancel_other' });
    await clock.advance('4s');
    const [older, newer] = (await scheduler.history('c')).reverse();
    expect(older).toMatchObject({ status: 'interrupted', error: 'interrupted: cancelled by a newer fire (overlap cancel_other)' });
    expect(older!.completedAt!.getTime() - newer!.scheduledFor.getTime()).toBeLessThanOrEqual(100);
    expect(newer).toMatchObject({ status: 'running', startedAt: new Date('2026-03-02T09:00:04.000Z') });
    await clock.advance('6s'); // fires at 6, 8 and 10 s each cancel the one before
    await scheduler.stop();
    const runs = (await scheduler.history('c')).reverse();
    // the cancelled fires end at once; the one the shutdown interrupted is a failure, retried by policy
    expect(runs.map((r) => [r.trigger, r.status])).toEqual([
      ...Array(4).fill(['schedule', 'interrupted']),
      ['schedule', 'interrupted'],
      ['retry', 'scheduled'],
    ]);
    expect(runs.slice(0, 4).every((r) => r.error?.includes('cancel_other'))).toBe(true);
    expect(runs.slice(0, 4).map((r) => r.completedAt?.toISOString())).toEqual([4, 6, 8, 10].map((s) => `2026-03-02T09:00:${String(s).padStart(2, '0')}.000Z`));
    expect(executor.maxActive).toBe(1);
    expect((await scheduler.getJob('c')).consecutiveFailures).toBe(1); // only the shutdown's interruption counts
  });

  it('cancel_other reaches a run on another instance at once (announced through the store), not at its lease renewal', async () => {
    const a = await startHarness({ durationMs: 5000, config: { maxConcurrentJobs: 1 } });
    await a.scheduler.add({ name: 'c', agentId: 'a', cronExpr: '*/2 * * * * *', overlap: 'cancel_other' });
    await a.clock.advance('2s'); // instance a runs the 2 s fire and, with its one slot taken, claims nothing more
    const b = await startHarness({ store: a.store, clock: a.clock, durationMs: 5000 });
    await a.clock.advance('2s'); // instance b plans the 4 s fire
    const [older, newer] = (await a.scheduler.history('c')).reverse();
    expect(older).toMatchObject({ status: 'interrupted', owner: a.scheduler.config.instanceId, completedAt: new Date('2026-03-02T09:00:04.000Z') });
    expect(older!.error).toContain('cancel_other');
    // whichever instance has the free slot first takes the newer fire, at its time
    expect(newer).toMatchObject({ status: 'running', startedAt: new Date('2026-03-02T09:00:04.000Z') });
    await b.scheduler.stop();
    await a.scheduler.stop();
  });

  it('allow_all ignores max_concurrent', async () => {
    const { clock, scheduler, executor } = await startHarness({ durationMs: 3500 });
    await scheduler.add({ name: 'all', agentId: 'a', cronExpr: '* * * * * *', overlap: 'allow_all' });
    await clock.advance('4s');
    expect(executor.maxActive).toBeGreaterThanOrEqual(3);
    expect((await scheduler.history('all')).some((r) => r.status === 'skipped')).toBe(false);
    await scheduler.stop();
  });
});
