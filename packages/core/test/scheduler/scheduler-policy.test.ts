import { describe, expect, it } from 'vitest';
import { SchedulePolicyDecision, InvalidStateError, type PolicyGate } from '@symbi/core';
import { startHarness } from './harness.js';


describe('CronScheduler: policy gates and approvals', () => {
  it('holds a run for approval, and an approved run executes without asking again', async () => {
    const { clock, scheduler, executor } = await startHarness();
    await scheduler.add({
      name: 'production-deploy',
      agentId: 'deploy-agent',
      at: '2026-03-02T09:00:05Z',
      policy: { requireApproval: true, approver: 'release-manager' },
    });
    await clock.advance('10s');
    expect(executor.calls).toHaveLength(0);
    const [pending] = await scheduler.pendingApprovals();
    expect(pending).toMatchObject({ status: 'awaiting_approval', owner: null });
    expect(pending!.approval).toMatchObject({ approver: 'release-manager', policyId: 'production-deploy/require_approval', decision: null });
    const approved = await scheduler.approve(pending!.id, { approver: 'alice', note: 'ship it' });
    expect(approved.status).toBe('scheduled');
    await clock.advance('10ms');
    expect(executor.calls).toHaveLength(1);
    const done = await scheduler.getRun(pending!.id);
    expect(done.status).toBe('succeeded');
    expect(done.approval).toMatchObject({ decision: 'approved', decidedBy: 'alice', note: 'ship it' });
    expect((await scheduler.getJob('production-deploy')).status).toBe('completed');
    const types = (await scheduler.auditLog()).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['ApprovalRequested', 'ApprovalGranted', 'CronJobExecuted']));
    await expect(scheduler.approve(pending!.id, { approver: 'bob' })).rejects.toBeInstanceOf(InvalidStateError);
    await scheduler.stop();
  });

  it('a denied approval ends the run denied, not failed', async () => {
    const { clock, scheduler, executor } = await startHarness();
    await scheduler.add({ name: 'd', agentId: 'a', cronExpr: '0 * * * * *', maxRetries: 1, policy: { requireApproval: true } });
    await clock.advance('1m');
    const [pending] = await scheduler.pendingApprovals();
    const denied = await scheduler.deny(pending!.id, { approver: 'bob', note: 'not today' });
    expect(denied).toMatchObject({ status: 'denied' });
    expect(denied.error).toContain('not today');
    expect(executor.calls).toHaveLength(0);
    expect((await scheduler.getJob('d'))).toMatchObject({ status: 'active', consecutiveFailures: 0 });
    expect((await scheduler.auditLog({ type: 'ApprovalDenied' }))).toHaveLength(1);
    await scheduler.stop();
  });

  it('an approval request that nobody answers expires and ends denied', async () => {
    const { clock, scheduler } = await startHarness({ config: { approvalTimeoutMs: 60_000, tickIntervalMs: 1000 } });
    await scheduler.add({ name: 'e', agentId: 'a', at: '2026-03-02T09:00:01Z', policy: { requireApproval: true } });
    await clock.advance('30s');
    expect(await scheduler.pendingApprovals()).toHaveLength(1);
    await clock.advance('32s');
    expect(await scheduler.pendingApprovals()).toHaveLength(0);
    const [run] = await scheduler.history('e');
    expect(run).toMatchObject({ status: 'denied', error: 'approval request expired' });
    expect(run!.approval?.decision).toBe('expired');
    expect((await scheduler.getJob('e')).status).toBe('failed');
    expect(await scheduler.auditLog({ type: 'ApprovalExpired' })).toHaveLength(1);
    await scheduler.stop();
  });

  it('denies outside allowed_hours (UTC) and runs inside; denials never dead-letter', async () => {
    const { clock, scheduler, executor } = await startHarness();
    await scheduler.add({
      name: 'night',
      agentId: 'a',
      cronExpr: '0 0 * * * *',
      maxRetries: 1,
      policy: { allowedHours: { start: '22:00', end: '02:00' } },
    });
    await clock.advance('3h');
    const denied = await scheduler.history('night');
    expect(denied.map((r) => r.status)).toEqual(['denied', 'denied', 'denied']);
    expect(denied[0]!.error).toMatch(/22:00/);
    expect((await scheduler.getJob('night')).status).toBe('active');
    await clock.advanceTo('2026-03-03T01:00:01Z');
    expect(executor.calls.map((c) => new Date(c.startedAt).toISOString())).toEqual([
      '2026-03-02T22:00:00.000Z',
      '2026-03-02T23:00:00.000Z',
      '2026-03-03T00:00:00.000Z',
      '2026-03-03T01:00:00.000Z',
    ]);
    await scheduler.stop();
  });

  it('checks allowed_environments against the scheduler environment and capabilities against the agent', async () => {
    const { clock, scheduler, executor } = await startHarness({ config: { environment: 'staging' } });
    executor.define('deployer', () => 'deployed', ['deployment']);
    await scheduler.add({ name: 'env', agentId: 'deployer', at: '2026-03-02T09:00:01Z', policy: { allowedEnvironments: ['production'] } });
    await scheduler.add({ name: 'caps', agentId: 'deployer', at: '2026-03-02T09:00:01Z', policy: { requireCapabilities: ['deployment', 'production_write'] } });
    await scheduler.add({ name: 'ok', agentId: 'deployer', at: '2026-03-02T09:00:01Z', policy: { allowedEnvironments: ['staging'], requireCapabilities: ['deployment'] } });
    await clock.advance('2s');
    expect((await scheduler.history('env'))[0]!.error).toMatch(/staging/);
    expect((await scheduler.history('caps'))[0]!.error).toMatch(/production_write/);
    expect((await scheduler.history('ok'))[0]!.status).toBe('succeeded');
    await scheduler.stop();
  });

  it('runs host gates in order after the built-in one; the first non-Allow decides', async () => {
    const seen: string[] = [];
    const first: PolicyGate = { name: 'first', evaluate: () => (seen.push('first'), SchedulePolicyDecision.deny('maintenance window')) };
    const second: PolicyGate = { name: 'second', evaluate: () => (seen.push('second'), SchedulePolicyDecision.allow()) };
    const { clock, scheduler } = await startHarness({ gates: [first, second] });
    await scheduler.add({ name: 'h', agentId: 'a', at: '2026-03-02T09:00:01Z' });
    await clock.advance('2s');
    expect(seen).toEqual(['first']);
    expect((await scheduler.history('h'))[0]).toMatchObject({ status: 'denied', error: 'maintenance window' });
    await scheduler.stop();
  });
});
