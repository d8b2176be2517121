import { ExecutionError, ValidationError } from '@symbi/core';
import { VirtualClock } from '@symbi/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentHttpError, HttpExecutor, type HttpAgentRequestBody } from '../src/index.js';
import { agent, noSignal, rejectionOf, testContext, testRequest } from './support/fixtures.js';
import { sendJson, startLoopbackServer, type LoopbackServer } from './support/loopback-server.js';

let server: LoopbackServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function executorFor(url: string, options: Partial<ConstructorParameters<typeof HttpExecutor>[0]> = {}, fields = {}) {
  return new HttpExecutor({ agents: [agent('remote', { url, capabilities: ['reporting'], ...fields })], ...options });
}

describe('HttpExecutor', () => {
  it('POSTs the job, run, input and context as JSON, without the job secrets', async () => {
    server = await startLoopbackServer((_req, res) => sendJson(res, 200, { output: 'report ready', summary: 'ok', action: 'sleep' }));
    const history = [{ role: 'assistant' as const, content: 'earlier answer', at: '2026-02-28T09:00:00.000Z' }];
    const request = testRequest('remote', { context: testContext({ history }) });
    const result = await executorFor(`${server.url}/agents/reporter`).execute(request, noSignal());
    expect(result).toEqual({ output: 'report ready', summary: 'ok', action: 'sleep' });

    const [received] = server.requests;
    expect(received!.method).toBe('POST');
    expect(received!.path).toBe('/agents/reporter');
    expect(received!.headers['content-type']).toBe('application/json');
    const body = JSON.parse(received!.body) as HttpAgentRequestBody;
    expect(body).toEqual({
      job: {
        id: 'job-1',
        name: 'daily-report',
        agent_id: 'remote',
        cron_expr: '0 0 9 * * *',
        at: null,
        timezone: 'UTC',
        input: 'job input',
        session_mode: 'ephemeral_with_summary',
        delivery: ['stdout', 'webhook'],
        heartbeat: null,
      },
      run: {
        id: 'run-1',
        job_id: 'job-1',
        job_name: 'daily-report',
        agent_id: 'remote',
        scheduled_for: '2026-03-01T09:00:00.000Z',
        trigger: 'schedule',
        attempt: 1,
        started_at: '2026-03-01T09:00:00.000Z',
      },
      input: 'check the disks',
      context: {
        mode: 'ephemeral_with_summary',
        previous_summary: 'disk at 71%',
        history: [{ role: 'assistant', content: 'earlier answer', at: '2026-02-28T09:00:00.000Z' }],
        iteration: 2,
        capabilities: ['reporting'],
        environment: 'staging',
        now: '2026-03-01T09:00:00.000Z',
      },
    });
    expect(received!.body).not.toMatch(/secret/);
    expect(received!.body).not.toContain('agent_pin_jwt');
  });

  it('sends the trace context of a traced agent call as the traceparent header, and none for an untraced one', async () => {
    server = await startLoopbackServer((_req, res) => sendJson(res, 200, { output: 'ok' }));
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const executor = executorFor(`${server.url}/agents/reporter`);
    await executor.execute({ ...testRequest('remote'), traceparent }, noSignal());
    await executor.execute(testRequest('remote'), noSignal());
    expect(server.requests.map((request) => request.headers.traceparent)).toEqual([traceparent, undefined]);
  });

  it('takes a non-JSON body whole as the output', async () => {
    server = await startLoopbackServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('plain answer\nsleep\n');
    });
    expect(await executorFor(server.url).execute(testRequest('remote'), noSignal())).toEqual({ output: 'plain answer\nsleep\n' });
  });

  it('rejects a non-2xx answer with its status and body, retryable for 5xx only', async () => {
    let status = 503;
    server = await startLoopbackServer((_req, res) => sendJson(res, status, { error: 'backend down' }));
    const executor = executorFor(server.url);
    const unavailable = (await rejectionOf(executor.execute(testRequest('remote'), noSignal()))) as AgentHttpError;
    expect(unavailable).toBeInstanceOf(AgentHttpError);
    expect(unavailable).toBeInstanceOf(ExecutionError);
    expect(unavailable.status).toBe(503);
    expect(unavailable.retryable).toBe(true);
    expect(unavailable.message).toBe('agent "remote" answered HTTP 503: {"error":"backend down"}');
    status = 422;
    const invalid = (await rejectionOf(executor.execute(testRequest('remote'), noSignal()))) as AgentHttpError;
    expect(invalid.status).toBe(422);
    expect(invalid.retryable).toBe(false);
  });

  it('rejects malformed JSON and JSON without a string output', async () => {
    const bodies = ['{"output": ', '{"result": "x"}'];
    server = await startLoopbackServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(bodies.shift());
    });
    const executor = executorFor(server.url);
    const malformed = await rejectionOf(executor.execute(testRequest('remote'), noSignal()));
    expect(malformed).toBeInstanceOf(ExecutionError);
    expect((malformed as Error).message).toContain('answered invalid JSON');
    const shapeless = await rejectionOf(executor.execute(testRequest('remote'), noSignal()));
    expect((shapeless as Error).message).toContain('"output" must be a string');
  });

  it('refuses a response larger than maxResponseBytes, with or without a content-length', async () => {
    let chunked = false;
    server = await startLoopbackServer((_req, res) => {
      res.writeHead(200, chunked ? { 'content-type': 'text/plain' } : { 'content-type': 'text/plain', 'content-length': '5000' });
      if (chunked) {
        res.write('a'.repeat(3000));
        res.end('b'.repeat(3000));
      } else res.end('c'.repeat(5000));
    });
    const executor = executorFor(server.url, { maxResponseBytes: 4096 });
    expect(((await rejectionOf(executor.execute(testRequest('remote'), noSignal()))) as Error).message).toContain('limit of 4096');
    chunked = true;
    expect(((await rejectionOf(executor.execute(testRequest('remote'), noSignal()))) as Error).message).toContain('limit of 4096');
  });

  it('on abort, rejects at once with the reason and drops the connection', async () => {
    server = await startLoopbackServer(() => {});
    const controller = new AbortController();
    const running = rejectionOf(executorFor(server.url).execute(testRequest('remote'), controller));
    while (server.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const reason = new Error('interrupted');
    controller.abort(reason);
    expect(await running).toBe(reason);
    expect((await server.abandoned).path).toBe('/');
  });

  it("ends a request at the agent's timeoutMs", async () => {
    const clock = new VirtualClock();
    server = await startLoopbackServer(() => {});
    const running = rejectionOf(executorFor(server.url, { clock }, { timeoutMs: 10_000 }).execute(testRequest('remote'), noSignal()));
    while (server.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await clock.advance(10_000);
    const error = (await running) as ExecutionError;
    expect(error.message).toBe('agent "remote" timed out after 10000 ms');
    await server.abandoned;
  });

  it('gives agents without timeoutMs the executor default (5 minutes unless set)', async () => {
    const clock = new VirtualClock();
    server = await startLoopbackServer(() => {});
    let settled = false;
    const running = rejectionOf(executorFor(server.url, { clock }).execute(testRequest('remote'), noSignal())).finally(() => {
      settled = true;
    });
    while (server.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await clock.advance('4m');
    expect(settled).toBe(false);
    await clock.advance('1m');
    expect(((await running) as Error).message).toBe('agent "remote" timed out after 300000 ms');
  });

  it('refuses agents without an http(s) URL', () => {
    expect(() => executorFor('ftp://example.com/agent')).toThrow(ValidationError);
    expect(() => executorFor('not a url')).toThrow(ValidationError);
    expect(() => new HttpExecutor({ agents: [agent('remote')] })).toThrow(ValidationError);
  });
});
