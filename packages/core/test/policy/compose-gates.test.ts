import { describe, expect, it } from 'vitest';
import { SchedulePolicyDecision, composeGates, type PolicyGate } from '@symbi/core';
import { makeContext, makeJob } from './fixtures.js';

/** A gate that records its calls in `log` and answers `decision` (asynchronously when asked). */
function recordingGate(name: string, decision: SchedulePolicyDecision, log: string[], async = false): PolicyGate {
  return {
    name,
    evaluate: () => {
      log.push(name);
      return async ? Promise.resolve(decision) : decision;
    },
  };
}

const job = makeJob();
const context = makeContext('2026-03-01T01:00:00Z');

describe('composeGates', () => {
  it('allows when every gate allows, asking each in order', async () => {
    const log: string[] = [];
    const gate = composeGates([
      recordingGate('a', SchedulePolicyDecision.allow(), log),
      recordingGate('b', SchedulePolicyDecision.allow(), log, true),
      recordingGate('c', SchedulePolicyDecision.allow(), log),
    ]);
    expect(gate.name).toBe('a+b+c');
    expect(await gate.evaluate(job, context)).toEqual({ kind: 'Allow' });
    expect(log).toEqual(['a', 'b', 'c']);
  });

  it('returns the first decision that is not Allow and asks no further gate', async () => {
    const log: string[] = [];
    const gate = composeGates([
      recordingGate('a', SchedulePolicyDecision.allow(), log),
      recordingGate('b', SchedulePolicyDecision.deny('b says no'), log, true),
      recordingGate('c', SchedulePolicyDecision.deny('c says no'), log),
    ]);
    expect(await gate.evaluate(job, context)).toEqual({ kind: 'Deny', reason: 'b says no' });
    expect(log).toEqual(['a', 'b']);
  });

  it('lets an earlier RequiresApproval win over a later Deny, so order matters', async () => {
    const approval = SchedulePolicyDecision.requiresApproval('ops', 'check', 'p/require_approval');
    const deny = SchedulePolicyDecision.deny('no');
    const approvalFirst = composeGates([recordingGate('approve', approval, []), recordingGate('deny', deny, [])]);
    const denyFirst = composeGates([recordingGate('deny', deny, []), recordingGate('approve', approval, [])]);
    expect(await approvalFirst.evaluate(job, context)).toEqual(approval);
    expect(await denyFirst.evaluate(job, context)).toEqual(deny);
  });

  it('allows with no gates', async () => {
    expect(await composeGates([]).evaluate(job, context)).toEqual({ kind: 'Allow' });
  });

  it('propagates an error thrown by a gate', async () => {
    const failing: PolicyGate = {
      name: 'broken',
      evaluate: () => {
        throw new Error('gate exploded');
      },
    };
    await expect(composeGates([failing]).evaluate(job, context)).rejects.toThrow('gate exploded');
  });
});
