import { describe, expect, it } from 'vitest';
import type { AuditLevel } from '@symbi/core';
import { startHarness } from './harness.js';

/** Runs one job whose runs alternate success and failure, and returns its audit event types. */
async function auditedTypes(audit: AuditLevel | undefined): Promise<string[]> {
  const { clock, scheduler } = await startHarness({
    agents: {
      flaky: (_request, call) => {
        if (call % 2 === 0) throw new Error('boom');
        return 'ok';
      },
    },
  });
  await scheduler.add({ name: 'j', agentId: 'flaky', cronExpr: '0 * * * * *', maxRetries: 10, policy: audit === undefined ? {} : { audit } });
  await clock.advance('2m');
  await scheduler.pause('j');
  await scheduler.stop();
  return (await scheduler.auditLog()).map((event) => event.type).reverse();
}

describe('CronScheduler: policy.audit decides which run events the audit log records', () => {
  it('all_operations (the default) records every finished run', async () => {
    const expected = ['CronJobCreated', 'CronJobExecuted', 'CronJobFailed', 'CronJobPaused'];
    expect(await auditedTypes(undefined)).toEqual(expected);
    expect(await auditedTypes('all_operations')).toEqual(expected);
  });

  it('gives each event a time-ordered id (UUID version 7), later events sorting after earlier ones', async () => {
    const { clock, scheduler } = await startHarness();
    await scheduler.add({ name: 'j', agentId: 'echo', cronExpr: '0 * * * * *' });
    await clock.advance('3m');
    await scheduler.stop();
    const ids = (await scheduler.auditLog()).map((event) => event.id).reverse();
    expect(ids.length).toBeGreaterThanOrEqual(4);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect([...ids].sort()).toEqual(ids);
  });

  it('errors_only records failed runs but not successful ones', async () => {
    expect(await auditedTypes('errors_only')).toEqual(['CronJobCreated', 'CronJobFailed', 'CronJobPaused']);
  });

  it('none records no run events, but definition changes still', async () => {
    expect(await auditedTypes('none')).toEqual(['CronJobCreated', 'CronJobPaused']);
  });

  it('a dead-lettered job is recorded at every level', async () => {
    const { clock, scheduler } = await startHarness({ agents: { bad: () => { throw new Error('boom'); } } });
    await scheduler.add({ name: 'd', agentId: 'bad', cronExpr: '0 * * * * *', maxRetries: 1, policy: { audit: 'none' } });
    await clock.advance('1m');
    await scheduler.stop();
    expect((await scheduler.auditLog()).map((event) => event.type)).toEqual(['CronJobDeadLettered', 'CronJobCreated']);
  });

  it('an unknown level is refused, naming policy.audit', async () => {
    const { scheduler } = await startHarness();
    await expect(scheduler.add({ name: 'x', agentId: 'a', cronExpr: '@daily', policy: { audit: 'everything' as AuditLevel } })).rejects.toMatchObject({
      field: 'policy.audit',
    });
    await scheduler.stop();
  });
});
