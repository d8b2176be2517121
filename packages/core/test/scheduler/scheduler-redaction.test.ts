import { describe, expect, it, vi } from 'vitest';
import { Redactor } from '@symbi/core';
import { failingAgent } from '@symbi/core/testing';
import { startHarness } from './harness.js';

const SMTP_PASSWORD = 'smtp-pass-0f1e2d';
const PROVIDER_KEY = 'sk-proj-AAAABBBBCCCCDDDD';

describe('CronScheduler: secrets never reach the store', () => {
  it('masks configured secrets and key shapes in run errors, output, stderr, history, sessions and audit', async () => {
    const { clock, scheduler, store, router } = await startHarness({
      redactor: new Redactor([SMTP_PASSWORD]),
      agents: {
        // an LLM provider whose 401 body echoes the key
        llm: failingAgent(`provider answered 401: {"error":"Incorrect API key provided: ${PROVIDER_KEY}"}`),
        chatty: () => ({ output: `connected with ${SMTP_PASSWORD}`, summary: `pw ${SMTP_PASSWORD}`, stderr: `debug: Authorization: Bearer ${PROVIDER_KEY}` }),
      },
    });
    await scheduler.add({ name: 'llm-job', agentId: 'llm', at: '2026-03-02T09:00:01Z', maxRetries: 0 });
    await scheduler.add({ name: 'chatty-job', agentId: 'chatty', at: '2026-03-02T09:00:01Z', delivery: ['custom'], sessionMode: 'shared_persistent' });
    await clock.advance('2s');
    await vi.waitFor(async () => {
      expect((await scheduler.history('llm-job'))[0]?.status).toBe('failed');
      expect((await scheduler.history('chatty-job'))[0]?.status).toBe('succeeded');
    });
    const [failed] = await scheduler.history('llm-job');
    expect(failed!.error).toContain('Incorrect API key provided: [redacted]');
    const [chatty] = await scheduler.history('chatty-job');
    expect(chatty).toMatchObject({ output: 'connected with [redacted]', summary: 'pw [redacted]', stderr: 'debug: Authorization: Bearer [redacted]' });
    // what a channel receives is the stored, masked output
    expect(router.delivered[0]?.output).toBe('connected with [redacted]');
    const written = JSON.stringify({
      runs: [...(await scheduler.history('llm-job')), ...(await scheduler.history('chatty-job'))],
      audit: await scheduler.auditLog({}),
      session: await store.loadSession((await scheduler.getJob('chatty-job')).id),
    });
    expect(written).toContain('CronJobFailed');
    expect(written).not.toContain(PROVIDER_KEY);
    expect(written).not.toContain(SMTP_PASSWORD);
    await scheduler.stop();
  });
});
