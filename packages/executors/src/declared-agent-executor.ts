import {
  ExecutionError,
  ValidationError,
  systemClock,
  type AgentDefinition,
  type AgentDescriptor,
  type AgentExecutionRequest,
  type AgentExecutionResult,
  type AgentExecutor,
  type Clock,
} from '@symbi/core';
import { runWithinLimits } from './execution-limits.js';

/** Options every executor of declared agents accepts. */
export interface DeclaredAgentExecutorOptions {
  /** The agents this executor runs. */
  agents: readonly AgentDefinition[];
  /** Time limit for agents that declare no `timeoutMs`; null for none. */
  timeoutMs?: number | null;
  /** Clock measuring time limits and kill grace periods (a `VirtualClock` in tests); default the wall clock. */
  clock?: Clock;
}

/**
 * Base of the executors that run agents declared by an {@link AgentDefinition} (command, HTTP,
 * LLM). It looks agents up, applies their time limit, rejects promptly on abort, describes their
 * capabilities, and leaves one thing to subclasses: {@link DeclaredAgentExecutor.run}.
 */
export abstract class DeclaredAgentExecutor implements AgentExecutor {
  /** Clock for time limits and grace periods. */
  protected readonly clock: Clock;
  readonly #agents = new Map<string, AgentDefinition>();
  readonly #defaultTimeoutMs: number | null;

  /**
   * @param options - the agents and limits.
   * @param required - the definition field this kind of agent needs (e.g. `command`); agents
   *   without it are rejected here, at construction, rather than at their first run.
   */
  protected constructor(options: DeclaredAgentExecutorOptions, required: 'command' | 'url' | 'model') {
    this.clock = options.clock ?? systemClock;
    this.#defaultTimeoutMs = checkTimeout(options.timeoutMs ?? null, 'timeout_ms');
    for (const agent of options.agents) {
      if (this.#agents.has(agent.name)) throw new ValidationError('name', `agent "${agent.name}" is declared twice`, agent.name);
      const value = agent[required];
      if (typeof value !== 'string' || value.trim() === '') {
        throw new ValidationError(required, `agent "${agent.name}" has no ${required}`);
      }
      checkTimeout(agent.timeoutMs ?? null, 'timeout_ms');
      this.#agents.set(agent.name, agent);
    }
  }

  /** Runs the agent once; see {@link AgentExecutor.execute}. */
  async execute(request: AgentExecutionRequest, options: { signal: AbortSignal }): Promise<AgentExecutionResult> {
    const agent = this.#agents.get(request.agentId);
    if (!agent) throw new ExecutionError(`unknown agent "${request.agentId}" (not declared to ${this.constructor.name})`);
    const limits = { agentId: agent.name, timeoutMs: agent.timeoutMs ?? this.#defaultTimeoutMs, clock: this.clock };
    return runWithinLimits(options.signal, limits, (signal) => this.run(agent, request, signal));
  }

  /** The agent's declared capabilities; undefined when it is not declared here. */
  describe(agentId: string): AgentDescriptor | undefined {
    const agent = this.#agents.get(agentId);
    return agent ? { id: agent.name, capabilities: [...agent.capabilities] } : undefined;
  }

  /** The declared agents: the scheduler claims only their jobs. */
  agents(): string[] {
    return [...this.#agents.keys()];
  }

  /**
   * Runs `agent` once. `signal` aborts on the caller's abort or the agent's time limit; the base
   * class already rejects promptly then, so `run` only has to stop its work (kill, cancel).
   */
  protected abstract run(agent: AgentDefinition, request: AgentExecutionRequest, signal: AbortSignal): Promise<AgentExecutionResult>;
}

function checkTimeout(value: number | null, field: string): number | null {
  if (value !== null && !(Number.isFinite(value) && value > 0)) {
    throw new ValidationError(field, 'must be a positive number of milliseconds', value);
  }
  return value;
}
