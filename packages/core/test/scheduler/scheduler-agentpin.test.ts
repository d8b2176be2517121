import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { AgentPinVerifier, DirectoryDiscovery } from '@symbi/core';
import { VirtualClock } from '@symbi/core/testing';
import { AGENT, DOMAIN, NOW, claims, documentOf, issue, newSigningKey } from '../agentpin/issuer.js';
import { startHarness } from './harness.js';

describe('CronScheduler: AgentPin before execution', () => {
  it('runs a job with a valid credential and denies a forged one, writing AgentPinVerificationFailed', async () => {
    const key = await newSigningKey('k1');
    const forger = await newSigningKey('k1');
    const dir = mkdtempSync(join(tmpdir(), 'symbi-agentpin-'));
    writeFileSync(join(dir, `${DOMAIN}.json`), JSON.stringify(documentOf([key])));
    const env = { GOOD_JWT: await issue(key, claims()), FORGED_JWT: await issue(forger, claims()) };
    const { clock, scheduler, executor } = await startHarness({
      clock: new VirtualClock(NOW),
      agentPin: { verifier: new AgentPinVerifier({ discovery: new DirectoryDiscovery(dir) }), domain: DOMAIN, env },
    });
    const secure = { agentId: AGENT, at: new Date(NOW.getTime() + 1000).toISOString(), policy: { requireAgentPin: true } };
    await scheduler.add({ ...secure, name: 'secure-task', agentPinJwt: '${GOOD_JWT}' });
    await scheduler.add({ ...secure, name: 'forged-task', agentPinJwt: '${FORGED_JWT}' });
    await clock.advance('2s');
    // verification does real crypto and file I/O, which a virtual clock does not wait for
    await vi.waitFor(async () => {
      expect((await scheduler.history('secure-task'))[0]!.status).toBe('succeeded');
      expect((await scheduler.history('forged-task'))[0]!.status).toBe('denied');
    });
    const [denied] = await scheduler.history('forged-task');
    expect(denied!.status).toBe('denied');
    expect(denied!.error).toContain('bad_signature');
    expect(denied!.error).not.toContain(env.FORGED_JWT.split('.')[2]!);
    expect(executor.calls).toHaveLength(1);
    const [event] = await scheduler.auditLog({ type: 'AgentPinVerificationFailed' });
    expect(event).toMatchObject({ details: { reason: 'bad_signature', job_name: 'forged-task' } });
    expect(JSON.stringify(event)).not.toContain(env.FORGED_JWT);
    // the stored definition keeps the reference, never the resolved token
    expect((await scheduler.getJob('forged-task')).agentPinJwt).toBe('${FORGED_JWT}');
    await scheduler.stop();
  });

  it('denies and audits a credential addressed to another verifier (aud)', async () => {
    const key = await newSigningKey('k1');
    const dir = mkdtempSync(join(tmpdir(), 'symbi-agentpin-'));
    writeFileSync(join(dir, `${DOMAIN}.json`), JSON.stringify(documentOf([key])));
    const env = { OTHER_AUD_JWT: await issue(key, claims({ aud: 'someone-else.example.com' })) };
    const { clock, scheduler, executor } = await startHarness({
      clock: new VirtualClock(NOW),
      agentPin: { verifier: new AgentPinVerifier({ discovery: new DirectoryDiscovery(dir) }), domain: DOMAIN, env },
    });
    await scheduler.add({ name: 'misaddressed', agentId: AGENT, at: new Date(NOW.getTime() + 1000).toISOString(), agentPinJwt: '${OTHER_AUD_JWT}', policy: { requireAgentPin: true } });
    await clock.advance('2s');
    await vi.waitFor(async () => expect((await scheduler.history('misaddressed'))[0]?.status).toBe('denied'));
    expect((await scheduler.history('misaddressed'))[0]!.error).toContain('wrong_audience');
    expect(executor.calls).toHaveLength(0);
    const [event] = await scheduler.auditLog({ type: 'AgentPinVerificationFailed' });
    expect(event).toMatchObject({ details: { reason: 'wrong_audience', job_name: 'misaddressed' } });
    await scheduler.stop();
  });

  it('denies a job that requires AgentPin when no verifier is configured', async () => {
    const { clock, scheduler } = await startHarness();
    await scheduler.add({ name: 'p', agentId: 'a', at: '2026-03-02T09:00:01Z', policy: { requireAgentPin: true } });
    await clock.advance('2s');
    await vi.waitFor(async () => expect((await scheduler.history('p'))[0]).toMatchObject({ status: 'denied' }));
    expect((await scheduler.auditLog({ type: 'AgentPinVerificationFailed' }))[0]?.details).toMatchObject({ reason: 'not_configured' });
    await scheduler.stop();
  });
});
