import { describe, expect, it } from 'vitest';
import { approveRun, changeJobStatus, denyRun, InvalidStateError, releaseClaim, type JobStatus, type JobStatusChange, type RunApproval } from '@symbi/core';
import { FIXTURE_EPOCH, makeJob } from '@symbi/core/testing';

const sec = (n: number): Date => new Date(FIXTURE_EPOCH.getTime() + n * 1000);

describe('changeJobStatus: pause, resume and reset', () => {
  it.each<{ change: JobStatusChange; from: JobStatus; to: JobStatus; nextRun: Date | null; consecutiveFailures: number }>([
    { change: 'pause', from: 'active', to: 'paused', nextRun: null, consecutiveFailures: 2 },
    { change: 'resume', from: 'paused', to: 'active', nextRun: sec(11), consecutiveFailures: 2 },
    { change: 'reset', from: 'dead_letter', to: 'active', nextRun: sec(11), consecutiveFailures: 0 },
    { change: 'reset', from: 'failed', to: 'active', nextRun: sec(11), consecutiveFailures: 0 },
  ])('$change turns a $from job $to', ({ change, from, to, nextRun, consecutiveFailures }) => {
    const job = makeJob({ status: from, nextRun: from === 'active' ? sec(1) : null, consecutiveFailures: 2 });
    expect(changeJobStatus(job, change, sec(10.5))).toEqual({ ...job, status: to, nextRun, consecutiveFailures, updatedAt: sec(10.5) });
  });

  it.each<{ change: JobStatusChange; from: JobStatus; message: string }>([
    { change: 'pause', from: 'paused', message: 'is paused; only a job that is active can become paused' },
    { change: 'resume', from: 'dead_letter', message: 'is dead_letter; only a job that is paused can become active' },
    { change: 'reset', from: 'active', message: 'is active; only a job that is dead_letter or failed can become active' },
  ])('$change refuses a $from job', ({ change, from, message }) => {
    const job = makeJob({ name: 'nightly', status: from });
    expect(() => changeJobStatus(job, change, sec(10))).toThrow(new InvalidStateError(`job nightly ${message}`));
  });
});

describe('approval decisions and handing back a claim', () => {
  const approval: RunApproval = {
    approver: 'ops',
    reason: 'needs a human',
    policyId: 'p1',
    requestedAt: sec(1),
    expiresAt: sec(100),
    decision: null,
    decidedBy: null,
    decidedAt: null,
    note: null,
  };

  it('approving queues the run again, due now, while it still waits for approval', () => {
    expect(approveRun({ approval }, { approver: 'alice', note: 'ok' }, sec(5))).toEqual({
      patch: { status: 'scheduled', dueAt: sec(5), approval: { ...approval, decision: 'approved', decidedBy: 'alice', decidedAt: sec(5), note: 'ok' } },
      guard: { statusIn: ['awaiting_approval'] },
    });
  });

  it.each([
    { outcome: 'denied' as const, note: 'not today', error: 'denied by alice: not today' },
    { outcome: 'denied' as const, note: null, error: 'denied by alice' },
    { outcome: 'expired' as const, note: null, error: 'approval request expired' },
  ])('a $outcome request ends the run denied at the decision time: "$error"', ({ outcome, note, error }) => {
    expect(denyRun({ approval }, outcome, { approver: 'alice', note }, sec(5))).toEqual({
      status: 'denied',
      completedAt: sec(5),
      error,
      approval: { ...approval, decision: outcome, decidedBy: 'alice', decidedAt: sec(5), note },
    });
  });

  it('refuses to decide a run that has no approval request', () => {
    expect(() => approveRun({ approval: null }, { approver: 'alice', note: null }, sec(5))).toThrow(InvalidStateError);
  });

  it('a claim handed back loses owner and lease, only while its owner holds it and it has not started', () => {
    expect(releaseClaim('me')).toEqual({ patch: { owner: null, leaseExpiresAt: null }, guard: { owner: 'me', statusIn: ['scheduled'] } });
  });
});
