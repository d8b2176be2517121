import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeliveryError } from '@symbi/core';
import { SlackRouter, WebhookRouter } from '@symbi/delivery';
import type { HostResolver } from '@symbi/delivery';
import { isBlockedAddress } from '../src/address-guard.js';
import { instantClock, makeJob, makeRun, rejection } from './support/fixtures.js';
import { HttpRecorder } from './support/http-recorder.js';

let recorder: HttpRecorder;
beforeEach(async () => {
  recorder = await HttpRecorder.start();
});
afterEach(async () => {
  await recorder.close();
});

/** Answers from a fixed table instead of DNS, so a name can point anywhere. */
function fakeDns(table: Record<string, string[]>): HostResolver {
  return async (hostname) => (table[hostname] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
}

describe('isBlockedAddress', () => {
  it.each([
    ['169.254.169.254', true],
    ['169.254.0.1', true],
    ['169.254.255.255', true],
    ['169.253.255.255', false],
    ['169.255.0.1', false],
    ['10.0.0.1', false],
    ['127.0.0.1', false],
    ['fe80::1', true],
    ['fe80::1%eth0', true],
    ['febf:ffff::1', true],
    ['fec0::1', false],
    ['fd00:ec2::254', true],
    ['fd00:ec2::253', false],
    ['::ffff:169.254.169.254', true],
    ['::ffff:a9fe:a9fe', true],
    ['::ffff:127.0.0.1', false],
    ['64:ff9b::169.254.169.254', true],
    ['::1', false],
    ['2001:db8::1', false],
  ])('%s → %s', (address, blocked) => {
    expect(isBlockedAddress(address)).toBe(blocked);
  });
});

describe('link-local and metadata refusal', () => {
  it.each([
    'http://169.254.169.254/latest/meta-data/iam',
    'http://169.254.10.20:8080/hook',
    'http://2852039166/latest/meta-data',
    'http://[fe80::1]:8080/hook',
    'http://[::ffff:169.254.169.254]/latest',
    'http://[fd00:ec2::254]/latest/meta-data',
    'http://metadata.google.internal/computeMetadata/v1/',
    'http://METADATA.GOOGLE.INTERNAL./computeMetadata/v1/',
  ])('refuses %s without connecting', async (url) => {
    const router = new WebhookRouter({ clock: instantClock(), resolveHost: fakeDns({}) });
    const job = makeJob({ webhookUrl: url });

    const error = await rejection(router.route('webhook', job, makeRun(job), 'x'));

    expect(error).toBeInstanceOf(DeliveryError);
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('allow_link_local');
  });

  it('refuses a name that resolves to a link-local address, even among others', async () => {
    const router = new WebhookRouter({ clock: instantClock(), resolveHost: fakeDns({ 'rebind.test': ['127.0.0.1', '169.254.169.254'] }) });
    const job = makeJob({ webhookUrl: `http://rebind.test:${recorder.port}/hook` });

    const error = await rejection(router.route('webhook', job, makeRun(job), 'x'));

    expect(error.message).toContain('resolves to the link-local or metadata address 169.254.169.254');
    expect(error.retryable).toBe(false);
    expect(recorder.requests).toHaveLength(0);
  });

  it('connects to the address the guarded lookup checked', async () => {
    const router = new WebhookRouter({ clock: instantClock(), resolveHost: fakeDns({ 'hooks.test': ['127.0.0.1'] }) });
    const job = makeJob({ webhookUrl: `http://hooks.test:${recorder.port}/hook` });

    await router.route('webhook', job, makeRun(job), 'through the guard');

    expect(recorder.requests).toHaveLength(1);
    expect(recorder.requests[0]!.headers.host).toBe(`hooks.test:${recorder.port}`);
  });

  it('lets a link-local answer through when allowLinkLocal is set', async () => {
    // The loopback address comes first, so the connection lands on the recorder and nothing
    // link-local is ever contacted; without the flag this very answer is refused (see above).
    const router = new WebhookRouter({
      config: { allowLinkLocal: true },
      clock: instantClock(),
      resolveHost: fakeDns({ 'rebind.test': ['127.0.0.1', '169.254.169.254'] }),
    });
    const job = makeJob({ webhookUrl: `http://rebind.test:${recorder.port}/hook` });

    await router.route('webhook', job, makeRun(job), 'allowed');

    expect(recorder.requests).toHaveLength(1);
  });

  it('guards Slack destinations too', async () => {
    const router = new SlackRouter({ config: { slackWebhookUrl: 'http://169.254.169.254/services/T/B/X' }, clock: instantClock() });
    const job = makeJob();

    const error = await rejection(router.route('slack', job, makeRun(job), 'x'));

    expect(error.message).toContain('allow_link_local');
  });
});
