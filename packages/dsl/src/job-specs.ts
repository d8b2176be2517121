import { createJobDefinition, ValidationError, type JobSpec } from '@symbi/core';
import { DslError, validationReason } from './errors.js';
import type { SymbiDocument } from './parse-symbi.js';
import type { ScheduleBlock } from './schedule-block.js';
import type { SourcePosition } from './source-excerpt.js';

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

/**
 * Validates every schedule of `document` with the scheduler's own rules (`createJobDefinition`:
 * cron expression, time zone, `at` time, URLs, ranges…) and returns their job specs, ready for
 * `CronScheduler.addJob`. A rejected value is reported as a {@link DslError} at the line and column
 * where the file wrote it, with its `field` spelled as in the file (`cron`, `policy.max_runtime`).
 */
export function toJobSpecs(document: SymbiDocument, options: ToJobSpecsOptions = {}): JobSpec[] {
  const now = options.now ?? new Date();
  return document.schedules.map((block) => {
    try {
      createJobDefinition(block.spec, now);
    } catch (error) {
      if (error instanceof ValidationError) throw locate(document, block, error);
      throw error;
    }
    return block.spec;
  });
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
