import { describe, expect, it } from 'vitest';
import { REDACTION_MASK, Redactor, interpolateEnv, literalEnvText } from '@symbi/core';

describe('Redactor', () => {
  it('masks every configured secret, in the forms it is echoed in', () => {
    const redactor = new Redactor(['hunter2-smtp', 'Bearer team-hook-token', 'p@ss word/+1', null, undefined, '']);
    expect(redactor.text('AUTH failed for hunter2-smtp')).toBe(`AUTH failed for ${REDACTION_MASK}`);
    // the token of a multi-word secret is masked even without its scheme, and the scheme is left readable
    expect(redactor.text('got team-hook-token back')).toBe(`got ${REDACTION_MASK} back`);
    expect(redactor.text('Authorization: Bearer x')).toBe('Authorization: Bearer x');
    expect(redactor.text(JSON.stringify({ key: 'p@ss word/+1' }))).not.toContain('p@ss');
    expect(redactor.text(`?k=${encodeURIComponent('p@ss word/+1')}`)).toBe(`?k=${REDACTION_MASK}`);
  });

  it('masks common key shapes nobody configured', () => {
    const redactor = new Redactor();
    const samples = {
      'Authorization: Bearer abcdefgh1jklmnop': `Authorization: Bearer ${REDACTION_MASK}`,
      'authorization: bearer 0123456789': `authorization: bearer ${REDACTION_MASK}`,
      '{"error":"invalid x-api-key sk-ant-api03-AbCdEf123456"}': `{"error":"invalid x-api-key ${REDACTION_MASK}"}`,
      'Incorrect API key provided: sk-proj-ZZZZZZZZZZZZ.': `Incorrect API key provided: ${REDACTION_MASK}.`,
      'token xoxb-1234-5678-abcdefgh refused': `token ${REDACTION_MASK} refused`,
      'postgres://symbi:db-pass-9@db:5432/x': `postgres://symbi:${REDACTION_MASK}@db:5432/x`,
      'jwt eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhZ2VudCJ9.c2lnbmF0dXJlLXZhbHVl': `jwt ${REDACTION_MASK}`,
    };
    for (const [input, expected] of Object.entries(samples)) expect(redactor.text(input), input).toBe(expected);
    // ordinary text is left alone
    for (const prose of ['Bearer of bad news: run failed in 3 ms', 'the Token expired yesterday', 'Basic arithmetic']) {
      expect(redactor.text(prose)).toBe(prose);
    }
  });

  it('takes secret-named variables from an environment, but not short flags', () => {
    const redactor = Redactor.forEnvironment({
      OPENAI_API_KEY: 'plain-key-without-prefix',
      SYMBI_WEBHOOK_AUTH_HEADER: 'Token abc',
      AUTH_ENABLED: 'true',
      HOME: '/home/someone-long',
    });
    expect(redactor.text('key plain-key-without-prefix')).toBe(`key ${REDACTION_MASK}`);
    expect(redactor.text('{"enabled":true} at /home/someone-long')).toBe('{"enabled":true} at /home/someone-long');
  });

  it('masks strings at any depth of a value, and nothing else', () => {
    const redactor = new Redactor(['s3cr3t-value']);
    const at = new Date(0);
    expect(redactor.value({ a: ['x s3cr3t-value', 1, null, { b: 's3cr3t-value' }], at, ok: true })).toEqual({
      a: [`x ${REDACTION_MASK}`, 1, null, { b: REDACTION_MASK }],
      at,
      ok: true,
    });
  });
});

describe('${VAR} expansion', () => {
  it('reads $${ as a literal ${', () => {
    expect(interpolateEnv('a $${HOME} b ${X}', { X: 'x', HOME: '/root' })).toBe('a ${HOME} b x');
  });

  it('round-trips any text made literal', () => {
    for (const text of ['${A}', '$${A}', '$$${A}', '${', '${A:-d} and ${B}', 'x$', '${A}${A}', '$}{$']) {
      expect(interpolateEnv(literalEnvText(text, []), { A: 'leak', B: 'leak' }), text).toBe(text);
    }
    expect(interpolateEnv(literalEnvText('${A} ${B}', ['B']), { A: 'no', B: 'yes' })).toBe('${A} yes');
  });
});
