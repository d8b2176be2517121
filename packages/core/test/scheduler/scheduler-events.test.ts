import { describe, expect, it } from 'vitest';
import type { SchedulerEvents } from '@symbi/core';
import { VirtualClock } from '@symbi/core/testing';
import { startHarness } from './harness.js';

describe('CronScheduler: typed events', () => {
  it('fires every event of SchedulerEvents in a realistic session', async () => {
    const clock = new VirtualClock('2026-03-02T09:00:00Z');
    const h = await startHarness({
      clock,
      start: false,
      durationMs: (req) => (req.job.name === 'slow' ? 5000 : 0),
      agents: {
        ok: () => 'fine',
        bad: () => { throw new Error('nope'); },
        hb: () => 'sleep',
      },
      config: { shutdownTimeoutMs: 0, tickIntervalMs: 1000 },
    });
    const seen = new Set<string>();
    const names: (keyof SchedulerEvents)[] = [
      'scheduler:started', 'scheduler:stopped', 'scheduler:error',
      'job:created', 'job:updated', 'job:deleted', 'job:paused', 'job:resumed', 'job:reset', 'job:completed', 'job:dead_lettered',
      'run:queued', 'run:started', 'run:iteration', 'run:succeeded', 'run:failed', 'run:skipped', 'run:denied', 'run:interrupted',
      'run:awaiting_approval', 'run:approval_decided', 'delivery:succeeded', 'delivery:failed', 'audit:recorded',
    ];
    for (const name of names) h.scheduler.on(name, () => seen.add(name));
    h.router.failing.add('slack');
    await h.scheduler.start();
    const s = h.scheduler;
    await s.add({ name: 'once', agentId: 'ok', at: '2026-03-02T09:00:01Z', delivery: ['stdout', 'slack'] });
    await s.add({ name: 'dl', agentId: 'bad', at: '2026-03-02T09:00:01Z', maxRetries: 0 });
    await s.add({ name: 'hb', agentId: 'hb', at: '2026-03-02T09:00:01Z', heartbeat: { enabled: true } });
    await s.add({ name: 'slow', agentId: 'ok', cronExpr: '* * * * * *' });
    await s.add({ name: 'deny', agentId: 'ok', at: '2026-03-02T09:00:01Z', policy: { allowedEnvironments: ['nowhere'] } });
    await s.add({ name: 'approve', agentId: 'ok', at: '2026-03-02T09:00:01Z', policy: { requireApproval: true } });
    await clock.advance('3s');
    const [pending] = await s.pendingApprovals();
    await s.approve(pending!.id, { approver: 'ops' });
    await s.update('once', { input: 'again' });
    await s.pause('slow');
    await s.resume('slow');
    await s.reset('dl');
    await s.runNow('once');
    await s.remove('deny');
    await clock.advance('1s');
    // a store failure inside the loop is reported, and the loop carries on
    const original = h.store.recoverExpired.bind(h.store);
    h.store.recoverExpired = () => Promise.reject(new Error('store hiccup'));
    await clock.advance('2s');
    expect((await s.health()).status).toBe('degraded');
    h.store.recoverExpired = original;
    await clock.advance('1500ms'); // 'slow' is in flight when the scheduler stops: interrupted
    await s.stop();
    expect([...names].filter((n) => !seen.has(n))).toEqual([]);
  });
});
