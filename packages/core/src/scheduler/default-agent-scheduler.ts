import type { EventEmitter } from 'eventemitter3';
import type { AuditEvent, SecurityEventType } from '../domain/audit.js';
import type { CronJobDefinition } from '../domain/job.js';
import type { DeliveryOutcome, HeartbeatIteration, JobRunRecord, RunStatus } from '../domain/run.js';
import { executedAuditEvent, type ExecutedRunFacts } from '../domain/run-audit.js';
import type { AgentContext } from '../domain/session.js';
import { DeliveryError, RunTimeoutError, SchedulerError } from '../errors.js';
import type { AgentExecutionRequest, AgentExecutionResult, AgentExecutor } from '../ports/agent-executor.js';
import type { Clock } from '../ports/clock.js';
import type { DeliveryRouter } from '../ports/delivery-router.js';
import type { ClaimedRun, JobStore, RunGuard, RunOutcome, RunPatch } from '../ports/job-store.js';
import type { Logger } from '../ports/logger.js';
import type { PolicyGate, SchedulePolicyDecision } from '../ports/policy-gate.js';
import type { Redactor } from '../redaction.js';
import { auditEvent, type AuditFields } from './audit-event.js';
import type { CronSchedulerConfig } from './config.js';
import type { SchedulerEvents } from './events.js';
import { missedAtStart, planFinish, type PlanContext } from '../lifecycle/fire-planner.js';
import { heartbeatAction } from './heartbeat.js';
import type { SchedulerMetrics } from './metrics.js';
import { outcomeOf, statusesBefore } from '../lifecycle/run-state.js';
import { deliveryRoot, traceRun, type TraceSpan } from './run-tracing.js';
import { RunSignal } from './run-signal.js';
import { carryForward, EMPTY_CARRYOVER, SessionKeeper, type Carryover } from './session-context.js';

/** Statuses a run may start from: the guard of the update that starts it. */
const STARTABLE = statusesBefore('running');

/** Most heartbeat iterations kept on a run record (the most recent); the index keeps counting. */
export const MAX_RECORDED_ITERATIONS = 1000;

/** Why an in-flight run was aborted from outside the pipeline. */
export class RunAbort extends Error {
  constructor(
    readonly status: 'interrupted',
    readonly outcome: RunOutcome,
    message: string,
  ) {
    super(message);
  }
}

/** What the run pipeline needs from its scheduler. */
export interface PipelineDeps {
  store: JobStore;
  executor: AgentExecutor;
  router: DeliveryRouter | null;
  gates: PolicyGate[];
  clock: Clock;
  config: CronSchedulerConfig;
  logger: Logger;
  /** Masks secrets in everything the pipeline stores: agent results, errors, delivery failures, audit details. */
  redactor: Redactor;
  metrics: SchedulerMetrics;
  events: EventEmitter<SchedulerEvents>;
  planContext(): PlanContext;
  audit(type: SecurityEventType, fields: AuditFields): Promise<void>;
  /**
   * Hands a finished run's pending deliveries to the delivery queue, which sends them (through
   * {@link DefaultAgentScheduler.deliver}) with its own concurrency, so no execution slot waits on
   * a channel. `span` is the run's span, for the deliveries' spans.
   */
  deliverLater(claimed: ClaimedRun, span: TraceSpan): void;
}

/**
 * The run pipeline of the spec's session life cycle, steps 2–7, for one claimed run: build the
 * session, evaluate the policy gates (deny, or hold for approval), execute (a heartbeat loops
 * assess → act until the agent sleeps), enforce `max_runtime`, finish the run and its job in one
 * transaction, persist the session, then deliver the output to every channel through the durable
 * outbox. The {@link CronScheduler} feeds it claimed runs.
 */
export class DefaultAgentScheduler {
  readonly #deps: PipelineDeps;
  readonly #sessions: SessionKeeper;
  /** The guard of the update that starts a run: this instance's, from a startable status (one object for every run). */
  readonly #startGuard: RunGuard;

  constructor(deps: PipelineDeps) {
    this.#deps = deps;
    this.#sessions = new SessionKeeper(deps.store, deps.config.sessionHistoryLimit);
    this.#startGuard = Object.freeze({ owner: deps.config.instanceId, statusIn: STARTABLE });
  }

  /**
   * Runs one claimed run to its end (or to `awaiting_approval`); `signal` aborts it from outside.
   * The run is a `symbi.run` span when OpenTelemetry is present.
   */
  execute(claimed: ClaimedRun, signal: RunSignal): Promise<JobRunRecord | null> {
    return traceRun(claimed, signal, this.#executeIn);
  }

  /** {@link #execute} as the work of {@link traceRun}: one function for every run. */
  readonly #executeIn = (claimed: ClaimedRun, signal: RunSignal, span: TraceSpan): Promise<JobRunRecord | null> => this.#execute(claimed, signal, span);

  async #execute({ run, job }: ClaimedRun, signal: RunSignal, span: TraceSpan): Promise<JobRunRecord | null> {
    const { store, config, clock } = this.#deps;
    const approved = run.approval?.decision === 'approved';
    if (job.status !== 'active' && run.trigger !== 'manual' && !approved) {
      return this.#finish(job, run, { status: 'skipped', error: `skipped: job is ${job.status}` }, 'neutral');
    }
    // The clock is read again only after an await: the missed-fire check, the agent's context and
    // the start of a run that waits on nothing share one reading (a read costs as much as a Date).
    let nowMs = clock.now();
    const missed = approved ? null : missedAtStart(job, run, nowMs, config);
    if (missed !== null) return this.#finish(job, run, { status: 'skipped', error: missed }, 'neutral');
    const keeps = this.#sessions.keeps(job);
    let carry = EMPTY_CARRYOVER;
    if (keeps) {
      carry = this.#sessions.carryOf(job, await store.loadSession(job.id));
      nowMs = clock.now();
    }
    const context = this.#context(job, job.sessionMode, carry, 1, nowMs);
    if (!approved) {
      const gated = this.#evaluateGates(job, context, span, 0);
      let decision: SchedulePolicyDecision;
      if (isThenable(gated)) {
        decision = await gated;
        nowMs = clock.now();
      } else decision = gated;
      if (decision.kind === 'Deny') {
        const denied = await this.#finish(job, run, { status: 'denied', error: decision.reason }, 'neutral');
        if (denied) this.#deps.events.emit('run:denied', { job, run: denied, reason: decision.reason });
        return denied;
      }
      if (decision.kind === 'RequiresApproval') return this.#holdForApproval(job, run, decision);
    }
    const startedAt = new Date(nowMs);
    const startedMono = clock.monotonic();
    const running = await store.updateRun(run.id, { status: 'running', startedAt }, this.#startGuard);
    if (!running) return null;
    // Payloads nobody listens to are not built (here and for every event a run emits).
    if (this.#deps.events.listenerCount('run:started') !== 0) this.#deps.events.emit('run:started', { job, run: running });
    // The agent runs here, not in a function of its own: one async frame less per run.
    const maxRuntimeMs = job.policy.maxRuntimeMs;
    const timed = maxRuntimeMs === null ? null : runtimeSignal(signal, maxRuntimeMs, clock);
    const runSignal = timed === null ? signal : timed.signal;
    const heartbeat = job.heartbeat?.enabled ? job.heartbeat : null;
    const beats: Beats | null = heartbeat ? { iterations: [], last: null, note: null } : null;
    let patch: RunPatch;
    let outcome: RunOutcome = 'success';
    let session = carry;
    try {
      if (heartbeat && beats) {
        session = await this.#beat(job, running, carry, runSignal, span, heartbeat, beats);
        patch = succeeded(beats.last!, beats.note, beats.iterations);
      } else {
        // The context the gates saw, unless time moved on meanwhile: the same run, iteration and carryover.
        const callMs = clock.now();
        const callContext = context.now.getTime() === callMs ? context : this.#context(job, job.sessionMode, carry, 1, callMs);
        const result = await this.#callAgent(job, running, callContext, runSignal, span);
        // A job that keeps no session carries nothing forward (nor reads the clock for it).
        if (keeps) session = carryForward(job.sessionMode, session, running.input, result, clock.now(), config.sessionHistoryLimit);
        patch = succeeded(result, null, NO_ITERATIONS);
      }
    } catch (error) {
      const reason = runSignal.aborted ? runSignal.reason : error;
      const failure = failureOf(reason);
      outcome = failure.outcome;
      patch = { status: failure.status, error: messageOf(reason), iterations: beats?.iterations ?? [], output: beats?.last?.output ?? null };
    } finally {
      timed?.dispose();
    }
    if (patch.status === 'succeeded' && keeps) await this.#sessions.save(job, session, this.#now());
    const deliver = this.#deps.router !== null && job.delivery.length > 0 && patch.status !== 'interrupted';
    if (deliver) patch.deliveries = job.delivery.map((channel) => pendingDelivery(channel));
    patch.executionTimeMs = Math.round(clock.monotonic() - startedMono);
    const finished = await this.#finish(job, running, patch, outcome);
    if (finished && deliver) this.#deps.deliverLater({ run: finished, job }, span);
    return finished;
  }

  /**
   * Routes a finished run's pending deliveries, recording each channel's outcome on the run. Each
   * is a `symbi.delivery` span below `span` (a trace of its own when retried from the outbox).
   * Once `signal` aborts (the scheduler stops), no further channel is started: the rest stay
   * pending in the outbox, for the next start or another instance.
   */
  async deliver({ run, job }: ClaimedRun, span?: TraceSpan, signal?: RunSignal): Promise<void> {
    const router = this.#deps.router;
    if (!router) return;
    const parent = span ?? (await deliveryRoot());
    const output = run.output ?? `run ${run.status}: ${run.error ?? ''}`.trim();
    const outcomes = [...run.deliveries];
    for (const [i, outcome] of outcomes.entries()) {
      if (outcome.status !== 'pending') continue;
      if (signal?.aborted) break;
      try {
        await parent.child('symbi.delivery', { 'symbi.channel': outcome.channel, 'symbi.delivery_attempt': outcome.attempts + 1 }, (delivery) =>
          router.route(outcome.channel, job, run, output, { traceparent: delivery.traceparent }),
        );
        outcomes[i] = { ...outcome, status: 'delivered', attempts: outcome.attempts + 1, error: null, completedAt: this.#now() };
        this.#deps.events.emit('delivery:succeeded', { run, outcome: outcomes[i]! });
      } catch (error) {
        // The channel's own retries count too, so the record agrees with its error ("after 3 attempts").
        const attempts = outcome.attempts + (error instanceof DeliveryError ? error.attempts : 1);
        const message = this.#deps.redactor.text(messageOf(error));
        outcomes[i] = { ...outcome, status: 'failed', attempts, error: message, completedAt: this.#now() };
        this.#deps.logger.warn({ job: job.name, run: run.id, channel: outcome.channel, error: message }, 'delivery failed');
        this.#deps.events.emit('delivery:failed', { run, outcome: outcomes[i]! });
      }
      await this.#deps.store.updateRun(run.id, { deliveries: outcomes });
    }
    await this.#deps.store.updateRun(run.id, { owner: null, leaseExpiresAt: null }, { owner: this.#deps.config.instanceId });
  }

  /**
   * The heartbeat loop of a run: assess → act until the agent asks to sleep or `max_iterations`
   * is reached, each iteration a `symbi.heartbeat.iteration` span. Results are folded into `beats`
   * as they come (never kept), so a long heartbeat runs in flat memory; resolves with the session
   * the run leaves.
   */
  async #beat(
    job: CronJobDefinition,
    run: JobRunRecord,
    seed: Carryover,
    signal: RunSignal,
    span: TraceSpan,
    heartbeat: NonNullable<CronJobDefinition['heartbeat']>,
    beats: Beats,
  ): Promise<Carryover> {
    const { clock, config } = this.#deps;
    const mode = heartbeat.contextMode;
    let session = seed;
    let carry = seed;
    for (let index = 1; ; index++) {
      const started = clock.monotonic();
      const result = await span.child('symbi.heartbeat.iteration', { 'symbi.iteration': index }, (parent) =>
        this.#callAgent(job, run, this.#context(job, mode, carry, index), signal, parent),
      );
      beats.last = result;
      session = carryForward(job.sessionMode, session, run.input, result, clock.now(), config.sessionHistoryLimit);
      const iteration: HeartbeatIteration = {
        index,
        output: result.output,
        summary: result.summary ?? null,
        action: heartbeatAction(result),
        durationMs: Math.round(clock.monotonic() - started),
      };
      beats.iterations.push(iteration);
      if (beats.iterations.length > MAX_RECORDED_ITERATIONS) beats.iterations.shift();
      this.#deps.events.emit('run:iteration', { job, run, iteration });
      carry = carryForward(mode, carry, run.input, result, clock.now(), config.sessionHistoryLimit);
      if (iteration.action === 'sleep') return session;
      if (index >= heartbeat.maxIterations) {
        beats.note = `heartbeat reached max_iterations (${heartbeat.maxIterations}) without the agent asking to sleep`;
        return session;
      }
    }
  }

  /**
   * One call of the agent, in a `symbi.agent` span whose `traceparent` the executor may pass on.
   * In a heartbeat, `span` is the iteration's, and also records what the agent asked for next.
   */
  #callAgent(job: CronJobDefinition, run: JobRunRecord, context: AgentContext, signal: RunSignal, span: TraceSpan): Promise<AgentExecutionResult> {
    if (!span.recording) return this.#executeOnce(job, run, context, signal, null);
    return span.child('symbi.agent', { 'symbi.agent': job.agentId }, async (call) => {
      const result = await this.#executeOnce(job, run, context, signal, call.traceparent);
      if (job.heartbeat?.enabled) span.set({ 'symbi.action': heartbeatAction(result) });
      return result;
    });
  }

  #executeOnce(job: CronJobDefinition, run: JobRunRecord, context: AgentContext, signal: RunSignal, traceparent: string | null): Promise<AgentExecutionResult> {
    if (signal.aborted) return Promise.reject(signal.reason);
    const request: AgentExecutionRequest = { agentId: job.agentId, job, run, input: run.input, context };
    if (traceparent !== null) request.traceparent = traceparent;
    let execution: Promise<AgentExecutionResult>;
    try {
      execution = this.#deps.executor.execute(request, signal.options);
    } catch (error) {
      return Promise.reject(error);
    }
    return signal.race(execution, this.#storable);
  }

  /** {@link storable} with this pipeline's redactor: one function for every run. */
  readonly #storable = (result: AgentExecutionResult): AgentExecutionResult => storable(result, this.#deps.redactor);

  /**
   * The first decision of the gates from the `from`-th on that is not Allow, else Allow. Answers
   * synchronously while the gates do (and nothing is traced), so a run that every gate allows at
   * once waits on no promise.
   */
  #evaluateGates(job: CronJobDefinition, context: AgentContext, span: TraceSpan, from: number): SchedulePolicyDecision | Promise<SchedulePolicyDecision> {
    const gates = this.#deps.gates;
    for (let i = from; i < gates.length; i++) {
      const gate = gates[i]!;
      const verdict = span.recording ? tracedGate(gate, job, context, span) : gate.evaluate(job, context);
      if (isThenable(verdict)) {
        return Promise.resolve(verdict).then((decision) => (decision.kind === 'Allow' ? this.#evaluateGates(job, context, span, i + 1) : decision));
      }
      if (verdict.kind !== 'Allow') return verdict;
    }
    return ALLOW;
  }

  async #holdForApproval(
    job: CronJobDefinition,
    run: JobRunRecord,
    decision: Extract<SchedulePolicyDecision, { kind: 'RequiresApproval' }>,
  ): Promise<JobRunRecord | null> {
    const now = this.#now();
    const timeout = job.policy.approvalTimeoutMs ?? this.#deps.config.approvalTimeoutMs;
    const held = await this.#deps.store.updateRun(
      run.id,
      {
        status: 'awaiting_approval',
        owner: null,
        leaseExpiresAt: null,
        approval: {
          approver: decision.approver,
          reason: decision.reason,
          policyId: decision.policyId,
          requestedAt: now,
          expiresAt: new Date(now.getTime() + timeout),
          decision: null,
          decidedBy: null,
          decidedAt: null,
          note: null,
        },
      },
      { owner: this.#deps.config.instanceId, statusIn: statusesBefore('awaiting_approval') },
    );
    if (!held) return null;
    await this.#deps.audit('ApprovalRequested', {
      job,
      run: held,
      details: { approver: decision.approver, reason: decision.reason, policy_id: decision.policyId },
    });
    this.#deps.events.emit('run:awaiting_approval', { job, run: held });
    return held;
  }

  /**
   * Finishes a run and its job in one store transaction that also writes the run's audit events,
   * then records metrics and emits events. `patch` is the pipeline's own: it is completed in place.
   */
  #finish(job: CronJobDefinition, run: JobRunRecord, patch: RunPatch, outcome: RunOutcome): Promise<JobRunRecord | null> {
    const status = patch.status!;
    const ctx = this.#deps.planContext();
    let recorded: AuditEvent[] = NO_AUDITS;
    const { redactor } = this.#deps;
    if (patch.error != null) patch.error = redactor.text(patch.error);
    patch.completedAt = ctx.now;
    const { store } = this.#deps;
    // A succeeded run's routine event is the only one it can call for: a store that keeps it as a
    // mark on the run is not asked for audit events at all.
    const marked = status === 'succeeded' && job.policy.audit === 'all_operations' && store.capabilities.executedAuditFromHistory === true;
    // Its end is a callback on the store's promise, not an async frame awaiting it.
    return store
      .finishRun({
        runId: run.id,
        owner: this.#deps.config.instanceId,
        patch,
        outcome,
        // The plan of a success reads nothing of the run: it is spared a copy.
        plan: (updated) => planFinish(updated, outcome === 'success' ? run : { ...run, status }, outcome, ctx),
        ...(marked
          ? { executedAudit: true }
          : {
              audit: (finished: JobRunRecord, updated: CronJobDefinition | null) => {
                recorded = finishAudits(job, finished, updated, (type, fields) => auditEvent(type, fields, ctx.now, redactor)) ?? NO_AUDITS;
                return recorded;
              },
            }),
      })
      .then((result) => {
        if (!result) return null;
        if (marked && this.#deps.events.listenerCount('audit:recorded') !== 0) recorded = [executedAuditEvent(result.run as ExecutedRunFacts)];
        this.#announce(job, result.run, result.job, recorded);
        return result.run;
      });
  }

  /**
   * Metrics, audit events and typed events for a run that reached a terminal status. `recorded` are
   * its audit events when the finish transaction wrote them already (they are only announced);
   * without it they are written here.
   */
  async afterFinish(job: CronJobDefinition, run: JobRunRecord, updated: CronJobDefinition | null, recorded?: AuditEvent[]): Promise<void> {
    if (recorded) return this.#announce(job, run, updated, recorded);
    if (this.#deps.config.enableMetrics) this.#deps.metrics.recordRun(job.name, run.status, run.executionTimeMs);
    for (const { type, fields } of finishAudits(job, run, updated, auditSpec) ?? []) await this.#deps.audit(type, fields);
    this.#emitFinished(job, run, updated);
  }

  /** {@link afterFinish} for a run whose audit events the finish transaction wrote already: nothing to wait for. */
  #announce(job: CronJobDefinition, run: JobRunRecord, updated: CronJobDefinition | null, recorded: AuditEvent[]): void {
    if (this.#deps.config.enableMetrics) this.#deps.metrics.recordRun(job.name, run.status, run.executionTimeMs);
    const { events } = this.#deps;
    if (events.listenerCount('audit:recorded') !== 0) for (const event of recorded) events.emit('audit:recorded', { event });
    this.#emitFinished(job, run, updated);
  }

  /** The typed events (and the dead-letter count) of a run that reached a terminal status. */
  #emitFinished(job: CronJobDefinition, run: JobRunRecord, updated: CronJobDefinition | null): void {
    const { metrics, events } = this.#deps;
    const status: RunStatus = run.status;
    const name = finishedEvent(status);
    if (name !== null && events.listenerCount(name) !== 0) {
      if (name === 'run:interrupted') events.emit(name, { run });
      else events.emit(name, { job, run });
    }
    if (deadLettered(job, updated)) {
      metrics.recordDeadLetter(job.name);
      events.emit('job:dead_lettered', { job: updated, run });
    }
    if (updated?.status === 'completed' && job.status !== 'completed') events.emit('job:completed', { job: updated });
  }

  /** The context of a call of the agent at `nowMs` (epoch ms; default: the clock's now). */
  #context(job: CronJobDefinition, mode: CronJobDefinition['sessionMode'], carry: Carryover, iteration: number, nowMs = this.#deps.clock.now()): AgentContext {
    return {
      mode,
      previousSummary: mode === 'fully_ephemeral' ? null : carry.summary,
      history: mode === 'shared_persistent' ? carry.history : [],
      iteration,
      capabilities: this.#deps.executor.describe?.(job.agentId)?.capabilities ?? [],
      environment: this.#deps.config.environment,
      now: new Date(nowMs),
    };
  }

  #now(): Date {
    return new Date(this.#deps.clock.now());
  }
}

/**
 * The signal a run of a job with a `max_runtime` executes under: `outer` (shutdown, lost lease,
 * cancel) and a timeout of its own; `dispose` clears the timer and the listener.
 */
function runtimeSignal(outer: RunSignal, maxRuntimeMs: number, clock: Clock): { signal: RunSignal; dispose: () => void } {
  const inner = new RunSignal();
  const abort = (reason: unknown) => inner.abort(reason);
  outer.onAbort(abort);
  if (outer.aborted) abort(outer.reason);
  const timer = clock.setTimeout(() => inner.abort(new RunTimeoutError(maxRuntimeMs)), maxRuntimeMs);
  return {
    signal: inner,
    dispose: () => {
      clock.clearTimeout(timer);
      outer.offAbort(abort);
    },
  };
}


/**
 * What of an agent's result may be stored: secrets masked, and NUL characters (which PostgreSQL
 * text cannot hold) replaced, so every store keeps the same output.
 */
function storable(result: AgentExecutionResult, redactor: Redactor): AgentExecutionResult {
  const output = clean(result.output, redactor);
  const summary = result.summary == null ? result.summary : clean(result.summary, redactor);
  const stderr = result.stderr == null ? result.stderr : clean(result.stderr, redactor);
  // Most results hold nothing to mask: they are kept as they are, not copied.
  if (output === result.output && summary === result.summary && stderr === result.stderr && !result.messages) return result;
  const stored: AgentExecutionResult = { ...result, output };
  if (summary != null) stored.summary = summary;
  if (stderr != null) stored.stderr = stderr;
  if (result.messages) stored.messages = result.messages.map((m) => ({ ...m, content: clean(m.content, redactor) }));
  return stored;
}

/** `text` masked, with NUL characters replaced. */
function clean(text: string, redactor: Redactor): string {
  return redactor.text(text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text);
}

/** The event announcing a run that ended with `status`, if any (a denied run's is emitted where it is denied). */
function finishedEvent(status: RunStatus): 'run:succeeded' | 'run:failed' | 'run:interrupted' | 'run:skipped' | null {
  if (status === 'succeeded') return 'run:succeeded';
  if (status === 'failed' || status === 'timed_out') return 'run:failed';
  if (status === 'interrupted') return 'run:interrupted';
  return status === 'skipped' ? 'run:skipped' : null;
}

/** True when this finish moved the job to `dead_letter`. */
function deadLettered(job: CronJobDefinition, updated: CronJobDefinition | null): updated is CronJobDefinition {
  return updated?.status === 'dead_letter' && job.status !== 'dead_letter';
}

/** The iterations of a run that is no heartbeat: none (frozen: shared by every such run's patch, which stores copy). */
const NO_ITERATIONS = Object.freeze([]) as readonly HeartbeatIteration[] as HeartbeatIteration[];

/** An audit event to write later, as {@link finishAudits} gives it to `make`. */
const auditSpec = (type: SecurityEventType, fields: AuditFields) => ({ type, fields });

/** No audit event written (frozen: shared by every run that writes none). */
const NO_AUDITS = Object.freeze([]) as readonly AuditEvent[] as AuditEvent[];

/**
 * The audit events a finished run calls for, each made by `make` from its type and what it is
 * about: its execution or failure, as far as the job's `policy.audit` level asks, and the job's
 * dead-lettering, always. Null when it calls for none (most runs), so nothing is built for them.
 */
function finishAudits<T>(
  job: CronJobDefinition,
  run: JobRunRecord,
  updated: CronJobDefinition | null,
  make: (type: SecurityEventType, fields: AuditFields) => T,
): T[] | null {
  const status = run.status;
  const level = job.policy.audit;
  const dead = deadLettered(job, updated);
  const executed = status === 'succeeded' && level === 'all_operations';
  const failed = (status === 'failed' || status === 'timed_out') && level !== 'none';
  if (!executed && !failed && !dead) return null;
  const made: T[] = [];
  if (executed) made.push(make('CronJobExecuted', { job, run, details: { status, execution_time_ms: run.executionTimeMs } }));
  else if (failed) made.push(make('CronJobFailed', { job, run, details: { status, error: run.error, attempt: run.attempt } }));
  if (dead) made.push(make('CronJobDeadLettered', { job: updated, run, details: { consecutive_failures: updated.consecutiveFailures, last_error: run.error } }));
  return made;
}

/** The decision of gates that all allow a run. */
const ALLOW: SchedulePolicyDecision = { kind: 'Allow' };

/** Whether a gate answered with a promise (or any thenable) rather than a decision. */
function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown }).then === 'function';
}

/** A gate's decision in a `symbi.policy` span below `span`. */
function tracedGate(gate: PolicyGate, job: CronJobDefinition, context: AgentContext, span: TraceSpan): Promise<SchedulePolicyDecision> {
  return span.child('symbi.policy', { 'symbi.gate': gate.name }, async (gateSpan) => {
    const verdict = await gate.evaluate(job, context);
    gateSpan.set({ 'symbi.decision': verdict.kind });
    return verdict;
  });
}

/** What a heartbeat run has gathered so far: its iterations (the most recent), last result and a note on how it ended. */
interface Beats {
  iterations: HeartbeatIteration[];
  last: AgentExecutionResult | null;
  note: string | null;
}

/** The patch of a run whose agent succeeded with `result` (the last one, for a heartbeat). */
function succeeded(result: AgentExecutionResult, note: string | null, iterations: HeartbeatIteration[]): RunPatch {
  return { status: 'succeeded', output: result.output, summary: result.summary ?? null, stderr: result.stderr ?? null, error: note, iterations };
}

function pendingDelivery(channel: string): DeliveryOutcome {
  return { channel, status: 'pending', attempts: 0, error: null, completedAt: null };
}

function failureOf(reason: unknown): { status: RunStatus; outcome: RunOutcome } {
  if (reason instanceof RunTimeoutError) return { status: 'timed_out', outcome: 'failure' };
  if (reason instanceof RunAbort) return { status: reason.status, outcome: reason.outcome };
  return { status: 'failed', outcome: outcomeOf('failed') };
}

/** A readable one-line message for any thrown value. */
export function messageOf(error: unknown): string {
  if (error instanceof SchedulerError || error instanceof Error) return error.message;
  return String(error);
}
