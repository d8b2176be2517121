import {
  ConflictError,
  ExecutionError,
  ValidationError,
  systemClock,
  type AgentDescriptor,
  type AgentExecutionRequest,
  type AgentExecutionResult,
  type AgentExecutor,
} from '@symbi/core';
import { runWithinLimits } from './execution-limits.js';
import { toExecutionResult } from './execution-result.js';

/**
 * An agent implemented in-process. It returns its output (a string) or a full result, and should
 * stop when `signal` aborts; if it does not, the run is rejected anyway and its late answer ignored.
 */
export type AgentFunction = (
  request: AgentExecutionRequest,
  options: { signal: AbortSignal },
) => Promise<string | AgentExecutionResult> | string | AgentExecutionResult;

/** An agent function with the capabilities it declares. */
export interface FunctionAgent {
  /** The implementation. */
  fn: AgentFunction;
  /** Capabilities the agent declares (checked by `require_capabilities`); default none. */
  capabilities?: string[];
}

/** Options of {@link FunctionExecutor}. */
export interface FunctionExecutorOptions {
  /** Agents to register, by name. */
  agents?: Record<string, AgentFunction | FunctionAgent>;
}

/**
 * Runs agents registered in-process by name.
 *
 * @example
 * ```ts
 * const functions = new FunctionExecutor();
 * functions.register('reporter-agent', async ({ input }) => `report for ${input}`, { capabilities: ['reporting'] });
 * ```
 */
export class FunctionExecutor implements AgentExecutor {
  readonly #agents = new Map<string, { fn: AgentFunction; capabilities: string[] }>();

  constructor(options: FunctionExecutorOptions = {}) {
    for (const [name, agent] of Object.entries(options.agents ?? {})) {
      if (typeof agent === 'function') this.register(name, agent);
      else this.register(name, agent.fn, { capabilities: agent.capabilities ?? [] });
    }
  }

  /** Registers `fn` as agent `name`. Throws `ConflictError` when the name is taken. */
  register(name: string, fn: AgentFunction, options: { capabilities?: string[] } = {}): this {
    if (name.trim() === '') throw new ValidationError('name', 'agent name must not be empty', name);
    if (typeof fn !== 'function') throw new ValidationError('fn', `agent "${name}" must be a function`);
    if (this.#agents.has(name)) throw new ConflictError(`a function is already registered for agent "${name}"`);
    this.#agents.set(name, { fn, capabilities: [...(options.capabilities ?? [])] });
    return this;
  }

  /** Removes agent `name`; false when it was not registered. */
  unregister(name: string): boolean {
    return this.#agents.delete(name);
  }

  /** Whether an agent is registered under `name`. */
  has(name: string): boolean {
    return this.#agents.has(name);
  }

  /** The names of the registered agents. */
  names(): string[] {
    return [...this.#agents.keys()];
  }

  /** Runs the function registered under `request.agentId`; see {@link AgentExecutor.execute}. */
  async execute(request: AgentExecutionRequest, options: { signal: AbortSignal }): Promise<AgentExecutionResult> {
    const agent = this.#agents.get(request.agentId);
    if (!agent) throw new ExecutionError(`no function is registered for agent "${request.agentId}"`);
    const limits = { agentId: request.agentId, timeoutMs: null, clock: systemClock };
    return runWithinLimits(options.signal, limits, async (signal) =>
      toExecutionResult(await agent.fn(request, { signal }), request.agentId),
    );
  }

  /** The registered agent's capabilities; undefined when none is registered under `agentId`. */
  describe(agentId: string): AgentDescriptor | undefined {
    const agent = this.#agents.get(agentId);
    return agent ? { id: agentId, capabilities: [...agent.capabilities] } : undefined;
  }
}
