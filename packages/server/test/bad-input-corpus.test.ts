import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest, startLiveServer, type LiveServer } from './live-server.js';

/** A value that must never appear in a response. */
const SECRET = 'sk-live-CORPUS-SECRET-4242';
const KEY = 'corpus-key';

interface Case {
  name: string;
  method: string;
  path: string;
  body?: string | Buffer;
  headers?: Record<string, string | number>;
  status: number;
  field?: string;
}

const valid = { name: 'fresh', agent_id: 'agent', cron_expr: '0 0 * * * *' };
const json = (value: unknown) => JSON.stringify(value);

/** POST /api/v1/schedule with `valid` changed by `patch` must answer 422 naming `field`. */
function createField(name: string, patch: Record<string, unknown>, field: string): Case {
  return { name: `create: ${name}`, method: 'POST', path: '/api/v1/schedule', body: json({ ...valid, ...patch }), status: 422, field };
}

const cases: Case[] = [
  // Wrong types and missing fields on create.
  createField('name is a number', { name: 123 }, 'name'),
  createField('name is null', { name: null }, 'name'),
  createField('name is empty', { name: '' }, 'name'),
  createField('name is too long', { name: 'x'.repeat(300) }, 'name'),
  createField('name has a NUL', { name: 'a\u0000b' }, 'name'),
  createField('name is an object', { name: { first: 'a' } }, 'name'),
  createField('agent_id missing', { agent_id: undefined }, 'agent_id'),
  createField('agent_id is a number', { agent_id: 5 }, 'agent_id'),
  createField('agent_id is a list', { agent_id: ['a'] }, 'agent_id'),
  createField('agent_id holds NUL', { agent_id: 'a\u0000b' }, 'agent_id'),
  createField('agent_id holds a terminal title escape', { agent_id: '\u001b]0;pwn\u0007' }, 'agent_id'),
  createField('name holds a lone surrogate', { name: 'x\ud800' }, 'name'),
  createField('approver holds a bidi override', { policy: { approver: 'ops\u202e' } }, 'policy.approver'),
  createField('client-chosen id', { id: 'slow' }, 'id'),
  createField('cron_expr is not cron', { cron_expr: 'not a cron' }, 'cron_expr'),
  createField('cron_expr has 3 fields', { cron_expr: '* * *' }, 'cron_expr'),
  createField('cron_expr second out of range', { cron_expr: '61 * * * * *' }, 'cron_expr'),
  createField('cron_expr hour out of range', { cron_expr: '0 0 25 * * *' }, 'cron_expr'),
  createField('cron_expr is a number', { cron_expr: 123 }, 'cron_expr'),
  createField('cron_expr is empty', { cron_expr: '' }, 'cron_expr'),
  createField('cron_expr has 8 fields', { cron_expr: '0 0 0 1 1 * 2030 9' }, 'cron_expr'),
  createField('cron_expr unknown nickname', { cron_expr: '@fortnightly' }, 'cron_expr'),
  createField('cron_expr bad step', { cron_expr: '0 */0 * * * *' }, 'cron_expr'),
  createField('timezone unknown', { timezone: 'Mars/Olympus_Mons' }, 'timezone'),
  createField('timezone is a number', { timezone: 5 }, 'timezone'),
  createField('timezone is empty', { timezone: '' }, 'timezone'),
  createField('at is not a date', { cron_expr: undefined, at: 'yesterday' }, 'at'),
  createField('at has month 13', { cron_expr: undefined, at: '2026-13-45T00:00:00Z' }, 'at'),
  createField('session_mode unknown', { session_mode: 'forever' }, 'session_mode'),
  createField('delivery is a string', { delivery: 'stdout' }, 'delivery'),
  createField('delivery holds a number', { delivery: [1] }, 'delivery[0]'),
  createField('delivery channel name invalid', { delivery: ['bad channel!'] }, 'delivery[0]'),
  createField('webhook without url', { delivery: ['webhook'] }, 'webhook_url'),
  createField('webhook_url is ftp', { webhook_url: 'ftp://example.com/x' }, 'webhook_url'),
  createField('webhook_url is not a URL', { webhook_url: 'not a url' }, 'webhook_url'),
  createField('webhook_headers is a string', { webhook_headers: `Authorization: ${SECRET}` }, 'webhook_headers'),
  createField('webhook_headers bad name', { webhook_headers: { 'bad name': SECRET } }, 'webhook_headers'),
  createField('webhook_headers value is a number', { webhook_headers: { 'X-Token': 5 } }, 'webhook_headers.X-Token'),
  createField('webhook_headers value has a newline', { webhook_headers: { Authorization: `${SECRET}\r\nX-Evil: 1` } }, 'webhook_headers.Authorization'),
  createField('email without recipients', { delivery: ['email'] }, 'email_recipients'),
  createField('email recipient invalid', { email_recipients: ['nope'] }, 'email_recipients[0]'),
  createField('policy is a string', { policy: 'strict' }, 'policy'),
  createField('policy.require_approval is a string', { policy: { require_approval: 'yes' } }, 'policy.require_approval'),
  createField('policy.max_runtime is not a duration', { policy: { max_runtime: 'forever' } }, 'policy.max_runtime'),
  createField('policy.allowed_hours hour 25', { policy: { allowed_hours: { start: '25:00', end: '01:00' } } }, 'policy.allowed_hours.start'),
  createField('policy unknown field', { policy: { sudo: true } }, 'policy.sudo'),
  createField('heartbeat max_iterations 0', { heartbeat: { max_iterations: 0 } }, 'heartbeat.max_iterations'),
  createField('heartbeat context_mode unknown', { heartbeat: { context_mode: 'x' } }, 'heartbeat.context_mode'),
  createField('heartbeat is a number', { heartbeat: 5 }, 'heartbeat'),
  createField('max_concurrent 0', { max_concurrent: 0 }, 'max_concurrent'),
  createField('max_concurrent 1.5', { max_concurrent: 1.5 }, 'max_concurrent'),
  createField('max_concurrent is a string', { max_concurrent: '2' }, 'max_concurrent'),
  createField('max_retries negative', { max_retries: -1 }, 'max_retries'),
  createField('jitter is a string', { jitter: 'x' }, 'jitter'),
  createField('catchup unknown', { catchup: 'sometimes' }, 'catchup'),
  createField('overlap unknown', { overlap: 'x' }, 'overlap'),
  createField('agent_pin_jwt is a number', { agent_pin_jwt: 42 }, 'agent_pin_jwt'),
  createField('agent_pin_jwt is too long', { agent_pin_jwt: `${SECRET}.${'a'.repeat(20_000)}` }, 'agent_pin_jwt'),
  createField('unknown field', { colour: 'blue' }, 'colour'),
  createField('__proto__ field', JSON.parse('{"__proto__": {"admin": true}}'), '__proto__'),
  { name: 'create: nested __proto__', method: 'POST', path: '/api/v1/schedule', body: '{"name":"p","agent_id":"a","cron_expr":"@daily","policy":{"__proto__":{"x":1}}}', status: 422, field: '__proto__' },
  createField('input is a number', { input: 7 }, 'input'),
  { name: 'create: body is an array', method: 'POST', path: '/api/v1/schedule', body: json([valid]), status: 422, field: 'body' },
  { name: 'create: body is a string', method: 'POST', path: '/api/v1/schedule', body: json('job'), status: 422, field: 'body' },
  { name: 'create: body is null', method: 'POST', path: '/api/v1/schedule', body: 'null', status: 422, field: 'body' },
  { name: 'create: body is a number', method: 'POST', path: '/api/v1/schedule', body: '42', status: 422, field: 'body' },
  { name: 'create: empty body', method: 'POST', path: '/api/v1/schedule', body: '', status: 422, field: 'body' },
  { name: 'create: no body at all', method: 'POST', path: '/api/v1/schedule', status: 422, field: 'body' },
  { name: 'create: taken name', method: 'POST', path: '/api/v1/schedule', body: json({ ...valid, name: 'existing' }), status: 409 },
  // Bad JSON.
  ...['{', '{"name":}', "{'name':'x'}", 'undefined', '{"name":"x"} trailing', '{"a":1,}', 'NaN', '[1,2', '"unterminated', '\u00ef\u00bb\u00bf{}'].map(
    (body): Case => ({ name: `bad JSON: ${body.slice(0, 20)}`, method: 'POST', path: '/api/v1/schedule', body, status: 400 }),
  ),
  { name: 'bad JSON: invalid UTF-8', method: 'POST', path: '/api/v1/schedule', body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), status: 400 },
  { name: 'bad JSON: 200k nested arrays', method: 'POST', path: '/api/v1/schedule', body: '['.repeat(200_000) + ']'.repeat(200_000), status: 422 },
  // Content types and sizes.
  { name: 'text/plain body', method: 'POST', path: '/api/v1/schedule', body: json(valid), headers: { 'content-type': 'text/plain' }, status: 415 },
  { name: 'form body', method: 'POST', path: '/api/v1/schedule', body: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415 },
  { name: 'no content type', method: 'POST', path: '/api/v1/schedule', body: json(valid), headers: { 'content-type': '' }, status: 415 },
  { name: 'application/jsonx', method: 'POST', path: '/api/v1/schedule', body: json(valid), headers: { 'content-type': 'application/jsonx' }, status: 415 },
  { name: 'text body on run', method: 'POST', path: '/api/v1/schedule/existing/run', body: 'go', headers: { 'content-type': 'text/plain' }, status: 415 },
  { name: '2 MiB body', method: 'POST', path: '/api/v1/schedule', body: json({ ...valid, input: 'x'.repeat(2 * 1024 * 1024) }), status: 413 },
  { name: '5 MiB body on run', method: 'POST', path: '/api/v1/schedule/existing/run', body: json({ input: 'y'.repeat(5 * 1024 * 1024) }), status: 413 },
  { name: '1 GB declared, nothing sent', method: 'PUT', path: '/api/v1/schedule/existing', headers: { 'content-length': 1_000_000_000, 'content-type': 'application/json' }, status: 413 },
  // Unknown ids.
  ...['GET', 'PUT', 'DELETE'].map((method): Case => ({ name: `${method} unknown job`, method, path: '/api/v1/schedule/no-such-job', body: method === 'PUT' ? '{}' : undefined, status: 404 })),
  ...['pause', 'resume', 'reset', 'run'].map((action): Case => ({ name: `${action} unknown job`, method: 'POST', path: `/api/v1/schedule/no-such-job/${action}`, status: 404 })),
  ...['history', 'next_run'].map((action): Case => ({ name: `${action} of unknown job`, method: 'GET', path: `/api/v1/schedule/no-such-job/${action}`, status: 404 })),
  { name: 'unknown run', method: 'GET', path: '/api/v1/runs/no-such-run', status: 404 },
  { name: 'approve unknown run', method: 'POST', path: '/api/v1/schedule/existing/runs/no-such-run/approve', status: 404 },
  { name: 'deny run of unknown job', method: 'POST', path: '/api/v1/schedule/nope/runs/no-such-run/deny', status: 404 },
  { name: 'approvals of unknown job', method: 'GET', path: '/api/v1/approvals?job_id=nope', status: 404 },
  // Invalid state.
  { name: 'resume an active job', method: 'POST', path: '/api/v1/schedule/existing/resume', status: 409 },
  { name: 'reset an active job', method: 'POST', path: '/api/v1/schedule/existing/reset', status: 409 },
  // Update bodies.
  { name: 'update id', method: 'PUT', path: '/api/v1/schedule/existing', body: json({ id: 'other' }), status: 422, field: 'id' },
  { name: 'update paused', method: 'PUT', path: '/api/v1/schedule/existing', body: json({ paused: true }), status: 422, field: 'paused' },
  { name: 'update bad cron', method: 'PUT', path: '/api/v1/schedule/existing', body: json({ cron_expr: '* *' }), status: 422, field: 'cron_expr' },
  { name: 'update bad timezone', method: 'PUT', path: '/api/v1/schedule/existing', body: json({ timezone: 'Nowhere/Land' }), status: 422, field: 'timezone' },
  { name: 'update to a taken name', method: 'PUT', path: '/api/v1/schedule/existing', body: json({ name: 'taken' }), status: 409 },
  { name: 'update with an array', method: 'PUT', path: '/api/v1/schedule/existing', body: '[]', status: 422, field: 'body' },
  { name: 'update without body', method: 'PUT', path: '/api/v1/schedule/existing', status: 422, field: 'body' },
  // Run and approval bodies.
  { name: 'run input is a number', method: 'POST', path: '/api/v1/schedule/existing/run', body: json({ input: 5 }), status: 422, field: 'input' },
  { name: 'run input is an object', method: 'POST', path: '/api/v1/schedule/existing/run', body: json({ input: {} }), status: 422, field: 'input' },
  { name: 'run unknown field', method: 'POST', path: '/api/v1/schedule/existing/run', body: json({ inputs: 'x' }), status: 422, field: 'inputs' },
  { name: 'run body is an array', method: 'POST', path: '/api/v1/schedule/existing/run', body: '[]', status: 422, field: 'body' },
  { name: 'run body is a string', method: 'POST', path: '/api/v1/schedule/existing/run', body: '"go"', status: 422, field: 'body' },
  { name: 'approve: approver is a number', method: 'POST', path: '/api/v1/schedule/existing/runs/RUN/approve', body: json({ approver: 5 }), status: 422, field: 'approver' },
  { name: 'approve: approver is empty', method: 'POST', path: '/api/v1/schedule/existing/runs/RUN/approve', body: json({ approver: ' ' }), status: 422, field: 'approver' },
  { name: 'deny: note is a list', method: 'POST', path: '/api/v1/schedule/existing/runs/RUN/deny', body: json({ note: [] }), status: 422, field: 'note' },
  { name: 'approve a finished run', method: 'POST', path: '/api/v1/schedule/existing/runs/RUN/approve', body: '{}', status: 409 },
  // Query parameters.
  { name: 'list: bad status', method: 'GET', path: '/api/v1/schedule?status=bogus', status: 422, field: 'status' },
  { name: 'list: empty status', method: 'GET', path: '/api/v1/schedule?status=', status: 422, field: 'status' },
  { name: 'list: limit abc', method: 'GET', path: '/api/v1/schedule?limit=abc', status: 422, field: 'limit' },
  { name: 'list: limit 0', method: 'GET', path: '/api/v1/schedule?limit=0', status: 422, field: 'limit' },
  { name: 'list: limit -5', method: 'GET', path: '/api/v1/schedule?limit=-5', status: 422, field: 'limit' },
  { name: 'list: limit 1e3', method: 'GET', path: '/api/v1/schedule?limit=1e3', status: 422, field: 'limit' },
  { name: 'list: limit huge', method: 'GET', path: '/api/v1/schedule?limit=99999999999999999999', status: 422, field: 'limit' },
  { name: 'list: offset negative', method: 'GET', path: '/api/v1/schedule?offset=-1', status: 422, field: 'offset' },
  { name: 'list: unknown parameter', method: 'GET', path: '/api/v1/schedule?statuss=active', status: 422, field: 'statuss' },
  { name: 'list: unknown parameter with junk', method: 'GET', path: '/api/v1/schedule?%00=%ff%fe', status: 422 },
  { name: 'list: repeated limit', method: 'GET', path: '/api/v1/schedule?limit=1&limit=2', status: 422, field: 'limit' },
  { name: 'list: agent_id with NUL', method: 'GET', path: '/api/v1/schedule?agent_id=a%00b', status: 422, field: 'agent_id' },
  { name: 'history: bad status in list', method: 'GET', path: '/api/v1/schedule/existing/history?status=failed,bogus', status: 422, field: 'status' },
  { name: 'history: limit 1001', method: 'GET', path: '/api/v1/schedule/existing/history?limit=1001', status: 422, field: 'limit' },
  { name: 'history: since yesterday', method: 'GET', path: '/api/v1/schedule/existing/history?since=yesterday', status: 422, field: 'since' },
  { name: 'history: since month 13', method: 'GET', path: '/api/v1/schedule/existing/history?since=2026-13-01', status: 422, field: 'since' },
  { name: 'audit: unknown type', method: 'GET', path: '/api/v1/audit?type=CronJobExploded', status: 422, field: 'type' },
  { name: 'audit: limit text', method: 'GET', path: '/api/v1/audit?limit=all', status: 422, field: 'limit' },
  { name: 'approvals: limit 0', method: 'GET', path: '/api/v1/approvals?limit=0', status: 422, field: 'limit' },
  { name: 'health: unknown parameter', method: 'GET', path: '/api/v1/health/scheduler?verbose=1', status: 422, field: 'verbose' },
  // Wrong methods.
  { name: 'PATCH a job', method: 'PATCH', path: '/api/v1/schedule/existing', body: '{}', status: 405 },
  { name: 'DELETE the collection', method: 'DELETE', path: '/api/v1/schedule', status: 405 },
  { name: 'GET pause', method: 'GET', path: '/api/v1/schedule/existing/pause', status: 405 },
  { name: 'PUT run', method: 'PUT', path: '/api/v1/schedule/existing/run', status: 405 },
  { name: 'POST history', method: 'POST', path: '/api/v1/schedule/existing/history', status: 405 },
  { name: 'POST metrics', method: 'POST', path: '/metrics', status: 405 },
  { name: 'DELETE health', method: 'DELETE', path: '/api/v1/health/scheduler', status: 405 },
  { name: 'PUT dashboard', method: 'PUT', path: '/', status: 405 },
  { name: 'GET approve', method: 'GET', path: '/api/v1/schedule/existing/runs/RUN/approve', status: 405 },
  // Path tricks.
  { name: 'encoded dot-dot slash id', method: 'GET', path: '/api/v1/schedule/..%2F..', status: 404 },
  { name: 'encoded dot-dot to health', method: 'GET', path: '/api/v1/schedule/..%2Fhealth%2Fscheduler', status: 404 },
  { name: 'literal dot-dot', method: 'GET', path: '/api/v1/schedule/../../etc/passwd', status: 404 },
  { name: 'NUL id', method: 'GET', path: '/api/v1/schedule/%00', status: 404 },
  { name: 'NUL in the middle of an id', method: 'DELETE', path: '/api/v1/schedule/exist%00ing', status: 404 },
  { name: 'lone percent', method: 'GET', path: '/api/v1/schedule/%', status: 400 },
  { name: 'bad escape', method: 'GET', path: '/api/v1/schedule/%zz', status: 400 },
  { name: 'overlong UTF-8 escape', method: 'GET', path: '/api/v1/schedule/%c0%ae%c0%ae', status: 400 },
  { name: 'double slash prefix', method: 'GET', path: '//api/v1/schedule', status: 404 },
  { name: 'empty id', method: 'POST', path: '/api/v1/schedule//pause', status: 404 },
  { name: 'trailing segment', method: 'POST', path: '/api/v1/schedule/existing/pause/now', status: 404 },
  { name: 'upper-case route', method: 'GET', path: '/API/V1/SCHEDULE', status: 404 },
  { name: 'unknown API version', method: 'GET', path: '/api/v2/schedule', status: 404 },
  { name: 'dashboard traversal', method: 'GET', path: '/dashboard/..%2F..%2Fpackage.json', status: 404 },
  { name: 'dashboard encoded dots', method: 'GET', path: '/dashboard/%2e%2e', status: 404 },
  { name: 'dashboard prototype key', method: 'GET', path: '/dashboard/__proto__', status: 404 },
  { name: 'dashboard constructor key', method: 'GET', path: '/dashboard/constructor', status: 404 },
  { name: 'id of 1001 characters', method: 'GET', path: `/api/v1/schedule/${'a'.repeat(1001)}`, status: 404 },
  { name: 'path of 8000 characters', method: 'GET', path: `/api/v1/schedule/${'b'.repeat(8000)}`, status: 404 },
  { name: 'path of 9000 characters', method: 'GET', path: `/api/v1/schedule/${'c'.repeat(9000)}`, status: 414 },
  { name: 'path of 20000 characters', method: 'GET', path: `/${'d'.repeat(20_000)}`, status: 431 },
  { name: 'absolute-form target', method: 'GET', path: 'http://evil.example/api/v1/schedule', status: 400 },
  { name: 'asterisk target', method: 'OPTIONS', path: '*', status: 400 },
  // Authentication.
  { name: 'no key', method: 'GET', path: '/api/v1/schedule', headers: { authorization: '' }, status: 401 },
  { name: 'wrong key', method: 'GET', path: '/api/v1/schedule', headers: { authorization: 'Bearer nope' }, status: 401 },
  { name: 'basic auth', method: 'GET', path: '/api/v1/schedule', headers: { authorization: `Basic ${Buffer.from(`u:${KEY}`).toString('base64')}` }, status: 401 },
  { name: 'bearer without token', method: 'GET', path: '/api/v1/schedule', headers: { authorization: 'Bearer ' }, status: 401 },
  { name: 'very long token', method: 'GET', path: '/api/v1/schedule', headers: { authorization: `Bearer ${'k'.repeat(8000)}` }, status: 401 },
  { name: 'key as a prefix', method: 'POST', path: '/api/v1/schedule', body: json(valid), headers: { authorization: `Bearer ${KEY}x` }, status: 401 },
];

describe('malformed requests', () => {
  let live: LiveServer;
  let finishedRunId: string;

  beforeAll(async () => {
    live = await startLiveServer({ apiKey: KEY });
    await live.scheduler.add({ name: 'existing', agentId: 'agent', cronExpr: '@hourly', webhookHeaders: { 'X-Secret': SECRET } });
    await live.scheduler.add({ name: 'taken', agentId: 'agent', cronExpr: '@hourly' });
    finishedRunId = (await live.scheduler.runNow('existing', { wait: true })).id;
  });
  afterAll(() => live.close());

  it('has at least 100 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(100);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const body = c.body === undefined ? undefined : c.body;
    const headers: Record<string, string | number> = { authorization: `Bearer ${KEY}`, ...c.headers };
    if (body !== undefined && !('content-type' in headers)) headers['content-type'] = 'application/json';
    if (headers['content-type'] === '') delete headers['content-type'];
    if (headers.authorization === '') delete headers.authorization;
    const res = await rawRequest(live.url, { method: c.method, path: c.path.replace('RUN', finishedRunId), headers, body });
    expect(res.status).toBe(c.status);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    const parsed = JSON.parse(res.text);
    expect(Object.keys(parsed)).toEqual(['error']);
    expect(typeof parsed.error.code).toBe('string');
    expect(typeof parsed.error.message).toBe('string');
    if (c.field !== undefined) expect(parsed.error.field).toBe(c.field);
    expect(res.text).not.toContain('CORPUS-SECRET');
    expect(res.text.length).toBeLessThan(2000);
  });

  it('answers an unparsable request line with a JSON 400', async () => {
    const url = new URL(live.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => socket.end('FOO\0 / HTTP/1.1\r\nHost: x\r\n\r\n'));
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(JSON.parse(answer.split('\r\n\r\n')[1]!).error.code).toBe('BAD_REQUEST');
  });

  it('still works after the corpus, and nothing was created or changed', async () => {
    const jobs = await (await live.call('/api/v1/schedule')).json();
    expect(jobs.map((j: { name: string }) => j.name)).toEqual(['existing', 'taken']);
    expect((await live.scheduler.getJob('existing')).webhookHeaders).toEqual({ 'X-Secret': SECRET });
    expect((await live.call('/api/v1/health/scheduler')).status).toBe(200);
  });
});
