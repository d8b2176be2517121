import { beforeAll, describe, expect, it } from 'vitest';
import {
  AgentPinError,
  AgentPinGate,
  AgentPinVerifier,
  type AgentPinExpectation,
  type AgentPinGateOptions,
  type CronJobDefinition,
} from '@symbi/core';
import { makeContext, makeJob } from '../policy/fixtures.js';
import { AGENT, DOMAIN, MapDiscovery, NOW, NOW_SECONDS, claims, documentOf, issue, newSigningKey, type SigningKey } from './issuer.js';

let key: SigningKey;
let forger: SigningKey;

beforeAll(async () => {
  key = await newSigningKey('example-2026-01');
  forger = await newSigningKey('example-2026-01');
});

const context = makeContext(NOW);
const securedJob = (agentPinJwt: string | null = '${AGENT_PIN_JWT}'): CronJobDefinition =>
  makeJob({ agentId: AGENT, agentPinJwt, policy: { requireAgentPin: true } });

/** A gate over a real verifier, recording the failures it reports. */
function setup(options: Partial<AgentPinGateOptions> = {}) {
  const failures: Array<{ job: CronJobDefinition; error: AgentPinError }> = [];
  const verifier = new AgentPinVerifier({ discovery: new MapDiscovery(new Map([[DOMAIN, documentOf([key])]])) });
  const gate = new AgentPinGate({
    verifier,
    domain: DOMAIN,
    env: {},
    onFailure: (job, error) => {
      failures.push({ job, error });
    },
    ...options,
  });
  return { gate, failures };
}

describe('AgentPinGate', () => {
  it('is named agentpin and allows jobs that do not require AgentPin without verifying', async () => {
    const calls: unknown[] = [];
    const gate = new AgentPinGate({ verifier: { verify: async (...args) => calls.push(args) as never }, domain: DOMAIN });
    expect(gate.name).toBe('agentpin');
    expect(await gate.evaluate(makeJob({ agentPinJwt: 'garbage' }), context)).toEqual({ kind: 'Allow' });
    expect(calls).toEqual([]);
  });

  it('resolves ${AGENT_PIN_JWT} at evaluation time and allows a valid credential', async () => {
    const env: Record<string, string | undefined> = {};
    const { gate, failures } = setup({ env });
    const job = securedJob();
    env['AGENT_PIN_JWT'] = await issue(key);
    expect(await gate.evaluate(job, context)).toEqual({ kind: 'Allow' });
    expect(failures).toEqual([]);
    expect(job.agentPinJwt).toBe('${AGENT_PIN_JWT}');
  });

  it("verifies against the job's agent, the domain and the run's now", async () => {
    const seen: Array<{ jwt: string; expected: AgentPinExpectation }> = [];
    const gate = new AgentPinGate({
      verifier: { verify: async (jwt, expected) => (seen.push({ jwt, expected }), {} as never) },
      domain: DOMAIN,
      env: { TOKEN: 'literal.jwt.value' },
    });
    await gate.evaluate(securedJob('${TOKEN}'), context);
    expect(seen).toEqual([{ jwt: 'literal.jwt.value', expected: { agentId: AGENT, domain: DOMAIN, now: NOW } }]);
  });

  it('accepts a credential addressed to a configured audience and refuses one addressed elsewhere', async () => {
    const env = { AGENT_PIN_JWT: await issue(key, claims({ aud: 'scheduler.example.org' })) };
    expect(await setup({ env, audience: ['scheduler.example.org'] }).gate.evaluate(securedJob(), context)).toEqual({ kind: 'Allow' });
    const { gate, failures } = setup({ env });
    expect(await gate.evaluate(securedJob(), context)).toMatchObject({ kind: 'Deny', reason: expect.stringContaining('(wrong_audience)') });
    expect(failures.map((failure) => failure.error.reason)).toEqual(['wrong_audience']);
  });

  it('verifies every job when required, even without require_agent_pin', async () => {
    const { gate, failures } = setup({ required: true });
    const decision = await gate.evaluate(makeJob({ agentId: AGENT }), context);
    expect(decision).toMatchObject({ kind: 'Deny', reason: expect.stringContaining('(missing)') });
    expect(failures).toHaveLength(1);
  });

  it('denies with the failure tag and reports the failure once', async () => {
    const { gate, failures } = setup({ env: { AGENT_PIN_JWT: await issue(key, claims({ exp: NOW_SECONDS - 3600 })) } });
    const job = securedJob();
    const decision = await gate.evaluate(job, context);
    expect(decision).toMatchObject({ kind: 'Deny', reason: expect.stringMatching(/^AgentPin verification failed \(expired\): /) });
    expect(failures).toHaveLength(1);
    expect(failures[0]!.job).toBe(job);
    expect(failures[0]!.error).toBeInstanceOf(AgentPinError);
    expect(failures[0]!.error.reason).toBe('expired');
  });

  it('denies with missing when the job has no credential or its variable is unset', async () => {
    const { gate, failures } = setup();
    const noJwt = await gate.evaluate(securedJob(null), context);
    expect(noJwt).toMatchObject({ kind: 'Deny', reason: expect.stringContaining('(missing)') });
    const unset = await gate.evaluate(securedJob('${AGENT_PIN_JWT}'), context);
    expect(unset).toMatchObject({ kind: 'Deny', reason: expect.stringContaining('AGENT_PIN_JWT is not set') });
    const empty = await setup({ env: { AGENT_PIN_JWT: '  ' } }).gate.evaluate(securedJob(), context);
    expect(empty).toMatchObject({ kind: 'Deny', reason: expect.stringContaining('(missing)') });
    expect(failures.map((failure) => failure.error.reason)).toEqual(['missing', 'missing']);
  });

  it('never puts the credential into a reason or a reported error', async () => {
    const tokens = [
      await issue(forger),
      await issue(key, claims({ sub: 'someone-else' })),
      await issue(key, claims({ iss: 'evil.example.net' })),
      await issue(key, claims(), { typ: 'JWT' }),
      await issue(key, claims(), { kid: 'not-published' }),
    ];
    for (const token of tokens) {
      const { gate, failures } = setup({ env: { AGENT_PIN_JWT: token } });
      const decision = await gate.evaluate(securedJob(), context);
      expect(decision.kind).toBe('Deny');
      const texts = [decision.kind === 'Deny' ? decision.reason : '', failures[0]!.error.message];
      for (const text of texts) {
        for (const part of [token, ...token.split('.')]) expect(text).not.toContain(part);
      }
    }
  });

  it('lets an error from onFailure propagate so a lost audit write is noticed', async () => {
    const { gate } = setup({
      onFailure: () => Promise.reject(new Error('audit store down')),
    });
    await expect(gate.evaluate(securedJob(null), context)).rejects.toThrow('audit store down');
  });

  it('propagates errors that are not verification failures', async () => {
    const gate = new AgentPinGate({
      verifier: { verify: () => Promise.reject(new TypeError('bug')) },
      domain: DOMAIN,
      env: { AGENT_PIN_JWT: 'x.y.z' },
    });
    await expect(gate.evaluate(securedJob(), context)).rejects.toThrow('bug');
  });
});
