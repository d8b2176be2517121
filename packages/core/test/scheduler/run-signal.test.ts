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

  it('races work against the abort: the first to settle wins, and no listener stays behind', async () => {
    const done = new RunSignal();
    await expect(done.race(Promise.resolve(2), (n) => n * 10)).resolves.toBe(20);
    await expect(done.race(Promise.reject(new Error('agent failed')))).rejects.toThrow('agent failed');
    await expect(done.race(Promise.resolve(1), () => { throw new Error('bad result'); })).rejects.toThrow('bad result');

    const aborted = new RunSignal();
    let fail = (_error: Error) => {};
    const hanging = new Promise<number>((_, reject) => (fail = reject));
    const raced = aborted.race(hanging);
    aborted.abort('shutdown');
    await expect(raced).rejects.toBe('shutdown');
    // The work rejecting later is handled: no unhandled rejection.
    fail(new Error('late'));
    await hanging.catch(() => undefined);

    const heartbeat = new RunSignal();
    for (let i = 0; i < 3; i++) await heartbeat.race(Promise.resolve(i));
    const seen: unknown[] = [];
    heartbeat.onAbort((reason) => seen.push(reason));
    heartbeat.abort('stop');
    expect(seen).toEqual(['stop']);
  });
});

