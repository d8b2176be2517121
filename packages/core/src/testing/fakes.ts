import type { CronJobDefinition, DeliveryChannel } from '../domain/job.js';
import type { JobRunRecord } from '../domain/run.js';
import { DeliveryError, ExecutionError } from '../errors.js';
import type { AgentDescriptor, AgentExecutionRequest, AgentExecutionResult, AgentExecutor } from '../ports/agent-executor.js';
import { sleep, type Clock } from '../ports/clock.js';
import type { DeliveryRouter } from '../ports/delivery-router.js';

/** A scripted agent: what it answers for one request (a string is the output). */
export type FakeAgent = (
  request: AgentExecutionRequest,
  call: number,
) => string | AgentExecutionResult | Promise<string | AgentExecutionResult>;

/** What a {@link FakeExecutorCall} keeps of the request's job: enough to tell jobs apart. */
export type FakeCallJob = Pick<CronJobDefinition, 'id' | 'name' | 'agentId'>;

/** One call a {@link FakeExecutor} received. */
export interface FakeExecutorCall {
  /**
   * The request as received, but for its job, of which only the id, name and agent are kept: a
   * whole job definition per call would weigh on a test that runs thousands of virtual fires.
   */
  request: Omit<AgentExecutionRequest, 'job'> & { job: FakeCallJob };
  /** Clock time when the call started. */
  startedAt: number;
}

/**
 * An executor for tests: agents are functions, optionally taking `durationMs` of clock time (so a
 * `VirtualClock` controls how long runs last). Honours abort signals. Unknown agents answer
 * `ok:<agent>`.
 *
 * @example
 * ```ts
 * const executor = new FakeExecutor(clock, { reporter: () => 'report ready' }, { durationMs: 500 });
 * ```
 */
export class FakeExecutor implements AgentExecutor {
  /** Every call received, in order. */
  readonly calls: FakeExecutorCall[] = [];
  /** Runs executing now. */
  active = 0;
  /** Most runs executing at once so far. */
  maxActive = 0;
  readonly #agents: Map<string, FakeAgent>;
  readonly #capabilities = new Map<string, string[]>();
  readonly #callCounts = new Map<string, number>();
  /** The answer `ok:<agent>` of each unknown agent, made once: every run of the agent keeps it as its output. */
  readonly #defaultAnswers = new Map<string, string>();

  constructor(
    private readonly clock: Clock,
    agents: Record<string, FakeAgent> = {},
    private readonly options: { durationMs?: number | ((request: AgentExecutionRequest) => number) } = {},
  ) {
    this.#agents = new Map(Object.entries(agents));
  }

  /** Adds or replaces an agent; `capabilities` is what `describe` reports. */
  define(agentId: string, agent: FakeAgent, capabilities: string[] = []): this {
    this.#agents.set(agentId, agent);
    this.#capabilities.set(agentId, capabilities);
    return this;
  }

  /** Calls received for one agent. */
  callsOf(agentId: string): FakeExecutorCall[] {
    return this.calls.filter((c) => c.request.agentId === agentId);
  }

  async execute(request: AgentExecutionRequest, options: { signal: AbortSignal }): Promise<AgentExecutionResult> {
    const call = (this.#callCounts.get(request.agentId) ?? 0) + 1;
    this.#callCounts.set(request.agentId, call);
    const { id, name, agentId } = request.job;
    this.calls.push({ request: { ...request, job: { id, name, agentId } }, startedAt: this.clock.now() });
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      const duration = typeof this.options.durationMs === 'function' ? this.options.durationMs(request) : this.options.durationMs ?? 0;
      // Without a duration nothing is awaited before the agent answers, so no abort can come in between.
      if (duration > 0) {
        await sleep(this.clock, duration, options.signal);
        options.signal.throwIfAborted();
      }
      const agent = this.#agents.get(request.agentId);
      const answer = agent ? await agent(request, call) : this.#defaultAnswer(request.agentId);
      return typeof answer === 'string' ? { output: answer } : answer;
    } finally {
      this.active--;
    }
  }

  #defaultAnswer(agentId: string): string {
    let answer = this.#defaultAnswers.get(agentId);
    if (answer === undefined) {
      answer = `ok:${agentId}`;
      this.#defaultAnswers.set(agentId, answer);
    }
    return answer;
  }

  describe(agentId: string): AgentDescriptor | undefined {
    return { id: agentId, capabilities: this.#capabilities.get(agentId) ?? [] };
  }
}

/** An agent that always fails with `message`. */
export function failingAgent(message = 'agent failed'): FakeAgent {
  return () => {
    throw new ExecutionError(message);
  };
}

/** One delivery a {@link RecordingRouter} received. */
export interface RecordedDelivery {
  /** Channel name. */
  channel: DeliveryChannel;
  /** The job. */
  job: CronJobDefinition;
  /** The run. */
  run: JobRunRecord;
  /** The output delivered. */
  output: string;
}

/** A delivery router for tests that records every delivery; channels listed in `failing` reject. */
export class RecordingRouter implements DeliveryRouter {
  /** Deliveries accepted, in order. */
  readonly delivered: RecordedDelivery[] = [];
  /** Channels that reject every delivery. */
  readonly failing = new Set<string>();

  async route(channel: DeliveryChannel, job: CronJobDefinition, run: JobRunRecord, output: string): Promise<void> {
    if (this.failing.has(channel)) throw new DeliveryError(channel, 'refused by the test');
    this.delivered.push({ channel, job, run, output });
  }
}
