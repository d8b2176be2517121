import { ValidationError } from '../errors.js';

/**
 * Characters no identifier may hold: C0 and C1 controls, DEL, the Unicode line and paragraph
 * separators, bidirectional overrides and isolates (which reorder how a terminal shows a line),
 * and UTF-16 surrogates that are not part of a pair (stores would turn them into U+FFFD, so two
 * different names could collide).
 */
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Every character an identifier may not hold (see {@link identifierProblem}), as a global
 * pattern: what a terminal must never receive raw from stored text.
 */
export const UNSAFE_CHARACTERS = new RegExp(FORBIDDEN.source, 'g');

/** Longest identifier accepted by default. */
export const MAX_IDENTIFIER_LENGTH = 200;

/** The shape of a job id: a UUID, as the scheduler generates them. Job names never have this shape. */
const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Why `value` is not an acceptable identifier (a job name, id, agent id, approver, channel,
 * capability, environment or API key label), or null when it is one: a non-blank string of at
 * most `max` characters without control characters, NUL, line separators, bidirectional controls
 * or lone surrogates.
 */
export function identifierProblem(value: unknown, max = MAX_IDENTIFIER_LENGTH): string | null {
  if (typeof value !== 'string') return value === undefined ? 'is required' : 'must be a string';
  if (value.trim() === '') return 'must not be empty';
  if (value.length > max) return `must be at most ${max} characters`;
  const bad = FORBIDDEN.exec(value);
  if (bad !== null) {
    const code = bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    return `must not contain control, bidirectional or unpaired surrogate characters (found U+${code} at position ${bad.index})`;
  }
  return null;
}

/**
 * Validates an identifier field (see {@link identifierProblem}) and returns it; throws a
 * `ValidationError` naming `field`. Every identifier of the scheduler goes through this one check.
 */
export function identifier(value: unknown, field: string, max = MAX_IDENTIFIER_LENGTH): string {
  const problem = identifierProblem(value, max);
  if (problem !== null) throw new ValidationError(field, problem, typeof value === 'string' ? value.slice(0, 40) : value);
  return value as string;
}

/**
 * Whether `ref` has the shape of a job id (a UUID). Lookups use it to tell ids from names: a
 * reference of this shape is only ever an id, any other only ever a name.
 */
export function isJobId(ref: string): boolean {
  return JOB_ID.test(ref);
}
