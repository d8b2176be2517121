import {
  ExecutionError,
  ValidationError,
  type AgentDefinition,
  type AgentExecutionRequest,
  type AgentExecutionResult,
} from '@symbi/core';
import { anthropicMessages } from './anthropic-messages.js';
import { DeclaredAgentExecutor, type DeclaredAgentExecutorOptions } from './declared-agent-executor.js';
import {
  DEFAULT_HTTP_TIMEOUT_MS,
  DEFAULT_MAX_RESPONSE_BYTES,
  httpStatusError,
  parseJsonBody,
  readBodyText,
} from './http-response.js';
import { buildConversation } from './llm-conversation.js';
import type { LlmProvider, LlmProviderName } from './llm-provider.js';
import { openAiChatCompletions } from './openai-chat-completions.js';

/** Default `max_tokens` of Anthropic requests (the Messages API requires one). */
export const DEFAULT_MAX_TOKENS = 4096;

const PROVIDERS: Record<LlmProviderName, LlmProvider> = { anthropic: anthropicMessages, openai: openAiChatCompletions };

/** Options of {@link LlmExecutor}. */
export interface LlmExecutorOptions extends DeclaredAgentExecutorOptions {
  /**
   * Where API keys (`ANTHROPIC_API_KEY`, `OPENAI_API_KEY`) and base URLs (`ANTHROPIC_BASE_URL`,
   * `OPENAI_BASE_URL`) are read, at each execution; default `process.env`.
   */
  env?: Record<string, string | undefined>;
  /** The fetch implementation; default the global `fetch`. */
  fetch?: typeof fetch;
  /** `max_tokens` of Anthropic requests. Default 4096. */
  maxTokens?: number;
  /** Cap on a response body. Default 4 MiB. */
  maxResponseBytes?: number;
}

/** The provider of an agent: its `provider`, or `anthropic` for `claude*` models and `openai` otherwise. */
export function llmProviderOf(agent: Pick<AgentDefinition, 'model' | 'provider'>): LlmProviderName {
  if (agent.provider) return agent.provider;
  return (agent.model ?? '').trim().toLowerCase().startsWith('claude') ? 'anthropic' : 'openai';
}

/**
 * Runs LLM agents (`model`, usually with `systemPrompt`) through the Anthropic Messages API or an
 * OpenAI-compatible Chat Completions API, one request per execution.
 *
 * The base URL is the agent's `baseUrl`, else `ANTHROPIC_BASE_URL` / `OPENAI_BASE_URL`, else the
 * provider's public API. The conversation holds the shared history as prior turns and the
 * previous summary as a note before the input. A missing API key fails the run naming the
 * variable; an API error fails it with an `AgentHttpError` carrying the status and the provider's
 * message. Agents without `timeoutMs` get 5 minutes unless `timeoutMs` is set here.
 */
export class LlmExecutor extends DeclaredAgentExecutor {
  readonly #env: Record<string, string | undefined>;
  readonly #fetch: typeof fetch;
  readonly #maxTokens: number;
  readonly #maxResponseBytes: number;

  constructor(options: LlmExecutorOptions) {
    super({ ...options, timeoutMs: options.timeoutMs === undefined ? DEFAULT_HTTP_TIMEOUT_MS : options.timeoutMs }, 'model');
    for (const agent of options.agents) {
      if (agent.provider !== undefined && !(agent.provider in PROVIDERS)) {
        throw new ValidationError('provider', `agent "${agent.name}": provider must be "anthropic" or "openai"`, agent.provider);
      }
    }
    this.#env = options.env ?? process.env;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#maxTokens = options.maxTokens ?? DEFAULT_MAX_TOKENS;
    this.#maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  }

  protected async run(agent: AgentDefinition, request: AgentExecutionRequest, signal: AbortSignal): Promise<AgentExecutionResult> {
    const provider = PROVIDERS[llmProviderOf(agent)];
    const apiKey = this.#env[provider.apiKeyEnv];
    if (!apiKey) {
      throw new ExecutionError(`agent "${agent.name}" needs the environment variable ${provider.apiKeyEnv}, which is not set`);
    }
    const baseUrl = (agent.baseUrl || this.#env[provider.baseUrlEnv] || provider.defaultBaseUrl).replace(/\/+$/, '');
    const response = await this.#fetch(provider.endpoint(baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...provider.headers(apiKey) },
      body: JSON.stringify(provider.body(agent.model!, buildConversation(agent, request), this.#maxTokens)),
      signal,
    });
    const what = `agent "${agent.name}": ${provider.label}`;
    const text = await readBodyText(response, this.#maxResponseBytes, what);
    if (!response.ok) {
      let detail: string | undefined;
      try {
        detail = provider.errorDetail(JSON.parse(text));
      } catch {
        // Proxies and gateways answer errors in HTML or plain text; the body itself is quoted then.
      }
      throw httpStatusError(what, response, detail ?? text);
    }
    const output = provider.output(parseJsonBody(text, what));
    if (output === undefined) throw new ExecutionError(`${what} answered without text content`);
    return { output };
  }
}
