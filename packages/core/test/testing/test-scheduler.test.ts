import { describe, expect, it } from 'vitest';
import { createTestScheduler, VirtualClock } from '@symbi/core/testing';

describe('createTestScheduler', () => {
  it('runs a virtual day of a minutely job, every fire once, in order', async () => {
    const { scheduler, clock, executor, stop } = await createTestScheduler({ start: '2026-04-01T00:00:00Z' });
    await scheduler.add({ name: 'minutely', agentId: 'pinger', cronExpr: '0 * * * * *' });
    await clock.advance('1d');
    const starts = executor!.calls.map((c) => new Date(c.startedAt).toISOString());
    expect(starts).toHaveLength(24 * 60);
    expect(starts[0]).toBe('2026-04-01T00:01:00.000Z');
    expect(starts.at(-1)).toBe('2026-04-02T00:00:00.000Z');
    expect(new Set(starts).size).toBe(starts.length);
    expect((await scheduler.getJob('minutely')).runCount).toBe(24 * 60);
    await stop();
  });

  it('runs 30 virtual days of a minutely job: each of the 43,200 fires once, in order', async () => {
    const { scheduler, clock, executor, stop } = await createTestScheduler({ start: '2026-04-01T00:00:00Z' });
    const job = await scheduler.add({ name: 'minutely', agentId: 'pinger', cronExpr: '0 * * * * *' });
    const began = performance.now();
    await clock.advance('30d');
    // Printed, never asserted: how fast virtual time skips depends on the machine.
    console.info(`createTestScheduler: 30 virtual days of a minutely job (43,200 fires) took ${Math.round(performance.now() - began)} ms`);
    const first = Date.parse('2026-04-01T00:01:00Z');
    const starts = executor!.calls.map((c) => c.startedAt);
    expect(starts).toHaveLength(30 * 24 * 60);
    const outOfPlace = starts.flatMap((at, i) => (at === first + i * 60_000 ? [] : [`fire ${i} started at ${new Date(at).toISOString()}`]));
    expect(outOfPlace).toEqual([]);
    expect(new Set(executor!.calls.map((c) => c.request.run.id)).size).toBe(starts.length);
    const stored = await scheduler.getJob(job.id);
    expect([stored.runCount, stored.failureCount]).toEqual([starts.length, 0]);
    await stop();
  }, 120_000); // a guard for a loaded machine, not a measurement

  it('skips 30 idle virtual days between the fires of a daily job', async () => {
    const { scheduler, clock, executor, stop } = await createTestScheduler({ start: '2026-04-01T00:00:00Z' });
    await scheduler.add({ name: 'nightly', agentId: 'backup', cronExpr: '0 30 2 * * *', timezone: 'Europe/Berlin' });
    await clock.advance('30d');
    const starts = executor!.calls.map((c) => new Date(c.startedAt).toISOString());
    expect(starts).toHaveLength(30);
    expect(starts[0]).toBe('2026-04-01T00:30:00.000Z');
    expect(starts.at(-1)).toBe('2026-04-30T00:30:00.000Z');
    await stop();
  });

  it('delivers to the recording router and uses the scripted agents', async () => {
    const { scheduler, clock, router, stop } = await createTestScheduler({
      start: '2026-03-02T00:00:00Z', // a Monday
      agents: { 'digest-agent': (request) => `digest of ${request.input}` },
    });
    await scheduler.add({ name: 'digest', agentId: 'digest-agent', cronExpr: '0 0 9 * * MON-FRI', input: 'alerts', delivery: ['team'] });
    await clock.advance('7d');
    expect(router!.delivered.map((d) => [d.channel, d.output, d.run.scheduledFor.toISOString()])).toEqual(
      ['02', '03', '04', '05', '06'].map((day) => ['team', 'digest of alerts', `2026-03-${day}T09:00:00.000Z`]),
    );
    await stop();
  });

  it('says when the scheduler is idle: not while a run executes, at once after', async () => {
    const clock = new VirtualClock('2026-04-01T00:00:00Z');
    const { scheduler, stop } = await createTestScheduler({
      clock,
      agents: { slow: () => new Promise<string>((resolve) => clock.setTimeout(() => resolve('done'), 30_000)) },
    });
    await scheduler.add({ name: 'slow', agentId: 'slow', cronExpr: '0 * * * * *' });
    await clock.advance('60s');
    let idle = false;
    void scheduler.idle().then(() => (idle = true));
    await clock.advance('10s');
    expect(idle).toBe(false);
    await clock.advance('21s');
    expect(idle).toBe(true);
    expect((await scheduler.history('slow')).map((run) => run.status)).toEqual(['succeeded']);
    await stop();
  });

  it('stops at once while a run is still executing, and the run ends interrupted', async () => {
    const { scheduler, clock, stop } = await createTestScheduler({
      agents: { slow: () => new Promise<string>(() => {}) },
    });
    const job = await scheduler.add({ name: 'slow-job', agentId: 'slow', cronExpr: '0 * * * * *' });
    await clock.advance('1m');
    await stop();
    const runs = await scheduler.history(job.id);
    expect(runs.map((run) => [run.scheduledFor.toISOString(), run.status])).toContainEqual(['2026-01-01T00:01:00.000Z', 'interrupted']);
  });
});
