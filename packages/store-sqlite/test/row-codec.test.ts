import { DEFAULT_POLICY } from '@symbi/core';
import { makeJob } from '@symbi/core/testing';
import { describe, expect, it } from 'vitest';
import { jobToRow, rowToJob } from '../src/row-codec.js';

const policyOf = (text: string) => rowToJob({ ...jobToRow(makeJob()), policy: text }).policy;

describe('row codec: a job\'s policy', () => {
  it('decodes a stored policy again as it was, sharing no object with an earlier decode', () => {
    const job = makeJob({ policy: { ...DEFAULT_POLICY, requireCapabilities: ['gpu'], allowedHours: { start: '09:00', end: '17:00' } } });
    const row = jobToRow(job);
    const first = rowToJob(row).policy;
    expect(first).toEqual(job.policy);
    first.requireCapabilities.push('tpu');
    first.allowedEnvironments.push('prod');
    if (first.allowedHours !== null) first.allowedHours.start = '00:00';
    first.approver = 'someone';
    const second = rowToJob(row).policy;
    expect(second).toEqual(job.policy);
    expect(second.requireCapabilities).not.toBe(first.requireCapabilities);
    expect(second.allowedHours).not.toBe(first.allowedHours);
  });

  it('reads fields a stored policy lacks as their defaults, without handing out the defaults\' own lists', () => {
    const policy = policyOf('{"requireApproval":true}');
    expect(policy).toEqual({ ...DEFAULT_POLICY, requireApproval: true });
    expect(Object.keys(policy)).toEqual(Object.keys(DEFAULT_POLICY));
    policy.requireCapabilities.push('gpu');
    expect(DEFAULT_POLICY.requireCapabilities).toEqual([]);
    expect(policyOf('{"requireApproval":true}').requireCapabilities).toEqual([]);
  });

  it('keeps a "__proto__" key of the stored text an own property, as JSON.parse makes it', () => {
    for (let i = 0; i < 2; i += 1) {
      const policy = policyOf('{"__proto__":{"polluted":true},"audit":"none"}');
      expect(Object.getPrototypeOf(policy)).toBe(Object.prototype);
      expect(Object.hasOwn(policy, '__proto__')).toBe(true);
      expect((policy as unknown as { polluted?: boolean }).polluted).toBeUndefined();
      expect(policy.audit).toBe('none');
    }
  });

  it('decodes a long policy (not kept decoded) as it was, each time afresh', () => {
    const text = JSON.stringify({ ...DEFAULT_POLICY, approver: 'x'.repeat(5000), requireCapabilities: ['gpu'] });
    const first = policyOf(text);
    expect(first).toEqual(JSON.parse(text));
    first.requireCapabilities.push('tpu');
    expect(policyOf(text)).toEqual(JSON.parse(text));
  });

  it('hands out no default list for a long policy that lacks it', () => {
    const policy = policyOf(JSON.stringify({ approver: 'x'.repeat(5000) }));
    policy.requireCapabilities.push('gpu');
    expect(DEFAULT_POLICY.requireCapabilities).toEqual([]);
  });

  it('decodes every policy right however many distinct ones it has seen', () => {
    const texts = Array.from({ length: 200 }, (_, i) => JSON.stringify({ ...DEFAULT_POLICY, approvalTimeoutMs: i }));
    for (const round of [0, 1]) {
      for (const [i, text] of texts.entries()) expect(policyOf(text).approvalTimeoutMs, `round ${round}`).toBe(i);
    }
  });
});
