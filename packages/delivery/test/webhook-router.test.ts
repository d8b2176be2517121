import { createHmac, timingSafeEqual } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeliveryError } from '@symbi/core';
import { WebhookRouter } from '@symbi/delivery';
import type { DeliveryConfig } from '@symbi/delivery';
import { capturingLogger, instantClock, makeJob, makeRun, rejection, SCHEDULED_FOR } from './support/fixtures.js';
import { HttpRecorder } from './support/http-recorder.js';

let recorder: HttpRecorder;
beforeEach(async () => {
  recorder = await HttpRecorder.start();
});
afterEach(async () => {
  await recorder.close();
});

/** The recorder listens on loopback, which an operator must allow-list for job webhooks. */
const LOCAL_RECEIVER: DeliveryConfig = { allowHosts: ['127.0.0.1'] };

function setup(config: DeliveryConfig = {}, env: Record<string, string | undefined> = {}) {
  const clock = instantClock();
  const logger = capturingLogger();
  const router = new WebhookRouter({ config: { ...LOCAL_RECEIVER, ...config }, env, clock, logger });
  return { router, clock, logger };
}

describe('WebhookRouter', () => {
  it('POSTs the job, the run and the output as JSON with the job headers', async () => {
    const { router } = setup();
    const job = makeJob({ webhookUrl: recorder.url('/ingest?src=symbi'), webhookHeaders: { 'X-Team': 'ops' } });
    const run = makeRun(job);

    await router.route('webhook', job, run, 'all systems nominal');

    expect(recorder.requests).toHaveLength(1);
    const [request] = recorder.requests;
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe('/ingest?src=symbi');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['x-team']).toBe('ops');
    expect(request!.headers['x-symbi-run-id']).toBe(run.id);
    expect(JSON.parse(request!.body)).toEqual({
      job: { id: 'job-1', name: 'daily-report', agent_id: 'reporter-agent' },
      run: {
        id: run.id,
        status: 'succeeded',
        scheduled_for: SCHEDULED_FOR.toISOString(),
        started_at: SCHEDULED_FOR.toISOString(),
        completed_at: '2026-03-01T09:00:01.234Z',
        trigger: 'schedule',
        attempt: 1,
        execution_time_ms: 1234,
        iterations: 0,
        error: null,
      },
      output: 'all systems nominal',
    });
  });

  it('resolves ${ENV} references in header values at send time', async () => {
    const env: Record<string, string | undefined> = { METRICS_API_KEY: 'first-key' };
    const { router } = setup({}, env);
    const job = makeJob({ webhookUrl: recorder.url(), webhookHeaders: { Authorization: 'Bearer ${METRICS_API_KEY}', 'X-Region': '${REGION:-eu}' } });

    await router.route('webhook', job, makeRun(job), 'one');
    env.METRICS_API_KEY = 'rotated-key';
    await router.route('webhook', job, makeRun(job), 'two');

    expect(recorder.requests.map((request) => request.headers.authorization)).toEqual(['Bearer first-key', 'Bearer rotated-key']);
    expect(recorder.requests[0]!.headers['x-region']).toBe('eu');
    expect(job.webhookHeaders.Authorization).toBe('Bearer ${METRICS_API_KEY}');
  });

  it('fails without sending when a header references an unset variable', async () => {
    const { router } = setup();
    const job = makeJob({ webhookUrl: recorder.url(), webhookHeaders: { Authorization: 'Bearer ${MISSING_TOKEN}' } });

    const error = await rejection(router.route('webhook', job, makeRun(job), 'x'));

    expect(error).toBeInstanceOf(DeliveryError);
    expect(error.message).toContain('webhook_headers.Authorization');
    expect(error.message).toContain('MISSING_TOKEN');
    expect(recorder.requests).toHaveLength(0);
  });

  it('signs the raw body with HMAC-SHA256 so the receiver can verify it', async () => {
    const secret = 'whsec-test-signing-secret';
    const { router } = setup({ webhookSigningSecret: secret });
    const job = makeJob({ webhookUrl: recorder.url() });

    await router.route('webhook', job, makeRun(job), 'signed output ✓');

    const [request] = recorder.requests;
    const header = String(request!.headers['x-symbi-signature']);
    expect(header).toMatch(/^sha256=[0-9a-f]{64}$/);
    const expected = createHmac('sha256', secret).update(request!.body).digest();
    expect(timingSafeEqual(Buffer.from(header.slice('sha256='.length), 'hex'), expected)).toBe(true);
    expect(request!.headers['x-symbi-timestamp']).toBe(String(SCHEDULED_FOR.getTime() / 1000));

    const forged = createHmac('sha256', 'another-secret').update(request!.body).digest();
    expect(timingSafeEqual(Buffer.from(header.slice('sha256='.length), 'hex'), forged)).toBe(false);
  });

  it('sends the configured Authorization only when the job has none', async () => {
    const { router } = setup({ webhookAuthHeader: 'Bearer from-config', webhookAuthHosts: [`127.0.0.1:${recorder.port}`] });
    const plain = makeJob({ webhookUrl: recorder.url() });
    const own = makeJob({ webhookUrl: recorder.url(), webhookHeaders: { authorization: 'Token job-own' } });

    await router.route('webhook', plain, makeRun(plain), 'a');
    await router.route('webhook', own, makeRun(own), 'b');

    expect(recorder.requests.map((request) => request.headers.authorization)).toEqual(['Bearer from-config', 'Token job-own']);
  });

  it('sends the configured Authorization only to the hosts it was configured for', async () => {
    const other = await HttpRecorder.start();
    try {
      const { router } = setup({ webhookAuthHeader: 'Bearer from-config', webhookAuthHosts: [`127.0.0.1:${recorder.port}`], allowHosts: ['127.0.0.1', 'localhost'] });
      // a job whose caller chose another port, or another name for the same address, gets no credential
      for (const url of [other.url('/x'), `http://localhost:${recorder.port}/y`]) {
        const job = makeJob({ webhookUrl: url });
        await router.route('webhook', job, makeRun(job), 'a');
      }
      expect(other.requests[0]!.headers.authorization).toBeUndefined();
      expect(recorder.requests[0]!.headers.authorization).toBeUndefined();
    } finally {
      await other.close();
    }
  });

  it('refuses a configured Authorization without the hosts it is for', () => {
    expect(() => setup({ webhookAuthHeader: 'Bearer from-config' })).toThrow('scheduler.delivery.webhook_auth_hosts');
    expect(() => setup({ webhookAuthHeader: 'x', webhookAuthHosts: ['bad host!'] })).toThrow(/webhook_auth_hosts.*"bad host!"/);
  });

  it('retries 5xx with exponential backoff and delivers the same run', async () => {
    recorder.reply({ status: 503 }, { status: 502 });
    const { router, clock, logger } = setup();
    const job = makeJob({ webhookUrl: recorder.url() });
    const run = makeRun(job);

    await router.route('webhook', job, run, 'eventually');

    expect(recorder.requests).toHaveLength(3);
    expect(new Set(recorder.requests.map((request) => request.headers['x-symbi-run-id']))).toEqual(new Set([run.id]));
    expect(clock.delays).toEqual([1000, 2000]);
    expect(logger.entries.filter((entry) => entry.level === 'warn')).toHaveLength(2);
  });

  it('waits for Retry-After on 429', async () => {
    recorder.reply({ status: 429, headers: { 'Retry-After': '7' } });
    const { router, clock } = setup();
    const job = makeJob({ webhookUrl: recorder.url() });

    await router.route('webhook', job, makeRun(job), 'x');

    expect(recorder.requests).toHaveLength(2);
    expect(clock.delays).toEqual([7000]);
  });

  it('gives up after webhook_retry_attempts retries with a retryable error', async () => {
    recorder.otherwise({ status: 500 });
    const { router, clock } = setup({ webhookRetryAttempts: 2 });
    const job = makeJob({ webhookUrl: recorder.url() });

    const error = await rejection(router.route('webhook', job, makeRun(job), 'x'));

    expect(error).toBeInstanceOf(DeliveryError);
    expect(error.retryable).toBe(true);
    expect(error.message).toBe(`webhook: POST http://127.0.0.1:${recorder.port} failed: HTTP 500 (after 3 attempts)`);
    expect((error as unknown as DeliveryError).attempts).toBe(3);
    expect(recorder.requests).toHaveLength(3);
    expect(clock.delays).toEqual([1000, 2000]);
  });

  it('does not retry a 4xx answer', async () => {
    recorder.reply({ status: 400 });
    const { router } = setup();
    const job = makeJob({ webhookUrl: recorder.url() });

    const error = await rejection(router.route('webhook', job, makeRun(job), 'x'));

    expect(error.retryable).toBe(false);
    expect(error.message).toContain('HTTP 400');
    expect(recorder.requests).toHaveLength(1);
  });

  it('does not follow redirects', async () => {
    recorder.reply({ status: 302, headers: { Location: 'http://169.254.169.254/latest/meta-data' } });
    const { router } = setup();
    const job = makeJob({ webhookUrl: recorder.url() });

    const error = await rejection(router.route('webhook', job, makeRun(job), 'x'));

    expect(error.message).toContain('redirects are not followed');
    expect(recorder.requests).toHaveLength(1);
  });

  it('times out a hanging endpoint and retries it', async () => {
    recorder.otherwise('hang');
    const { router } = setup({ webhookTimeoutSeconds: 0.2, webhookRetryAttempts: 1 });
    const job = makeJob({ webhookUrl: recorder.url() });
    const started = Date.now();

    const error = await rejection(router.route('webhook', job, makeRun(job), 'x'));

    expect(error.message).toContain('timed out after 200 ms');
    expect(error.retryable).toBe(true);
    expect(recorder.requests).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('reports a refused connection as a retryable network error', async () => {
    const port = recorder.port;
    await recorder.close();
    recorder = await HttpRecorder.start();
    const { router } = setup({ webhookRetryAttempts: 0 });
    const job = makeJob({ webhookUrl: `http://127.0.0.1:${port}/hook` });

    const error = await rejection(router.route('webhook', job, makeRun(job), 'x'));

    expect(error.message).toContain('ECONNREFUSED');
    expect(error.retryable).toBe(true);
  });

  it('refuses a job without a usable webhook_url', async () => {
    const { router } = setup();
    const none = makeJob();
    const bad = makeJob({ webhookUrl: 'not a url' });
    const ftp = makeJob({ webhookUrl: 'ftp://127.0.0.1/hook' });

    expect((await rejection(router.route('webhook', none, makeRun(none), 'x'))).message).toContain('has no webhook_url');
    expect((await rejection(router.route('webhook', bad, makeRun(bad), 'x'))).message).toContain('not a valid absolute URL');
    expect((await rejection(router.route('webhook', ftp, makeRun(ftp), 'x'))).message).toContain('unsupported URL scheme ftp:');
  });
});
