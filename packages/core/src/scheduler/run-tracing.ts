import type * as OpenTelemetry from '@opentelemetry/api';
import type { JobRunRecord } from '../domain/run.js';
import type { ClaimedRun } from '../ports/job-store.js';

/** Attribute values a span accepts. */
export type TraceAttributes = Record<string, string | number | boolean>;

/**
 * A span of a run's trace, or the root below which runs start. Without `@opentelemetry/api` (or
 * with it but no tracer provider registered) every span is a no-op and has no `traceparent`.
 */
export interface TraceSpan {
  /** The W3C `traceparent` header value naming this span; null when nothing is recorded. */
  readonly traceparent: string | null;
  /**
   * Runs `work` in a child span named `name`, which ends when `work` settles and is marked an
   * error when it throws. Work run inside is also in the span's OpenTelemetry context, so a host's
   * own instrumentation (of `fetch`, say) nests below it.
   */
  child<T>(name: string, attributes: TraceAttributes, work: (span: TraceSpan) => Promise<T>): Promise<T>;
  /** Adds attributes. */
  set(attributes: TraceAttributes): void;
  /** Marks the span failed with `message` (the span still ends with its `child` call). */
  fail(message: string): void;
  /**
   * Whether a child of this span may be recorded: false for the no-op span (whose children are
   * no-ops too), and for OpenTelemetry's root while no tracer provider is registered. Callers skip
   * `child` for such a span and run the work directly, sparing a promise per step.
   */
  readonly recording: boolean;
}

const NOOP_SPAN: TraceSpan = {
  traceparent: null,
  recording: false,
  child: (_name, _attributes, work) => work(NOOP_SPAN),
  set: () => {},
  fail: () => {},
};

type Api = typeof OpenTelemetry;

/** A span of the OpenTelemetry API; without `span`, the root: its children start traces. */
class OtelSpan implements TraceSpan {
  readonly #api: Api;
  readonly #tracer: OpenTelemetry.Tracer;
  readonly #span: OpenTelemetry.Span | null;
  /** The provider the global one delegates to while none is registered (see {@link recording}). */
  readonly #noProvider: OpenTelemetry.TracerProvider;

  constructor(api: Api, tracer: OpenTelemetry.Tracer, span: OpenTelemetry.Span | null) {
    this.#api = api;
    this.#tracer = tracer;
    this.#span = span;
    // A fresh proxy has no delegate: it answers with the API's no-op provider, the one the global
    // proxy answers with until a provider is registered.
    this.#noProvider = new api.ProxyTracerProvider().getDelegate();
  }

  /** Below a span, always; at the root, while a tracer provider is registered (one may be, any time). */
  get recording(): boolean {
    if (this.#span !== null) return true;
    const provider = this.#api.trace.getTracerProvider();
    return !(provider instanceof this.#api.ProxyTracerProvider) || provider.getDelegate() !== this.#noProvider;
  }

  get traceparent(): string | null {
    const context = this.#span?.spanContext();
    if (!context || !this.#api.isSpanContextValid(context)) return null;
    return `00-${context.traceId}-${context.spanId}-${context.traceFlags.toString(16).padStart(2, '0')}`;
  }

  async child<T>(name: string, attributes: TraceAttributes, work: (span: TraceSpan) => Promise<T>): Promise<T> {
    const { context, trace } = this.#api;
    // A run is a trace of its own, whatever context the scheduler loop happens to be in.
    const parent = this.#span ? trace.setSpan(context.active(), this.#span) : this.#api.ROOT_CONTEXT;
    const span = this.#tracer.startSpan(name, { attributes }, parent);
    // Without a tracer provider a span records nothing and carries no context: the work runs below
    // the no-op span, which spares a context switch and a span for each step of every run.
    if (!span.isRecording() && !this.#api.isSpanContextValid(span.spanContext())) return work(NOOP_SPAN);
    const child = new OtelSpan(this.#api, this.#tracer, span);
    try {
      return await context.with(trace.setSpan(parent, span), () => work(child));
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      child.fail(error instanceof Error ? error.message : String(error));
      throw error;
    } finally {
      span.end();
    }
  }

  set(attributes: TraceAttributes): void {
    this.#span?.setAttributes(attributes);
  }

  fail(message: string): void {
    this.#span?.setStatus({ code: this.#api.SpanStatusCode.ERROR, message });
  }
}

/**
 * The root span of runs: OpenTelemetry's when `load` finds `@opentelemetry/api`, else the no-op
 * one. Tracing never stops a run: any failure to load it means no tracing.
 */
export async function loadTraceRoot(load: () => Promise<Api>): Promise<TraceSpan> {
  try {
    const api = await load();
    return new OtelSpan(api, api.trace.getTracer('@symbi/core'), null);
  } catch {
    return NOOP_SPAN;
  }
}

let loading: Promise<TraceSpan> | null = null;
let loaded: TraceSpan | null = null;

/**
 * Where `@opentelemetry/api` 1.x (the versions core supports) keeps what a host registers with it:
 * a tracer provider, a context manager… Until something is kept there, no tracer provider is
 * registered, so a run records nothing whether the API is loaded or not.
 */
const OTEL_API_GLOBAL = Symbol.for('opentelemetry.js.api.1');

/** Whether anything was ever registered with OpenTelemetry's API in this process (see {@link OTEL_API_GLOBAL}). */
export function otelRegistered(): boolean {
  return (globalThis as Record<symbol, unknown>)[OTEL_API_GLOBAL] !== undefined;
}

/** Whether the API is loaded or being loaded, or must be: something was registered with it. */
const tracingWanted = (): boolean => loading !== null || otelRegistered();

/**
 * Loads the optional `@opentelemetry/api` once, as soon as something is registered with it: while
 * nothing is, nothing could be recorded, and the load (about 50 ms of CPU) is spared. The scheduler
 * awaits it before its first run, so that runs never wait on a module load (and virtual-clock tests
 * see no real-time gap) unless a host registers a tracer provider only after the start.
 */
export function prepareTracing(): Promise<TraceSpan> {
  if (!tracingWanted()) return Promise.resolve(NOOP_SPAN);
  loading ??= loadTraceRoot(() => import('@opentelemetry/api')).then((root) => (loaded = root));
  return loading;
}

/** Statuses a run span is marked failed for. */
const FAILED: readonly string[] = ['failed', 'timed_out', 'interrupted'];

/**
 * Runs the pipeline of one claimed run (`work`, given the run, `signal` and the span) in a
 * `symbi.run` span with the run's job, agent, trigger, attempt and, once `work` resolves, its
 * status. `work` resolves null when the run was not this instance's to finish; the span then has no
 * status. Without a tracer, `work` is called straight away (no closure, no promise more).
 */
export function traceRun<S>(
  claimed: ClaimedRun,
  signal: S,
  work: (claimed: ClaimedRun, signal: S, span: TraceSpan) => Promise<JobRunRecord | null>,
): Promise<JobRunRecord | null> {
  const root = loaded;
  if (root === null) {
    // Nothing registered with OpenTelemetry: there is no tracer provider, and the API stays unloaded.
    if (!tracingWanted()) return work(claimed, signal, NOOP_SPAN);
    return prepareTracing().then(() => traceRun(claimed, signal, work));
  }
  // Without a tracer nothing is recorded: the run goes straight to its work.
  if (!root.recording) return work(claimed, signal, NOOP_SPAN);
  const { run, job } = claimed;
  const attributes = { 'symbi.job': job.name, 'symbi.job_id': job.id, 'symbi.run_id': run.id, 'symbi.agent': job.agentId, 'symbi.trigger': run.trigger, 'symbi.attempt': run.attempt };
  return root.child('symbi.run', attributes, async (span) => {
    const finished = await work(claimed, signal, span);
    if (finished) span.set({ 'symbi.status': finished.status });
    if (finished && FAILED.includes(finished.status)) span.fail(finished.error ?? finished.status);
    return finished;
  });
}

/** The span outbox deliveries retried outside a run's pipeline start from: the root of a trace of their own. */
export async function deliveryRoot(): Promise<TraceSpan> {
  return loaded ?? prepareTracing();
}
