import { describe, expect, it } from 'vitest';
import { SchedulePolicyGate } from '@symbi/core';
import { makeContext, makeJob } from './fixtures.js';

const gate = new SchedulePolicyGate();
const INSIDE = '2026-03-01T01:30:00Z';

describe('SchedulePolicyGate', () => {
  it('is named schedule-policy and allows a job without conditions', () => {
    expect(gate.name).toBe('schedule-policy');
    expect(gate.evaluate(makeJob(), makeContext(INSIDE))).toEqual({ kind: 'Allow' });
  });

  it('does not enforce max_runtime at the start of a run', () => {
    const job = makeJob({ policy: { maxRuntimeMs: 1 } });
    expect(gate.evaluate(job, makeContext(INSIDE))).toEqual({ kind: 'Allow' });
  });

  describe('allowed_hours', () => {
    const job = makeJob({ policy: { allowedHours: { start: '23:00', end: '04:00' } } });

    it('allows inside a window that crosses midnight, at both sides of midnight', () => {
      expect(gate.evaluate(job, makeContext('2026-03-01T23:00:00Z')).kind).toBe('Allow');
      expect(gate.evaluate(job, makeContext('2026-03-02T00:00:00Z')).kind).toBe('Allow');
      expect(gate.evaluate(job, makeContext('2026-03-02T03:59:59Z')).kind).toBe('Allow');
    });

    it('denies at the exclusive end and before the start, naming the window and the time', () => {
      expect(gate.evaluate(job, makeContext('2026-03-02T04:00:00Z'))).toEqual({
        kind: 'Deny',
        reason: 'outside allowed_hours 23:00-04:00 UTC: the run would start at 04:00:00 UTC',
      });
      expect(gate.evaluate(job, makeContext('2026-03-01T22:59:59Z'))).toEqual({
        kind: 'Deny',
        reason: 'outside allowed_hours 23:00-04:00 UTC: the run would start at 22:59:59 UTC',
      });
    });
  });

  describe('allowed_environments', () => {
    const job = makeJob({ policy: { allowedEnvironments: ['staging', 'production'] } });

    it('allows a listed environment', () => {
      expect(gate.evaluate(job, makeContext(INSIDE, { environment: 'staging' })).kind).toBe('Allow');
    });

    it('denies another environment, naming it and the allowed ones', () => {
      expect(gate.evaluate(job, makeContext(INSIDE, { environment: 'development' }))).toEqual({
        kind: 'Deny',
        reason: 'environment "development" is not in allowed_environments [staging, production]',
      });
    });

    it('allows every environment when the list is empty', () => {
      expect(gate.evaluate(makeJob(), makeContext(INSIDE, { environment: 'anything' })).kind).toBe('Allow');
    });
  });

  describe('require_capabilities', () => {
    const job = makeJob({ policy: { requireCapabilities: ['deployment', 'production_write', 'audit'] } });

    it('allows an agent declaring every required capability (and more)', () => {
      const context = makeContext(INSIDE, { capabilities: ['audit', 'deployment', 'production_write', 'extra'] });
      expect(gate.evaluate(job, context).kind).toBe('Allow');
    });

    it('denies naming only the missing capabilities', () => {
      const context = makeContext(INSIDE, { capabilities: ['deployment'] });
      expect(gate.evaluate(job, context)).toEqual({
        kind: 'Deny',
        reason: 'agent "deploy-agent" lacks required capabilities: production_write, audit',
      });
    });
  });

  describe('require_approval', () => {
    it('asks the operator by default, with the job-scoped policy id', () => {
      const job = makeJob({ policy: { requireApproval: true } });
      expect(gate.evaluate(job, makeContext(INSIDE))).toEqual({
        kind: 'RequiresApproval',
        approver: 'operator',
        reason: 'job "production-deploy" requires approval before each run',
        policyId: 'production-deploy/require_approval',
      });
    });

    it('asks the configured approver', () => {
      const job = makeJob({ policy: { requireApproval: true, approver: 'release-manager' } });
      const decision = gate.evaluate(job, makeContext(INSIDE));
      expect(decision).toMatchObject({ kind: 'RequiresApproval', approver: 'release-manager' });
    });

    it('is evaluated after every deny condition', () => {
      const job = makeJob({
        policy: {
          requireApproval: true,
          allowedHours: { start: '00:00', end: '04:00' },
          allowedEnvironments: ['production'],
          requireCapabilities: ['deployment'],
        },
      });
      const ok = { environment: 'production', capabilities: ['deployment'] };
      expect(gate.evaluate(job, makeContext('2026-03-01T05:00:00Z', ok)).kind).toBe('Deny');
      expect(gate.evaluate(job, makeContext(INSIDE, { ...ok, environment: 'staging' })).kind).toBe('Deny');
      expect(gate.evaluate(job, makeContext(INSIDE, { ...ok, capabilities: [] })).kind).toBe('Deny');
      expect(gate.evaluate(job, makeContext(INSIDE, ok)).kind).toBe('RequiresApproval');
    });
  });

  it('reports the first failing condition in the documented order', () => {
    const job = makeJob({
      policy: {
        allowedHours: { start: '00:00', end: '04:00' },
        allowedEnvironments: ['production'],
        requireCapabilities: ['deployment'],
      },
    });
    const everythingWrong = makeContext('2026-03-01T12:00:00Z', { environment: 'dev', capabilities: [] });
    expect(gate.evaluate(job, everythingWrong)).toMatchObject({ kind: 'Deny', reason: expect.stringMatching(/^outside allowed_hours/) });
    const wrongEnvAndCaps = makeContext(INSIDE, { environment: 'dev', capabilities: [] });
    expect(gate.evaluate(job, wrongEnvAndCaps)).toMatchObject({ kind: 'Deny', reason: expect.stringMatching(/^environment "dev"/) });
  });
});
