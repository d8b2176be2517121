import { readFileSync } from 'node:fs';
import type { AgentDefinition } from '@symbi/core';
import { readAgent } from './agent-block.js';
import { DslError } from './errors.js';
import { FieldReader } from './field-reader.js';
import { readSchedule, type ScheduleBlock } from './schedule-block.js';
import { didYouMean } from './suggest.js';
import { parseSymbiSyntax, type SymbiEntry } from './syntax.js';

/** The agents and schedules of a `.symbi` file, in the order written. */
export interface SymbiDocument {
  agents: AgentDefinition[];
  schedules: ScheduleBlock[];
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

const TOP_LEVEL = ['agent', 'schedule'];

/**
 * Parses a `.symbi` file: `agent NAME { … }` and `schedule { … }` blocks. Checks syntax, field
 * names (unknown ones get a "did you mean" hint), duplicates, value types and enumerations, and
 * that schedule and agent names are unique in the file. Whether a cron expression, time zone or
 * time is valid is left to {@link toJobSpecs}, which runs the scheduler's own validation.
 *
 * `${ENV}` references are kept verbatim for resolution at run time.
 *
 * @throws {@link DslError} and nothing else, whatever the input.
 */
export function parseSymbi(source: string, options: ParseSymbiOptions = {}): SymbiDocument {
  const syntax = parseSymbiSyntax(source, options);
  const document: SymbiDocument = { agents: [], schedules: [], source, file: options.file };
  const agentNames = new Map<string, number>();
  const scheduleNames = new Map<string, number>();
  for (const entry of syntax.entries) {
    const reader = new FieldReader(source, options.file);
    if (entry.key === 'agent') {
      const { name, position } = agentLabel(reader, entry);
      const first = agentNames.get(name);
      if (first !== undefined) throw reader.error(position, '', `duplicate agent \`${name}\` (first defined at line ${first})`);
      agentNames.set(name, position.line);
      document.agents.push(readAgent(reader, name, reader.block(entry.value, 'agent')));
    } else if (entry.key === 'schedule') {
      reader.noLabel(entry, '');
      const block = readSchedule(reader, reader.block(entry.value, 'schedule'), entry.keyPosition);
      const name = block.spec.name;
      const first = scheduleNames.get(name);
      if (first !== undefined) {
        throw reader.error(block.positions.name ?? entry.keyPosition, 'name', `duplicate schedule name "${name}" (first defined at line ${first})`);
      }
      scheduleNames.set(name, (block.positions.name ?? entry.keyPosition).line);
      document.schedules.push(block);
    } else {
      throw reader.error(entry.keyPosition, '', topLevelMistake(entry));
    }
  }
  return document;
}

function agentLabel(reader: FieldReader, entry: SymbiEntry): NonNullable<SymbiEntry['label']> {
  if (entry.label === null) {
    throw reader.error(entry.value.position, '', 'expected the agent name before the block: `agent NAME { … }`');
  }
  return entry.label;
}

function topLevelMistake(entry: SymbiEntry): string {
  const hint = didYouMean(entry.key, TOP_LEVEL);
  if (hint !== '') return `unknown block \`${entry.key}\`${hint}`;
  const fieldHint = entry.value.kind === 'block' ? '' : `; fields such as \`${entry.key}\` go inside \`schedule { … }\``;
  return `expected \`agent NAME { … }\` or \`schedule { … }\`, found \`${entry.key}\`${fieldHint}`;
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
