/**
 * `@symbi/executors`: agent executors for `@symbi/core`: in-process functions, child processes, HTTP
 * agents and LLM chat APIs.
 *
 * @packageDocumentation
 * @module @symbi/executors
 */
export { FunctionExecutor, type AgentFunction, type FunctionAgent, type FunctionExecutorOptions } from './function-executor.js';
export {
  CommandExecutor,
  DEFAULT_KILL_GRACE_MS,
  DEFAULT_MAX_OUTPUT_BYTES,
  DEFAULT_MAX_STDERR_BYTES,
  INHERITED_ENV_VARS,
  type CommandExecutorOptions,
} from './command-executor.js';
export { HttpExecutor, type HttpAgentRequestBody, type HttpExecutorOptions } from './http-executor.js';
export { LlmExecutor, llmProviderOf, DEFAULT_MAX_TOKENS, type LlmExecutorOptions } from './llm-executor.js';
export type { LlmProviderName } from './llm-provider.js';
export { ANTHROPIC_VERSION } from './anthropic-messages.js';
export { AgentRegistry, createAgentExecutor, agentKind, type AgentKind, type AgentRegistryOptions } from './agent-registry.js';
export { DeclaredAgentExecutor, type DeclaredAgentExecutorOptions } from './declared-agent-executor.js';
export { DEFAULT_HTTP_TIMEOUT_MS, DEFAULT_MAX_RESPONSE_BYTES } from './http-response.js';
export { CommandFailedError, AgentHttpError } from './errors.js';
export type { WireContext, WireJob, WireRun } from './wire.js';
