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
import { CommandExecutor, type CommandExecutorOptions } from './command-executor.js';
import { runWithinLimits } from './execution-limits.js';
import type { FunctionExecutor } from './function-executor.js';
import { HttpExecutor, type HttpExecutorOptions } from './http-executor.js';
import { LlmExecutor, type LlmExecutorOptions } from './llm-executor.js';

/** How an agent is run. */
export type AgentKind = 'command' | 'http' | 'llm' | 'function';

/** The kind of a declared agent: `command`, else `url`, else `model`, else an in-process function. */
export function agentKind(agent: AgentDefinition): AgentKind {
  if (agent.command) return 'command';
  if (agent.url) return 'http';
  if (agent.model) return 'llm';
  return 'function';
}

/** Options of {@link AgentRegistry} and {@link createAgentExecutor}. */
export interface AgentRegistryOptions {
  /** Declared agents (from `.symbi` files or the host). */
  agents: readonly AgentDefinition[];
  /** In-process agents; they run declared agents of kind `function` and any undeclared name they know. */
  functions?: FunctionExecutor;
  /** Environment for commands, `${VAR}` references and LLM keys and base URLs; default `process.env`. */
  env?: Record<string, string | undefined>;
  /** The fetch implementation for HTTP and LLM agents; default the global `fetch`. */
  fetch?: typeof fetch;
  /** Clock measuring time limits (a `VirtualClock` in tests); default the wall clock. */
  clock?: Clock;
  /** Further options of the command executor. */
  command?: Omit<CommandExecutorOptions, 'agents' | 'env' | 'clock'>;
  /** Further options of the HTTP executor. */
  http?: Omit<HttpExecutorOptions, 'agents' | 'fetch' | 'clock'>;
  /** Further options of the LLM executor. */
  llm?: Omit<LlmExecutorOptions, 'agents' | 'env' | 'fetch' | 'clock'>;
}

/**
 * One {@link AgentExecutor} for every agent of an application: it sends each execution to the
 * executor its agent's kind calls for (see {@link agentKind}) and describes agents from their
 * declarations, or from the function registry for agents only registered there.
 */
export class AgentRegistry implements AgentExecutor {
  readonly #agents = new Map<string, AgentDefinition>();
  readonly #executors: Record<Exclude<AgentKind, 'function'>, AgentExecutor>;
  readonly #functions: FunctionExecutor | undefined;
  readonly #clock: Clock;

  constructor(options: AgentRegistryOptions) {
    for (const agent of options.agents) {
      if (this.#agents.has(agent.name)) throw new ValidationError('name', `agent "${agent.name}" is declared twice`, agent.name);
      this.#agents.set(agent.name, agent);
    }
    const ofKind = (kind: AgentKind) => options.agents.filter((agent) => agentKind(agent) === kind);
    const clock = options.clock ?? systemClock;
    this.#executors = {
      command: new CommandExecutor({ ...options.command, agents: ofKind('command'), env: options.env, clock }),
      http: new HttpExecutor({ ...options.http, agents: ofKind('http'), fetch: options.fetch, clock }),
      llm: new LlmExecutor({ ...options.llm, agents: ofKind('llm'), env: options.env, fetch: options.fetch, clock }),
    };
    this.#functions = options.functions;
    this.#clock = clock;
  }

  /** How `agentId` would run; undefined when it is neither declared nor registered as a function. */
  kindOf(agentId: string): AgentKind | undefined {
    const agent = this.#agents.get(agentId);
    if (agent) return agentKind(agent);
    return this.#functions?.has(agentId) ? 'function' : undefined;
  }

  /** Runs the agent with the executor of its kind; see {@link AgentExecutor.execute}. */
  async execute(request: AgentExecutionRequest, options: { signal: AbortSignal }): Promise<AgentExecutionResult> {
    const agent = this.#agents.get(request.agentId);
    const kind = agent ? agentKind(agent) : 'function';
    if (kind !== 'function') return this.#executors[kind].execute(request, options);
    if (!this.#functions?.has(request.agentId)) {
      throw new ExecutionError(
        agent
          ? `agent "${request.agentId}" has no command, url or model, and no function is registered under its name`
          : `unknown agent "${request.agentId}"`,
      );
    }
    const functions = this.#functions;
    const limits = { agentId: request.agentId, timeoutMs: agent?.timeoutMs ?? null, clock: this.#clock };
    return runWithinLimits(options.signal, limits, (signal) => functions.execute(request, { signal }));
  }

  /** The declared capabilities of `agentId`, or those it was registered with as a function. */
  describe(agentId: string): AgentDescriptor | undefined {
    const agent = this.#agents.get(agentId);
    if (agent) return { id: agent.name, capabilities: [...agent.capabilities] };
    return this.#functions?.describe(agentId);
  }

  /** Every declared agent and every function registered now: the scheduler claims only their jobs. */
  agents(): string[] {
    return [...new Set([...this.#agents.keys(), ...(this.#functions?.names() ?? [])])];
  }
}

/** Builds the {@link AgentRegistry} for a set of declared agents and in-process functions. */
export function createAgentExecutor(options: AgentRegistryOptions): AgentRegistry {
  return new AgentRegistry(options);
}
