import { identifierProblem, jobSpecFromWire, ValidationError, type JobSpec } from '@symbi/core';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.js';

let harness: Harness;
afterEach(async () => {
  await harness?.scheduler.stop();
});

const base: JobSpec = { name: 'nightly', agentId: 'reporter', cronExpr: '@daily' };

async function refusal(spec: JobSpec): Promise<ValidationError> {
  const error = await harness.scheduler.add(spec).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ValidationError);
  return error as ValidationError;
}

describe('one validation for every identifier field', () => {
  it.each([
    ['name', { name: 'ok\u0000' }],
    ['agent_id', { agentId: '\u001b]0;pwn\u0007' }],
    ['agent_id', { agentId: 'a\u009bb' }],
    ['agent_id', { agentId: 'evil\u202etxt.exe' }],
    ['policy.approver', { policy: { approver: 'ops\r\nX-Injected: 1' } }],
    ['slack_channel', { slackChannel: '#ops\u0007' }],
    ['policy.require_capabilities[0]', { policy: { requireCapabilities: ['net\u0000'] } }],
    ['policy.allowed_environments[1]', { policy: { allowedEnvironments: ['prod', 'dev\u001b[2J'] } }],
    ['email_recipients[0]', { delivery: ['email'], emailRecipients: ['a\u0000@example.com'] }],
    ['name', { name: 'lone \ud800 high' }],
    ['name', { name: 'lone \udc00 low' }],
  ] as [string, Partial<JobSpec>][])('refuses %s with a control, bidi or unpaired surrogate character and stores nothing', async (field, patch) => {
    harness = await startHarness();
    const error = await refusal({ ...base, ...patch });
    expect(error.field).toBe(field);
    expect(error.message).toMatch(/^[^\u0000-\u001f\u007f-\u009f]*found U\+[0-9A-F]{4} at position \d+/);
    expect(await harness.scheduler.list()).toEqual([]);
  });

  it('keeps names that differ only in their unpaired surrogates apart: both are refused, neither collides', async () => {
    harness = await startHarness();
    expect((await refusal({ ...base, name: 'x\ud800' })).field).toBe('name');
    expect((await refusal({ ...base, name: 'x\ud801' })).field).toBe('name');
    const paired = await harness.scheduler.add({ ...base, name: 'x\ud83d\ude00' });
    expect((await harness.scheduler.getJob('x\ud83d\ude00')).id).toBe(paired.id);
  });

  it('accepts ordinary Unicode names and agents', async () => {
    harness = await startHarness();
    const job = await harness.scheduler.add({ ...base, name: 'Rapport quotidien — équipe 東京', agentId: 'agent.v2:beta' });
    expect(job.name).toBe('Rapport quotidien — équipe 東京');
    expect(identifierProblem('tab\there')).toMatch(/U\+0009/);
    expect(identifierProblem('   ')).toBe('must not be empty');
    expect(identifierProblem('x'.repeat(201))).toBe('must be at most 200 characters');
  });

  it('serves a channel or recipient listed twice once', async () => {
    harness = await startHarness();
    const job = await harness.scheduler.add({
      ...base,
      delivery: ['stdout', 'email', 'stdout'],
      emailRecipients: ['ops@example.com', 'ops@example.com', 'cto@example.com'],
    });
    expect(job.delivery).toEqual(['stdout', 'email']);
    expect(job.emailRecipients).toEqual(['ops@example.com', 'cto@example.com']);
    const updated = await harness.scheduler.update(job.id, { delivery: ['log_file', 'log_file'] });
    expect(updated.delivery).toEqual(['log_file']);
  });
});

describe('ids and names cannot be confused', () => {
  it('generates every id and refuses one chosen through the wire format', async () => {
    harness = await startHarness();
    expect(() => jobSpecFromWire({ id: 'slow', name: 'shadow', agent_id: 'a', cron_expr: '@daily' })).toThrow(
      expect.objectContaining({ field: 'id' }) as Error,
    );
    const job = await harness.scheduler.add({ ...base, ...({ id: 'slow' } as object) });
    expect(job.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('refuses a name shaped like a job id, so a name can never equal another job id', async () => {
    harness = await startHarness();
    const victim = await harness.scheduler.add({ ...base, name: 'victim' });
    const error = await refusal({ ...base, name: victim.id });
    expect(error.field).toBe('name');
    expect(await refusal({ ...base, name: victim.id.toUpperCase() })).toMatchObject({ field: 'name' });
  });

  it('looks a UUID up only as an id and anything else only as a name', async () => {
    harness = await startHarness();
    const slow = await harness.scheduler.add({ ...base, name: 'slow' });
    const shadow = await harness.scheduler.add({ ...base, name: 'shadow' });
    expect((await harness.scheduler.pause('slow')).id).toBe(slow.id);
    expect((await harness.scheduler.getJob(shadow.id)).name).toBe('shadow');
    expect((await harness.scheduler.getJob('shadow')).status).toBe('active');
    await expect(harness.scheduler.getJob('00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({ code: 'JOB_NOT_FOUND' });
  });
});
