import type { AgentDefinition } from '@symbi/core';
import type { FieldReader } from './field-reader.js';
import type { BlockNode } from './syntax.js';

const PROVIDERS = ['anthropic', 'openai'] as const;

/** Reads the body of `agent NAME { … }` into an {@link AgentDefinition}; only fields written appear. */
export function readAgent(reader: FieldReader, name: string, block: BlockNode): AgentDefinition {
  const agent: AgentDefinition = { name, capabilities: [] };
  reader.fields(block, `agent \`${name}\``, '', {
    model: (v, p) => (agent.model = reader.string(v, p)),
    system_prompt: (v, p) => (agent.systemPrompt = reader.string(v, p)),
    capabilities: (v, p) => (agent.capabilities = reader.stringList(v, p)),
    command: (v, p) => (agent.command = reader.string(v, p)),
    url: (v, p) => (agent.url = reader.string(v, p)),
    provider: (v, p) => (agent.provider = reader.oneOf(v, p, PROVIDERS)),
    base_url: (v, p) => (agent.baseUrl = reader.string(v, p)),
    env: (v, p) => (agent.env = reader.stringMap(v, p)),
    timeout: (v, p) => (agent.timeoutMs = reader.durationMs(v, p)),
  });
  return agent;
}
