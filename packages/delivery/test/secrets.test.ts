import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChannelRouter, EmailRouter, SlackRouter, WebhookRouter } from '@symbi/delivery';
import { capturingLogger, instantClock, makeJob, makeRun, rejection } from './support/fixtures.js';
import type { CapturingLogger } from './support/fixtures.js';
import { HttpRecorder } from './support/http-recorder.js';
import { startSmtpReceiver } from './support/smtp-receiver.js';

const ENV_TOKEN = 'env-token-4f9c2a7e1b';
const AUTH_HEADER = 'Bearer config-auth-8d3e5f';
const SIGNING_SECRET = 'signing-secret-0a1b2c';
const SLACK_TOKEN = 'xoxb-slack-token-77e1';
const SMTP_PASSWORD = 'smtp-password-5c6d7e';

let recorder: HttpRecorder;
beforeEach(async () => {
  recorder = await HttpRecorder.start();
});
afterEach(async () => {
  await recorder.close();
});

/** Everything a failure exposes: the message, the full inspection (cause included) and the log. */
function exposed(error: Error, logger?: CapturingLogger): string {
  return [String(error), error.message, inspect(error, { depth: 10 }), JSON.stringify(logger?.entries ?? [])].join('\n');
}

function expectNone(text: string, secrets: string[]): void {
  for (const secret of secrets) expect(text).not.toContain(secret);
}

describe('secrets never appear in errors or logs', () => {
  it('webhook: header values, the auth header and the signing secret, even when the receiver echoes them', async () => {
    recorder.otherwise({ status: 500, body: `${ENV_TOKEN} ${AUTH_HEADER} ${SIGNING_SECRET}` });
    const logger = capturingLogger();
    const router = new WebhookRouter({
      config: { webhookAuthHeader: AUTH_HEADER, webhookAuthHosts: ['127.0.0.1'], webhookSigningSecret: SIGNING_SECRET, webhookRetryAttempts: 2, allowHosts: ['127.0.0.1'] },
      env: { API_TOKEN: ENV_TOKEN },
      clock: instantClock(),
      logger,
    });
    const job = makeJob({ webhookUrl: recorder.url(), webhookHeaders: { 'X-Api-Key': '${API_TOKEN}' } });

    const error = await rejection(router.route('webhook', job, makeRun(job), 'x'));

    expect(recorder.requests[0]!.headers['x-api-key']).toBe(ENV_TOKEN);
    expect(logger.entries.length).toBe(2);
    expectNone(exposed(error, logger), [ENV_TOKEN, AUTH_HEADER, 'config-auth-8d3e5f', SIGNING_SECRET]);
  });

  it('webhook: a header value that cannot be sent is not quoted', async () => {
    const router = new WebhookRouter({ env: { API_TOKEN: `${ENV_TOKEN}\r\nX-Injected: 1` } });
    const job = makeJob({ webhookUrl: recorder.url(), webhookHeaders: { 'X-Api-Key': '${API_TOKEN}' } });

    const error = await rejection(router.route('webhook', job, makeRun(job), 'x'));

    expect(error.message).toBe('webhook: webhook_headers.X-Api-Key: the value holds characters not allowed in a header');
    expectNone(exposed(error), [ENV_TOKEN]);
    expect(recorder.requests).toHaveLength(0);
  });

  it('webhook: credentials and path of the URL are not shown', async () => {
    recorder.reply({ status: 403 });
    const router = new WebhookRouter({ config: { allowHosts: ['127.0.0.1'] }, clock: instantClock() });
    const job = makeJob({ webhookUrl: `http://hookuser:url-password-3b4c@127.0.0.1:${recorder.port}/t/secret-path-token` });

    const error = await rejection(router.route('webhook', job, makeRun(job), 'x'));

    expect(error.message).toBe(`webhook: POST http://127.0.0.1:${recorder.port} failed: HTTP 403`);
    expectNone(exposed(error), ['url-password-3b4c', 'secret-path-token']);
  });

  it('slack: the token, even inside an unexpected answer', async () => {
    recorder.otherwise({ status: 200, body: JSON.stringify({ ok: false, error: `invalid_auth for ${SLACK_TOKEN}` }) });
    const logger = capturingLogger();
    const router = new SlackRouter({ config: { slackApiToken: SLACK_TOKEN, slackApiUrl: recorder.url('/api'), slackDefaultChannel: '#ops' }, clock: instantClock(), logger });
    const job = makeJob();

    const error = await rejection(router.route('slack', job, makeRun(job), 'x'));

    expect(error.message).toContain('Slack error unknown');
    expectNone(exposed(error, logger), [SLACK_TOKEN]);
  });

  it('slack: the secret path of the incoming webhook', async () => {
    recorder.otherwise({ status: 503 });
    const logger = capturingLogger();
    const webhookUrl = recorder.url('/services/T000/B000/XXXXwebhooksecret');
    const router = new SlackRouter({ config: { slackWebhookUrl: webhookUrl, webhookRetryAttempts: 1 }, clock: instantClock(), logger });
    const job = makeJob();

    const error = await rejection(router.route('slack', job, makeRun(job), 'x'));

    expectNone(exposed(error, logger), ['XXXXwebhooksecret', webhookUrl]);
  });

  it('email: the SMTP password', async () => {
    const smtp = await startSmtpReceiver({ credentials: { username: 'mailer', password: 'the-right-one' } });
    try {
      const router = new EmailRouter({ config: { smtpHost: '127.0.0.1', smtpPort: smtp.port, smtpUsername: 'mailer', smtpPassword: SMTP_PASSWORD } });
      const job = makeJob({ emailRecipients: ['ops@example.com'] });

      const error = await rejection(router.route('email', job, makeRun(job), 'x'));

      expect(error.message).toContain('EAUTH');
      expectNone(exposed(error), [SMTP_PASSWORD]);
    } finally {
      await smtp.close();
    }
  });

  it('channel router: a custom channel’s error is masked before it is logged', async () => {
    const logger = capturingLogger();
    const router = new ChannelRouter({ config: { slackApiToken: SLACK_TOKEN }, logger });
    router.register('bridge', async () => {
      throw new Error(`bridge rejected token ${SLACK_TOKEN}`);
    });
    const job = makeJob();

    const error = await rejection(router.route('bridge', job, makeRun(job), 'x'));

    expect(error.message).toBe('bridge: bridge rejected token [redacted]');
    expectNone(exposed(error, logger), [SLACK_TOKEN]);
  });
});
