import { readFileSync } from 'node:fs';
import type { AgentDefinition } from '@symbi/core';
import { readAgent, type KeptItem } from './agent-block.js';
import { DslError } from './errors.js';
import { FieldReader } from './field-reader.js';
import { readPolicyRules, type NamedPolicy } from './named-policy.js';
import { readSchedule, type ScheduleBlock } from './schedule-block.js';
import type { SourcePosition } from './source-excerpt.js';
import { didYouMean } from './suggest.js';
import { parseSymbiSyntax, type BlockNode, type SymbiEntry, type SymbiValue } from './syntax.js';

/** A value of a `metadata { … }` block, as plain data. */
export type MetadataValue = string | number | boolean | MetadataValue[] | { [key: string]: MetadataValue };

/** The agents, schedules and Symbiont items of a `.symbi` file, in the order written. */
export interface SymbiDocument {
  agents: AgentDefinition[];
  schedules: ScheduleBlock[];
  /** Named `policy NAME { … }` blocks, top-level and inside agents. */
  policies: NamedPolicy[];
  /** The `metadata { … }` block (`{}` when there is none). */
  metadata: Record<string, MetadataValue>;
  /** Functions, types and agent signatures: kept as written, never run (see {@link keptItemNote}). */
  kept: KeptItem[];
  /** The parsed text, kept so that later errors (see `toJobSpecs`) can quote the offending line. */
  source: string;
  /** The file name given to the parser, if any. */
  file: string | undefined;
}

/** Options of {@link parseSymbi}. */
export interface ParseSymbiOptions {
  /** File name shown in error messages. */
  file?: string;
}

const TOP_LEVEL = ['agent', 'schedule', 'policy', 'metadata', 'function', 'type'];

/** Symbiont runtime blocks this scheduler has no counterpart for. */
const UNSUPPORTED: Record<string, string> = {
  channel: 'channel adapters (Slack, Teams, Mattermost bots) belong to the Symbiont runtime; for run output use `deliver: "slack://CHANNEL"` in a schedule',
  memory: 'agent memory stores belong to the Symbiont runtime; a job keeps context across runs with `session_mode`',
  webhook: 'inbound webhook endpoints belong to the Symbiont runtime; start a run from outside with `POST /api/v1/schedule/{job_id}/run`',
};

/**
 * Parses a `.symbi` file: our `agent NAME { … }` and `schedule { … }` blocks, and the Symbiont
 * runtime's grammar: labelled `schedule NAME { … }`, `policy NAME { … }`, `metadata { … }`,
 * `type` and `function` items, agents with `capabilities` and policies, `key = value`, `#` and `//`
 * comments. Checks syntax, field names (unknown ones get a "did you mean" hint), duplicates, value
 * types and enumerations, and that schedule, agent and policy names are unique in the file.
 * Whether a cron expression, time zone or time is valid, and which named policy a schedule means,
 * is left to {@link toJobSpecs}, which runs the scheduler's own validation.
 *
 * `${ENV}` references are kept verbatim for resolution at run time.
 *
 * @throws {@link DslError} and nothing else, whatever the input.
 */
export function parseSymbi(source: string, options: ParseSymbiOptions = {}): SymbiDocument {
  const syntax = parseSymbiSyntax(source, options);
  const { file } = options;
  const document: SymbiDocument = { agents: [], schedules: [], policies: [], metadata: {}, kept: [], source, file };
  const names = { agent: new Map<string, number>(), schedule: new Map<string, number>(), policy: new Map<string, number>() };
  const unique = (reader: FieldReader, kind: keyof typeof names, name: string, position: SourcePosition, field = ''): void => {
    const first = names[kind].get(name);
    const what = kind === 'schedule' ? `schedule name "${name}"` : `${kind} \`${name}\``;
    if (first !== undefined) throw reader.error(position, field, `duplicate ${what} (first defined at line ${first})`);
    names[kind].set(name, position.line);
  };
  let metadataLine: number | null = null;
  for (const entry of syntax.entries) {
    const reader = new FieldReader(source, file);
    if (Object.hasOwn(UNSUPPORTED, entry.key) && entry.value.kind === 'opaque') {
      throw reader.error(entry.keyPosition, '', `\`${entry.key}\` blocks are not supported by symbi-scheduler: ${UNSUPPORTED[entry.key]}`);
    }
    if (entry.key === 'agent') {
      const label = requireLabel(reader, entry, 'agent');
      unique(reader, 'agent', label.name, label.position);
      const block = readAgent(reader, { ...entry, label }, reader.block(entry.value, 'agent'), file);
      document.agents.push(block.agent);
      for (const policy of block.policies) unique(reader, 'policy', policy.name, policy.position);
      document.policies.push(...block.policies);
      document.kept.push(...block.kept);
    } else if (entry.key === 'schedule') {
      const block = readSchedule(reader, reader.block(entry.value, 'schedule'), entry.keyPosition, entry.label);
      unique(reader, 'schedule', block.spec.name, block.positions.name ?? entry.keyPosition, 'name');
      document.schedules.push(block);
    } else if (entry.key === 'policy' && entry.label !== null) {
      const policy = readPolicyRules(reader, reader.block(entry.value, 'policy'), entry.label, null, file);
      unique(reader, 'policy', policy.name, policy.position);
      document.policies.push(policy);
    } else if (entry.key === 'metadata' && entry.label === null && entry.value.kind === 'block') {
      if (metadataLine !== null) throw reader.error(entry.keyPosition, '', `duplicate \`metadata\` block (first at line ${metadataLine})`);
      metadataLine = entry.keyPosition.line;
      document.metadata = metadataOf(reader, entry.value);
    } else if ((entry.key === 'function' || entry.key === 'type') && entry.value.kind === 'opaque' && entry.label !== null) {
      document.kept.push({ kind: entry.key, name: entry.label.name, agent: null, text: entry.value.text, position: entry.keyPosition });
    } else {
      throw reader.error(entry.keyPosition, '', topLevelMistake(entry));
    }
  }
  return document;
}

/**
 * The one line that says what became of a kept item, e.g.
 * `agents.symbi:12: function \`triage\` of agent \`triager\` kept, not run: …`.
 */
export function keptItemNote(document: Pick<SymbiDocument, 'file'>, item: KeptItem): string {
  const where = `${document.file ?? '<input>'}:${item.position.line}`;
  const owner = item.agent === null || item.kind === 'signature' ? '' : ` of agent \`${item.agent}\``;
  const what = item.kind === 'signature' ? `agent \`${item.name}\`'s parameters \`${item.text}\`` : `${item.kind} \`${item.name}\`${owner}`;
  const why =
    item.kind === 'type' ? 'types only describe data here' :
    item.kind === 'signature' ? 'a run receives the job\'s `input` text' :
    'the agent runs through `command`, `url`, `model` or a host function, not DSL code';
  return `${where}: ${what} kept, not run: ${why}`;
}

function metadataOf(reader: FieldReader, block: BlockNode): Record<string, MetadataValue> {
  const metadata = new Map<string, MetadataValue>();
  for (const entry of block.entries) {
    reader.noLabel(entry, `metadata.${entry.key}`);
    if (metadata.has(entry.key)) throw reader.error(entry.keyPosition, `metadata.${entry.key}`, `duplicate key \`${entry.key}\` in \`metadata\``);
    metadata.set(entry.key, plain(entry.value));
  }
  return Object.fromEntries(metadata);
}

function plain(value: SymbiValue): MetadataValue {
  switch (value.kind) {
    case 'list':
      return value.items.map(plain);
    case 'block':
      return Object.fromEntries(value.entries.map((entry) => [entry.key, plain(entry.value)]));
    case 'opaque':
      return value.text;
    default:
      return value.value;
  }
}

function requireLabel(reader: FieldReader, entry: SymbiEntry, keyword: string): NonNullable<SymbiEntry['label']> {
  if (entry.label === null) {
    throw reader.error(entry.value.position, '', `expected the ${keyword} name before the block: \`${keyword} NAME { … }\``);
  }
  return entry.label;
}

function topLevelMistake(entry: SymbiEntry): string {
  if (entry.key === 'policy') return 'expected the policy name before the block: `policy NAME { … }` (a schedule\'s own policy goes inside `schedule { … }`)';
  const hint = didYouMean(entry.key, TOP_LEVEL);
  if (hint !== '') return `unknown block \`${entry.key}\`${hint}`;
  const fieldHint = entry.value.kind === 'block' ? '' : `; fields such as \`${entry.key}\` go inside \`schedule { … }\``;
  return `expected \`agent NAME { … }\`, \`schedule { … }\` or \`policy NAME { … }\`, found \`${entry.key}\`${fieldHint}`;
}

/**
 * Reads and parses a `.symbi` file; error messages name `path`.
 *
 * @throws {@link DslError} for an unreadable file (at 1:1, with the system error as `cause`) or bad content.
 */
export function loadSymbiFile(path: string): SymbiDocument {
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code ?? (cause instanceof Error ? cause.message : String(cause));
    throw new DslError(null, path, { line: 1, column: 1, offset: 0 }, '', `cannot read the file (${reason})`, { cause });
  }
  return parseSymbi(source, { file: path });
}
