import { createJobDefinition, parseInstant, validateTimezone, ValidationError, type JobSpec, type SchedulePolicy } from '@symbi/core';
import { DslError, validationReason } from './errors.js';
import type { SymbiDocument } from './parse-symbi.js';
import { mergePolicy, type NamedPolicy } from './named-policy.js';
import type { ScheduleBlock } from './schedule-block.js';
import type { SourcePosition } from './source-excerpt.js';
import { didYouMean } from './suggest.js';

/** Core field names (as in `ValidationError.field`) that the DSL spells differently. */
const DSL_NAMES: Record<string, string> = {
  cron_expr: 'cron',
  agent_id: 'agent',
  jitter_seconds: 'jitter',
};

const CORE_NAMES = new RegExp(`\\b(${Object.keys(DSL_NAMES).join('|')})\\b`, 'g');

/** Options of {@link toJobSpecs}. */
export interface ToJobSpecsOptions {
  /** The time validation runs at (e.g. to judge an `at` time); defaults to now. */
  now?: Date;
}

/** An `at` time of day with no `Z` or offset after it: a wall-clock time in the schedule's zone. */
const LOCAL_TIME = /[Tt ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?$/;

/**
 * Validates every schedule of `documents` (one file, or all the files loaded together) with the
 * scheduler's own rules (`createJobDefinition`: cron expression, time zone, `at` time, URLs,
 * ranges…) and returns their job specs, ready for `CronScheduler.addJob`. On the way it resolves
 * what spans files:
 *
 * - `policy: "NAME"` takes the `policy NAME { … }` of any of the documents (an error names a
 *   missing one), and every policy inside `agent NAME { … }` applies to that agent's schedules;
 *   conditions combine (required capabilities join, other conditions must agree);
 * - an `at` time without `Z` or an offset is read in the schedule's `timezone` (UTC when absent),
 *   with cron's DST rules, and becomes that UTC instant.
 *
 * A rejected value is reported as a {@link DslError} at the line and column where the file wrote
 * it, with its `field` spelled as in the file (`cron`, `policy.max_runtime`).
 */
export function toJobSpecs(documents: SymbiDocument | readonly SymbiDocument[], options: ToJobSpecsOptions = {}): JobSpec[] {
  const all: readonly SymbiDocument[] = Array.isArray(documents) ? documents : [documents as SymbiDocument];
  const now = options.now ?? new Date();
  const policies = policiesByName(all);
  return all.flatMap((document) =>
    document.schedules.map((block) => {
      const spec = resolveSpec(document, block, policies);
      try {
        createJobDefinition(spec, now);
      } catch (error) {
        if (error instanceof ValidationError) throw locate(document, block, error);
        throw error;
      }
      return spec;
    }),
  );
}

function policiesByName(documents: readonly SymbiDocument[]): Map<string, NamedPolicy> {
  const byName = new Map<string, NamedPolicy>();
  for (const document of documents) {
    for (const policy of document.policies) {
      const first = byName.get(policy.name);
      if (first !== undefined) {
        const where = `${first.file ?? '<input>'}:${first.position.line}`;
        throw new DslError(document.source, document.file, policy.position, '', `duplicate policy \`${policy.name}\` (first defined at ${where})`);
      }
      byName.set(policy.name, policy);
    }
  }
  return byName;
}

/** The block's spec with its named and agent policies applied and a local `at` made absolute. */
function resolveSpec(document: SymbiDocument, block: ScheduleBlock, policies: Map<string, NamedPolicy>): JobSpec {
  const spec: JobSpec = { ...block.spec };
  const fail = (field: string, detail: string): never => {
    throw new DslError(document.source, document.file, nearestPosition(block, field), field, detail);
  };
  const policy: Partial<SchedulePolicy> = { ...block.spec.policy };
  const applied: NamedPolicy[] = [];
  if (block.policyRef !== null) {
    const named = policies.get(block.policyRef);
    if (named === undefined) {
      const known = [...policies.keys()];
      const hint = didYouMean(block.policyRef, known) || (known.length > 0 ? ` (defined: ${known.join(', ')})` : '; no loaded file defines a `policy NAME { … }` block');
      fail('policy', `\`policy\`: policy "${block.policyRef}" is not defined in the loaded files${hint}`);
    }
    applied.push(named as NamedPolicy);
  }
  for (const named of policies.values()) if (named.agent === spec.agentId && !applied.includes(named)) applied.push(named);
  for (const named of applied) {
    const field = named.agent === spec.agentId ? 'agent' : 'policy';
    mergePolicy(policy, named.policy, (detail) => fail(field, `policy \`${named.name}\` does not fit this schedule: ${detail}`));
  }
  if (Object.keys(policy).length > 0) spec.policy = policy;
  if (typeof spec.at === 'string' && LOCAL_TIME.test(spec.at.trim())) {
    try {
      spec.at = parseInstant(spec.at, 'at', validateTimezone(spec.timezone ?? 'UTC')).toISOString();
    } catch (error) {
      if (error instanceof ValidationError) throw locate(document, block, error);
      throw error;
    }
  }
  return spec;
}

function locate(document: SymbiDocument, block: ScheduleBlock, error: ValidationError): DslError {
  const field = dslField(error.field);
  // Core messages name fields as the API spells them; say them as the file does.
  const reason = validationReason(error).replace(CORE_NAMES, (name) => DSL_NAMES[name] ?? name);
  return new DslError(document.source, document.file, nearestPosition(block, field), field, `\`${field}\`: ${reason}`, {
    value: error.value,
    cause: error,
  });
}

/** Renames the leading segment of a core field path (`cron_expr` → `cron`), keeping the rest. */
function dslField(field: string): string {
  const match = /^([a-z_]+)(.*)$/.exec(field);
  if (match === null) return field;
  const head = match[1] as string;
  return (DSL_NAMES[head] ?? head) + (match[2] as string);
}

/**
 * The written position of `field`, or of its nearest written ancestor (`policy` for
 * `policy.allowed_hours` when only the block was written), or of the `schedule` keyword.
 */
function nearestPosition(block: ScheduleBlock, field: string): SourcePosition {
  for (let path = field; ; ) {
    const position = block.positions[path];
    if (position !== undefined) return position;
    const parent = path.replace(/(\.[^.[]*|\[\d+\])$/, '');
    if (parent === path) return block.positions.schedule as SourcePosition;
    path = parent;
  }
}
