/**
 * An agent as declared in a `.symbi` file (`agent NAME { … }`) or by the host. Which executor runs
 * it follows from its fields: `command` → child process, `url` → HTTP, `model` → LLM chat API,
 * otherwise an in-process function registered under its name.
 */
export interface AgentDefinition {
  /** Agent id, referenced by schedules' `agent`. */
  name: string;
  /** Capabilities the agent declares (checked by `require_capabilities`). */
  capabilities: string[];
  /** LLM model name, e.g. `claude-sonnet-4.5` or `gpt-4o-mini`. */
  model?: string;
  /** System prompt for LLM agents. */
  systemPrompt?: string;
  /** LLM wire format; inferred from the model name when absent (`claude*` → anthropic). */
  provider?: 'anthropic' | 'openai';
  /** Base URL of the LLM API (for OpenAI-compatible local servers). */
  baseUrl?: string;
  /** Shell command run per execution (child process). */
  command?: string;
  /** Agent endpoint that receives a POST per execution. */
  url?: string;
  /** Extra environment for command agents; values may hold `${ENV}` references. */
  env?: Record<string, string>;
  /** Per-execution timeout of the agent itself, in milliseconds. */
  timeoutMs?: number;
}
