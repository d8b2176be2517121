import { ExecutionError, ValidationError, type ContextMessage } from '@symbi/core';
import { VirtualClock } from '@symbi/core/testing';
import type { ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentHttpError, LlmExecutor, llmProviderOf } from '../src/index.js';
import { agent, noSignal, rejectionOf, testContext, testRequest } from './support/fixtures.js';
import { sendJson, startLoopbackServer, type LoopbackServer, type ReceivedRequest } from './support/loopback-server.js';

const ANTHROPIC_KEY = 'sk-ant-test-0123456789';
const OPENAI_KEY = 'sk-openai-test-9876543210';
const history: ContextMessage[] = [
  { role: 'user', content: 'How is the disk?', at: '2026-02-28T09:00:00.000Z' },
  { role: 'assistant', content: 'Disk at 70%.', at: '2026-02-28T09:00:01.000Z' },
  { role: 'system', content: 'Operator note: prefer short answers.', at: '2026-02-28T09:00:02.000Z' },
];

/** Where the fake serves each API: at the root and behind the proxies the tests configure. */
const MESSAGES_PATHS = ['/v1/messages', '/proxy/v1/messages'];
const CHAT_COMPLETIONS_PATHS = ['/v1/chat/completions', '/ollama/v1/chat/completions', '/api/v1/chat/completions'];

/**
 * A fake of both APIs that checks what the real ones would reject (path, auth, version header,
 * body shape) and answers in their formats. Statuses and bodies of errors follow their docs.
 */
function fakeLlmApi(req: ReceivedRequest, res: ServerResponse): void {
  const body = JSON.parse(req.body) as Record<string, unknown>;
  if (req.method === 'POST' && MESSAGES_PATHS.includes(req.path)) {
    if (req.headers['x-api-key'] !== ANTHROPIC_KEY) {
      sendJson(res, 401, { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } });
    } else if (req.headers['anthropic-version'] !== '2023-06-01' || req.headers['content-type'] !== 'application/json') {
      sendJson(res, 400, { type: 'error', error: { type: 'invalid_request_error', message: 'bad headers' } });
    } else if (typeof body.max_tokens !== 'number' || !Array.isArray(body.messages) || typeof body.model !== 'string') {
      sendJson(res, 400, { type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: Field required' } });
    } else if (body.model === 'claude-overloaded') {
      sendJson(res, 529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
    } else {
      sendJson(res, 200, {
        id: 'msg_01',
        type: 'message',
        role: 'assistant',
        model: body.model,
        content: [
          { type: 'text', text: 'Disk at 72%.' },
          { type: 'tool_use', id: 'toolu_1', name: 'noop', input: {} },
          { type: 'text', text: '\nsleep' },
        ],
        stop_reason: 'end_turn',
        usage: { input_tokens: 12, output_tokens: 6 },
      });
    }
    return;
  }
  if (req.method === 'POST' && CHAT_COMPLETIONS_PATHS.includes(req.path)) {
    if (req.headers.authorization !== `Bearer ${OPENAI_KEY}`) {
      sendJson(res, 401, { error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', code: 'invalid_api_key' } });
    } else if (body.model === 'gpt-ratelimited') {
      sendJson(res, 429, { error: { message: 'Rate limit reached for requests', type: 'requests', code: 'rate_limit_exceeded' } });
    } else if (!Array.isArray(body.messages) || 'max_tokens' in body) {
      sendJson(res, 400, { error: { message: 'bad body', type: 'invalid_request_error', code: null } });
    } else {
      sendJson(res, 200, {
        id: 'chatcmpl-1',
        object: 'chat.completion',
        created: 1_772_355_600,
        model: body.model,
        choices: [{ index: 0, message: { role: 'assistant', content: 'All services up.', refusal: null }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 20, completion_tokens: 4, total_tokens: 24 },
      });
    }
    return;
  }
  res.writeHead(404, { 'content-type': 'text/html' });
  res.end('<html><body>Not Found</body></html>');
}

let server: LoopbackServer;
beforeEach(async () => {
  server = await startLoopbackServer(fakeLlmApi);
});
afterEach(async () => {
  await server.close();
});

const keys = () => ({ ANTHROPIC_API_KEY: ANTHROPIC_KEY, OPENAI_API_KEY: OPENAI_KEY });

describe('LlmExecutor: Anthropic Messages API', () => {
  it('sends model, max_tokens, system and the conversation, and joins the text blocks of the answer', async () => {
    const executor = new LlmExecutor({
      agents: [agent('monitor', { model: 'claude-sonnet-4.5', systemPrompt: 'You monitor systems.', baseUrl: server.url })],
      env: keys(),
      maxTokens: 1024,
    });
    const request = testRequest('monitor', { context: testContext({ history, previousSummary: 'disk at 71%' }) });
    expect(await executor.execute(request, noSignal())).toEqual({ output: 'Disk at 72%.\nsleep' });

    const [sent] = server.requests;
    expect(sent!.path).toBe('/v1/messages');
    expect(JSON.parse(sent!.body)).toEqual({
      model: 'claude-sonnet-4.5',
      max_tokens: 1024,
      system: 'You monitor systems.\n\nOperator note: prefer short answers.',
      messages: [
        { role: 'user', content: 'How is the disk?' },
        { role: 'assistant', content: 'Disk at 70%.' },
        { role: 'user', content: 'Summary of the previous run:\ndisk at 71%\n\ncheck the disks' },
      ],
    });
  });

  it('reads the base URL from ANTHROPIC_BASE_URL, with or without /v1', async () => {
    for (const base of [`${server.url}/proxy`, `${server.url}/proxy/v1/`]) {
      const executor = new LlmExecutor({
        agents: [agent('monitor', { model: 'claude-haiku-4.5', systemPrompt: 'Be brief.' })],
        env: { ...keys(), ANTHROPIC_BASE_URL: base },
      });
      await executor.execute(testRequest('monitor'), noSignal());
      expect(server.requests.at(-1)!.path).toBe('/proxy/v1/messages');
    }
  });

  it("surfaces an API error with its status and the provider's message, never the key", async () => {
    const executor = new LlmExecutor({
      agents: [agent('monitor', { model: 'claude-sonnet-4.5', systemPrompt: 'x', baseUrl: server.url })],
      env: { ANTHROPIC_API_KEY: 'sk-ant-wrong-key' },
    });
    const error = (await rejectionOf(executor.execute(testRequest('monitor'), noSignal()))) as AgentHttpError;
    expect(error).toBeInstanceOf(AgentHttpError);
    expect(error.status).toBe(401);
    expect(error.retryable).toBe(false);
    expect(error.message).toBe('agent "monitor": Anthropic API answered HTTP 401: authentication_error: invalid x-api-key');
    expect(error.message).not.toContain('sk-ant-wrong-key');
  });

  it('marks overload (529) as retryable', async () => {
    const executor = new LlmExecutor({ agents: [agent('monitor', { model: 'claude-overloaded', baseUrl: server.url })], env: keys() });
    const error = (await rejectionOf(executor.execute(testRequest('monitor'), noSignal()))) as AgentHttpError;
    expect(error.status).toBe(529);
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('overloaded_error: Overloaded');
  });

  it('names the missing key variable and sends nothing', async () => {
    const executor = new LlmExecutor({ agents: [agent('monitor', { model: 'claude-sonnet-4.5', baseUrl: server.url })], env: { OPENAI_API_KEY: OPENAI_KEY } });
    const error = await rejectionOf(executor.execute(testRequest('monitor'), noSignal()));
    expect(error).toBeInstanceOf(ExecutionError);
    expect((error as Error).message).toBe('agent "monitor" needs the environment variable ANTHROPIC_API_KEY, which is not set');
    expect(server.requests).toHaveLength(0);
  });
});

describe('LlmExecutor: OpenAI-compatible Chat Completions', () => {
  it('sends the system prompt as the first message with a bearer key and returns choices[0].message.content', async () => {
    const executor = new LlmExecutor({
      agents: [agent('ops', { model: 'gpt-4o-mini', systemPrompt: 'You are ops.', baseUrl: `${server.url}/v1` })],
      env: keys(),
    });
    const request = testRequest('ops', { input: null, context: testContext({ previousSummary: null }) });
    expect(await executor.execute(request, noSignal())).toEqual({ output: 'All services up.' });
    const [sent] = server.requests;
    expect(sent!.path).toBe('/v1/chat/completions');
    expect(JSON.parse(sent!.body)).toEqual({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'You are ops.' },
        { role: 'user', content: 'Run the scheduled task "daily-report".' },
      ],
    });
  });

  it('appends /v1 to a base URL without it, from the agent or OPENAI_BASE_URL', async () => {
    const fromAgent = new LlmExecutor({ agents: [agent('ops', { model: 'llama3', baseUrl: `${server.url}/ollama` })], env: keys() });
    await fromAgent.execute(testRequest('ops'), noSignal());
    expect(server.requests.at(-1)!.path).toBe('/ollama/v1/chat/completions');
    const fromEnv = new LlmExecutor({ agents: [agent('ops', { model: 'llama3' })], env: { ...keys(), OPENAI_BASE_URL: `${server.url}/api/v1` } });
    await fromEnv.execute(testRequest('ops'), noSignal());
    expect(server.requests.at(-1)!.path).toBe('/api/v1/chat/completions');
  });

  it('starts with a user turn when the shared history starts with the assistant', async () => {
    const executor = new LlmExecutor({ agents: [agent('ops', { model: 'gpt-4o', baseUrl: server.url })], env: keys() });
    const resumed: ContextMessage[] = [
      { role: 'assistant', content: 'Standing by.', at: '2026-02-28T09:00:00.000Z' },
      { role: 'user', content: 'ping', at: '2026-02-28T09:00:01.000Z' },
    ];
    await executor.execute(testRequest('ops', { context: testContext({ history: resumed, previousSummary: null }) }), noSignal());
    expect((JSON.parse(server.requests[0]!.body) as { messages: unknown[] }).messages).toEqual([
      { role: 'user', content: '(Earlier conversation follows.)' },
      { role: 'assistant', content: 'Standing by.' },
      { role: 'user', content: 'ping\n\ncheck the disks' },
    ]);
  });

  it('surfaces a rate limit as a retryable error with the provider message', async () => {
    const executor = new LlmExecutor({ agents: [agent('ops', { model: 'gpt-ratelimited', baseUrl: server.url })], env: keys() });
    const error = (await rejectionOf(executor.execute(testRequest('ops'), noSignal()))) as AgentHttpError;
    expect(error.status).toBe(429);
    expect(error.retryable).toBe(true);
    expect(error.message).toBe('agent "ops": OpenAI-compatible API answered HTTP 429: requests: Rate limit reached for requests');
  });

  it('quotes a non-JSON error body, and names OPENAI_API_KEY when it is missing', async () => {
    const wrongPath = new LlmExecutor({ agents: [agent('ops', { model: 'gpt-4o', baseUrl: `${server.url}/nowhere` })], env: keys() });
    const notFound = (await rejectionOf(wrongPath.execute(testRequest('ops'), noSignal()))) as AgentHttpError;
    expect(notFound.status).toBe(404);
    expect(notFound.message).toContain('<html><body>Not Found</body></html>');

    const keyless = new LlmExecutor({ agents: [agent('ops', { model: 'gpt-4o', baseUrl: server.url })], env: {} });
    expect(((await rejectionOf(keyless.execute(testRequest('ops'), noSignal()))) as Error).message).toContain('OPENAI_API_KEY');
  });
});

describe('LlmExecutor: provider choice, abort and timeout', () => {
  it('infers anthropic for claude* models, openai otherwise, unless the agent says', () => {
    expect(llmProviderOf({ model: 'claude-sonnet-4.5' })).toBe('anthropic');
    expect(llmProviderOf({ model: 'Claude-3-opus' })).toBe('anthropic');
    expect(llmProviderOf({ model: 'gpt-4o' })).toBe('openai');
    expect(llmProviderOf({ model: 'claude-sonnet-4.5', provider: 'openai' })).toBe('openai');
    expect(() => new LlmExecutor({ agents: [agent('x', { model: 'm', provider: 'cohere' as never })] })).toThrow(ValidationError);
    expect(() => new LlmExecutor({ agents: [agent('x', { systemPrompt: 'no model' })] })).toThrow(ValidationError);
  });

  it('routes a claude model with provider openai to Chat Completions', async () => {
    const executor = new LlmExecutor({ agents: [agent('x', { model: 'claude-via-gateway', provider: 'openai', baseUrl: server.url })], env: keys() });
    expect((await executor.execute(testRequest('x'), noSignal())).output).toBe('All services up.');
    expect(server.requests[0]!.path).toBe('/v1/chat/completions');
  });

  it('on abort, rejects at once with the reason and drops the request', async () => {
    const hanging = await startLoopbackServer(() => {});
    try {
      const executor = new LlmExecutor({ agents: [agent('m', { model: 'claude-sonnet-4.5', baseUrl: hanging.url })], env: keys() });
      const controller = new AbortController();
      const running = rejectionOf(executor.execute(testRequest('m'), controller));
      while (hanging.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      controller.abort('shutdown');
      expect(await running).toBe('shutdown');
      await hanging.abandoned;
    } finally {
      await hanging.close();
    }
  });

  it("ends a request at the agent's timeoutMs", async () => {
    const hanging = await startLoopbackServer(() => {});
    try {
      const clock = new VirtualClock();
      const executor = new LlmExecutor({ agents: [agent('m', { model: 'gpt-4o', baseUrl: hanging.url, timeoutMs: 60_000 })], env: keys(), clock });
      const running = rejectionOf(executor.execute(testRequest('m'), noSignal()));
      while (hanging.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      await clock.advance('1m');
      expect(((await running) as Error).message).toBe('agent "m" timed out after 60000 ms');
      await hanging.abandoned;
    } finally {
      await hanging.close();
    }
  });
});
