import { describe, expect, it } from 'vitest';
import { InMemoryJobStore, newRun } from '@symbi/core';
import { failingAgent, makeJob } from '@symbi/core/testing';
import { startHarness } from './harness.js';

describe('CronScheduler: failures, retries and dead-letter', () => {
  it('retries a failed run with exponential backoff and dead-letters after max_retries consecutive failures', async () => {
    const { clock, scheduler, executor } = await startHarness({ agents: { flaky: failingAgent('database unreachable') } });
    await scheduler.add({ name: 'flaky-job', agentId: 'flaky', at: '2026-03-02T09:00:01Z', maxRetries: 3 });
    await clock.advance('1m');
    const starts = executor.calls.map((c) => c.startedAt - Date.parse('2026-03-02T09:00:01Z'));
    // first try at the fire time, then 1 s and 2 s of backoff (random fixed at 0 → −20 %)
    expect(starts).toEqual([0, 800, 800 + 1600]);
    const history = await scheduler.history('flaky-job');
    expect(history.map((r) => [r.trigger, r.attempt, r.status])).toEqual([
      ['retry', 3, 'failed'],
      ['retry', 2, 'failed'],
      ['schedule', 1, 'failed'],
    ]);
    expect(history[0]!.error).toContain('database unreachable');
    const job = await scheduler.getJob('flaky-job');
    expect(job.status).toBe('dead_letter');
    expect(job.consecutiveFailures).toBe(3);
    expect((await scheduler.list({ status: 'dead_letter' })).map((j) => j.name)).toEqual(['flaky-job']);
    const audit = await scheduler.auditLog({ type: 'CronJobDeadLettered' });
    expect(audit[0]?.details).toMatchObject({ consecutive_failures: 3 });
    expect(scheduler.metrics.toPrometheus()).toContain('symbiont_cron_dead_letter_total{job_name="flaky-job"} 1');
    await scheduler.stop();
  });

  it('keeps firing on schedule while a retry waits out a long back-off (the retry is not in flight)', async () => {
    let calls = 0;
    const { clock, scheduler } = await startHarness({
      agents: { a: () => { calls += 1; if (calls === 1) throw new Error('down once'); return 'up'; } },
      config: { retryBaseDelayMs: 60_000 },
    });
    await scheduler.add({ name: 'every-10s', agentId: 'a', cronExpr: '*/10 * * * * *', maxRetries: 3 });
    await clock.advance('75s');
    const history = (await scheduler.history('every-10s')).reverse().map((r) => `${r.trigger}#${r.attempt}:${r.status}`);
    // The first fire fails; its retry waits ~48 s (60 s − 20 %) while every later fire runs.
    expect(history.filter((entry) => entry.startsWith('schedule'))).toEqual(['schedule#1:failed', ...Array(6).fill('schedule#1:succeeded')]);
    expect(history).toContain('retry#2:succeeded');
    await scheduler.stop();
  });

  it('resets a dead-lettered job to active with a clean streak; a success resets the streak', async () => {
    let fail = true;
    const { clock, scheduler } = await startHarness({
      agents: { a: () => { if (fail) throw new Error('down'); return 'up'; } },
    });
    await scheduler.add({ name: 'f', agentId: 'a', cronExpr: '0 * * * * *', maxRetries: 1 });
    await clock.advance('1m');
    expect((await scheduler.getJob('f')).status).toBe('dead_letter');
    await clock.advance('5m');
    expect(await scheduler.history('f')).toHaveLength(1);
    fail = false;
    const reset = await scheduler.reset('f');
    expect(reset).toMatchObject({ status: 'active', consecutiveFailures: 0 });
    await clock.advance('1m');
    const job = await scheduler.getJob('f');
    expect(job).toMatchObject({ status: 'active', consecutiveFailures: 0, failureCount: 1 });
    expect((await scheduler.history('f'))[0]!.status).toBe('succeeded');
    await scheduler.stop();
  });

  it('uses default_max_retries when the job sets none', async () => {
    const { clock, scheduler } = await startHarness({ agents: { bad: failingAgent() }, config: { defaultMaxRetries: 2 } });
    await scheduler.add({ name: 'd', agentId: 'bad', at: '2026-03-02T09:00:01Z' });
    await clock.advance('1m');
    expect(await scheduler.history('d')).toHaveLength(2);
    expect((await scheduler.getJob('d')).status).toBe('dead_letter');
    await scheduler.stop();
  });

  it('aborts a run past max_runtime: timed_out, counted as a failure and retried', async () => {
    const { clock, scheduler, executor } = await startHarness({ durationMs: 60_000 });
    await scheduler.add({ name: 't', agentId: 'a', at: '2026-03-02T09:00:01Z', maxRetries: 2, policy: { maxRuntimeMs: 5000 } });
    await clock.advance('6s');
    const run = (await scheduler.history('t')).find((r) => r.attempt === 1);
    expect(run).toMatchObject({ status: 'timed_out' });
    expect(run!.error).toContain('max_runtime');
    expect(run!.executionTimeMs).toBe(5000);
    expect(executor.active).toBe(0);
    expect((await scheduler.getJob('t')).consecutiveFailures).toBe(1);
    await clock.advance('1m');
    expect((await scheduler.history('t')).map((r) => [r.attempt, r.status])).toEqual([[2, 'timed_out'], [1, 'timed_out']]);
    await scheduler.stop();
  });

  it('lets in-flight runs finish on stop within shutdown_timeout', async () => {
    const { clock, scheduler } = await startHarness({ durationMs: 3000, config: { shutdownTimeoutMs: 10_000 } });
    await scheduler.add({ name: 's', agentId: 'a', at: '2026-03-02T09:00:01Z' });
    await clock.advance('2s');
    const stopping = scheduler.stop();
    await clock.advance('3s');
    await stopping;
    expect((await scheduler.history('s'))[0]!.status).toBe('succeeded');
  });

  it('interrupts runs still in flight after shutdown_timeout and queues their retry for the next start', async () => {
    const { clock, scheduler, store } = await startHarness({ durationMs: 600_000, config: { shutdownTimeoutMs: 2000 } });
    await scheduler.add({ name: 's', agentId: 'a', at: '2026-03-02T09:00:01Z' });
    await clock.advance('2s');
    const stopping = scheduler.stop();
    await clock.advance('2s');
    await stopping;
    const runs = await store.listRuns({});
    expect(runs.map((r) => [r.status, r.trigger])).toEqual([
      ['scheduled', 'retry'],
      ['interrupted', 'schedule'],
    ]);
    expect(runs[1]!.error).toContain('shut down');
  });

  it('recovers a run whose owner died (lease expired): interrupted, then retried here', async () => {
    const store = new InMemoryJobStore();
    const job = makeJob({ name: 'orphan', agentId: 'a', cronExpr: '0 0 0 1 1 *', nextRun: new Date('2027-01-01T00:00:00Z') });
    await store.init();
    await store.createJob(job);
    const orphan = {
      ...newRun(job, { scheduledFor: new Date('2026-03-02T08:59:00Z'), trigger: 'schedule' }),
      status: 'running' as const,
      owner: 'dead-instance',
      startedAt: new Date('2026-03-02T08:59:00Z'),
      leaseExpiresAt: new Date('2026-03-02T08:59:30Z'),
    };
    await store.insertRun(orphan);
    const { clock, scheduler, executor } = await startHarness({ store });
    await clock.advance('5s');
    const runs = await scheduler.history('orphan');
    expect(runs.map((r) => [r.status, r.trigger, r.attempt])).toEqual([
      ['succeeded', 'retry', 2],
      ['interrupted', 'schedule', 1],
    ]);
    expect(executor.calls).toHaveLength(1);
    await scheduler.stop();
  });
});
