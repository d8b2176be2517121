import type { AgentDefinition } from '@symbi/core';
import { ConfigError } from './errors.js';
import { didYouMean } from './suggest.js';

/**
 * How one agent runs, from an `[agents.NAME]` table of `symbi.toml`: what a Symbiont agent file
 * cannot say. Values are kept as written; `${VAR}` references in `env` are resolved at run time.
 */
export type AgentRunner = Omit<AgentDefinition, 'name' | 'capabilities'>;

/** Reports a bad key: its TOML path and what is wrong. */
export type RunnerFailure = (path: string[], detail: string) => Error;

const PROVIDERS = ['anthropic', 'openai'];
const TEXT_KEYS: Record<string, keyof AgentRunner> = {
  command: 'command',
  url: 'url',
  model: 'model',
  base_url: 'baseUrl',
  system_prompt: 'systemPrompt',
};
const KEYS = [...Object.keys(TEXT_KEYS), 'provider', 'env', 'timeout_seconds'];

/**
 * Reads the `[agents]` table: one `[agents.NAME]` per agent, with `command`, `url` or `model`
 * (plus `provider`, `base_url`, `system_prompt`), `env` (a table of strings) and `timeout_seconds`.
 */
export function readAgentRunners(table: unknown, fail: RunnerFailure): Record<string, AgentRunner> {
  if (!isTable(table)) throw fail(['agents'], '`agents` must be a table of `[agents.NAME]` tables');
  const runners = new Map<string, AgentRunner>();
  for (const [name, body] of Object.entries(table)) {
    const path = ['agents', name];
    if (!isTable(body)) throw fail(path, `\`agents.${name}\` must be a table (\`[agents.${name}]\`)`);
    const runner: AgentRunner = {};
    for (const [key, value] of Object.entries(body)) {
      const keyPath = [...path, key];
      const field = keyPath.join('.');
      const text = (): string => {
        if (typeof value !== 'string' || value.trim() === '') throw fail(keyPath, `\`${field}\` must be a non-empty string`);
        return value;
      };
      if (Object.hasOwn(TEXT_KEYS, key)) Object.assign(runner, { [TEXT_KEYS[key] as string]: text() });
      else if (key === 'provider') {
        if (!PROVIDERS.includes(text())) throw fail(keyPath, `\`${field}\` must be "anthropic" or "openai"`);
        runner.provider = value as AgentRunner['provider'];
      } else if (key === 'env') {
        if (!isTable(value) || Object.values(value).some((item) => typeof item !== 'string')) throw fail(keyPath, `\`${field}\` must be a table of strings`);
        runner.env = { ...(value as Record<string, string>) };
      } else if (key === 'timeout_seconds') {
        if (typeof value !== 'number' || !(value > 0)) throw fail(keyPath, `\`${field}\` must be a number of seconds above 0`);
        runner.timeoutMs = Math.round(value * 1000);
      } else {
        throw fail(keyPath, `unknown key \`${key}\` in [agents.${name}]${didYouMean(key, KEYS) || ` (expected one of ${KEYS.join(', ')})`}`);
      }
    }
    if (runner.command === undefined && runner.url === undefined && runner.model === undefined) {
      throw fail(path, `[agents.${name}] needs \`command\`, \`url\` or \`model\` to say how the agent runs`);
    }
    runners.set(name, runner);
  }
  return Object.fromEntries(runners);
}

/**
 * The agents of the loaded files with their `[agents.NAME]` runners applied, plus an agent (with
 * no capabilities) for each runner no file declares. An agent whose file already says how it runs
 * and that also has a runner is an error, since one of the two would be ignored.
 *
 * @throws {@link ConfigError} naming the agent.
 */
export function withAgentRunners(agents: readonly AgentDefinition[], runners: Record<string, AgentRunner>): AgentDefinition[] {
  const merged = agents.map((agent) => {
    const runner = Object.hasOwn(runners, agent.name) ? runners[agent.name] : undefined;
    if (runner === undefined) return agent;
    if (agent.command !== undefined || agent.url !== undefined || agent.model !== undefined) {
      throw new ConfigError(`agents.${agent.name}`, `agent "${agent.name}" says how it runs both in its .symbi file and in [agents.${agent.name}] of symbi.toml; keep one`);
    }
    return { ...agent, ...runner };
  });
  const declared = new Set(agents.map((agent) => agent.name));
  for (const [name, runner] of Object.entries(runners)) if (!declared.has(name)) merged.push({ name, capabilities: [], ...runner });
  return merged;
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}
