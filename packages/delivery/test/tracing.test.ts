import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { CronScheduler, InMemoryJobStore, systemClock } from '@symbi/core';
import { FakeExecutor, VirtualClock } from '@symbi/core/testing';
import { ChannelRouter } from '@symbi/delivery';
import { HttpRecorder } from './support/http-recorder.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

beforeAll(() => {
  trace.setGlobalTracerProvider(provider);
});
afterAll(async () => {
  trace.disable();
  await provider.shutdown();
});

/** The finished spans as an indented tree: name, then the attributes named in `keys`, one line each. */
function spanTree(spans: ReadableSpan[], keys: string[]): string[] {
  const children = (parentId: string | undefined) =>
    spans.filter((span) => span.parentSpanContext?.spanId === parentId).sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]);
  const lines: string[] = [];
  const walk = (span: ReadableSpan, depth: number) => {
    const attributes = keys.filter((key) => span.attributes[key] !== undefined).map((key) => `${key}=${String(span.attributes[key])}`);
    lines.push(`${'  '.repeat(depth)}${[span.name, ...attributes].join(' ')}${span.status.code === 2 ? ' ERROR' : ''}`);
    for (const child of children(span.spanContext().spanId)) walk(child, depth + 1);
  };
  for (const root of children(undefined)) walk(root, 0);
  return lines;
}

const KEYS = ['symbi.job', 'symbi.agent', 'symbi.trigger', 'symbi.attempt', 'symbi.status', 'symbi.gate', 'symbi.decision', 'symbi.iteration', 'symbi.action', 'symbi.channel', 'symbi.delivery_attempt'];

describe('OpenTelemetry tracing of a run', () => {
  let recorder: HttpRecorder;
  let scheduler: CronScheduler | null = null;

  beforeEach(async () => {
    exporter.reset();
    recorder = await HttpRecorder.start();
  });
  afterEach(async () => {
    await scheduler?.stop();
    await recorder.close();
  });

  async function runOnce(agent: (call: number) => string, spec: { heartbeat?: { enabled: boolean; maxIterations: number } }) {
    const executor = new FakeExecutor(systemClock, { monitor: (_request, call) => agent(call) });
    scheduler = new CronScheduler({ store: new InMemoryJobStore(), executor, router: new ChannelRouter({ config: { allowHosts: ['127.0.0.1'] } }), config: { shutdownTimeoutMs: 0 } });
    await scheduler.start();
    await scheduler.add({ name: 'system-monitor', agentId: 'monitor', cronExpr: '0 0 0 1 1 *', delivery: ['webhook'], webhookUrl: recorder.url(), maxRetries: 0, ...spec });
    await scheduler.runNow('system-monitor');
    // Deliveries are queued as the run ends, so the delivery span (a child of the run's) ends last.
    await vi.waitFor(() => expect(exporter.getFinishedSpans().map((span) => span.name)).toEqual(expect.arrayContaining(['symbi.run', 'symbi.delivery'])), {
      timeout: 10_000,
    });
    return { executor, spans: exporter.getFinishedSpans() };
  }

  it('records a heartbeat run with two iterations and a webhook delivery as one trace, and the webhook receives its traceparent', async () => {
    const { executor, spans } = await runOnce((call) => (call === 2 ? 'all clear\nsleep' : 'restarted nginx'), { heartbeat: { enabled: true, maxIterations: 5 } });

    expect(spanTree(spans, KEYS)).toEqual([
      'symbi.run symbi.job=system-monitor symbi.agent=monitor symbi.trigger=manual symbi.attempt=1 symbi.status=succeeded',
      '  symbi.policy symbi.gate=agentpin symbi.decision=Allow',
      '  symbi.policy symbi.gate=schedule-policy symbi.decision=Allow',
      '  symbi.heartbeat.iteration symbi.iteration=1 symbi.action=continue',
      '    symbi.agent symbi.agent=monitor',
      '  symbi.heartbeat.iteration symbi.iteration=2 symbi.action=sleep',
      '    symbi.agent symbi.agent=monitor',
      '  symbi.delivery symbi.channel=webhook symbi.delivery_attempt=1',
    ]);
    const traceId = spans[0]!.spanContext().traceId;
    expect(spans.every((span) => span.spanContext().traceId === traceId)).toBe(true);

    // The webhook names the delivery span as its parent: W3C version 00, the trace, the span, sampled.
    const delivery = spans.find((span) => span.name === 'symbi.delivery')!;
    expect(recorder.requests).toHaveLength(1);
    expect(recorder.requests[0]!.headers.traceparent).toBe(`00-${traceId}-${delivery.spanContext().spanId}-01`);
    expect(recorder.requests[0]!.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

    // Each agent call carries the traceparent of its own span, for HTTP agents to send on.
    const agentSpans = spans.filter((span) => span.name === 'symbi.agent').map((span) => `00-${traceId}-${span.spanContext().spanId}-01`);
    expect(executor.calls.map((call) => call.request.traceparent)).toEqual(agentSpans);
  });

  it('traces a delivery retried from the outbox after a restart as a trace of its own, sending its traceparent', async () => {
    const store = new InMemoryJobStore();
    const clock = new VirtualClock('2026-03-02T09:00:00Z');
    const executor = new FakeExecutor(clock, { monitor: () => 'precious output' });
    const hanging = { route: () => new Promise<void>(() => undefined) };
    const dying = new CronScheduler({ store, executor, router: hanging, clock, config: { leaseMs: 10_000, shutdownTimeoutMs: 0 } });
    await dying.start();
    await dying.add({ name: 'outbox', agentId: 'monitor', at: '2026-03-02T09:00:01Z', delivery: ['webhook'], webhookUrl: recorder.url() });
    await clock.advance('2s');
    // The process "dies" with the delivery unacknowledged: the run's span ended with the run (its
    // deliveries wait in their own queue), the hanging delivery's span never ends.
    await dying.stop();
    expect(exporter.getFinishedSpans().map((span) => span.name)).toEqual(['symbi.policy', 'symbi.policy', 'symbi.agent', 'symbi.run']);
    exporter.reset();

    scheduler = new CronScheduler({ store, executor, router: new ChannelRouter({ clock, config: { allowHosts: ['127.0.0.1'] } }), clock, config: { leaseMs: 10_000 } });
    await scheduler.start();
    await clock.advance('15s');
    await vi.waitFor(() => expect(exporter.getFinishedSpans()).toHaveLength(1), { timeout: 10_000 });
    const [delivery] = exporter.getFinishedSpans();
    expect(spanTree([delivery!], KEYS)).toEqual(['symbi.delivery symbi.channel=webhook symbi.delivery_attempt=1']);
    expect(recorder.requests.map((request) => request.headers.traceparent)).toEqual([`00-${delivery!.spanContext().traceId}-${delivery!.spanContext().spanId}-01`]);
  });

  it('marks the agent call and the run failed when the agent throws, and still traces the delivery of the failure', async () => {
    const { spans } = await runOnce(() => {
      throw new Error('disk full');
    }, {});

    expect(spanTree(spans, ['symbi.status', 'symbi.channel'])).toEqual([
      'symbi.run symbi.status=failed ERROR',
      '  symbi.policy',
      '  symbi.policy',
      '  symbi.agent ERROR',
      '  symbi.delivery symbi.channel=webhook',
    ]);
    expect(spans.find((span) => span.name === 'symbi.agent')!.status.message).toBe('disk full');
    expect(recorder.requests[0]!.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });
});
