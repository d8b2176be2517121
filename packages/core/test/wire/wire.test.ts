import { describe, expect, it } from 'vitest';
import { REDACTED, ValidationError, interpolateEnv, jobSpecFromWire, jobToWire, jobUpdateFromWire } from '@symbi/core';
import { applyJobUpdate } from '../../src/scheduler/job-definition.js';
import { makeJob } from '@symbi/core/testing';

describe('the wire format', () => {
  it('shows jobs in the spec snake_case with secrets redacted', () => {
    const job = makeJob({ name: 'metrics-report', webhookHeaders: { Authorization: 'Bearer s3cret' }, agentPinJwt: 'eyJ.x.y' });
    const wire = jobToWire(job);
    expect(wire).toMatchObject({ name: 'metrics-report', agent_id: job.agentId, cron_expr: job.cronExpr, session_mode: 'ephemeral_with_summary' });
    expect(wire.webhook_headers).toEqual({ Authorization: REDACTED });
    expect(wire.agent_pin_jwt).toBe(REDACTED);
    expect(JSON.stringify(wire)).not.toContain('s3cret');
  });

  it('reads the spec field names, durations and nested blocks', () => {
    expect(
      jobSpecFromWire({
        name: 'hourly-report',
        agent_id: 'reporter',
        cron_expr: '0 0 * * * *',
        session_mode: 'ephemeral_with_summary',
        delivery: ['stdout'],
        policy: { max_runtime: '30m', require_approval: true },
        heartbeat: { enabled: true, max_iterations: 5 },
      }),
    ).toEqual({
      name: 'hourly-report',
      agentId: 'reporter',
      cronExpr: '0 0 * * * *',
      sessionMode: 'ephemeral_with_summary',
      delivery: ['stdout'],
      policy: { maxRuntimeMs: 1_800_000, requireApproval: true },
      heartbeat: { enabled: true, maxIterations: 5 },
    });
  });

  it('refuses unknown fields, including names every object inherits', () => {
    for (const key of ['cronExpr', 'constructor', 'toString', 'hasOwnProperty']) {
      const error = (() => {
        try {
          jobSpecFromWire({ name: 'x', agent_id: 'a', [key]: 1 });
        } catch (e) {
          return e;
        }
      })();
      expect(error, key).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe(key);
    }
    expect(() => jobSpecFromWire({ policy: { toString: 1 } })).toThrow(/policy.toString/);
  });

  it('keeps stored header secrets when a fetched job is sent back', () => {
    const job = makeJob({ webhookHeaders: { Authorization: 'Bearer s3cret', 'X-Team': 'ops' } });
    const back = jobToWire(job);
    const update = jobUpdateFromWire({ ...back, webhook_headers: { ...(back.webhook_headers as object), 'X-New': 'n' } }, job);
    expect(update.webhookHeaders).toEqual({ Authorization: 'Bearer s3cret', 'X-Team': 'ops', 'X-New': 'n' });
    expect(jobUpdateFromWire({ webhook_headers: { Authorization: REDACTED } }).webhookHeaders).toEqual({});
  });

  it('keeps ${VAR} in API values literal unless the operator allow-listed the variable', () => {
    const env = { SYMBI_API_KEY: 'server-key-123', REPORT_TOKEN: 'report-token-456' };
    const body = {
      name: 'steal',
      agent_id: 'a',
      at: '2030-01-01T00:00:00Z',
      webhook_headers: { 'X-Stolen': '${SYMBI_API_KEY}', 'X-Report': 'Bearer ${REPORT_TOKEN}', 'X-Odd': 'a$${b} ${ not a ref' },
      agent_pin_jwt: '${SYMBI_API_KEY:-x}',
    };
    const literal = jobSpecFromWire(body);
    const resolve = (text: string) => interpolateEnv(text, env);
    expect(resolve(literal.webhookHeaders!['X-Stolen']!)).toBe('${SYMBI_API_KEY}');
    expect(resolve(literal.webhookHeaders!['X-Report']!)).toBe('Bearer ${REPORT_TOKEN}');
    expect(resolve(literal.webhookHeaders!['X-Odd']!)).toBe('a$${b} ${ not a ref');
    expect(resolve(literal.agentPinJwt!)).toBe('${SYMBI_API_KEY:-x}');

    const allowed = jobSpecFromWire(body, { envReferences: ['REPORT_TOKEN'] });
    expect(resolve(allowed.webhookHeaders!['X-Report']!)).toBe('Bearer report-token-456');
    expect(resolve(allowed.webhookHeaders!['X-Stolen']!)).toBe('${SYMBI_API_KEY}');
    // an operator's own file on the command line keeps every reference
    expect(resolve(jobSpecFromWire(body, { envReferences: 'all' }).webhookHeaders!['X-Stolen']!)).toBe('server-key-123');
    // the same rule on update
    const job = makeJob({ webhookUrl: 'https://hooks.example.com/a' });
    const update = jobUpdateFromWire({ webhook_headers: { 'X-Stolen': '${SYMBI_API_KEY}' } }, job);
    expect(resolve(update.webhookHeaders!['X-Stolen']!)).toBe('${SYMBI_API_KEY}');
  });

  it('drops stored secret headers when an update moves webhook_url to another origin', () => {
    const job = makeJob({ webhookUrl: 'https://hooks.example.com/a', webhookHeaders: { Authorization: 'Bearer s3cret' }, delivery: ['webhook'] });
    const now = new Date('2030-01-01T00:00:00Z');
    const redirect = (body: Record<string, unknown>) => applyJobUpdate(job, jobUpdateFromWire(body, job), now).webhookHeaders;
    expect(redirect({ webhook_url: 'https://attacker.example.net/x' })).toEqual({});
    // sending the redacted value back does not carry the secret to the new origin either
    expect(redirect({ webhook_url: 'http://hooks.example.com/a', webhook_headers: { Authorization: REDACTED } })).toEqual({});
    expect(redirect({ webhook_url: 'https://hooks.example.com:8443/a' })).toEqual({});
    // new headers in the same request are kept; a new path on the same origin keeps the stored ones
    expect(redirect({ webhook_url: 'https://attacker.example.net/x', webhook_headers: { Authorization: 'Bearer new' } })).toEqual({
      Authorization: 'Bearer new',
    });
    expect(redirect({ webhook_url: 'https://HOOKS.example.com/b' })).toEqual({ Authorization: 'Bearer s3cret' });
    expect(redirect({ webhook_url: 'https://hooks.example.com/b', webhook_headers: { Authorization: REDACTED } })).toEqual({
      Authorization: 'Bearer s3cret',
    });
    expect(redirect({ input: 'changed' })).toEqual({ Authorization: 'Bearer s3cret' });
  });
});
