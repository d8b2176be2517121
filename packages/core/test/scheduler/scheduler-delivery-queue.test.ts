import { describe, expect, it } from 'vitest';
import type { CronJobDefinition, DeliveryChannel, DeliveryRouter, JobRunRecord } from '@symbi/core';
import { createTestScheduler, InMemoryJobStore, VirtualClock } from '@symbi/core/testing';

/** A router whose `webhook` channel never answers (a hanging endpoint) and whose `stdout` records. */
class HangingWebhookRouter implements DeliveryRouter {
  readonly delivered: { channel: DeliveryChannel; job: string; scheduledFor: string }[] = [];
  hanging = 0;

  route(channel: DeliveryChannel, job: CronJobDefinition, run: JobRunRecord): Promise<void> {
    if (channel === 'webhook') {
      this.hanging += 1;
      return new Promise(() => {});
    }
    this.delivered.push({ channel, job: job.name, scheduledFor: run.scheduledFor.toISOString() });
    return Promise.resolve();
  }
}

describe('deliveries have a queue of their own', () => {
  it('never hold an execution slot: healthy jobs run every fire while other jobs’ webhooks hang', async () => {
    const router = new HangingWebhookRouter();
    const { scheduler, clock, executor, stop } = await createTestScheduler({
      start: '2026-03-02T09:00:00Z',
      router,
      config: { maxConcurrentJobs: 2, maxConcurrentDeliveries: 3 },
    });
    for (const name of ['hook-a', 'hook-b']) await scheduler.add({ name, agentId: 'a', cronExpr: '* * * * * *', delivery: ['webhook'], webhookUrl: 'https://hooks.example.com/symbi' });
    await scheduler.add({ name: 'healthy', agentId: 'a', cronExpr: '* * * * * *' });
    await clock.advance('10s');
    // Every fire of every job ran: the two slots were never taken by the hanging deliveries.
    for (const name of ['hook-a', 'hook-b', 'healthy']) expect(executor!.calls.filter((c) => c.request.job.name === name)).toHaveLength(10);
    // At most `maxConcurrentDeliveries` webhooks are being sent; the rest wait in the queue.
    expect(router.hanging).toBe(3);
    expect(scheduler.metrics.inFlight).toBe(0);
    await stop();
  });

  it('stops within shutdownTimeoutMs while a delivery hangs, and leaves the unsent ones pending for the next start', async () => {
    const clock = new VirtualClock('2026-03-02T09:00:00Z');
    const store = new InMemoryJobStore();
    const router = new HangingWebhookRouter();
    const config = { maxConcurrentDeliveries: 1, shutdownTimeoutMs: 5_000, leaseMs: 30_000 };
    const first = await createTestScheduler({ clock, store, router, config });
    const job = await first.scheduler.add({ name: 'hook', agentId: 'a', cronExpr: '* * * * * *', delivery: ['webhook', 'stdout'], webhookUrl: 'https://hooks.example.com/symbi' });
    await clock.advance('3s');
    expect(router.hanging).toBe(1);
    let stopped = false;
    const stopping = first.scheduler.stop().then(() => (stopped = true));
    await clock.advance('4999ms');
    expect(stopped).toBe(false);
    await clock.advance('1ms');
    await stopping;
    expect(stopped).toBe(true);
    const runs = await store.listRuns({ jobId: job.id });
    expect(runs.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    // Nothing was delivered: the webhook of the first run hangs, the other deliveries never started.
    expect(router.delivered).toEqual([]);
    expect(runs.every((r) => r.deliveries.every((d) => d.status === 'pending'))).toBe(true);

    // The next start sends what the stop left pending (the hanging one once its lease lapsed).
    await first.scheduler.pause('hook');
    const second = await createTestScheduler({ clock, store, config: { leaseMs: 30_000, tickIntervalMs: 1000 } });
    await clock.advance('2m');
    const after = await store.listRuns({ jobId: job.id });
    expect(after.map((r) => r.id).sort()).toEqual(runs.map((r) => r.id).sort());
    expect(after.flatMap((r) => r.deliveries.map((d) => d.status))).toEqual(Array(6).fill('delivered'));
    expect(second.router!.delivered).toHaveLength(6);
    await second.stop();
  });
});
