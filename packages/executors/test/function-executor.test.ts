import { ConflictError, ExecutionError, RunTimeoutError, ValidationError } from '@symbi/core';
import { describe, expect, it } from 'vitest';
import { FunctionExecutor } from '../src/index.js';
import { noSignal, rejectionOf, testRequest } from './support/fixtures.js';

describe('FunctionExecutor', () => {
  it('runs the function registered under the agent id with the request and a signal', async () => {
    const seen: { input: string | null; aborted: boolean }[] = [];
    const executor = new FunctionExecutor().register('reporter', (request, { signal }) => {
      seen.push({ input: request.input, aborted: signal.aborted });
      return `report: ${request.input} (iteration ${request.context.iteration})`;
    });
    expect(await executor.execute(testRequest('reporter'), noSignal())).toEqual({ output: 'report: check the disks (iteration 2)' });
    expect(seen).toEqual([{ input: 'check the disks', aborted: false }]);
  });

  it('passes a full result through, keeping only its known fields', async () => {
    const executor = new FunctionExecutor({
      agents: {
        monitor: async () => ({ output: 'all good\nsleep', summary: 'ok', action: 'sleep' as const, stderr: null, extra: 1 }),
      },
    });
    expect(await executor.execute(testRequest('monitor'), noSignal())).toEqual({
      output: 'all good\nsleep',
      summary: 'ok',
      action: 'sleep',
      stderr: null,
    });
  });

  it('refuses results that are not a string or { output: string }', async () => {
    const executor = new FunctionExecutor({
      agents: {
        numeric: () => ({ output: 42 }) as never,
        badAction: () => ({ output: 'x', action: 'nap' }) as never,
        badMessages: () => ({ output: 'x', messages: [{ role: 'robot', content: 'x', at: 'now' }] }) as never,
      },
    });
    for (const [name, field] of [['numeric', '"output"'], ['badAction', '"action"'], ['badMessages', '"messages"']] as const) {
      const error = await rejectionOf(executor.execute(testRequest(name), noSignal()));
      expect(error).toBeInstanceOf(ExecutionError);
      expect((error as Error).message).toContain(`agent "${name}" returned an invalid result`);
      expect((error as Error).message).toContain(field);
    }
  });

  it('names an unknown agent', async () => {
    const error = await rejectionOf(new FunctionExecutor().execute(testRequest('ghost'), noSignal()));
    expect(error).toBeInstanceOf(ExecutionError);
    expect((error as Error).message).toBe('no function is registered for agent "ghost"');
  });

  it('describes registered capabilities, in both registration forms', () => {
    const executor = new FunctionExecutor({
      agents: { deployer: { fn: () => 'done', capabilities: ['deployment', 'production_write'] }, plain: () => 'x' },
    });
    executor.register('scanner', () => 'clean', { capabilities: ['security'] });
    expect(executor.describe('deployer')).toEqual({ id: 'deployer', capabilities: ['deployment', 'production_write'] });
    expect(executor.describe('plain')).toEqual({ id: 'plain', capabilities: [] });
    expect(executor.describe('scanner')).toEqual({ id: 'scanner', capabilities: ['security'] });
    expect(executor.describe('ghost')).toBeUndefined();
    expect(executor.has('scanner')).toBe(true);
    expect(executor.unregister('scanner')).toBe(true);
    expect(executor.has('scanner')).toBe(false);
  });

  it('refuses a second registration of a name and an empty name', () => {
    const executor = new FunctionExecutor().register('a', () => 'x');
    expect(() => executor.register('a', () => 'y')).toThrow(ConflictError);
    expect(() => executor.register(' ', () => 'y')).toThrow(ValidationError);
  });

  it('wraps a plain error in an ExecutionError naming the agent, and lets scheduler errors through', async () => {
    const cause = new Error('upstream 503');
    const own = new ExecutionError('quota exhausted', { retryable: true });
    const executor = new FunctionExecutor({
      agents: {
        throwsSync: () => {
          throw cause;
        },
        rejects: async () => {
          throw own;
        },
      },
    });
    const wrapped = (await rejectionOf(executor.execute(testRequest('throwsSync'), noSignal()))) as ExecutionError;
    expect(wrapped).toBeInstanceOf(ExecutionError);
    expect(wrapped.message).toBe('agent "throwsSync" failed: upstream 503');
    expect(wrapped.cause).toBe(cause);
    expect(await rejectionOf(executor.execute(testRequest('rejects'), noSignal()))).toBe(own);
  });

  it('on abort, rejects at once with the reason even when the function ignores its signal', async () => {
    const executor = new FunctionExecutor({ agents: { stubborn: () => new Promise<string>(() => {}) } });
    const controller = new AbortController();
    const running = rejectionOf(executor.execute(testRequest('stubborn'), controller));
    const reason = new RunTimeoutError(300_000);
    controller.abort(reason);
    expect(await running).toBe(reason);
  });

  it('aborts the signal the function got, so it can stop its own work', async () => {
    let stopped: unknown;
    const executor = new FunctionExecutor({
      agents: {
        polite: (_request, { signal }) =>
          new Promise<string>((_resolve, reject) =>
            signal.addEventListener('abort', () => {
              stopped = signal.reason;
              reject(new Error('stopped'));
            }),
          ),
      },
    });
    const controller = new AbortController();
    const running = rejectionOf(executor.execute(testRequest('polite'), controller));
    controller.abort('shutdown');
    expect(await running).toBe('shutdown');
    expect(stopped).toBe('shutdown');
  });

  it('does not call the function when the signal is already aborted', async () => {
    let calls = 0;
    const executor = new FunctionExecutor({ agents: { counted: () => `${++calls}` } });
    const controller = new AbortController();
    controller.abort('gone');
    expect(await rejectionOf(executor.execute(testRequest('counted'), controller))).toBe('gone');
    expect(calls).toBe(0);
  });
});
