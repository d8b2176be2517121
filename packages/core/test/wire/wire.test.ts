import { describe, expect, it } from 'vitest';
import { REDACTED, ValidationError, jobSpecFromWire, jobToWire, jobUpdateFromWire } from '@symbi/core';
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
});
