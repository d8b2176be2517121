import type { AgentDefinition } from '@symbi/core';
import type { FieldReader } from './field-reader.js';
import { readPolicyRules, type NamedPolicy } from './named-policy.js';
import type { SourcePosition } from './source-excerpt.js';
import type { BlockNode, SymbiEntry } from './syntax.js';

const PROVIDERS = ['anthropic', 'openai'] as const;

/**
 * A Symbiont item kept as written but not run: a `function` (top-level or in an agent), a `type`
 * definition, or an agent's parameters and return type.
 */
export interface KeptItem {
  kind: 'function' | 'type' | 'signature';
  /** The function or type name; the agent name for a signature. */
  name: string;
  /** The agent whose block holds it, or null at the top level. */
  agent: string | null;
  /** The item's text as written. */
  text: string;
  position: SourcePosition;
}

/** What an `agent NAME { … }` block declares. */
export interface AgentBlock {
  agent: AgentDefinition;
  /** Its `policy NAME { … }` blocks; they apply to every schedule that runs the agent. */
  policies: NamedPolicy[];
  /** Its functions and signature, kept as written. */
  kept: KeptItem[];
}

/**
 * Reads `agent NAME { … }`: our fields (`command`, `url`, `model`, …, which say how the agent runs)
 * and Symbiont's items: `capabilities` (bare or quoted names), `policy NAME { … }` blocks and
 * `function` definitions. A `with` block (sandbox, memory, timeout) is refused: this scheduler
 * cannot give an agent a sandbox or memory tier, and would otherwise ignore it.
 */
export function readAgent(reader: FieldReader, entry: SymbiEntry & { label: NonNullable<SymbiEntry['label']> }, block: BlockNode, file: string | undefined): AgentBlock {
  const name = entry.label.name;
  const agent: AgentDefinition = { name, capabilities: [] };
  const policies: NamedPolicy[] = [];
  const kept: KeptItem[] = [];
  if (entry.signature !== null) kept.push({ kind: 'signature', name, agent: name, text: entry.signature, position: entry.label.position });
  const fields: SymbiEntry[] = [];
  for (const item of block.entries) {
    if (item.key === 'policy' && item.label !== null) {
      policies.push(readPolicyRules(reader, reader.block(item.value, 'policy'), item.label, name, file));
    } else if (item.key === 'function' && item.value.kind === 'opaque' && item.label !== null) {
      kept.push({ kind: 'function', name: item.label.name, agent: name, text: item.value.text, position: item.keyPosition });
    } else if (item.key === 'with' && item.value.kind === 'opaque') {
      throw reader.error(
        item.keyPosition,
        'with',
        `agent \`${name}\`: \`with\` blocks (sandbox, memory, security, timeout) are not supported: symbi-scheduler cannot give an agent a sandbox or memory tier, ` +
          'so it refuses the block rather than ignore it; set how the agent runs (and its `timeout`) with `command`, `url` or `model`',
      );
    } else {
      fields.push(item);
    }
  }
  reader.fields({ ...block, entries: fields }, `agent \`${name}\``, '', {
    model: (v, p) => (agent.model = reader.string(v, p)),
    system_prompt: (v, p) => (agent.systemPrompt = reader.string(v, p)),
    capabilities: (v, p) => (agent.capabilities = reader.names(v, p)),
    command: (v, p) => (agent.command = reader.string(v, p)),
    url: (v, p) => (agent.url = reader.string(v, p)),
    provider: (v, p) => (agent.provider = reader.oneOf(v, p, PROVIDERS)),
    base_url: (v, p) => (agent.baseUrl = reader.string(v, p)),
    env: (v, p) => (agent.env = reader.stringMap(v, p)),
    timeout: (v, p) => (agent.timeoutMs = reader.durationMs(v, p)),
  });
  return { agent, policies, kept };
}
