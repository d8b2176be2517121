import { AUDIT_LEVELS, type SchedulePolicy } from '@symbi/core';
import type { FieldReader } from './field-reader.js';
import { readPolicy } from './schedule-block.js';
import type { SourcePosition } from './source-excerpt.js';
import { didYouMean } from './suggest.js';
import type { BlockNode } from './syntax.js';

/**
 * A Symbiont `policy NAME { … }` block, top-level or inside `agent NAME { … }`, read into the
 * conditions our policy gates enforce. A schedule applies it with `policy: "NAME"`; a policy
 * inside an agent also applies to every schedule that runs that agent.
 */
export interface NamedPolicy {
  name: string;
  /** The agent whose block holds it, or null for a top-level policy. */
  agent: string | null;
  /** The conditions it sets; only those its rules name appear. */
  policy: Partial<SchedulePolicy>;
  /** Where its name is written. */
  position: SourcePosition;
  /** The file that defines it, if known. */
  file: string | undefined;
}

const RULES = ['allow', 'deny', 'require', 'audit'];

/** How the DSL spells the policy fields whose camelCase name is not its snake_case one. */
const DSL_NAMES: Partial<Record<keyof SchedulePolicy, string>> = { approvalTimeoutMs: 'approval_timeout', maxRuntimeMs: 'max_runtime' };

/**
 * Reads the rules of a Symbiont policy block:
 *
 * - `require: [name, …]` (or one name): capabilities the agent must declare → `require_capabilities`;
 * - `require: { … }`: any field of our `policy { … }` block (`require_approval`, `approver`,
 *   `max_runtime`, `allowed_hours`, `allowed_environments`, `require_agent_pin`, …);
 * - `audit: all_operations | errors_only | none` → the audit level.
 *
 * `allow` and `deny` rules govern what a running agent may do; this scheduler starts agents but does
 * not mediate their actions, so it refuses them rather than ignore them. Rules with a call or a
 * condition were already refused by the parser.
 */
export function readPolicyRules(
  reader: FieldReader,
  block: BlockNode,
  label: { name: string; position: SourcePosition },
  agent: string | null,
  file: string | undefined,
): NamedPolicy {
  const policy: Partial<SchedulePolicy> = {};
  for (const entry of block.entries) {
    const path = entry.key;
    reader.noLabel(entry, path);
    reader.positions[path] = entry.value.position;
    const fail = (detail: string): never => {
      throw reader.error(entry.keyPosition, path, `policy \`${label.name}\`: ${detail}`);
    };
    if (entry.key === 'allow' || entry.key === 'deny') {
      fail(
        `\`${entry.key}\` rules cannot be enforced here: symbi-scheduler starts agents but does not mediate what a running agent does, ` +
          'so it would silently ignore the rule. Enforce it in the agent (or its sandbox) and remove it; `require: [capability]` checks the capabilities an agent declares',
      );
    } else if (entry.key === 'require') {
      const required =
        entry.value.kind === 'block' ? readPolicy(reader, entry.value, path) : { requireCapabilities: reader.names(entry.value, path) };
      mergePolicy(policy, required, fail);
    } else if (entry.key === 'audit') {
      if (entry.value.kind === 'block') fail('`audit` takes a level here (all_operations, errors_only or none), not a block of settings');
      mergePolicy(policy, { audit: reader.oneOf(entry.value, path, AUDIT_LEVELS, true) }, fail);
    } else {
      fail(`unknown rule \`${entry.key}\`${didYouMean(entry.key, RULES) || ' (rules are `allow`, `deny`, `require` and `audit`)'}`);
    }
  }
  return { name: label.name, agent, policy, position: label.position, file };
}

/**
 * Adds `source`'s conditions to `target`, so that both hold: required capabilities are joined; any
 * other condition set on both sides must agree, or `fail` is called naming the field.
 */
export function mergePolicy(target: Partial<SchedulePolicy>, source: Partial<SchedulePolicy>, fail: (detail: string) => never): void {
  for (const key of Object.keys(source) as (keyof SchedulePolicy)[]) {
    const value = source[key];
    const existing = target[key];
    if (key === 'requireCapabilities') {
      target.requireCapabilities = [...new Set([...(target.requireCapabilities ?? []), ...(value as string[])])];
    } else if (existing !== undefined && JSON.stringify(existing) !== JSON.stringify(value)) {
      const field = DSL_NAMES[key] ?? key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
      fail(`conflicting \`${field}\`: ${JSON.stringify(existing)} and ${JSON.stringify(value)}`);
    } else {
      Object.assign(target, { [key]: value });
    }
  }
}
