import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeliveryError } from '@symbi/core';
import { SlackRouter, WebhookRouter } from '@symbi/delivery';
import type { HostResolver } from '@symbi/delivery';
import { classifyAddress, isBlockedAddress, OutboundPolicy } from '../src/address-guard.js';
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

describe('classifyAddress', () => {
  it.each([
    ['8.8.8.8', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fec0::1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fd00:ec2::254', 'metadata'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['::127.0.0.1', 'reserved'],
    ['224.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
    ['ff02::1', 'reserved'],
    ['2606:4700::1111', 'public'],
  ])('%s is %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });
});

describe('the outbound policy for job URLs (decided without connecting)', () => {
  const SELF = [{ address: '127.0.0.1', port: 8080 }, { address: '203.0.113.7', port: 8080 }];
  const decide = (url: string, options: ConstructorParameters<typeof OutboundPolicy>[0] = {}, address?: string) => {
    const policy = new OutboundPolicy({ selfEndpoints: () => SELF, ...options });
    try {
      const parsed = new URL(url);
      policy.checkUrl(parsed, 'job');
      if (address !== undefined) policy.checkAddress(parsed, address, 'job');
      return 'allowed';
    } catch (error) {
      return (error as Error).message;
    }
  };

  it.each([
    'http://127.0.0.1:9000/x',
    'http://127.1/x',
    'http://localhost:9000/x',
    'http://api.localhost/x',
    'http://0.0.0.0:9000/x',
    'http://0/x',
    'http://[::]/x',
    'http://[::1]:9000/x',
    'http://10.0.0.5/x',
    'http://192.168.0.10/x',
    'http://[fd00::5]/x',
    'http://169.254.169.254/latest/meta-data/iam',
    'http://2852039166/latest/meta-data',
    'http://metadata.google.internal/computeMetadata/v1/',
  ])('refuses %s by default', (url) => {
    expect(decide(url)).toMatch(/^refusing .*allow_hosts/);
  });

  it('refuses names that resolve to such addresses', () => {
    expect(decide('http://intranet.example.com/x', {}, '10.0.0.7')).toBe(
      'refusing intranet.example.com: it resolves to 10.0.0.7, a private address (an operator can permit the host with scheduler.delivery.allow_hosts)',
    );
    expect(decide('http://rebind.example.com/x', {}, '::ffff:127.0.0.1')).toMatch(/loopback/);
    expect(decide('http://hooks.example.com/x', {}, '93.184.216.34')).toBe('allowed');
  });

  it("refuses the scheduler's own API even when its address is allow-listed", () => {
    expect(decide('http://127.0.0.1:8080/api/v1/schedule', { allowHosts: ['127.0.0.1'] })).toMatch(/the scheduler's own API/);
    expect(decide('http://me.example.com:8080/api/v1/schedule', {}, '203.0.113.7')).toMatch(/the scheduler's own API/);
    expect(decide('http://me.example.com:8081/x', {}, '203.0.113.7')).toBe('allowed');
  });

  it('allows what an operator allow-listed, by name, address, port or domain', () => {
    expect(decide('http://127.0.0.1:9000/x', { allowHosts: ['127.0.0.1'] })).toBe('allowed');
    expect(decide('http://hooks.internal:9000/x', { allowHosts: ['hooks.internal:9000'] }, '10.0.0.7')).toBe('allowed');
    expect(decide('http://hooks.internal:9001/x', { allowHosts: ['hooks.internal:9000'] }, '10.0.0.7')).toMatch(/private/);
    expect(decide('http://a.corp.example/x', { allowHosts: ['*.corp.example'] }, '10.0.0.7')).toBe('allowed');
    expect(decide('http://corp.example/x', { allowHosts: ['*.corp.example'] }, '10.0.0.7')).toMatch(/private/);
    expect(decide('http://hooks.test:9000/x', { allowHosts: ['127.0.0.1'] }, '127.0.0.1')).toBe('allowed');
    expect(decide('http://[::1]:9000/x', { allowHosts: ['[0:0::1]:9000'] })).toBe('allowed');
  });
});

describe('deliveries under the outbound policy', () => {
  it('refuses a loopback webhook without connecting, and delivers once the host is allow-listed', async () => {
    const job = makeJob({ webhookUrl: `http://hooks.test:${recorder.port}/hook` });
    const refusing = new WebhookRouter({ clock: instantClock(), resolveHost: fakeDns({ 'hooks.test': ['127.0.0.1'] }) });
    const error = await rejection(refusing.route('webhook', job, makeRun(job), 'x'));
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('it resolves to 127.0.0.1, a loopback address');
    expect(recorder.requests).toHaveLength(0);

    const allowed = new WebhookRouter({ config: { allowHosts: ['hooks.test'] }, clock: instantClock(), resolveHost: fakeDns({ 'hooks.test': ['127.0.0.1'] }) });
    await allowed.route('webhook', job, makeRun(job), 'through the guard');
    expect(recorder.requests).toHaveLength(1);
    expect(recorder.requests[0]!.headers.host).toBe(`hooks.test:${recorder.port}`);
  });

  it('refuses a name that resolves to a link-local address among others', async () => {
    const router = new WebhookRouter({
      config: { allowHosts: ['127.0.0.1'] },
      clock: instantClock(),
      resolveHost: fakeDns({ 'rebind.test': ['127.0.0.1', '169.254.169.254'] }),
    });
    const job = makeJob({ webhookUrl: `http://rebind.test:${recorder.port}/hook` });

    const error = await rejection(router.route('webhook', job, makeRun(job), 'x'));

    expect(error.message).toContain('it resolves to 169.254.169.254, a link-local address');
    expect(recorder.requests).toHaveLength(0);
  });

  it("refuses a webhook to the scheduler's own API", async () => {
    const router = new WebhookRouter({
      config: { allowHosts: ['127.0.0.1'] },
      clock: instantClock(),
      selfEndpoints: () => [{ address: '127.0.0.1', port: recorder.port }],
    });
    const job = makeJob({ webhookUrl: recorder.url('/api/v1/schedule') });
    expect((await rejection(router.route('webhook', job, makeRun(job), 'x'))).message).toContain("the scheduler's own API");
    expect(recorder.requests).toHaveLength(0);
  });

  it('lets operator-written Slack URLs reach loopback, but not link-local addresses unless allow_link_local', async () => {
    const job = makeJob();
    const local = new SlackRouter({ config: { slackWebhookUrl: recorder.url('/services/T/B/X') }, clock: instantClock() });
    await local.route('slack', job, makeRun(job), 'x');
    expect(recorder.requests).toHaveLength(1);

    const metadata = new SlackRouter({ config: { slackWebhookUrl: 'http://169.254.169.254/services/T/B/X' }, clock: instantClock() });
    expect((await rejection(metadata.route('slack', job, makeRun(job), 'x'))).message).toContain('allow_link_local');

    // the loopback answer comes first, so the connection lands on the recorder and nothing link-local is contacted
    const flagged = new SlackRouter({
      config: { slackWebhookUrl: `http://rebind.test:${recorder.port}/services/T/B/X`, allowLinkLocal: true },
      clock: instantClock(),
      resolveHost: fakeDns({ 'rebind.test': ['127.0.0.1', '169.254.169.254'] }),
    });
    await flagged.route('slack', job, makeRun(job), 'allowed');
    expect(recorder.requests).toHaveLength(2);
  });
});
