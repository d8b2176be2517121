import type { Conversation } from './llm-conversation.js';

/** The LLM wire formats the {@link LlmExecutor} speaks. */
export type LlmProviderName = 'anthropic' | 'openai';

/** One LLM wire format: where to send, how to authenticate, and how to read the answer. */
export interface LlmProvider {
  /** Provider name as written in an agent's `provider`. */
  readonly name: LlmProviderName;
  /** Name used in error messages, e.g. `Anthropic API`. */
  readonly label: string;
  /** Environment variable holding the API key. */
  readonly apiKeyEnv: string;
  /** Environment variable that may override the base URL. */
  readonly baseUrlEnv: string;
  /** Base URL when neither the agent nor the environment sets one. */
  readonly defaultBaseUrl: string;
  /** The endpoint URL for a base URL (without trailing slash). */
  endpoint(baseUrl: string): string;
  /** Headers carrying the API key and version. */
  headers(apiKey: string): Record<string, string>;
  /** The request body. */
  body(model: string, conversation: Conversation, maxTokens: number): unknown;
  /** The generated text of a 2xx answer; undefined when the answer has none. */
  output(answer: unknown): string | undefined;
  /** The provider's error message in a non-2xx answer; undefined when it has none. */
  errorDetail(answer: unknown): string | undefined;
}

/** Reads `object.key` of an untyped JSON value. */
export function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

/** `type: message` from an error object shaped like both providers' (`{ type?, code?, message }`). */
export function describeApiError(error: unknown): string | undefined {
  const message = field(error, 'message');
  if (typeof message !== 'string') return undefined;
  const kind = field(error, 'type') ?? field(error, 'code');
  return typeof kind === 'string' && kind !== '' ? `${kind}: ${message}` : message;
}
