import { ExecutionError, ValidationError } from '@symbi/core';
import { VirtualClock } from '@symbi/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentRegistry, FunctionExecutor, agentKind, createAgentExecutor } from '../src/index.js';
import { agent, noSignal, rejectionOf, testRequest } from './support/fixtures.js';
import { sendJson, startLoopbackServer, type LoopbackServer } from './support/loopback-server.js';
import { nodeEval } from './support/processes.js';

let server: LoopbackServer;
beforeEach(async () => {
  server = await startLoopbackServer((req, res) => {
    if (req.path === '/v1/messages') sendJson(res, 200, { type: 'message', content: [{ type: 'text', text: 'from the model' }] });
    else sendJson(res, 200, { output: `from ${req.path}` });
  });
});
afterEach(async () => {
  await server.close();
});

function registry(functions = new FunctionExecutor(), clock?: VirtualClock): AgentRegistry {
  return createAgentExecutor({
    agents: [
      agent('shell', { command: nodeEval(`process.stdout.write('from the shell: ' + process.env.SYMBI_AGENT_ID)`), capabilities: ['shell'] }),
      agent('remote', { url: `${server.url}/remote`, capabilities: ['http'] }),
      agent('llm', { model: 'claude-sonnet-4.5', systemPrompt: 'Be brief.', baseUrl: server.url, capabilities: ['chat'] }),
      agent('local', { capabilities: ['declared'], timeoutMs: 1_000 }),
      agent('orphan', { capabilities: [] }),
      // command wins over url and model when a definition has several.
      agent('both', { command: nodeEval(`process.stdout.write('command wins')`), url: `${server.url}/both`, model: 'gpt-4o' }),
    ],
    functions,
    env: { PATH: process.env.PATH, ANTHROPIC_API_KEY: 'sk-ant-test' },
    clock,
  });
}

describe('AgentRegistry', () => {
  it('routes each agent to the executor of its kind', async () => {
    const functions = new FunctionExecutor({ agents: { local: () => 'from a function', extra: { fn: () => 'undeclared', capabilities: ['x'] } } });
    const executor = registry(functions);
    const run = async (id: string) => (await executor.execute(testRequest(id), noSignal())).output;
    expect(await run('shell')).toBe('from the shell: shell');
    expect(await run('remote')).toBe('from /remote');
    expect(await run('llm')).toBe('from the model');
    expect(await run('local')).toBe('from a function');
    expect(await run('extra')).toBe('undeclared');
    expect(await run('both')).toBe('command wins');
    expect(server.requests.map((r) => r.path)).toEqual(['/remote', '/v1/messages']);
    expect(['shell', 'remote', 'llm', 'local', 'extra', 'both', 'ghost'].map((id) => executor.kindOf(id))).toEqual([
      'command',
      'http',
      'llm',
      'function',
      'function',
      'command',
      undefined,
    ]);
  });

  it('describes agents from their declarations, else from the function registry', () => {
    const functions = new FunctionExecutor({ agents: { local: { fn: () => 'x', capabilities: ['ignored'] }, extra: { fn: () => 'x', capabilities: ['x'] } } });
    const executor = registry(functions);
    expect(executor.describe('shell')).toEqual({ id: 'shell', capabilities: ['shell'] });
    expect(executor.describe('llm')).toEqual({ id: 'llm', capabilities: ['chat'] });
    expect(executor.describe('local')).toEqual({ id: 'local', capabilities: ['declared'] });
    expect(executor.describe('extra')).toEqual({ id: 'extra', capabilities: ['x'] });
    expect(executor.describe('ghost')).toBeUndefined();
  });

  it('fails a declared agent with nothing to run it, and an unknown agent, by name', async () => {
    const executor = registry();
    const orphan = await rejectionOf(executor.execute(testRequest('orphan'), noSignal()));
    expect(orphan).toBeInstanceOf(ExecutionError);
    expect((orphan as Error).message).toBe('agent "orphan" has no command, url or model, and no function is registered under its name');
    const ghost = await rejectionOf(executor.execute(testRequest('ghost'), noSignal()));
    expect((ghost as Error).message).toBe('unknown agent "ghost"');
  });

  it('finds functions registered after it was built', async () => {
    const functions = new FunctionExecutor();
    const executor = registry(functions);
    functions.register('orphan', () => 'adopted');
    expect((await executor.execute(testRequest('orphan'), noSignal())).output).toBe('adopted');
  });

  it("applies a declared function agent's timeoutMs, and passes aborts through", async () => {
    const clock = new VirtualClock();
    const functions = new FunctionExecutor({ agents: { local: () => new Promise<string>(() => {}), extra: () => new Promise<string>(() => {}) } });
    const executor = registry(functions, clock);
    const timedOut = rejectionOf(executor.execute(testRequest('local'), noSignal()));
    await clock.advance(1_000);
    expect(((await timedOut) as Error).message).toBe('agent "local" timed out after 1000 ms');

    const controller = new AbortController();
    const aborted = rejectionOf(executor.execute(testRequest('extra'), controller));
    controller.abort('overlap cancel_other');
    expect(await aborted).toBe('overlap cancel_other');
  });

  it('refuses an agent declared twice', () => {
    expect(() => new AgentRegistry({ agents: [agent('a', { command: 'true' }), agent('a', { url: 'http://127.0.0.1/' })] })).toThrow(ValidationError);
  });

  it('names the kind of a definition', () => {
    expect(agentKind(agent('a', { command: 'run.sh' }))).toBe('command');
    expect(agentKind(agent('a', { url: 'https://x' }))).toBe('http');
    expect(agentKind(agent('a', { model: 'gpt-4o' }))).toBe('llm');
    expect(agentKind(agent('a'))).toBe('function');
  });
});
