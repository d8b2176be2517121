import { EventEmitter } from 'eventemitter3';
import pLimit, { type LimitFunction } from 'p-limit';
import type { AuditEvent, SecurityEventType } from '../domain/audit.js';
import type { CronJobDefinition, JobSpec, JobStatus, JobUpdate } from '../domain/job.js';
import { TERMINAL_RUN_STATUSES, type JobRunRecord, type RunStatus } from '../domain/run.js';
import { isJobId } from '../domain/identifier.js';
import { newRun } from '../domain/run-factory.js';
import { AgentPinError, ConflictError, InvalidStateError, JobNotFoundError, RunNotFoundError, ValidationError } from '../errors.js';
import type { AgentExecutor } from '../ports/agent-executor.js';
import { systemClock, type Clock, type ClockTimer } from '../ports/clock.js';
import type { DeliveryRouter } from '../ports/delivery-router.js';
import type { AuditFilter, ClaimedRun, ClaimRequest, FirePlan, JobFilter, JobLoad, JobStore, RunFilter, StoreChange } from '../ports/job-store.js';
import { silentLogger, type Logger } from '../ports/logger.js';
import { SchedulePolicyDecision, type PolicyGate } from '../ports/policy-gate.js';
import { AgentPinGate, type AgentPinGateOptions } from '../agentpin/index.js';
import { SchedulePolicyGate } from '../policy/index.js';
import { Redactor } from '../redaction.js';
import { auditEvent, type AuditFields } from './audit-event.js';
import { resolveSchedulerConfig, type CronSchedulerConfig } from './config.js';
import { DefaultAgentScheduler, messageOf, RunAbort } from './default-agent-scheduler.js';
import type { SchedulerEvents } from './events.js';
import { claimedRun, claimTerms } from '../lifecycle/claim.js';
import { clockStep, replanAfterBackwardStep, retryDueAfterBackwardStep, type ClockReading, type ClockStep } from '../lifecycle/clock-step.js';
import { firstFire, MAX_CATCHUP_FIRES, overdueFiresDropped, planFinish, planFire, type PlanContext } from '../lifecycle/fire-planner.js';
import { InstancePresence } from '../lifecycle/instance-presence.js';
import { applyJobUpdate, createJobDefinition, specOf } from './job-definition.js';
import { SchedulerMetrics, type SchedulerHealth } from './metrics.js';
import { HistoryPruner, type PruneOutcome } from './history-pruner.js';
import { prepareTracing, type TraceSpan } from './run-tracing.js';
import { RunSignal } from './run-signal.js';
import { TaskSlots } from './task-slots.js';
import { approveRun, changeJobStatus, denyRun, releaseClaim, type JobStatusChange } from '../lifecycle/manual-transitions.js';

/** Everything a {@link CronScheduler} is built from; only `store` and `executor` are required. */
export interface CronSchedulerOptions {
  /** Where jobs, runs, sessions and audit events live. */
  store: JobStore;
  /** Runs agents. */
  executor: AgentExecutor;
  /** Delivers output to channels; without one, `delivery` lists are ignored. */
  router?: DeliveryRouter | null;
  /**
   * Host policy gates, run after the built-in ones (AgentPin, then the job's `policy` block); the
   * first decision that is not Allow wins.
   */
  gates?: PolicyGate[];
  /**
   * AgentPin verification (`require_agent_pin`, or every job with `required`). Without it, a job
   * that requires AgentPin is denied. Failures write an `AgentPinVerificationFailed` audit event.
   */
  agentPin?: Omit<AgentPinGateOptions, 'onFailure'>;
  /** Time source (default the system clock; tests pass a `VirtualClock`). */
  clock?: Clock;
  /** Settings; unspecified ones take their defaults. */
  config?: Partial<CronSchedulerConfig>;
  /** Structured logger (default silent). */
  logger?: Logger;
  /** Randomness in [0, 1) for jitter and backoff (default `Math.random`). */
  random?: () => number;
  /**
   * Masks secrets in run errors, agent output and stderr, session history and audit details before
   * they are stored (default: the common credential shapes only; `symbi up` adds every configured secret).
   */
  redactor?: Redactor;
}

/** Who performs an operation, for the audit log (default `api`). */
export interface ActorOption {
  /** Name of the person or system acting. */
  actor?: string;
}

/** Statuses at which `runNow({ wait: true })` answers: the run ended, or waits for a person. */
const SETTLED_RUN_STATUSES: readonly RunStatus[] = [...TERMINAL_RUN_STATUSES, 'awaiting_approval'];

/** Times {@link CronScheduler.upsert} looks again at a job another instance saved meanwhile. */
const MAX_UPSERT_RACES = 3;

/** The share of a tick after which upkeep is due again (see `CronScheduler.#upkeepDue`). */
const UPKEEP_TICK_SHARE = 0.75;

/** How long {@link CronScheduler.health} waits for the store's job counts before answering `degraded`. */
const HEALTH_STORE_WAIT_MS = 1_000;

/** A promise with its resolve function (`Promise.withResolvers` needs Node 22). */
function withResolvers(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

/** A run this process claimed: its work, and whether it has begun. */
interface InFlight {
  /** Aborts the run (or stops its deliveries). */
  signal: RunSignal;
  done: Promise<unknown>;
  /** A run to execute, or the deliveries of a finished run. */
  kind: 'run' | 'delivery';
  jobId: string;
  /** Handed to the pipeline (until then it may be handed back). */
  started: boolean;
  /** Aborted because a newer fire of its job cancelled it (overlap `cancel_other`). */
  cancelled: boolean;
}

/** Whether a planned run was made `skipped` (its overlap rule left it out). */
function isSkipped(run: JobRunRecord): boolean {
  return run.status === 'skipped';
}

/**
 * Whether a fire's plan calls for more than the store's writes: cancelling runs in flight, a claim
 * again at a deferred fire's due time, a report of dropped fires, or the end of a skipped run.
 */
function callsForMore(plan: FirePlan): boolean {
  return plan.cancelActive === true || plan.deferredUntil != null || plan.dropped != null || plan.runs.some(isSkipped);
}

/** How a log line says why missed fires got no run. */
const DROP_REASONS: Record<NonNullable<FirePlan['dropped']>['reason'], string> = {
  skip: '(catchup skip)',
  once: '(catchup once runs only the newest)',
  window: 'older than the catch-up window',
  cap: `beyond the cap of ${MAX_CATCHUP_FIRES}`,
  rescheduled: 'of the old schedule: due and not yet claimed when the job was rescheduled',
  paused: 'due and not yet claimed when the job was paused',
};

/** No wake known: what the loop assumes when the store cannot tell (it wakes at the next tick). */
function noWake(): null {
  return null;
}

/** Resolves after a few event-loop turns: time for aborted work to record its end. */
function settleSoon(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 50));
}

/**
 * The scheduler: a loop that sleeps until the earliest due fire (at most `tickIntervalMs`, waking
 * early on changes), claims due fires through the store (so each fire runs at most once even
 * with several schedulers on one store), and runs them through the {@link DefaultAgentScheduler}
 * pipeline within the global and per-job concurrency limits. It also offers the job life-cycle
 * API (add, update, pause, resume, reset, run now, approvals, history) used by the HTTP API and CLI.
 *
 * @example
 * ```ts
 * const scheduler = new CronScheduler({ store: new InMemoryJobStore(), executor });
 * await scheduler.start();
 * await scheduler.add({ name: 'daily-report', agentId: 'reporter', cronExpr: '0 0 9 * * *' });
 * ```
 */
export class CronScheduler extends EventEmitter<SchedulerEvents> {
  /** Resolved settings. */
  readonly config: CronSchedulerConfig;
  /** In-process counters (Prometheus text via `metrics.toPrometheus()`). */
  readonly metrics = new SchedulerMetrics();
  /** The store this scheduler works on. */
  readonly store: JobStore;

  readonly #clock: Clock;
  readonly #executor: AgentExecutor;
  readonly #router: DeliveryRouter | null;
  readonly #logger: Logger;
  readonly #random: () => number;
  readonly #redactor: Redactor;
  readonly #pipeline: DefaultAgentScheduler;
  /** The execution slots: runs execute at most `maxConcurrentJobs` at once (the hot path, so a lean limiter). */
  readonly #slots: TaskSlots;
  /** The delivery queue: deliveries are sent at most `maxConcurrentDeliveries` at once, outside the execution slots. */
  readonly #deliveryLimit: LimitFunction;
  /** Runs (not deliveries) in {@link #inFlight}: what takes room among the runs this process may hold. */
  #runFlights = 0;
  readonly #inFlight = new Map<string, InFlight>();
  #running = false;
  /** Reasons to keep renewing leases: the loop while it runs, and each one-off run in flight. */
  #leaseHolders = 0;
  /** Ends the loop's hold on lease renewal (set while the loop runs). */
  #releaseLoopLeases: (() => void) | null = null;
  #loop: Promise<void> | null = null;
  /** Resolves the loop's sleep (set while it sleeps); {@link #endSleep} wakes it. */
  #wake: (() => void) | null = null;
  /** The timer that ends the loop's sleep. */
  #wakeTimer: ClockTimer | null = null;
  #wakeRequested = false;
  /** Counts the loop's sleeps: a look at the store answering for an earlier sleep arms nothing. */
  #sleeps = 0;
  /**
   * While the loop sleeps: the wall instant it wakes at; null while it works, looks at the store
   * before sleeping, or backs off after a failure.
   */
  #asleepUntil: number | null = null;
  /** While the loop sleeps: whether it waits for room (every slot taken), when only a run's end can help it. */
  #asleepForRoom = false;
  /** A look at the store's next wake after a run ended is under way; `#lookAgain` asks for one more. */
  #looking = false;
  #lookAgain = false;
  #renewTimer: ClockTimer | null = null;
  /** A lease renewal is in flight (its end schedules the next one while leases are held). */
  #renewing = false;
  #unsubscribe: (() => void) | null = null;
  /** Claimed runs not yet due, grouped by due time: one timer per instant starts them all. */
  readonly #held = new Map<number, { release: () => void; due: Promise<void> }>();
  /** The last claim came back full: more due work is likely waiting. */
  #backlog = false;
  /** The earliest fire the last cycle left undecided until its due time (`FirePlan.deferredUntil`): claim again then. */
  #deferredUntil: number | null = null;
  /** Monotonic times of the last outbox drain and upkeep: intervals never follow a wall-clock step. */
  #outboxCheckedAt = -Infinity;
  #upkeepAt = -Infinity;
  /** The clocks as the previous cycle read them, to notice a wall-clock step. */
  #lastLook: ClockReading | null = null;
  /** The plan context of the claim under way (see {@link #planClaimed}). */
  #claimCtx: PlanContext | null = null;
  /**
   * The fire plans of the claim under way that call for more than the store's writes, by job: a
   * store that replays its claim transaction (a deadlock, a lost connection) plans a job again, and
   * only the plan of the attempt that committed may be acted on. Most fires just run: null then.
   */
  #claimPlans: Map<string, { job: CronJobDefinition; plan: FirePlan }> | null = null;
  /** The wall time the latest forward step jumped over (its fires were missed). */
  #steppedOver: ClockStep | null = null;
  /** Monotonic time before which no lease is judged lapsed: after a forward step, owners renew first. */
  #recoverFrom = -Infinity;
  #lastError: unknown = null;
  /** Deletes run history by the retention policies; a pass runs beside the loop once per interval. */
  readonly #pruner: HistoryPruner;
  #prunedAt = -Infinity;
  #pruning: Promise<unknown> | null = null;
  /** The job counts last read, for health answers while the store cannot be read. */
  #counts: Record<JobStatus, number> | null = null;
  /** This instance's registration in a store shared with others (see `lifecycle/liveness.ts`); null without. */
  #presence: InstancePresence | null = null;
  /** Callers of {@link CronScheduler.idle} waiting for the scheduler to have nothing in hand. */
  #idleWaiters: (() => void)[] = [];

  constructor(options: CronSchedulerOptions) {
    super();
    this.store = options.store;
    this.#router = options.router ?? null;
    this.config = resolveSchedulerConfig(options.config);
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#random = options.random ?? Math.random;
    this.#redactor = options.redactor ?? new Redactor();
    this.#slots = new TaskSlots(this.config.maxConcurrentJobs);
    this.#deliveryLimit = pLimit(this.config.maxConcurrentDeliveries);
    this.#executor = options.executor;
    this.#pipeline = new DefaultAgentScheduler({
      store: this.store,
      executor: options.executor,
      router: options.router ?? null,
      gates: [this.#agentPinGate(options.agentPin), new SchedulePolicyGate(), ...(options.gates ?? [])],
      clock: this.#clock,
      config: this.config,
      logger: this.#logger,
      redactor: this.#redactor,
      metrics: this.metrics,
      events: this,
      planContext: () => this.#planContext(),
      audit: (type, fields) => this.#audit(type, fields),
      deliverLater: (claimed, span) => void this.#launchDelivery(claimed, span),
    });
    this.#pruner = new HistoryPruner({ store: this.store, config: this.config, clock: this.#clock, metrics: this.metrics, logger: this.#logger });
  }

  #agentPinGate(options: CronSchedulerOptions['agentPin']): PolicyGate {
    const onFailure = async (job: CronJobDefinition, error: AgentPinError) => {
      await this.#audit('AgentPinVerificationFailed', { job, details: { reason: error.reason, message: error.message } });
    };
    if (options) return new AgentPinGate({ ...options, onFailure });
    const notConfigured = async (job: CronJobDefinition) => {
      const error = new AgentPinError('not_configured', 'the job requires AgentPin but the scheduler has no AgentPin verifier configured');
      await onFailure(job, error);
      return SchedulePolicyDecision.deny(`AgentPin verification failed (${error.reason}): ${error.message}`);
    };
    // A job that does not require AgentPin is allowed at once, without a promise.
    const allow = SchedulePolicyDecision.allow();
    return { name: 'agentpin', evaluate: (job) => (job.policy.requireAgentPin ? notConfigured(job) : allow) };
  }

  /** Whether the loop is running. */
  get running(): boolean {
    return this.#running;
  }

  /** Prepares the store and starts the loop. Missed fires are caught up per job as the loop claims them. */
  async start(): Promise<void> {
    if (this.#running) return;
    await this.store.init();
    await prepareTracing();
    this.#presence = InstancePresence.of(this.store, this.#clock, this.config.instanceId, {
      onError: (error, during) => this.emit('scheduler:error', { error, during }),
      onDeclaredDead: () => void this.#renewLeases(),
    });
    await this.#presence?.start();
    this.#running = true;
    // The first pruning pass comes one interval after start: a short-lived process never lists every job for it.
    this.#prunedAt = this.#clock.monotonic();
    this.#unsubscribe = this.store.subscribe?.((change) => this.#onChange(change)) ?? null;
    this.#releaseLoopLeases = this.#holdLeases();
    this.#loop = this.#runLoop();
    this.emit('scheduler:started', { instanceId: this.config.instanceId });
    this.#logger.info({ instance: this.config.instanceId }, 'scheduler started');
  }

  /**
   * Stops claiming, hands back the runs it claimed and has not started (held until due, or waiting
   * for a slot) so other instances or the next start take them, waits up to `shutdownTimeoutMs` for
   * the runs in flight, then aborts the rest, which end `interrupted` and are retried by policy.
   * The store stays open.
   */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#poke();
    await this.#loop;
    await this.#pruning;
    // Runs claimed and not started (held until due, or waiting for a slot) go back to the queue
    // at once, for other instances or the next start (see #startWhenDue).
    await this.#handBack();
    for (const group of this.#held.values()) group.release();
    this.#unsubscribe?.();
    const pending = [...this.#inFlight.values()].map((f) => f.done);
    let interrupted = 0;
    if (pending.length > 0) {
      let timer: ClockTimer | null = null;
      const timeout = new Promise<'timeout'>((resolve) => {
        if (this.config.shutdownTimeoutMs === 0) resolve('timeout');
        else timer = this.#clock.setTimeout(() => resolve('timeout'), this.config.shutdownTimeoutMs);
      });
      const outcome = await Promise.race([Promise.allSettled(pending), timeout]);
      if (timer) this.#clock.clearTimeout(timer);
      if (outcome === 'timeout' && this.#inFlight.size > 0) {
        interrupted = this.#runFlights;
        for (const flight of this.#inFlight.values()) {
          flight.signal.abort(new RunAbort('interrupted', 'failure', 'interrupted: the scheduler shut down'));
        }
        // Aborted runs record themselves promptly; work that ignores its signal (a hanging
        // delivery) is abandoned: its lease lapses and another instance or the next start takes it.
        await Promise.race([Promise.allSettled([...this.#inFlight.values()].map((f) => f.done)), settleSoon()]);
      }
    }
    this.#releaseLoopLeases?.();
    this.#releaseLoopLeases = null;
    await this.#presence?.stop().catch((error: unknown) => this.emit('scheduler:error', { error, during: 'deregistration' }));
    this.#presence = null;
    this.#noteIdle();
    this.emit('scheduler:stopped', { instanceId: this.config.instanceId, interrupted });
    this.#logger.info({ instance: this.config.instanceId, interrupted }, 'scheduler stopped');
  }

  /** Creates a job (validated; its first fire computed). Throws `ConflictError` on a taken name. */
  async add(spec: JobSpec, options: ActorOption = {}): Promise<CronJobDefinition> {
    const now = this.#now();
    const job = this.#checkChannels(createJobDefinition(spec, now));
    job.nextRun = job.status === 'active' ? firstFire(job, now) : null;
    return this.#created(await this.store.createJob(job), options);
  }

  /** `job`, when its router (if it names its channels) can deliver to every channel of its `delivery`. */
  #checkChannels(job: CronJobDefinition): CronJobDefinition {
    const known = this.#router?.channels?.();
    if (known === undefined) return job;
    job.delivery.forEach((channel, i) => {
      if (!known.includes(channel)) throw new ValidationError(`delivery[${i}]`, `is not a delivery channel (known: ${known.join(', ')})`, channel);
    });
    return job;
  }

  async #created(created: CronJobDefinition, options: ActorOption): Promise<CronJobDefinition> {
    await this.#audit('CronJobCreated', { job: created, actor: options.actor, details: { name: created.name, agent_id: created.agentId } });
    this.emit('job:created', { job: created });
    await this.#changed('job', created.id);
    return created;
  }

  /**
   * Creates the job, or updates the job of the same name when its definition differs: loading
   * the same files again never duplicates a job.
   */
  async upsert(spec: JobSpec, options: ActorOption = {}): Promise<{ job: CronJobDefinition; action: 'created' | 'updated' | 'unchanged' }> {
    const now = this.#now();
    const job = this.#checkChannels(createJobDefinition(spec, now));
    job.nextRun = job.status === 'active' ? firstFire(job, now) : null;
    // Atomic by name: of several instances loading the same files at once, one creates the job.
    const { job: stored, created } = await this.store.createJobIfAbsent(job);
    if (created) return { job: await this.#created(stored, options), action: 'created' };
    const { paused: _paused, ...update } = spec;
    for (let existing = stored, races = 0; ; races++) {
      // Both sides go through the same normalisation, so a store's key order cannot tell them apart.
      const candidate = specOf(applyJobUpdate(existing, update, existing.updatedAt));
      const current = specOf(applyJobUpdate(existing, {}, existing.updatedAt));
      if (JSON.stringify(candidate) === JSON.stringify(current)) return { job: existing, action: 'unchanged' };
      try {
        return { job: await this.#update(existing, update, options), action: 'updated' };
      } catch (error) {
        // Another instance saved the job in between (most likely the same update): look again.
        if (!(error instanceof ConflictError) || races >= MAX_UPSERT_RACES) throw error;
        existing = await this.getJob(existing.id);
      }
    }
  }

  /** Changes a job's definition; a new schedule takes effect from now. */
  async update(ref: string, update: JobUpdate, options: ActorOption = {}): Promise<CronJobDefinition> {
    return this.#update(await this.getJob(ref), update, options);
  }

  async #update(job: CronJobDefinition, update: JobUpdate, options: ActorOption): Promise<CronJobDefinition> {
    const now = this.#now();
    const next = this.#checkChannels(applyJobUpdate(job, update, now));
    const rescheduled = next.cronExpr !== job.cronExpr || next.at !== job.at || next.timezone !== job.timezone;
    if (rescheduled && next.status === 'active') next.nextRun = firstFire(next, now);
    const saved = await this.store.saveJob(next, { expectedVersion: job.version });
    this.#reportOverdue(job, saved, now, 'rescheduled');
    const changed = Object.keys(update).filter((key) => JSON.stringify((job as never)[key]) !== JSON.stringify((saved as never)[key]));
    await this.#audit('CronJobUpdated', { job: saved, actor: options.actor, details: { changed } });
    this.emit('job:updated', { job: saved });
    await this.#changed('job', saved.id);
    return saved;
  }

  /** Deletes a job with its run history and session. Runs in flight finish but update nothing. */
  async remove(ref: string, options: ActorOption = {}): Promise<CronJobDefinition> {
    const job = await this.getJob(ref);
    await this.store.deleteJob(job.id);
    await this.#audit('CronJobDeleted', { job, actor: options.actor, details: { name: job.name } });
    this.emit('job:deleted', { job });
    await this.#changed('job', job.id);
    return job;
  }

  /** Stops scheduling a job, keeping its state and history. */
  async pause(ref: string, options: ActorOption = {}): Promise<CronJobDefinition> {
    return this.#changeStatus(ref, 'pause', 'CronJobPaused', 'job:paused', options);
  }

  /** Resumes a paused job from its next fire after now (fires missed while paused are not run). */
  async resume(ref: string, options: ActorOption = {}): Promise<CronJobDefinition> {
    return this.#changeStatus(ref, 'resume', 'CronJobResumed', 'job:resumed', options);
  }

  /** Reactivates a dead-lettered or failed job and clears its failure streak. */
  async reset(ref: string, options: ActorOption = {}): Promise<CronJobDefinition> {
    return this.#changeStatus(ref, 'reset', 'CronJobReset', 'job:reset', options);
  }

  /**
   * Queues a manual run now (bypassing the schedule; policy gates still apply). With `wait`,
   * resolves once the run reached a terminal status or `awaiting_approval` in this process.
   */
  async runNow(ref: string, options: ActorOption & { input?: string | null; wait?: boolean } = {}): Promise<JobRunRecord> {
    const job = await this.getJob(ref);
    const run = newRun(job, { scheduledFor: this.#now(), trigger: 'manual', input: options.input ?? job.input });
    const settled = options.wait ? this.#settled(run.id) : null;
    try {
      const inserted = await this.store.insertRun(run);
      this.emit('run:queued', { run: inserted });
      await this.#changed('run', inserted.id);
      return settled ? await settled.done : inserted;
    } catch (error) {
      settled?.cancel();
      throw error;
    }
  }

  /**
   * Runs a job once, now, in this process, through the whole run pipeline (gates, session,
   * `max_runtime`, finish, delivery), without starting the loop: nothing else is claimed, recovered
   * or delivered. The run is inserted already claimed by this instance, so no scheduler sharing the
   * store takes it too, and its lease is renewed while it runs. Aborting `signal` interrupts it
   * (counted as a failure, as a shutdown would). Resolves with the run as it settled: terminal, or
   * `awaiting_approval` (an approved run is then taken by whichever scheduler claims it).
   */
  async runOnce(ref: string, options: { input?: string | null; signal?: AbortSignal } = {}): Promise<JobRunRecord> {
    const job = await this.getJob(ref);
    const now = this.#now();
    const terms = claimTerms({ now, owner: this.config.instanceId, leaseMs: this.config.leaseMs, limit: 1 });
    const run = claimedRun(newRun(job, { scheduledFor: now, trigger: 'manual', input: options.input ?? job.input }), terms);
    const inserted = await this.store.insertRun(run);
    this.emit('run:queued', { run: inserted });
    const releaseLeases = this.#holdLeases();
    const { signal } = options;
    const interrupt = () => this.#inFlight.get(inserted.id)?.signal.abort(new RunAbort('interrupted', 'failure', `interrupted: ${messageOf(signal?.reason)}`));
    try {
      const done = this.#launch({ run: inserted, job }, (claimed, runSignal) => this.#pipeline.execute(claimed, runSignal), 'run', true);
      signal?.addEventListener('abort', interrupt, { once: true });
      if (signal?.aborted) interrupt();
      await done;
      // Its deliveries, sent from the delivery queue.
      await this.#inFlight.get(inserted.id)?.done;
    } finally {
      signal?.removeEventListener('abort', interrupt);
      releaseLeases();
    }
    return this.getRun(inserted.id);
  }

  /** Approves a run waiting for approval: it is queued again and runs without re-asking the gates. */
  async approve(runId: string, decision: { approver: string; note?: string | null }): Promise<JobRunRecord> {
    const run = await this.#awaitingRun(runId);
    const now = this.#now();
    const { patch, guard } = approveRun(run, { approver: decision.approver, note: decision.note ?? null }, now);
    const approved = await this.store.updateRun(runId, patch, guard);
    if (!approved) throw new InvalidStateError(`run ${runId} is no longer awaiting approval`);
    await this.#audit('ApprovalGranted', { run: approved, actor: decision.approver, details: { note: decision.note ?? null } });
    this.emit('run:approval_decided', { run: approved, decision: 'approved' });
    await this.#changed('run', runId);
    return approved;
  }

  /** Denies a run waiting for approval: it ends `denied` (not counted as a failure). */
  async deny(runId: string, decision: { approver: string; note?: string | null }): Promise<JobRunRecord> {
    const run = await this.#awaitingRun(runId);
    return this.#decide(run, 'denied', decision.approver, decision.note ?? null);
  }

  /** Runs waiting for approval, oldest first. */
  async pendingApprovals(filter: Omit<RunFilter, 'status'> = {}): Promise<JobRunRecord[]> {
    const runs = await this.store.listRuns({ ...filter, status: 'awaiting_approval', limit: filter.limit ?? 1000 });
    return runs.reverse();
  }

  /**
   * A job by id or name; throws `JobNotFoundError`. A reference shaped like a UUID is looked up
   * only as an id and anything else only as a name, so one job can never shadow another.
   */
  async getJob(ref: string): Promise<CronJobDefinition> {
    const job = isJobId(ref) ? await this.store.getJob(ref) : await this.store.getJobByName(ref);
    if (!job) throw new JobNotFoundError(ref);
    return job;
  }

  /** Jobs ordered by name. */
  async list(filter: JobFilter = {}): Promise<CronJobDefinition[]> {
    return this.store.listJobs(filter);
  }

  /** A job's run history, newest first. */
  async history(ref: string, filter: Omit<RunFilter, 'jobId'> = {}): Promise<JobRunRecord[]> {
    const job = await this.getJob(ref);
    return this.store.listRuns({ ...filter, jobId: job.id });
  }

  /** A run by id; throws `RunNotFoundError`. */
  async getRun(runId: string): Promise<JobRunRecord> {
    const run = await this.store.getRun(runId);
    if (!run) throw new RunNotFoundError(runId);
    return run;
  }

  /**
   * Prunes run history now by the retention policies (`historyRetentionDays` /
   * `historyRetentionRuns`, each job's own limits first); the loop also does so every
   * `historyPruneIntervalMs`. With `dryRun`, only counts. A real pass writes a `HistoryPruned`
   * audit event naming the actor.
   */
  async pruneHistory(options: ActorOption & { dryRun?: boolean } = {}): Promise<PruneOutcome> {
    const outcome = await this.#pruner.prune({ dryRun: options.dryRun ?? false });
    if (!outcome.dryRun && outcome.supported) await this.#audit('HistoryPruned', { actor: options.actor, details: { deleted: outcome.deleted } });
    return outcome;
  }

  /** Audit events, newest first. */
  async auditLog(filter: AuditFilter = {}): Promise<AuditEvent[]> {
    return this.store.queryAudit(filter);
  }

  /**
   * Resolves once the scheduler has nothing in hand: its loop sleeps until its next due work (or
   * it is stopped), no run or delivery is in flight, and no look at the store, pruning pass or
   * lease renewal is under way. At once when that holds already. A run whose agent is still at
   * work keeps it busy, so test harnesses use it to move virtual time on as soon as the work a
   * timer started has ended (see `VirtualClock.settledBy`).
   */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #isIdle(): boolean {
    if (!this.#running) return this.#inFlight.size === 0;
    return this.#asleepUntil !== null && !this.#wakeRequested && this.#inFlight.size === 0 && !this.#looking && this.#pruning === null && !this.#renewing;
  }

  /** Answers the {@link CronScheduler.idle} callers when the scheduler just became idle. */
  #noteIdle(): void {
    if (this.#idleWaiters.length === 0 || !this.#isIdle()) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /**
   * The spec's health JSON. `degraded`, with a `reason`, while the store reports trouble (it cannot
   * be reached, its writes fail), does not answer within {@link HEALTH_STORE_WAIT_MS}, or the
   * loop's last cycle failed; the job counts are then the last ones read, so the answer comes at
   * once (within that wait) even while the store does not.
   */
  async health(): Promise<SchedulerHealth> {
    let trouble = this.store.trouble?.() ?? null;
    if (trouble === null) trouble = await this.#countJobsWithin(HEALTH_STORE_WAIT_MS);
    trouble ??= this.#lastError === null ? null : `the scheduler loop failed: ${messageOf(this.#lastError)}`;
    const status = !this.#running ? 'stopped' : trouble !== null ? 'degraded' : 'healthy';
    return {
      status,
      ...(status === 'degraded' && trouble !== null ? { reason: trouble } : {}),
      active_jobs: this.#counts?.active ?? 0,
      paused_jobs: this.#counts?.paused ?? 0,
      in_flight_jobs: this.metrics.inFlight,
      metrics: this.metrics.totals(),
    };
  }

  /**
   * Reads the job counts for {@link health}; `null` when they came in time, otherwise why not: the
   * store's error, or (when it has not answered within `waitMs`, e.g. while it retries an
   * unreachable database) the store's own trouble report or that it did not answer.
   */
  async #countJobsWithin(waitMs: number): Promise<string | null> {
    let timer: ClockTimer | undefined;
    const counted = this.store.countJobs().then(
      (counts) => {
        this.#counts = counts;
        return null;
      },
      (error: unknown) => messageOf(error),
    );
    const late = new Promise<string>((resolve) => {
      timer = this.#clock.setTimeout(() => resolve(this.store.trouble?.() ?? `the store did not answer within ${waitMs} ms`), waitMs);
    });
    try {
      return await Promise.race([counted, late]);
    } finally {
      if (timer !== undefined) this.#clock.clearTimeout(timer);
    }
  }

  async #changeStatus(
    ref: string,
    change: JobStatusChange,
    auditType: SecurityEventType,
    event: 'job:paused' | 'job:resumed' | 'job:reset',
    options: ActorOption,
  ): Promise<CronJobDefinition> {
    const job = await this.getJob(ref);
    const now = this.#now();
    const next = changeJobStatus(job, change, now);
    const saved = await this.store.saveJob(next, { expectedVersion: job.version });
    if (change === 'pause') this.#reportOverdue(job, saved, now, 'paused');
    await this.#audit(auditType, { job: saved, actor: options.actor, details: { from: job.status, to: next.status } });
    this.emit(event, { job: saved });
    await this.#changed('job', saved.id);
    return saved;
  }

  async #awaitingRun(runId: string): Promise<JobRunRecord> {
    const run = await this.getRun(runId);
    if (run.status !== 'awaiting_approval' || !run.approval) {
      throw new InvalidStateError(`run ${runId} is ${run.status}, not awaiting approval`);
    }
    return run;
  }

  async #decide(run: JobRunRecord, decision: 'denied' | 'expired', actor: string, note: string | null): Promise<JobRunRecord> {
    const now = this.#now();
    const ctx = this.#planContext();
    const result = await this.store.finishRun({
      runId: run.id,
      patch: denyRun(run, decision, { approver: actor, note }, now),
      outcome: 'neutral',
      plan: (job) => planFinish(job, { ...run, status: 'denied' }, 'neutral', ctx),
    });
    if (result?.run.status !== 'denied') throw new InvalidStateError(`run ${run.id} is no longer awaiting approval`);
    await this.#audit(decision === 'expired' ? 'ApprovalExpired' : 'ApprovalDenied', {
      run: result.run,
      actor,
      details: { note },
    });
    this.emit('run:approval_decided', { run: result.run, decision });
    if (result.job) await this.#pipeline.afterFinish(result.job, result.run, result.job);
    return result.run;
  }

  async #runLoop(): Promise<void> {
    while (this.#running) {
      try {
        // A clock step, upkeep or the outbox first (rarely: most cycles only claim).
        const started = this.#startCycle();
        const upkept = started !== false && (await started);
        // The claims are made here, not in a function of their own: one async frame less per cycle.
        for (let limit = this.#claimRoom(); limit > 0 && this.#running; ) {
          const claimed = await this.store.claimDue(this.#claimRequest(limit));
          if (this.#claimPlans !== null) await this.#actOnPlans(this.#claimPlans);
          for (const item of claimed) void this.#launch(item, this.#startRun);
          this.#backlog = claimed.length === limit;
          limit = this.#backlog ? this.#claimRoom() : 0;
        }
        // Only a cycle that did everything (upkeep too) shows the store is healthy again.
        if (upkept) this.#lastError = null;
      } catch (error) {
        this.#lastError = error;
        this.#logger.error({ error: messageOf(error) }, 'scheduler cycle failed');
        this.emit('scheduler:error', { error, during: 'cycle' });
      }
      if (!this.#running) break;
      // After a failed cycle due work is still due: wait a whole tick rather than spin on it.
      const sleep = this.#sleepUntilWake(this.#lastError !== null);
      if (sleep !== null) {
        await sleep;
        this.#wakeRequested = false;
      }
    }
  }

  /**
   * The start of a loop cycle: a look for clock steps, then upkeep (about once a tick) and the
   * outbox when due. False when none of them is due (most cycles), else a promise of whether
   * upkeep ran.
   */
  #startCycle(): Promise<boolean> | false {
    this.#deferredUntil = null;
    const look: ClockReading = { wall: this.#clock.now(), monotonic: this.#clock.monotonic() };
    const step = this.#lastLook ? clockStep(this.#lastLook, look) : null;
    this.#lastLook = look;
    if (step === null && !this.#upkeepDue(look.monotonic) && !this.#drainDue(look.monotonic)) return false;
    return this.#upkeep(step);
  }

  /**
   * Runs ending poke the loop hundreds of times a second under load; upkeep that looks for dead
   * owners and expired approvals runs about once a tick (monotonic), claims every time. Due after
   * {@link UPKEEP_TICK_SHARE} of a tick: an idle loop's wakes are a tick apart give or take their
   * timers' lateness, and a wake a few ms less than a tick after the last upkeep must not leave it
   * to the tick after (a dead instance's runs were freed a tick late about half the time).
   */
  #upkeepDue(mono: number): boolean {
    return mono - this.#upkeepAt >= this.config.tickIntervalMs * UPKEEP_TICK_SHARE;
  }

  /** Deliveries left pending by a dead process become claimable when its lease lapses: the outbox is drained once a lease period. */
  #drainDue(mono: number): boolean {
    return mono - this.#outboxCheckedAt >= this.config.leaseMs;
  }

  /** What {@link #startCycle} found due: the clock-step rule, then upkeep and the outbox when due; resolves whether upkeep ran. */
  async #upkeep(step: ClockStep | null): Promise<boolean> {
    if (step) await this.#afterStep(step);
    const mono = this.#clock.monotonic();
    const upkeep = this.#upkeepDue(mono);
    const drain = this.#drainDue(mono);
    if (!upkeep && !drain) return false;
    const ctx = this.#planContext();
    if (upkeep) {
      this.#upkeepAt = mono;
      if (mono >= this.#recoverFrom) {
        const plan = (job: CronJobDefinition, run: JobRunRecord) => planFinish(job, run, 'failure', ctx);
        // A dead instance's runs are freed at once; a lapsed lease is the backstop.
        await this.#presence?.sweep(ctx.now, this.config.claimBatchSize, plan);
        await this.store.recoverExpired({ now: ctx.now, limit: this.config.claimBatchSize, plan });
      }
      await this.#expireApprovals(ctx.now);
      this.#pruneWhenDue(mono);
    }
    if (drain) {
      this.#outboxCheckedAt = mono;
      await this.#drainOutbox(ctx.now);
    }
    return upkeep;
  }

  /** The request of one claim of up to `limit` runs, planning each due fire with {@link #planClaimed}. */
  #claimRequest(limit: number): ClaimRequest {
    const ctx = this.#planContext();
    this.#claimCtx = ctx;
    this.#claimPlans = null;
    const aheadMs = this.config.claimAheadMs;
    const request: ClaimRequest = {
      now: ctx.now,
      horizon: aheadMs === 0 ? ctx.now : new Date(ctx.now.getTime() + aheadMs),
      owner: this.config.instanceId,
      leaseMs: this.config.leaseMs,
      limit,
      plan: this.#planClaimed,
    };
    const agents = this.#executor.agents?.();
    if (agents !== undefined) request.agents = agents;
    return request;
  }

  /** Plans a due job's fire for the claim under way, keeping the plans that call for more (one function for every claim). */
  readonly #planClaimed = (job: CronJobDefinition, load: JobLoad): FirePlan => {
    const plan = planFire(job, load, this.#claimCtx!);
    if (callsForMore(plan)) (this.#claimPlans ??= new Map()).set(job.id, { job, plan });
    else this.#claimPlans?.delete(job.id);
    return plan;
  };

  /** Acts on the fire plans of a claim that call for more than its writes: cancels, deferred fires, dropped fires, skipped runs. */
  async #actOnPlans(plans: Map<string, { job: CronJobDefinition; plan: FirePlan }>): Promise<void> {
    let cancelling: Set<string> | null = null;
    let skipping = false;
    for (const { job, plan } of plans.values()) {
      if (plan.cancelActive) (cancelling ??= new Set()).add(job.id);
      if (plan.deferredUntil) this.#deferredUntil = Math.min(this.#deferredUntil ?? Infinity, plan.deferredUntil.getTime());
      if (plan.dropped) this.#reportDropped(job, plan.dropped);
      skipping ||= plan.runs.some(isSkipped);
    }
    if (cancelling !== null) await this.#cancelRuns(cancelling);
    if (skipping) {
      for (const { job, plan } of plans.values()) {
        for (const run of plan.runs) if (isSkipped(run)) await this.#pipeline.afterFinish(job, run, null);
      }
    }
  }

  /**
   * Applies the clock-step rule (`lifecycle/clock-step.ts`): this process renews its leases at the
   * new wall time at once, and after a forward step judges no lease lapsed for one lease period so
   * every live owner renews first; fires a forward step jumped over are planned as missed; after a
   * backward step, jobs planned beyond "now + their period" are planned again from the new now and
   * queued retries keep their back-off.
   */
  async #afterStep(step: ClockStep): Promise<void> {
    const direction = step.ms > 0 ? 'forward' : 'backward';
    this.metrics.recordClockStep(direction);
    this.#logger.warn(
      { step_ms: Math.round(step.ms), from: step.from.toISOString(), to: step.to.toISOString() },
      `wall clock stepped ${direction} by ${Math.round(Math.abs(step.ms))} ms`,
    );
    await this.#renewLeases();
    if (step.ms > 0) {
      this.#steppedOver = step;
      this.#recoverFrom = this.#clock.monotonic() + this.config.leaseMs;
      return;
    }
    this.#steppedOver = null;
    for (const job of await this.store.listJobs({ status: 'active' })) {
      const nextRun = replanAfterBackwardStep(job, step.to);
      if (nextRun === null) continue;
      await this.store.saveJob({ ...job, nextRun, updatedAt: step.to }, { expectedVersion: job.version }).catch((error: unknown) => {
        // A job changed meanwhile was planned by that change.
        if (!(error instanceof ConflictError)) throw error;
      });
    }
    for (const run of await this.store.listRuns({ status: 'scheduled', limit: MAX_CATCHUP_FIRES })) {
      const dueAt = retryDueAfterBackwardStep(run, step);
      if (dueAt !== null) await this.store.updateRun(run.id, { dueAt }, { statusIn: ['scheduled'] });
    }
  }

  /** Logs and counts the fires a saved change of a job dropped (see `overdueFiresDropped`). */
  #reportOverdue(before: CronJobDefinition, after: CronJobDefinition, now: Date, reason: 'rescheduled' | 'paused'): void {
    const dropped = overdueFiresDropped(before, after, now, reason);
    if (dropped !== null) this.#reportDropped(after, dropped);
  }

  /** Logs and counts the missed fires a plan made no run for. */
  #reportDropped(job: CronJobDefinition, dropped: NonNullable<FirePlan['dropped']>): void {
    this.metrics.recordCatchupDropped(job.name, dropped.reason, dropped.count);
    const count = `${dropped.more ? 'more than ' : ''}${dropped.count}`;
    this.#logger.warn(
      { job: job.name, dropped: dropped.count, ...(dropped.more ? { more: true } : {}), reason: dropped.reason, oldest: dropped.oldest.toISOString(), newest: dropped.newest.toISOString() },
      `catch-up dropped ${count} missed fire(s) ${DROP_REASONS[dropped.reason]}`,
    );
  }

  /**
   * How many runs the next claim should take: the free room among the runs this process may hold
   * (`maxConcurrentJobs` executing plus `prefetch` waiting for a slot), at most `claimBatchSize`.
   * While a backlog of due work remains (the last claim came back full), a claim waits until half
   * a batch of room is free, so finishing runs do not each cost a claim of one; 0 means wait.
   */
  #claimRoom(): number {
    const capacity = this.config.maxConcurrentJobs + this.config.prefetch;
    const free = Math.min(capacity - this.#runFlights, this.config.claimBatchSize);
    const worthwhile = this.#backlog ? Math.max(1, Math.floor(Math.min(capacity, this.config.claimBatchSize) / 2)) : 1;
    return free >= worthwhile ? free : 0;
  }

  /**
   * Runs a claimed run through the pipeline once it is due, never before its due wall instant. A
   * run claimed ahead waits for the timer of its due instant, which starts every run due then in
   * one go; the timer runs on monotonic time, so wall time is read again when it fires and the run
   * waits again while it is still early (the timer fired early, or the wall clock stepped back). If
   * the scheduler stops (or loses the run) before the run starts, the claim is released so the run
   * is taken again, here or elsewhere.
   */
  #startWhenDue(claimed: ClaimedRun, signal: RunSignal): Promise<JobRunRecord | null> {
    // A run claimed when due (most are) starts at once.
    if (signal.aborted || !this.#running || claimed.run.dueAt.getTime() > this.#clock.now()) return this.#waitUntilDue(claimed, signal);
    return this.#begin(claimed, signal);
  }

  /** {@link #startWhenDue} for a run not yet due (or one to hand back). */
  async #waitUntilDue(claimed: ClaimedRun, signal: RunSignal): Promise<JobRunRecord | null> {
    const dueAt = claimed.run.dueAt.getTime();
    for (;;) {
      if (signal.aborted || !this.#running) {
        await this.#release(claimed.run.id);
        return null;
      }
      if (dueAt <= this.#clock.now()) break;
      await this.#dueAt(dueAt);
    }
    return this.#begin(claimed, signal);
  }

  /** Hands a due run to the pipeline. */
  #begin(claimed: ClaimedRun, signal: RunSignal): Promise<JobRunRecord | null> {
    const flight = this.#inFlight.get(claimed.run.id);
    if (flight) flight.started = true;
    return this.#pipeline.execute(claimed, signal);
  }

  /** {@link #startWhenDue} as the work of a claimed run (one function for them all). */
  readonly #startRun = (claimed: ClaimedRun, signal: RunSignal): Promise<JobRunRecord | null> => this.#startWhenDue(claimed, signal);

  /** Hands back this instance's claim on a run it has not started (the queue takes it again); true when it did. */
  async #release(runId: string): Promise<boolean> {
    const { patch, guard } = releaseClaim(this.config.instanceId);
    return (await this.store.updateRun(runId, patch, guard)) !== null;
  }

  /**
   * At stop: hands back every run claimed and not started (held until due, or waiting for a slot),
   * and tells the other instances, so they take them at once rather than after the lease.
   */
  async #handBack(): Promise<void> {
    const waiting = [...this.#inFlight].filter(([, flight]) => flight.kind === 'run' && !flight.started).map(([id]) => id);
    const released = await Promise.all(waiting.map((id) => this.#release(id).catch(() => false)));
    if (!released.includes(true)) return;
    await this.store.notify?.({ kind: 'run', id: waiting[released.indexOf(true)]! }).catch(() => undefined);
  }

  /**
   * Overlap `cancel_other`: a newer fire of these jobs was planned now, at its due time (the store
   * flagged their running runs). This instance aborts its own runs of them at once, and announces
   * the jobs, so another instance running one renews its leases, learns of the flag and aborts it
   * too (see {@link #onChange}).
   */
  async #cancelRuns(jobIds: ReadonlySet<string>): Promise<void> {
    if (jobIds.size === 0) return;
    for (const flight of this.#inFlight.values()) {
      if (this.#runsJob(flight, jobIds)) this.#cancel(flight);
    }
    await Promise.all([...jobIds].map((id) => this.store.notify?.({ kind: 'job', id }).catch(() => undefined)));
  }

  /** Aborts a run a newer fire of its job cancelled; once it has ended, the other instances are told its slot is free. */
  #cancel(flight: InFlight): void {
    flight.cancelled = true;
    flight.signal.abort(new RunAbort('interrupted', 'neutral', 'interrupted: cancelled by a newer fire (overlap cancel_other)'));
  }

  /** Whether `flight` is a run of one of `jobIds` that this instance has started. */
  #runsJob(flight: InFlight, jobIds: ReadonlySet<string>): boolean {
    return flight.kind === 'run' && flight.started && jobIds.has(flight.jobId);
  }

  /**
   * A change announced by a scheduler sharing the store: the loop wakes to look for new work; and
   * when this instance runs a run of a changed job, it renews its leases at once, which reports a
   * cancellation a newer fire asked for (overlap `cancel_other`) without waiting for the next renewal.
   */
  #onChange(change: StoreChange): void {
    this.#poke();
    if (change.kind !== 'job') return;
    const ids = new Set([change.id]);
    for (const flight of this.#inFlight.values()) {
      if (this.#runsJob(flight, ids)) {
        void this.#renewLeases();
        return;
      }
    }
  }

  /** Resolves at `at` (epoch ms), or when the scheduler stops; every caller waiting for one instant shares one timer. */
  #dueAt(at: number): Promise<void> {
    const held = this.#held.get(at);
    if (held) return held.due;
    const { promise: due, resolve } = withResolvers();
    const release = () => {
      this.#clock.clearTimeout(timer);
      this.#held.delete(at);
      resolve();
    };
    const timer = this.#clock.setTimeout(release, Math.max(0, at - this.#clock.now()));
    this.#held.set(at, { release, due });
    return due;
  }

  /** Starts a pruning pass beside the loop once per `historyPruneIntervalMs` (monotonic); claims go on meanwhile. */
  #pruneWhenDue(mono: number): void {
    if (this.#pruning !== null || mono - this.#prunedAt < this.config.historyPruneIntervalMs) return;
    this.#prunedAt = mono;
    this.#pruning = this.#pruner
      .prune({ keepGoing: () => this.#running })
      .catch((error: unknown) => {
        this.#logger.error({ error: messageOf(error) }, 'history pruning failed');
        this.emit('scheduler:error', { error, during: 'history pruning' });
      })
      .finally(() => {
        this.#pruning = null;
        this.#noteIdle();
      });
  }

  async #expireApprovals(now: Date): Promise<void> {
    const waiting = await this.store.listRuns({ status: 'awaiting_approval', limit: this.config.claimBatchSize });
    for (const run of waiting) {
      if (run.approval && run.approval.expiresAt.getTime() <= now.getTime()) {
        await this.#decide(run, 'expired', 'scheduler', null).catch(() => undefined);
      }
    }
  }

  async #drainOutbox(now: Date): Promise<void> {
    const claimed = await this.store.claimPendingDeliveries({
      now,
      owner: this.config.instanceId,
      leaseMs: this.config.leaseMs,
      limit: this.config.claimBatchSize,
    });
    for (const item of claimed) void this.#launchDelivery(item);
  }

  /**
   * Sends a finished run's pending deliveries from the delivery queue (its own concurrency, never
   * an execution slot). The run stays in flight, its lease renewed, until they are sent; a stop
   * leaves those not yet started pending in the outbox.
   */
  #launchDelivery(claimed: ClaimedRun, span?: TraceSpan): Promise<unknown> {
    return this.#launch(claimed, (c, signal) => this.#pipeline.deliver(c, span, signal), 'delivery', true);
  }

  /**
   * Runs `work` on a claimed run (or its deliveries) within its concurrency limit (execution slots
   * for runs, the delivery queue for deliveries); resolves once it ended (it never rejects).
   */
  #launch(
    claimed: ClaimedRun,
    work: (claimed: ClaimedRun, signal: RunSignal) => Promise<unknown>,
    kind: InFlight['kind'] = 'run',
    started = false,
  ): Promise<unknown> {
    const signal = new RunSignal();
    const isRun = kind === 'run';
    if (isRun) {
      this.#runFlights += 1;
      this.metrics.adjustInFlight(1);
    }
    const ended = () => {
      // A run's deliveries, queued as it finished, may have taken its place already.
      if (this.#inFlight.get(claimed.run.id) === flight) this.#inFlight.delete(claimed.run.id);
      if (isRun) {
        this.#runFlights -= 1;
        this.metrics.adjustInFlight(-1);
      }
      this.#wakeIfUseful();
      this.#noteIdle();
      // The newer fire that cancelled it waits for its slot, maybe on another instance.
      if (flight.cancelled) void this.store.notify?.({ kind: 'run', id: claimed.run.id }).catch(() => undefined);
    };
    const task = () => work(claimed, signal);
    const done = (isRun ? this.#slots.run(task) : this.#deliveryLimit(task)).then(ended, (error: unknown) => {
      this.#logger.error({ run: claimed.run.id, error: messageOf(error) }, 'run failed in the pipeline');
      this.emit('scheduler:error', { error, during: `run ${claimed.run.id}` });
      ended();
    });
    const flight: InFlight = { signal, done, kind, jobId: claimed.run.jobId, started, cancelled: false };
    this.#inFlight.set(claimed.run.id, flight);
    return done;
  }

  /**
   * Keeps the leases of the runs in flight renewed until the returned function is called; holds
   * may overlap (the loop and one-off runs), and renewal stops when the last one ends.
   */
  #holdLeases(): () => void {
    this.#leaseHolders += 1;
    if (this.#renewTimer === null && !this.#renewing) this.#scheduleRenewal();
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.#leaseHolders -= 1;
      if (this.#leaseHolders === 0 && this.#renewTimer !== null) {
        this.#clock.clearTimeout(this.#renewTimer);
        this.#renewTimer = null;
      }
    };
  }

  #scheduleRenewal(): void {
    const every = Math.max(1, Math.floor(this.config.leaseMs / 3));
    this.#renewTimer = this.#clock.setTimeout(() => {
      this.#renewTimer = null;
      this.#renewing = true;
      void this.#renewLeases().finally(() => {
        this.#renewing = false;
        if (this.#leaseHolders > 0 && this.#renewTimer === null) this.#scheduleRenewal();
        this.#noteIdle();
      });
    }, every);
  }

  async #renewLeases(): Promise<void> {
    if (this.#inFlight.size === 0) return;
    try {
      const until = new Date(this.#clock.now() + this.config.leaseMs);
      const renewal = await this.store.renewLeases(this.config.instanceId, [...this.#inFlight.keys()], until);
      for (const id of renewal.cancelRequested) {
        const flight = this.#inFlight.get(id);
        if (flight && !flight.cancelled) this.#cancel(flight);
      }
      for (const id of renewal.lost) {
        this.#inFlight.get(id)?.signal.abort(new RunAbort('interrupted', 'failure', 'interrupted: this scheduler lost the run lease'));
      }
    } catch (error) {
      this.emit('scheduler:error', { error, during: 'lease renewal' });
    }
  }

  /**
   * Puts the loop to sleep until its next due work (at most a tick), a change or, when every slot
   * is taken, a run's end; returns the promise its sleep ends with, or null when a wake was asked
   * for meanwhile. The store is asked for its next wake first; a wake asked for while it answers
   * ends the sleep at once.
   */
  #sleepUntilWake(backOff: boolean): Promise<void> | null {
    if (this.#wakeRequested && !backOff) {
      this.#wakeRequested = false;
      return null;
    }
    const sleep = ++this.#sleeps;
    const woken = new Promise<void>((resolve) => (this.#wake = resolve));
    // With every slot taken, due work must wait for a run to end (which pokes the loop), not spin.
    const saturated = this.#claimRoom() === 0;
    if (saturated || backOff) this.#fallAsleep(sleep, null, saturated, backOff);
    else {
      this.#nextWake().then(
        (wakeAt) => this.#fallAsleep(sleep, wakeAt, false, false),
        () => this.#fallAsleep(sleep, noWake(), false, false),
      );
    }
    return woken;
  }

  /** The store's next wake for the agents this instance claims work for (a store that throws rejects). */
  #nextWake(): Promise<Date | null> {
    try {
      return this.store.nextWakeAt(this.#executor.agents?.());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Arms the timer of sleep number `sleep`, unless it ended already (a wake was asked for while
   * the store answered), to wake at the store's next wake `wakeAt` less the claim-ahead window.
   */
  #fallAsleep(sleep: number, wakeAt: Date | null, saturated: boolean, backOff: boolean): void {
    if (sleep !== this.#sleeps || this.#wake === null) return;
    const now = this.#clock.now();
    let claimAt = wakeAt ? wakeAt.getTime() - this.config.claimAheadMs : Infinity;
    // A fire left undecided until its due time is due within the claim-ahead window: the wake the
    // store reports for it has passed; claim again at its due time (anything else due before then
    // was claimed by the last claim, which reached as far).
    if (this.#deferredUntil !== null && claimAt < this.#deferredUntil) claimAt = this.#deferredUntil;
    const delay = Math.max(0, Math.min(this.config.tickIntervalMs, claimAt - now));
    // Backing off after a failed cycle, any run's end wakes the loop, as any change does.
    if (!backOff) {
      this.#asleepUntil = now + delay;
      this.#asleepForRoom = saturated;
    }
    this.#wakeTimer = this.#clock.setTimeout(this.#timeToWake, delay);
    this.#noteIdle();
  }

  /**
   * A run (or a run's deliveries) ended: wakes the loop only when that may let it claim before it
   * would wake anyway. A loop waiting for room wakes once there is room to claim into; a loop
   * sleeping until its next due work wakes when the store now reports work due sooner (a retry,
   * a run that waited for this run's slot); a loop at work is asked for one more cycle, as before.
   * So a run ending with nothing new costs one look at the store's next wake, not a claim.
   */
  #wakeIfUseful(): void {
    if (this.#asleepUntil === null) this.#poke();
    else if (this.#asleepForRoom) {
      if (this.#claimRoom() > 0) this.#poke();
    } else if (this.#looking) this.#lookAgain = true;
    else this.#lookForSoonerWake();
  }

  /** Wakes the loop when the store's next wake comes before the loop would wake (see {@link #wakeIfUseful}). */
  #lookForSoonerWake(): void {
    this.#looking = true;
    this.#lookAgain = false;
    this.#nextWake().then(this.#sawWake, this.#lookFailed);
  }

  /** The store's next wake after a run ended: wakes the loop if it comes sooner, or looks again when asked to meanwhile. */
  readonly #sawWake = (wakeAt: Date | null): void => {
    const until = this.#asleepUntil;
    // Awake, the loop reads the store again before it sleeps.
    if (until !== null) {
      if (wakeAt !== null && wakeAt.getTime() - this.config.claimAheadMs < until) this.#poke();
      else if (this.#lookAgain) {
        this.#lookForSoonerWake();
        return;
      }
    }
    this.#endLook();
  };

  /** The look after a run ended failed: the loop wakes and reads the store itself. */
  readonly #lookFailed = (): void => {
    this.#poke();
    this.#endLook();
  };

  #endLook(): void {
    this.#looking = false;
    this.#noteIdle();
  }

  /** Wakes the loop now (a change was made here or elsewhere). */
  #poke(): void {
    if (this.#wake) this.#endSleep();
    else this.#wakeRequested = true;
  }

  /** The timer of the loop's sleep fired (one function for every sleep). */
  readonly #timeToWake = (): void => {
    this.#wakeTimer = null;
    this.#endSleep();
  };

  /** Ends the loop's sleep: awake from here on (not idle), though the loop resumes a microtask later. */
  #endSleep(): void {
    const resolve = this.#wake;
    if (resolve === null) return;
    if (this.#wakeTimer !== null) this.#clock.clearTimeout(this.#wakeTimer);
    this.#wakeTimer = null;
    this.#wake = null;
    this.#asleepUntil = null;
    resolve();
  }

  async #changed(kind: 'job' | 'run', id: string): Promise<void> {
    this.#poke();
    await this.store.notify?.({ kind, id });
  }

  /**
   * Resolves `done` once run `runId` is terminal or awaiting approval: at once when this process
   * runs it (its events), and at the latest a tick after another instance did (the store is read
   * every `tickIntervalMs`). `cancel` stops waiting; either way nothing stays subscribed.
   */
  #settled(runId: string): { done: Promise<JobRunRecord>; cancel: () => void } {
    const names = ['run:succeeded', 'run:failed', 'run:skipped', 'run:denied', 'run:interrupted', 'run:awaiting_approval'] as const;
    let timer: ClockTimer | null = null;
    let finish = (_run: JobRunRecord | null) => {};
    const handler = (payload: { run: JobRunRecord }) => {
      if (payload.run.id === runId) finish(payload.run);
    };
    const poll = () => {
      timer = this.#clock.setTimeout(() => {
        this.store.getRun(runId).then(
          (run) => (run !== null && SETTLED_RUN_STATUSES.includes(run.status) ? finish(run) : poll()),
          () => poll(),
        );
      }, this.config.tickIntervalMs);
    };
    const done = new Promise<JobRunRecord>((resolve) => {
      finish = (run) => {
        finish = () => {};
        for (const name of names) this.off(name, handler);
        if (timer !== null) this.#clock.clearTimeout(timer);
        if (run !== null) resolve(run);
      };
    });
    for (const name of names) this.on(name, handler);
    poll();
    return { done, cancel: () => finish(null) };
  }

  async #audit(type: SecurityEventType, fields: AuditFields): Promise<void> {
    const event = auditEvent(type, fields, this.#now(), this.#redactor);
    try {
      await this.store.appendAudit(event);
      this.emit('audit:recorded', { event });
    } catch (error) {
      this.#logger.error({ type, error: messageOf(error) }, 'audit write failed');
    }
  }

  #planContext(): PlanContext {
    return { now: this.#now(), config: this.config, random: this.#random, steppedOver: this.#steppedOver };
  }

  #now(): Date {
    return new Date(this.#clock.now());
  }
}
