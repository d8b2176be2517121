import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { describe, expect, it, onTestFinished } from 'vitest';
import { describeNeeding, procMissing } from '../../../../tests/support/describe-needing.js';
import { planFinish } from '../../src/lifecycle/fire-planner.js';
import {
  abandonment,
  deadInstances,
  newRun,
  probeProcess,
  processStartToken,
  resolveSchedulerConfig,
  SILENCE_LIMIT_MS,
  thisProcess,
  type InstanceRecord,
  type JobRunRecord,
  type OverlapPolicy,
  type ProcessProbe,
} from '@symbi/core';
import { FIXTURE_EPOCH, makeJob } from '@symbi/core/testing';

const sec = (n: number): Date => new Date(FIXTURE_EPOCH.getTime() + n * 1000);

const self = { id: 'me', host: 'host-a', pid: 100, startToken: '5' };
/** This host's processes: pid 200 alive, started at tick 7; every other pid gone. */
const probe: ProcessProbe = (pid, startToken) => (pid === 200 && (startToken === null || startToken === '7') ? 'alive' : 'gone');
const row = (fields: Partial<InstanceRecord>): InstanceRecord => ({ id: 'other', host: 'host-a', pid: 200, startToken: '7', beats: 3, silentMs: 0, ...fields });

describe('deadInstances: who is dead, as a live instance sees it', () => {
  const cases: { name: string; instance: InstanceRecord; dead: string | null }[] = [
    { name: 'itself, however silent', instance: row({ id: 'me', pid: 100, startToken: '5', silentMs: 60_000 }), dead: null },
    { name: 'its own id, left by an earlier process that is gone', instance: row({ id: 'me', pid: 300 }), dead: 'its process exited' },
    { name: 'a live process on this host, silent for a minute (cut off from its database)', instance: row({ silentMs: 60_000 }), dead: null },
    { name: 'a process on this host that exited', instance: row({ pid: 300 }), dead: 'its process exited' },
    { name: 'a reused pid: alive, but started at another time', instance: row({ startToken: '6' }), dead: 'its process exited' },
    { name: "an earlier life of this process's own pid", instance: row({ id: 'old-me', pid: 100, startToken: '4' }), dead: 'this process, pid 100, is a later one' },
    { name: 'its own id, left by an earlier life with this pid', instance: row({ id: 'me', pid: 100, startToken: '4' }), dead: 'this process, pid 100, is a later one' },
    { name: 'another scheduler in this very process', instance: row({ id: 'sibling', pid: 100, startToken: '5', silentMs: 60_000 }), dead: null },
    { name: 'another host, beating', instance: row({ host: 'host-b', pid: 300, silentMs: 1_500 }), dead: null },
    { name: 'another host, silent exactly the limit', instance: row({ host: 'host-b', pid: 300, silentMs: SILENCE_LIMIT_MS }), dead: null },
    { name: 'another host, silent past the limit', instance: row({ host: 'host-b', pid: 300, silentMs: SILENCE_LIMIT_MS + 1 }), dead: `no heartbeat for ${SILENCE_LIMIT_MS + 1} ms` },
  ];
  it.each(cases)('$name', ({ instance, dead }) => {
    const verdict = deadInstances([instance], self, probe);
    if (dead === null) expect(verdict).toEqual([]);
    else expect(verdict).toEqual([{ id: instance.id, beats: 3, reason: `instance ${instance.id} (pid ${instance.pid} on ${instance.host}) is gone: ${dead}` }]);
  });
});

it('names a dead instance by its hostname, not its whole host key', () => {
  const [dead] = deadInstances([row({ host: 'worker-7/3f1c-boot/pid:[4026531836]', pid: 300, silentMs: SILENCE_LIMIT_MS + 5 })], self, probe);
  expect(dead?.reason).toBe(`instance other (pid 300 on worker-7) is gone: no heartbeat for ${SILENCE_LIMIT_MS + 5} ms`);
});

describe('abandonment: what happens to a run of a dead owner', () => {
  const job = makeJob({ maxConcurrent: 1 });
  const run = (fields: Partial<JobRunRecord>): JobRunRecord => ({
    ...newRun(job, { scheduledFor: sec(1), trigger: 'schedule' }),
    owner: 'dead',
    leaseExpiresAt: sec(30),
    ...fields,
  });
  const released = { patch: { owner: null, leaseExpiresAt: null }, interrupted: false };
  const pending = [{ channel: 'webhook', status: 'pending' as const, attempts: 0, error: null, completedAt: null }];

  it('a running run ends interrupted now, saying why, and is finished as a lapsed lease is', () => {
    expect(abandonment(run({ status: 'running' }), sec(5), 'its process exited')).toEqual({
      patch: { status: 'interrupted', error: 'interrupted: its process exited', completedAt: sec(5), owner: null, leaseExpiresAt: null },
      interrupted: true,
    });
  });
  it.each(['scheduled', 'awaiting_approval'] as const)('a %s run goes back to the queue', (status) => {
    expect(abandonment(run({ status }), sec(5), 'gone')).toEqual(released);
  });
  it('a finished run with a pending delivery goes back to the outbox', () => {
    expect(abandonment(run({ status: 'succeeded', deliveries: pending }), sec(5), 'gone')).toEqual(released);
  });
  it('history and unowned runs are left alone', () => {
    expect(abandonment(run({ status: 'succeeded' }), sec(5), 'gone')).toBeNull();
    expect(abandonment(run({ status: 'scheduled', owner: null, leaseExpiresAt: null }), sec(5), 'gone')).toBeNull();
  });
});

describe('a retry waiting out its back-off is not in flight', () => {
  const ctx = { now: sec(5), config: resolveSchedulerConfig({ retryBaseDelayMs: 30_000 }), random: () => 0.5 };
  it.each([
    ['skip', true],
    ['buffer_one', true],
    ['cancel_other', true],
    ['allow_all', false],
  ] as [OverlapPolicy, boolean][])('overlap %s: the retry waits for a slot: %s', (overlap, waits) => {
    const job = makeJob({ overlap, consecutiveFailures: 1, maxRetries: 3 });
    const failed = { ...newRun(job, { scheduledFor: sec(1), trigger: 'schedule' }), status: 'failed' as const };
    expect(planFinish(job, failed, 'failure', ctx).retry).toMatchObject({ trigger: 'retry', attempt: 2, dueAt: sec(35), waitForSlot: waits });
  });
});

describe('this process as the operating system sees it', () => {
  it('registers its own pid and host, and the probe finds it alive, and an exited pid gone', () => {
    const me = thisProcess('me');
    expect(me).toMatchObject({ id: 'me', pid: process.pid });
    expect(me.host.length).toBeGreaterThan(0);
    expect(probeProcess(process.pid, me.startToken)).toBe('alive');
    expect(probeProcess(2 ** 22 + 1, null)).toBe('gone');
  });
});

describeNeeding(
  'this process as Linux /proc tells it',
  procMissing,
  () => {
    it('tells a reused pid by its start time', () => {
      const token = processStartToken('self');
      expect(token).toMatch(/^\d+$/);
      expect(processStartToken(process.pid)).toBe(token);
      expect(probeProcess(process.pid, `${Number(token) + 1}`)).toBe('gone');
    });
    it('tells a killed process its parent has not reaped (a zombie) as gone', async () => {
      // `sleep 60` becomes the parent of the background `sleep 0.2` and never waits for it.
      const parent = spawn('sh', ['-c', 'sleep 0.2 & echo $!; exec sleep 60'], { stdio: ['ignore', 'pipe', 'inherit'] });
      onTestFinished(() => void parent.kill('SIGKILL'));
      const [line] = (await once(parent.stdout, 'data')) as [Buffer];
      const pid = Number(line.toString().trim());
      const token = processStartToken(pid);
      await expect.poll(() => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0], { timeout: 5_000 }).toBe('Z');
      expect(token).toMatch(/^\d+$/);
      expect(probeProcess(pid, token)).toBe('gone');
      expect(probeProcess(parent.pid as number, processStartToken(parent.pid as number))).toBe('alive');
    });
  },
  'core',
);
