import type { CronJobDefinition } from '../domain/job.js';
import type { JobRunRecord } from '../domain/run.js';
import type { AgentContext, ContextMessage } from '../domain/session.js';

/** What an executor is asked to do: run one agent once (one heartbeat iteration). */
export interface AgentExecutionRequest {
  /** The agent to run. */
  agentId: string;
  /** The job that fired. */
  job: CronJobDefinition;
  /** The run being executed. */
  run: JobRunRecord;
  /** Input for the agent (the run's input, or the job's). */
  input: string | null;
  /** The context built from the session mode. */
  context: AgentContext;
  /** W3C trace context of this agent call when the run is traced; HTTP executors send it as the `traceparent` header. */
  traceparent?: string;
}

/** What an agent produced. */
export interface AgentExecutionResult {
  /** The output delivered to the job's channels. */
  output: string;
  /** A short summary carried into the next run by `ephemeral_with_summary`. */
  summary?: string | null;
  /**
   * For heartbeats: whether the agent is done (`sleep`) or wants another iteration. When absent,
   * the scheduler reads it from the output (a final line `sleep`, or JSON `{"action":"sleep"}`).
   */
  action?: 'sleep' | 'continue';
  /** Diagnostics kept on the run (e.g. a child process's stderr). */
  stderr?: string | null;
  /** Messages to append to a `shared_persistent` history; by default the input and the output. */
  messages?: ContextMessage[];
}

/** What the scheduler knows of an agent before running it. */
export interface AgentDescriptor {
  /** Agent id. */
  id: string;
  /** Capabilities the agent declares (checked by `require_capabilities`). */
  capabilities: string[];
}

/**
 * Runs agents. Implementations must honour `signal`: when it aborts (max_runtime, shutdown,
 * overlap cancel) they stop work promptly and reject.
 */
export interface AgentExecutor {
  /** Runs the agent once and resolves with its output, or rejects with why it failed. */
  execute(request: AgentExecutionRequest, options: { signal: AbortSignal }): Promise<AgentExecutionResult>;
  /** Describes an agent (its declared capabilities); undefined when unknown to this executor. */
  describe?(agentId: string): AgentDescriptor | undefined;
  /**
   * The ids of every agent this executor can run, when it can tell. The scheduler then claims only
   * jobs of these agents and leaves the others to instances that know them; an executor without it
   * is taken to run any agent.
   */
  agents?(): readonly string[];
}
