import { describe, expect, it } from 'vitest';
import { CronScheduler, DeliveryError, InMemoryJobStore, type DeliveryRouter } from '@symbi/core';
import { FakeExecutor, RecordingRouter, VirtualClock } from '@symbi/core/testing';
import { startHarness } from './harness.js';

describe('CronScheduler: delivery routing', () => {
  it('routes the output to every channel and records each outcome on the run', async () => {
    const { clock, scheduler, router } = await startHarness({ agents: { scanner: () => 'no findings' } });
    await scheduler.add({
      name: 'security-scan',
      agentId: 'scanner',
      at: '2026-03-02T09:00:01Z',
      delivery: ['log_file', 'slack', 'email'],
      slackChannel: '#security',
      emailRecipients: ['ops@example.com'],
    });
    await clock.advance('2s');
    expect(router.delivered.map((d) => [d.channel, d.output])).toEqual([
      ['log_file', 'no findings'],
      ['slack', 'no findings'],
      ['email', 'no findings'],
    ]);
    const [run] = await scheduler.history('security-scan');
    expect(run!.deliveries.map((d) => [d.channel, d.status, d.attempts])).toEqual([
      ['log_file', 'delivered', 1],
      ['slack', 'delivered', 1],
      ['email', 'delivered', 1],
    ]);
    await scheduler.stop();
  });

  it('a failing channel fails neither the run nor the other channels, and the output stays on the run', async () => {
    const { clock, scheduler, router } = await startHarness({ agents: { a: () => 'the report' } });
    router.failing.add('slack');
    await scheduler.add({ name: 'r', agentId: 'a', at: '2026-03-02T09:00:01Z', delivery: ['slack', 'stdout'] });
    await clock.advance('2s');
    const [run] = await scheduler.history('r');
    expect(run!.status).toBe('succeeded');
    expect(run!.output).toBe('the report');
    expect(run!.deliveries.map((d) => [d.channel, d.status])).toEqual([
      ['slack', 'failed'],
      ['stdout', 'delivered'],
    ]);
    expect(run!.deliveries[0]!.error).toContain('refused');
    expect(router.delivered.map((d) => d.channel)).toEqual(['stdout']);
    await scheduler.stop();
  });

  it('delivers failures too, so a channel hears about a failed run', async () => {
    const { clock, scheduler, router } = await startHarness({ agents: { a: () => { throw new Error('disk full'); } } });
    await scheduler.add({ name: 'f', agentId: 'a', at: '2026-03-02T09:00:01Z', maxRetries: 0, delivery: ['stdout'] });
    await clock.advance('2s');
    expect(router.delivered[0]?.output).toContain('disk full');
    expect(router.delivered[0]?.run.status).toBe('failed');
    await scheduler.stop();
  });

  it('drains the outbox after a restart: a delivery not acknowledged when the process died is retried', async () => {
    const store = new InMemoryJobStore();
    const clock = new VirtualClock('2026-03-02T09:00:00Z');
    const hanging: DeliveryRouter = { route: () => new Promise(() => undefined) };
    const executor = new FakeExecutor(clock, { a: () => 'precious output' });
    const dying = new CronScheduler({ store, executor, router: hanging, clock, config: { leaseMs: 10_000, shutdownTimeoutMs: 0 } });
    await dying.start();
    await dying.add({ name: 'o', agentId: 'a', at: '2026-03-02T09:00:01Z', delivery: ['webhook'], webhookUrl: 'http://127.0.0.1:9/hook' });
    await clock.advance('2s');
    const [stuck] = await store.listRuns({});
    expect(stuck!.status).toBe('succeeded');
    expect(stuck!.deliveries[0]!.status).toBe('pending');
    // the process "dies": its loop stops and its lease is never renewed again
    await dying.stop();
    const router = new RecordingRouter();
    const fresh = new CronScheduler({ store, executor, router, clock, config: { leaseMs: 10_000 } });
    await fresh.start();
    await clock.advance('15s');
    expect(router.delivered.map((d) => [d.channel, d.output])).toEqual([['webhook', 'precious output']]);
    expect((await store.getRun(stuck!.id))!.deliveries[0]).toMatchObject({ status: 'delivered', attempts: 1 });
    await fresh.stop();
  });
});

describe('CronScheduler: delivery channels the router does not know', () => {
  const router: DeliveryRouter = { route: async () => undefined, channels: () => ['stdout', 'webhook', 'ops-pager'] };

  it('refuses a job naming an unknown channel when it is added, upserted or changed, storing nothing of it', async () => {
    const store = new InMemoryJobStore();
    const scheduler = new CronScheduler({ store, executor: new FakeExecutor(new VirtualClock('2026-03-02T09:00:00Z')), router });
    const spec = { name: 'report', agentId: 'a', cronExpr: '0 0 9 * * *', delivery: ['stdout', 'nope'] };
    for (const attempt of [() => scheduler.add(spec), () => scheduler.upsert(spec)]) {
      await expect(attempt()).rejects.toMatchObject({
        code: 'VALIDATION',
        field: 'delivery[1]',
        value: 'nope',
        message: 'delivery[1]: is not a delivery channel (known: stdout, webhook, ops-pager)',
      });
    }
    expect(await store.listJobs()).toEqual([]);

    const job = await scheduler.add({ ...spec, delivery: ['ops-pager'] });
    await expect(scheduler.update(job.id, { delivery: ['nope'] })).rejects.toMatchObject({ field: 'delivery[0]' });
    expect((await store.getJob(job.id))?.delivery).toEqual(['ops-pager']);
  });
});

describe('CronScheduler: the outbox record of a channel that retried', () => {
  it('counts the channel\'s own attempts, so the record agrees with its error', async () => {
    const router: DeliveryRouter = {
      route: async (channel) => {
        throw new DeliveryError(channel, 'POST http://127.0.0.1:9 failed: HTTP 500 (after 3 attempts)', { retryable: true, attempts: 3 });
      },
    };
    const { scheduler, clock, store } = await startHarness({ store: new InMemoryJobStore() });
    const withRouter = new CronScheduler({ store, executor: new FakeExecutor(clock), router, clock });
    await scheduler.stop();
    await withRouter.start();
    const job = await withRouter.add({ name: 'hooked', agentId: 'a', cronExpr: '0 0 0 1 1 *', delivery: ['webhook'], webhookUrl: 'http://127.0.0.1:9/hook' });
    const run = await withRouter.runNow(job.id, { wait: true });
    await clock.advance(1_000);
    const stored = await store.getRun(run.id);
    expect(stored?.deliveries).toEqual([expect.objectContaining({ channel: 'webhook', status: 'failed', attempts: 3, error: expect.stringMatching(/after 3 attempts/) })]);
    await withRouter.stop();
  });
});
