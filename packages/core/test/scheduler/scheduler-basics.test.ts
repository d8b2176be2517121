import { describe, expect, it } from 'vitest';
import { JobNotFoundError, ValidationError, InvalidStateError, ConflictError } from '@symbi/core';
import { isoList, startHarness } from './harness.js';

describe('CronScheduler: firing', () => {
  it('fires an every-second job exactly on each second, with no drift', async () => {
    const { clock, scheduler, executor } = await startHarness();
    const job = await scheduler.add({ name: 'tick', agentId: 'a', cronExpr: '* * * * * *' });
    expect(job.nextRun?.toISOString()).toBe('2026-03-02T09:00:01.000Z');
    await clock.advance('5s');
    const starts = executor.calls.map((c) => new Date(c.startedAt).toISOString());
    expect(starts).toEqual([1, 2, 3, 4, 5].map((s) => `2026-03-02T09:00:0${s}.000Z`));
    const history = await scheduler.history('tick');
    expect(history.map((r) => r.status)).toEqual(Array(5).fill('succeeded'));
    expect(isoList(history.map((r) => r.scheduledFor)).reverse()).toEqual(starts);
    expect((await scheduler.getJob(job.id)).nextRun?.toISOString()).toBe('2026-03-02T09:00:06.000Z');
    await scheduler.stop();
  });

  it('reads 5-field cron (minute first) and 6-field cron (seconds first) alike', async () => {
    const { clock, scheduler } = await startHarness();
    const five = await scheduler.add({ name: 'five', agentId: 'a', cronExpr: '*/15 * * * *' });
    const six = await scheduler.add({ name: 'six', agentId: 'a', cronExpr: '0 */15 * * * *' });
    expect(five.nextRun?.toISOString()).toBe('2026-03-02T09:15:00.000Z');
    expect(six.nextRun).toEqual(five.nextRun);
    await clock.advance('31m');
    expect((await scheduler.history('five')).length).toBe(2);
    expect((await scheduler.history('six')).length).toBe(2);
    await scheduler.stop();
  });

  it('runs a one-shot job once at its instant and marks it completed', async () => {
    const { clock, scheduler, executor } = await startHarness();
    await scheduler.add({ name: 'deploy-check', agentId: 'checker', at: '2026-03-02T09:00:30Z' });
    await clock.advance('29s');
    expect(executor.calls).toHaveLength(0);
    await clock.advance('1m');
    expect(executor.calls).toHaveLength(1);
    const job = await scheduler.getJob('deploy-check');
    expect(job.status).toBe('completed');
    expect(job.nextRun).toBeNull();
    await scheduler.stop();
  });

  it('pauses without running and resumes from the next fire after now', async () => {
    const { clock, scheduler, executor } = await startHarness();
    await scheduler.add({ name: 'p', agentId: 'a', cronExpr: '*/10 * * * * *' });
    await scheduler.pause('p');
    expect((await scheduler.getJob('p')).nextRun).toBeNull();
    await clock.advance('1m');
    expect(executor.calls).toHaveLength(0);
    const resumed = await scheduler.resume('p');
    expect(resumed.nextRun?.toISOString()).toBe('2026-03-02T09:01:10.000Z');
    await clock.advance('10s');
    expect(executor.calls).toHaveLength(1);
    await expect(scheduler.resume('p')).rejects.toBeInstanceOf(InvalidStateError);
    await scheduler.stop();
  });

  it('runs a job now with custom input, even while paused, without moving its schedule', async () => {
    const { clock, scheduler, executor } = await startHarness();
    await scheduler.add({ name: 'r', agentId: 'a', cronExpr: '0 0 9 * * *', paused: true });
    const run = await scheduler.runNow('r', { input: 'Check production database' });
    expect(run.trigger).toBe('manual');
    await clock.advance('10ms');
    expect(executor.calls[0]?.request.input).toBe('Check production database');
    expect((await scheduler.getRun(run.id)).status).toBe('succeeded');
    await scheduler.stop();
  });

  it('updates the schedule from now and finds jobs by id or name', async () => {
    const { scheduler } = await startHarness();
    const job = await scheduler.add({ name: 'u', agentId: 'a', cronExpr: '0 0 9 * * *' });
    expect(job.nextRun?.toISOString()).toBe('2026-03-03T09:00:00.000Z');
    const updated = await scheduler.update(job.id, { cronExpr: '0 0 */2 * * *' });
    expect(updated.nextRun?.toISOString()).toBe('2026-03-02T10:00:00.000Z');
    expect(updated.version).toBe(job.version + 1);
    expect((await scheduler.getJob('u')).id).toBe(job.id);
    await scheduler.remove('u');
    await expect(scheduler.getJob(job.id)).rejects.toBeInstanceOf(JobNotFoundError);
    await scheduler.stop();
  });

  it('upserts by name: the same definition twice never duplicates a job', async () => {
    const { scheduler } = await startHarness();
    const spec = { name: 'same', agentId: 'a', cronExpr: '0 * * * * *' };
    expect((await scheduler.upsert(spec)).action).toBe('created');
    expect((await scheduler.upsert(spec)).action).toBe('unchanged');
    expect((await scheduler.upsert({ ...spec, cronExpr: '30 * * * * *' })).action).toBe('updated');
    expect(await scheduler.list()).toHaveLength(1);
    await expect(scheduler.add(spec)).rejects.toBeInstanceOf(ConflictError);
    await scheduler.stop();
  });

  it('rejects bad definitions with a ValidationError naming the field and value, storing nothing', async () => {
    const { scheduler } = await startHarness();
    const bad = [
      [{ name: 'x', agentId: 'a', cronExpr: '61 * * * *' }, 'cron_expr'],
      [{ name: 'x', agentId: 'a', cronExpr: '* * * * *', timezone: 'Mars/Olympus' }, 'timezone'],
      [{ name: 'x', agentId: 'a', at: 'tomorrow' }, 'at'],
      [{ name: 'x', agentId: 'a' }, 'cron_expr'],
      [{ name: 'x', agentId: 'a', cronExpr: '* * * * *', maxConcurrent: 0 }, 'max_concurrent'],
      [{ name: 'x', agentId: 'a', cronExpr: '* * * * *', sessionMode: 'forever' }, 'session_mode'],
      [{ name: 'x', agentId: 'a', cronExpr: '* * * * *', delivery: ['webhook'] }, 'webhook_url'],
      [{ name: 'x', agentId: 'a', cronExpr: '* * * * *', policy: { allowedHours: { start: '25:00', end: '04:00' } } }, 'policy.allowed_hours.start'],
      [{ name: '', agentId: 'a', cronExpr: '* * * * *' }, 'name'],
    ] as const;
    for (const [spec, field] of bad) {
      const error = await scheduler.add(spec as never).catch((e: unknown) => e);
      expect(error, JSON.stringify(spec)).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe(field);
      expect((error as ValidationError).message).toContain(field);
    }
    expect(await scheduler.list()).toHaveLength(0);
    await scheduler.stop();
  });

  it('applies per-job jitter to the start, not to the schedule', async () => {
    const { clock, scheduler, executor } = await startHarness({ random: () => 0.5 });
    await scheduler.add({ name: 'j', agentId: 'a', cronExpr: '0 * * * * *', jitterSeconds: 20 });
    await clock.advance('1m5s');
    expect(executor.calls).toHaveLength(0);
    await clock.advance('5s');
    expect(new Date(executor.calls[0]!.startedAt).toISOString()).toBe('2026-03-02T09:01:10.000Z');
    const [run] = await scheduler.history('j');
    expect(run!.scheduledFor.toISOString()).toBe('2026-03-02T09:01:00.000Z');
    expect((await scheduler.getJob('j')).nextRun?.toISOString()).toBe('2026-03-02T09:02:00.000Z');
    await scheduler.stop();
  });

  it('uses the global max_jitter_seconds when a job has none', async () => {
    const { clock, scheduler, executor } = await startHarness({ random: () => 0.999, config: { maxJitterSeconds: 30 } });
    await scheduler.add({ name: 'g', agentId: 'a', cronExpr: '0 * * * * *' });
    await clock.advance('1m29s');
    expect(executor.calls).toHaveLength(0);
    await clock.advance('1s');
    expect(executor.calls).toHaveLength(1);
    await scheduler.stop();
  });

  it('keeps at most max_concurrent_jobs runs executing in the process', async () => {
    const { clock, scheduler, executor } = await startHarness({ durationMs: 5000, config: { maxConcurrentJobs: 2 } });
    for (let i = 0; i < 5; i++) await scheduler.add({ name: `slow-${i}`, agentId: 'a', at: '2026-03-02T09:00:01Z' });
    await clock.advance('2s');
    expect(executor.active).toBe(2);
    await clock.advance('30s');
    expect(executor.maxActive).toBe(2);
    expect(executor.calls).toHaveLength(5);
    await scheduler.stop();
  });

  it('reports the spec health JSON and Prometheus metrics with the spec names', async () => {
    const { clock, scheduler } = await startHarness({ agents: { bad: () => { throw new Error('boom'); } } });
    await scheduler.add({ name: 'daily-report', agentId: 'a', cronExpr: '* * * * * *' });
    await scheduler.add({ name: 'flaky-job', agentId: 'bad', cronExpr: '0 0 0 1 1 *' });
    await scheduler.add({ name: 'paused', agentId: 'a', cronExpr: '* * * * * *', paused: true });
    await scheduler.runNow('flaky-job');
    await clock.advance('3s');
    const health = await scheduler.health();
    expect(Object.keys(health)).toEqual(['status', 'active_jobs', 'paused_jobs', 'in_flight_jobs', 'metrics']);
    expect(Object.keys(health.metrics)).toEqual(['runs_total', 'runs_succeeded', 'runs_failed', 'avg_execution_time_ms']);
    expect(health).toMatchObject({ status: 'healthy', active_jobs: 2, paused_jobs: 1, in_flight_jobs: 0 });
    expect(health.metrics).toMatchObject({ runs_total: 4, runs_succeeded: 3, runs_failed: 1 });
    const text = scheduler.metrics.toPrometheus();
    expect(text).toContain('symbiont_cron_runs_total{job_name="daily-report",status="succeeded"} 3');
    expect(text).toContain('symbiont_cron_runs_total{job_name="flaky-job",status="failed"} 1');
    expect(text).toContain('symbiont_cron_execution_duration_seconds_bucket{job_name="daily-report",le="+Inf"} 3');
    expect(text).toContain('symbiont_cron_in_flight_jobs 0');
    await scheduler.stop();
    expect((await scheduler.health()).status).toBe('stopped');
  });

  it('answers health within a second while the store does not answer, with the last counts read', async () => {
    const { clock, scheduler, store } = await startHarness();
    await scheduler.add({ name: 'tick', agentId: 'a', cronExpr: '0 0 * * * *' });
    expect(await scheduler.health()).toMatchObject({ status: 'healthy', active_jobs: 1 });
    // As a database being retried behind the store: the call hangs, and nothing reports trouble yet.
    store.countJobs = () => new Promise(() => {});
    const answer = scheduler.health();
    await clock.advance('999ms');
    let settled = false;
    void answer.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    await clock.advance('1ms');
    expect(await answer).toMatchObject({ status: 'degraded', reason: 'the store did not answer within 1000 ms', active_jobs: 1 });
    // When the hanging call made the store notice its trouble, that report is the reason.
    let report: string | null = null;
    store.trouble = () => report;
    store.countJobs = () => {
      report = 'database unreachable since 2026-03-02T09:00:01.000Z: connection refused';
      return new Promise(() => {});
    };
    const second = scheduler.health();
    await clock.advance('1s');
    expect(await second).toMatchObject({ status: 'degraded', reason: report });
    await scheduler.stop();
  });
});

describe('CronScheduler: upsert by instances starting together', () => {
  it('creates a job once when several schedulers upsert it at the same moment; the others see it unchanged', async () => {
    const { scheduler, store, clock } = await startHarness({ start: false });
    const others = await Promise.all([1, 2].map(() => startHarness({ store, clock, start: false })));
    const spec = { name: 'shared', agentId: 'a', cronExpr: '0 * * * * *' };
    const results = await Promise.all([scheduler, ...others.map((o) => o.scheduler)].map((s) => s.upsert(spec)));
    expect(results.map((r) => r.action).sort()).toEqual(['created', 'unchanged', 'unchanged']);
    expect(await store.listJobs()).toHaveLength(1);
    expect((await store.queryAudit({ type: 'CronJobCreated' })).length).toBe(1);

    // A changed definition loaded by all at once: one saves it, the others find it already saved.
    const changed = await Promise.all([scheduler, ...others.map((o) => o.scheduler)].map((s) => s.upsert({ ...spec, cronExpr: '30 * * * * *' })));
    expect(changed.map((r) => r.action).sort()).toEqual(['unchanged', 'unchanged', 'updated']);
    expect((await store.getJobByName('shared'))?.cronExpr).toBe('30 * * * * *');
  });
});

describe('CronScheduler: upsert against a store that reorders keys', () => {
  it('reports unchanged when only the stored key order differs', async () => {
    const { scheduler, store } = await startHarness();
    const spec = { name: 'keys', agentId: 'a', cronExpr: '0 * * * * *', policy: { requireApproval: true, maxRuntimeMs: 60_000 } };
    const { job } = await scheduler.upsert(spec);
    const reordered = { ...job, policy: Object.fromEntries(Object.entries(job.policy).reverse()) as typeof job.policy };
    await store.saveJob(reordered);
    expect((await scheduler.upsert(spec)).action).toBe('unchanged');
    await scheduler.stop();
  });
});
