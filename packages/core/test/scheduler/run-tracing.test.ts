import { describe, expect, it } from 'vitest';
import { trace, type Span, type Tracer, type TracerProvider } from '@opentelemetry/api';
import { loadTraceRoot, otelRegistered, prepareTracing, traceRun, type TraceSpan } from '../../src/scheduler/run-tracing.js';
import { makeJob } from '../../src/testing/fixtures.js';
import { newRun } from '../../src/domain/run-factory.js';

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

describe('loading OpenTelemetry only once something is registered with it', () => {
  it('runs the work at once below a span that records nothing while nothing is registered, and sees a tracer provider registered later', async () => {
    // Each test file runs in a process of its own: nothing is registered here yet.
    expect(otelRegistered()).toBe(false);
    expect(await prepareTracing()).toMatchObject({ recording: false, traceparent: null });
    const job = makeJob();
    let seen: TraceSpan | null = null;
    const done = traceRun({ job, run: newRun(job, { scheduledFor: new Date(), trigger: 'manual' }) }, null, async (_claimed, _signal, span) => {
      seen = span;
      return null;
    });
    // Called in the caller's turn: no module was loaded first.
    expect(seen).toMatchObject({ recording: false, traceparent: null });
    await done;

    // A provider whose spans carry a valid context: once it is registered (the key the API writes
    // is the one watched), the API is loaded and the run's work gets a span that records.
    const context = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 };
    const span = trace.wrapSpanContext(context) as Span;
    const tracer = { startSpan: () => span } as unknown as Tracer;
    const provider: TracerProvider = { getTracer: () => tracer };
    trace.setGlobalTracerProvider(provider);
    try {
      expect(otelRegistered()).toBe(true);
      let traced: string | null = null;
      await traceRun({ job, run: newRun(job, { scheduledFor: new Date(), trigger: 'manual' }) }, null, async (_claimed, _signal, runSpan) => {
        traced = runSpan.traceparent;
        return null;
      });
      expect(traced).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    } finally {
      trace.disable();
    }
  });
});
