import { describe, expect, it, vi } from 'vitest';
import { InMemoryJobStore, newRun, resolveSchedulerConfig, type JobStore, type PruneRequest } from '@symbi/core';
import { startHarness } from './harness.js';

const HOUR = 3_600_000;

/** The scheduled times of a job's runs, oldest first, as hours after the harness's start (09:00). */
async function hoursOf(store: JobStore, jobId: string): Promise<number[]> {
  const start = Date.parse('2026-03-02T09:00:00Z');
  return (await store.listRuns({ jobId, limit: 1000 })).map((run) => (run.scheduledFor.getTime() - start) / HOUR).reverse();
}

describe('CronScheduler: run history retention', () => {
  it('prunes finished runs older than history_retention_days on its interval, keeping the last day', async () => {
    const { clock, scheduler, store } = await startHarness({
      agents: { a: () => 'ok' },
      config: { historyRetentionDays: 1, historyPruneIntervalMs: HOUR },
    });
    const job = await scheduler.add({ name: 'hourly', agentId: 'a', cronExpr: '0 0 * * * *' });
    await clock.advance('30h');
    const hours = await hoursOf(store, job.id);
    // Fires at 1h..30h; the last pass (about an hour ago at most) left nothing much older than a day.
    expect(hours.at(-1)).toBe(30);
    expect(hours[0]).toBeGreaterThanOrEqual(30 - 25);
    expect(hours[0]).toBeLessThanOrEqual(30 - 24);
    expect(hours).toEqual(Array.from({ length: 31 - (hours[0] as number) }, (_, i) => (hours[0] as number) + i));
    expect(scheduler.metrics.snapshot().prunedRuns).toBe(30 - hours.length);
    expect(scheduler.metrics.toPrometheus()).toContain(`symbiont_cron_runs_pruned_total ${30 - hours.length}\n`);
    await scheduler.stop();
  });

  it('keeps every run with neither a global nor a job limit, as before', async () => {
    const { clock, scheduler, store } = await startHarness({ agents: { a: () => 'ok' }, config: { historyPruneIntervalMs: HOUR } });
    const job = await scheduler.add({ name: 'hourly', agentId: 'a', cronExpr: '0 0 * * * *' });
    await clock.advance('50h');
    expect(await hoursOf(store, job.id)).toHaveLength(50);
    expect(await scheduler.pruneHistory()).toEqual({ deleted: 0, dryRun: false, supported: true });
    await scheduler.stop();
  });

  it('never prunes a run in flight, one awaiting approval or one whose delivery is pending, however old', async () => {
    const { clock, scheduler, store, router } = await startHarness({
      agents: { a: () => 'ok' },
      durationMs: (request) => (request.job.name === 'slow' ? 72 * HOUR : 0),
      config: { historyRetentionDays: 1, historyPruneIntervalMs: HOUR },
    });
    const route = router.route.bind(router);
    router.route = (channel, ...rest) => (channel === 'pager' ? new Promise<void>(() => {}) : route(channel, ...rest));
    const at = '2026-03-02T09:00:01Z';
    const slow = await scheduler.add({ name: 'slow', agentId: 'a', at });
    const gated = await scheduler.add({ name: 'gated', agentId: 'a', at, policy: { requireApproval: true, approvalTimeoutMs: 30 * 24 * HOUR } });
    const paged = await scheduler.add({ name: 'paged', agentId: 'a', at, delivery: ['pager'] });
    const done = await scheduler.add({ name: 'done', agentId: 'a', at });
    await clock.advance('3d');
    const statuses = async (jobId: string) => (await store.listRuns({ jobId })).map((run) => [run.status, run.deliveries.map((d) => d.status)]);
    expect(await statuses(slow.id)).toEqual([['running', []]]);
    expect(await statuses(gated.id)).toEqual([['awaiting_approval', []]]);
    expect(await statuses(paged.id)).toEqual([['succeeded', ['pending']]]);
    expect(await statuses(done.id)).toEqual([]);
    await scheduler.stop();
  });

  it("a job's own limits win over the scheduler's, each kind on its own", async () => {
    const { clock, scheduler, store } = await startHarness({
      agents: { a: () => 'ok' },
      // The loop's passes are far apart: this test prunes on demand, at a known time.
      config: { historyRetentionDays: 1, historyPruneIntervalMs: 1_000 * HOUR },
    });
    const cron = '0 0 * * * *';
    const defaults = await scheduler.add({ name: 'defaults', agentId: 'a', cronExpr: cron });
    const long = await scheduler.add({ name: 'long', agentId: 'a', cronExpr: cron, historyRetentionDays: 3 });
    const few = await scheduler.add({ name: 'few', agentId: 'a', cronExpr: cron, historyRetentionRuns: 2 });
    await clock.advance('50h');
    const outcome = await scheduler.pruneHistory({ actor: 'ops' });
    // Runs at 26h..50h are younger than a day (26h is exactly a day old: kept); `few` keeps its newest two.
    expect(await hoursOf(store, defaults.id)).toEqual(Array.from({ length: 25 }, (_, i) => 26 + i));
    expect(await hoursOf(store, long.id)).toHaveLength(50);
    expect(await hoursOf(store, few.id)).toEqual([49, 50]);
    expect(outcome).toEqual({ deleted: 25 + 48, dryRun: false, supported: true });
    const [event] = await scheduler.auditLog({ type: 'HistoryPruned' });
    expect(event).toMatchObject({ actor: 'ops', details: { deleted: 73 } });
    await scheduler.stop();
  });

  it('deletes in batches of at most historyPruneBatchSize, and a dry run counts them all, deleting none', async () => {
    const calls: { limit: number; dryRun: boolean; deleted: number }[] = [];
    const store = new (class extends InMemoryJobStore {
      override async pruneHistory(request: PruneRequest): Promise<number> {
        const deleted = await super.pruneHistory(request);
        calls.push({ limit: request.limit, dryRun: request.dryRun ?? false, deleted });
        return deleted;
      }
    })();
    const { clock, scheduler } = await startHarness({
      store,
      agents: { a: () => 'ok' },
      config: { historyRetentionRuns: 1, historyPruneBatchSize: 3, historyPruneIntervalMs: 1_000 * HOUR },
    });
    await scheduler.add({ name: 'hourly', agentId: 'a', cronExpr: '0 0 * * * *' });
    await clock.advance('11h');
    calls.length = 0;
    expect(await scheduler.pruneHistory({ dryRun: true })).toEqual({ deleted: 10, dryRun: true, supported: true });
    expect(await scheduler.history('hourly', { limit: 100 })).toHaveLength(11);
    expect(await scheduler.auditLog({ type: 'HistoryPruned' })).toEqual([]);
    expect(await scheduler.pruneHistory()).toEqual({ deleted: 10, dryRun: false, supported: true });
    expect(calls).toEqual([
      { limit: 3, dryRun: true, deleted: 10 },
      { limit: 3, dryRun: false, deleted: 3 },
      { limit: 3, dryRun: false, deleted: 3 },
      { limit: 3, dryRun: false, deleted: 3 },
      { limit: 3, dryRun: false, deleted: 1 },
    ]);
    await scheduler.stop();
  });

  it('prunes beside the loop: fires due while a long pass runs start on time', async () => {
    const { clock, scheduler, store } = await startHarness({
      agents: { a: () => 'ok' },
      config: { historyRetentionRuns: 1, historyPruneBatchSize: 100, historyPruneIntervalMs: 1500, tickIntervalMs: 1000 },
      start: false,
    });
    const old = await scheduler.add({ name: 'old', agentId: 'a', cronExpr: '@yearly' });
    for (let i = 0; i < 5000; i++) {
      const at = new Date(Date.parse('2026-01-01T00:00:00Z') + i * 1000);
      await store.insertRun({ ...newRun(old, { scheduledFor: at, trigger: 'manual' }), status: 'succeeded', completedAt: at });
    }
    await scheduler.add({ name: 'ticker', agentId: 'a', cronExpr: '* * * * * *', historyRetentionRuns: 100 });
    // A pass of 50 batches starts 1.5 s after start; the fires of 2 s and 3 s must not wait for it.
    await scheduler.start();
    await clock.advance('3s');
    const ticks = await scheduler.history('ticker');
    expect(ticks.map((run) => [run.status, (run.startedAt?.getTime() ?? 0) - run.scheduledFor.getTime()])).toEqual([
      ['succeeded', 0],
      ['succeeded', 0],
      ['succeeded', 0],
    ]);
    await vi.waitFor(async () => expect(await store.listRuns({ jobId: old.id, limit: 10 })).toHaveLength(1));
    expect(scheduler.metrics.snapshot().prunedRuns).toBe(4999);
    await scheduler.stop();
  });

  it('keeps every run of a store that cannot prune, and says so', async () => {
    const store = new InMemoryJobStore();
    Object.defineProperty(store, 'pruneHistory', { value: undefined });
    const { clock, scheduler } = await startHarness({ store, agents: { a: () => 'ok' }, config: { historyRetentionRuns: 1, historyPruneIntervalMs: HOUR } });
    await scheduler.add({ name: 'hourly', agentId: 'a', cronExpr: '0 0 * * * *' });
    await clock.advance('5h');
    expect(await scheduler.history('hourly')).toHaveLength(5);
    expect(await scheduler.pruneHistory()).toEqual({ deleted: 0, dryRun: false, supported: false });
    await scheduler.stop();
  });

  it('refuses a retention limit that is not a whole number of at least 1, naming it', () => {
    expect(() => resolveSchedulerConfig({ historyRetentionDays: 0 })).toThrow(/historyRetentionDays: must be null or a whole number from 1 to 36500/);
    expect(() => resolveSchedulerConfig({ historyRetentionRuns: 2.5 })).toThrow(/historyRetentionRuns/);
    expect(() => resolveSchedulerConfig({ historyPruneBatchSize: 0 })).toThrow(/historyPruneBatchSize/);
    expect(resolveSchedulerConfig({})).toMatchObject({ historyRetentionDays: null, historyRetentionRuns: null, historyPruneBatchSize: 500 });
  });
});
