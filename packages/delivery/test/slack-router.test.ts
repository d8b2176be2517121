import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeliveryError } from '@symbi/core';
import { SlackRouter } from '@symbi/delivery';
import type { DeliveryConfig } from '@symbi/delivery';
import { formatSlackMessage } from '../src/slack-router.js';
import { instantClock, makeJob, makeRun, rejection } from './support/fixtures.js';
import { HttpRecorder } from './support/http-recorder.js';

const TOKEN = 'xoxb-1111-2222-slacktoken';
const slackOk = { status: 200, headers: { 'Content-Type': 'application/json' }, body: '{"ok":true,"ts":"1.2"}' };

let recorder: HttpRecorder;
beforeEach(async () => {
  recorder = await HttpRecorder.start();
});
afterEach(async () => {
  await recorder.close();
});

function apiRouter(config: DeliveryConfig = {}) {
  const clock = instantClock();
  const router = new SlackRouter({ config: { slackApiToken: TOKEN, slackApiUrl: recorder.url('/api/'), ...config }, clock });
  return { router, clock };
}

describe('SlackRouter with the Web API', () => {
  it('calls chat.postMessage with the bearer token in the job channel', async () => {
    recorder.otherwise(slackOk);
    const { router } = apiRouter({ slackDefaultChannel: '#general' });
    const job = makeJob({ slackChannel: '#ops-alerts' });

    await router.route('slack', job, makeRun(job), 'disk usage 42%');

    expect(recorder.requests).toHaveLength(1);
    const [request] = recorder.requests;
    expect(request!.path).toBe('/api/chat.postMessage');
    expect(request!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    const body = JSON.parse(request!.body) as { channel: string; text: string };
    expect(body.channel).toBe('#ops-alerts');
    expect(body.text).toContain('*daily-report* succeeded · 1.2 s');
    expect(body.text).toContain('```disk usage 42%```');
  });

  it('uses the default channel when the job names none', async () => {
    recorder.otherwise(slackOk);
    const { router } = apiRouter({ slackDefaultChannel: '#general' });
    const job = makeJob();

    await router.route('slack', job, makeRun(job), 'x');

    expect((JSON.parse(recorder.requests[0]!.body) as { channel: string }).channel).toBe('#general');
  });

  it('fails when there is no channel at all', async () => {
    const { router } = apiRouter();
    const job = makeJob();

    const error = await rejection(router.route('slack', job, makeRun(job), 'x'));

    expect(error.message).toContain('no slack_channel');
    expect(recorder.requests).toHaveLength(0);
  });

  it('treats { ok: false } as a failure naming Slack’s error', async () => {
    recorder.otherwise({ status: 200, headers: { 'Content-Type': 'application/json' }, body: '{"ok":false,"error":"channel_not_found"}' });
    const { router } = apiRouter();
    const job = makeJob({ slackChannel: '#nowhere' });

    const error = await rejection(router.route('slack', job, makeRun(job), 'x'));

    expect(error).toBeInstanceOf(DeliveryError);
    expect(error.message).toContain('Slack error channel_not_found');
    expect(error.retryable).toBe(false);
    expect(recorder.requests).toHaveLength(1);
  });

  it('retries { ok: false, error: "ratelimited" }', async () => {
    recorder.reply({ status: 200, body: '{"ok":false,"error":"ratelimited"}' }).otherwise(slackOk);
    const { router, clock } = apiRouter();
    const job = makeJob({ slackChannel: '#ops' });

    await router.route('slack', job, makeRun(job), 'x');

    expect(recorder.requests).toHaveLength(2);
    expect(clock.delays).toEqual([1000]);
  });

  it('honours 429 Retry-After', async () => {
    recorder.reply({ status: 429, headers: { 'Retry-After': '3' }, body: '{"ok":false,"error":"ratelimited"}' }).otherwise(slackOk);
    const { router, clock } = apiRouter();
    const job = makeJob({ slackChannel: '#ops' });

    await router.route('slack', job, makeRun(job), 'x');

    expect(recorder.requests).toHaveLength(2);
    expect(clock.delays).toEqual([3000]);
  });

  it('gives up at once when Retry-After is longer than five minutes', async () => {
    recorder.reply({ status: 429, headers: { 'Retry-After': '3600' } });
    const { router, clock } = apiRouter();
    const job = makeJob({ slackChannel: '#ops' });

    const error = await rejection(router.route('slack', job, makeRun(job), 'x'));

    expect(error.retryable).toBe(true);
    expect(error.message).toContain('HTTP 429');
    expect(clock.delays).toEqual([]);
  });
});

describe('SlackRouter with an incoming webhook', () => {
  it('posts the message to the webhook, without a token', async () => {
    const router = new SlackRouter({ config: { slackWebhookUrl: recorder.url('/services/T0/B0/secretpath'), slackApiToken: TOKEN }, clock: instantClock() });
    const job = makeJob({ slackChannel: '#ignored' });

    await router.route('slack', job, makeRun(job), 'via webhook');

    expect(recorder.requests).toHaveLength(1);
    const [request] = recorder.requests;
    expect(request!.path).toBe('/services/T0/B0/secretpath');
    expect(request!.headers.authorization).toBeUndefined();
    expect((JSON.parse(request!.body) as { text: string }).text).toContain('```via webhook```');
  });

  it('reports the webhook’s error code but not its secret path', async () => {
    recorder.reply({ status: 404, body: 'no_service' });
    const router = new SlackRouter({ config: { slackWebhookUrl: recorder.url('/services/T0/B0/secretpath') }, clock: instantClock() });
    const job = makeJob();

    const error = await rejection(router.route('slack', job, makeRun(job), 'x'));

    expect(error.message).toBe(`slack: POST http://127.0.0.1:${recorder.port} failed: HTTP 404 (no_service)`);
  });

  it('fails clearly when Slack is not configured', async () => {
    const router = new SlackRouter();
    const job = makeJob();

    const error = await rejection(router.route('slack', job, makeRun(job), 'x'));

    expect(error.message).toBe('slack: Slack is not configured: set slack_webhook_url or slack_api_token');
  });
});

describe('formatSlackMessage', () => {
  it('escapes mrkdwn, keeps the code block closed and shows the error', () => {
    const job = makeJob({ name: 'a<b>&c' });
    const run = makeRun(job, { status: 'failed', error: 'exit <1>' });

    const text = formatSlackMessage(job, run, 'uses ```fences``` and <tags>');

    expect(text).toContain(':x: *a&lt;b&gt;&amp;c* failed');
    expect(text).toContain('Error: exit &lt;1&gt;');
    expect(text).toContain('&lt;tags&gt;');
    expect(text.match(/```/g)).toHaveLength(2);
  });

  it('truncates long output and says so', () => {
    const job = makeJob();
    const text = formatSlackMessage(job, makeRun(job), 'x'.repeat(50_000));

    expect(text.length).toBeLessThan(4000);
    expect(text).toMatch(/… \(\d+ more characters; the full output is on the run record\)```$/);
  });

  it('says when there is no output', () => {
    const job = makeJob();
    expect(formatSlackMessage(job, makeRun(job), '  ')).toContain('```(no output)```');
  });
});
