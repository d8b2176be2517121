import { describe, expect, it } from 'vitest';
import { RunSignal } from '../../src/scheduler/run-signal.js';

describe('RunSignal', () => {
  it('aborts its AbortSignal and then its listeners, in order, once', () => {
    const run = new RunSignal();
    const { signal } = run.options;
    expect(run.signal).toBe(signal);
    const seen: string[] = [];
    signal.addEventListener('abort', () => seen.push(`signal ${String(signal.reason)}`));
    run.onAbort((reason) => seen.push(`first ${String(reason)}`));
    run.onAbort((reason) => seen.push(`second ${String(reason)}`));
    run.abort('stop');
    run.abort('again');
    expect(seen).toEqual(['signal stop', 'first stop', 'second stop']);
    expect(run.aborted).toBe(true);
    expect(run.reason).toBe('stop');
    expect(() => run.throwIfAborted()).toThrow();
  });

  it('makes its AbortSignal only when read, already aborted when the run was', () => {
    const run = new RunSignal();
    const reason = new Error('interrupted');
    run.abort(reason);
    const { signal } = run.options;
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(reason);
    expect(run.options.signal).toBe(signal);
  });

  it('calls no listener removed, nor one added after the abort', () => {
    const run = new RunSignal();
    const seen: string[] = [];
    const removed = () => seen.push('removed');
    run.onAbort(removed);
    run.onAbort(() => seen.push('kept'));
    run.offAbort(removed);
    run.abort(new Error('x'));
    run.onAbort(() => seen.push('late'));
    expect(seen).toEqual(['kept']);
    expect(() => run.throwIfAborted()).toThrow('x');
  });

  it('aborts with an AbortError when given no reason', () => {
    const run = new RunSignal();
    run.abort(undefined);
    expect(run.reason).toBeInstanceOf(DOMException);
    expect((run.reason as DOMException).name).toBe('AbortError');
    expect(run.signal.reason).toBe(run.reason);
  });
});
