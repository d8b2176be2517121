import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, DeliveryError, ValidationError } from '@symbi/core';
import type { CronJobDefinition, DeliveryChannel, JobRunRecord } from '@symbi/core';
import { ChannelRouter } from '@symbi/delivery';
import type { DeliveryPayload } from '@symbi/delivery';
import { capturingLogger, instantClock, makeJob, makeRun, rejection } from './support/fixtures.js';
import { HttpRecorder } from './support/http-recorder.js';
import { startSmtpReceiver } from './support/smtp-receiver.js';
import type { SmtpReceiver } from './support/smtp-receiver.js';

let root: string;
let recorder: HttpRecorder;
let smtp: SmtpReceiver;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'symbi-channels-'));
  recorder = await HttpRecorder.start();
  smtp = await startSmtpReceiver();
});
afterEach(async () => {
  await Promise.all([recorder.close(), smtp.close(), rm(root, { recursive: true, force: true })]);
});

describe('ChannelRouter', () => {
  it('delivers one run to webhook, email, log_file and a custom channel, each with the output', async () => {
    const received: Array<{ channel: DeliveryChannel; output: string }> = [];
    const router = new ChannelRouter({
      config: { logDir: root, smtpHost: '127.0.0.1', smtpPort: smtp.port, allowHosts: ['127.0.0.1'] },
      clock: instantClock(),
      custom: {
        pager: { route: async (channel, _job, _run, output) => void received.push({ channel, output }) },
      },
    });
    const job = makeJob({
      name: 'security-scan',
      delivery: ['webhook', 'email', 'log_file', 'pager'],
      webhookUrl: recorder.url(),
      emailRecipients: ['security@example.com'],
    });
    const run = makeRun(job);
    const output = 'Scan complete: 0 critical, 2 medium.';

    await Promise.all(job.delivery.map((channel) => router.route(channel, job, run, output)));

    expect((JSON.parse(recorder.requests[0]!.body) as DeliveryPayload).output).toBe(output);
    expect(smtp.messages).toHaveLength(1);
    expect(smtp.messages[0]!.to).toEqual(['security@example.com']);
    expect(smtp.messages[0]!.text).toContain(output);
    const line = JSON.parse(await readFile(path.join(root, 'security-scan.log'), 'utf8')) as DeliveryPayload;
    expect(line).toMatchObject({ run: { id: run.id }, output });
    expect(received).toEqual([{ channel: 'pager', output }]);
  });

  it('writes stdout to the stream it was given', async () => {
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    const router = new ChannelRouter({ stdout: stream });
    const job = makeJob();

    await router.route('stdout', job, makeRun(job), 'hello from the agent');

    expect(text).toContain('hello from the agent');
  });

  it('accepts a plain function as a custom channel, registered later', async () => {
    const calls: Array<[string, string, string]> = [];
    const router = new ChannelRouter().register('audit_trail', async (job: CronJobDefinition, run: JobRunRecord, output: string) => {
      calls.push([job.name, run.id, output]);
    });
    const job = makeJob();
    const run = makeRun(job);

    await router.route('audit_trail', job, run, 'recorded');

    expect(calls).toEqual([['daily-report', run.id, 'recorded']]);
    expect(router.has('audit_trail')).toBe(true);
    expect(router.channels()).toEqual(['stdout', 'log_file', 'webhook', 'slack', 'email', 'audit_trail']);
  });

  it('rejects an unknown channel with a DeliveryError naming it', async () => {
    const router = new ChannelRouter({ custom: { pager: async () => {} } });
    const job = makeJob();

    for (const channel of ['sms', 'toString', '__proto__']) {
      const error = await rejection(router.route(channel, job, makeRun(job), 'x'));
      expect(error).toBeInstanceOf(DeliveryError);
      expect((error as unknown as DeliveryError).channel).toBe(channel);
      expect(error.message).toContain(`unknown delivery channel "${channel}"`);
      expect(error.message).toContain('pager');
    }
  });

  it('wraps whatever a custom channel throws in a DeliveryError, and logs it', async () => {
    const logger = capturingLogger();
    const router = new ChannelRouter({ logger });
    router.register('flaky', async () => {
      throw new Error('queue unavailable');
    });
    router.register('strict', async () => {
      throw Object.assign(new Error('payload rejected'), { retryable: false });
    });
    const job = makeJob();
    const run = makeRun(job);

    const flaky = await rejection(router.route('flaky', job, run, 'x'));
    const strict = await rejection(router.route('strict', job, run, 'x'));

    expect(flaky).toBeInstanceOf(DeliveryError);
    expect(flaky.message).toBe('flaky: queue unavailable');
    expect(flaky.retryable).toBe(true);
    expect(strict.retryable).toBe(false);
    expect(logger.entries.filter((entry) => entry.level === 'warn').map((entry) => entry.fields)).toEqual([
      { channel: 'flaky', job: 'daily-report', run_id: run.id, retryable: true, error: 'flaky: queue unavailable' },
      { channel: 'strict', job: 'daily-report', run_id: run.id, retryable: false, error: 'strict: payload rejected' },
    ]);
  });

  it('guards the names of custom channels', () => {
    const router = new ChannelRouter({ custom: { pager: async () => {} } });

    expect(() => router.register('webhook', async () => {})).toThrow(ValidationError);
    expect(() => router.register('has space', async () => {})).toThrow(ValidationError);
    expect(() => router.register('', async () => {})).toThrow(ValidationError);
    expect(() => router.register('pager', async () => {})).toThrow(ConflictError);
  });

  it('rejects a bad configuration when built', () => {
    expect(() => new ChannelRouter({ config: { smtpPort: 0 } })).toThrow('scheduler.delivery.smtp_port');
  });
});
