import { describe, expect, it } from 'vitest';
import { loadTraceRoot } from '../../src/scheduler/run-tracing.js';

describe('run tracing without OpenTelemetry', () => {
  it('falls back to spans that record nothing when @opentelemetry/api cannot be loaded, and still runs the work', async () => {
    const missing = Object.assign(new Error("Cannot find package '@opentelemetry/api'"), { code: 'ERR_MODULE_NOT_FOUND' });
    const root = await loadTraceRoot(() => Promise.reject(missing));
    const seen: (string | null)[] = [];
    const result = await root.child('symbi.run', { 'symbi.job': 'j' }, (run) =>
      run.child('symbi.agent', {}, async (call) => {
        seen.push(run.traceparent, call.traceparent);
        return 'output';
      }),
    );
    expect(result).toBe('output');
    expect(seen).toEqual([null, null]);
    await expect(root.child('symbi.run', {}, async () => Promise.reject(new Error('disk full')))).rejects.toThrow('disk full');
  });

  it('sends no traceparent while no tracer provider is registered, though the API is installed', async () => {
    const root = await loadTraceRoot(() => import('@opentelemetry/api'));
    const traceparent = await root.child('symbi.run', {}, async (run) => run.traceparent);
    expect(traceparent).toBeNull();
  });
});
