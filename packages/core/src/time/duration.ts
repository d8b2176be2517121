import { ValidationError } from '../errors.js';

const EXAMPLES = 'a duration such as 250ms, 30s, 5m, 1h30m, 2d or PT5M, or a number of seconds';

/** Compact units, longest first; each may appear once, in this order. */
const UNITS: readonly (readonly [string, number])[] = [
  ['w', 604_800_000],
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
];
const UNIT_MS = new Map(UNITS);
const UNIT_RANK = new Map(UNITS.map(([unit], rank) => [unit, rank]));

const NUMBER = String.raw`\d+(?:[.,]\d+)?`;
const COMPACT_PART = /(\d+(?:\.\d+)?)\s*(ms|w|d|h|m|s)\s*/y;
const ISO = new RegExp(`^P(?:(${NUMBER})W)?(?:(${NUMBER})D)?(?:T(?:(${NUMBER})H)?(?:(${NUMBER})M)?(?:(${NUMBER})S)?)?$`, 'i');
const ISO_UNITS_MS = [604_800_000, 86_400_000, 3_600_000, 60_000, 1000];

/**
 * Parses a duration into milliseconds. Accepts compact forms (`250ms`, `30s`, `5m`, `1h30m`,
 * `2d`, `1w`, decimals such as `1.5h`; units from longest to shortest, each once, spaces
 * allowed between parts), ISO 8601 durations without years or months (`PT5M`, `P1DT2H`,
 * `PT0.5S`), and a bare number (or numeric string) meaning seconds. Negative, sub-millisecond
 * and malformed durations throw a `ValidationError` naming `field` and the value.
 */
export function parseDuration(text: string | number, field: string): number {
  if (typeof text === 'number') {
    if (!Number.isFinite(text) || text < 0) throw new ValidationError(field, `must be ${EXAMPLES}; ${text} is not`, text);
    return wholeMilliseconds(text * 1000, text, field);
  }
  if (typeof text !== 'string') throw new ValidationError(field, `must be ${EXAMPLES}`, text);
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return wholeMilliseconds(Number(trimmed) * 1000, text, field);
  if (/^-/.test(trimmed)) throw new ValidationError(field, `"${text}" is negative; durations are 0 or more`, text);
  if (/^P/i.test(trimmed)) return parseIsoDuration(trimmed, text, field);
  return parseCompactDuration(trimmed, text, field);
}

function parseCompactDuration(trimmed: string, text: string, field: string): number {
  let total = 0;
  let lastRank = -1;
  COMPACT_PART.lastIndex = 0;
  while (COMPACT_PART.lastIndex < trimmed.length) {
    const part = COMPACT_PART.exec(trimmed);
    if (part === null) throw new ValidationError(field, `"${text}" is not ${EXAMPLES}`, text);
    const [, amount, unit] = part as unknown as [string, string, string];
    const rank = UNIT_RANK.get(unit) ?? 0;
    if (rank <= lastRank) {
      throw new ValidationError(field, `"${text}" repeats or misorders units; write them longest first, each once (e.g. 1h30m)`, text);
    }
    lastRank = rank;
    total += Number(amount) * (UNIT_MS.get(unit) ?? 0);
  }
  if (lastRank < 0) throw new ValidationError(field, `"${text}" is not ${EXAMPLES}`, text);
  return wholeMilliseconds(total, text, field);
}

function parseIsoDuration(trimmed: string, text: string, field: string): number {
  const match = ISO.exec(trimmed);
  if (match === null || match.slice(1).every((part) => part === undefined) || /T$/i.test(trimmed)) {
    if (/^P[^T]*[YM]/i.test(trimmed)) {
      throw new ValidationError(field, `"${text}" uses years or months, which have no fixed length; use days (e.g. P30D)`, text);
    }
    throw new ValidationError(field, `"${text}" is not ${EXAMPLES}`, text);
  }
  let total = 0;
  match.slice(1).forEach((part, index) => {
    if (part !== undefined) total += Number(part.replace(',', '.')) * (ISO_UNITS_MS[index] ?? 0);
  });
  return wholeMilliseconds(total, text, field);
}

function wholeMilliseconds(total: number, text: string | number, field: string): number {
  const rounded = Math.round(total);
  if (Math.abs(total - rounded) > 1e-6 + total * 1e-12) {
    throw new ValidationError(field, `"${text}" is finer than a millisecond`, text);
  }
  if (!Number.isSafeInteger(rounded)) throw new ValidationError(field, `"${text}" is too long`, text);
  return rounded;
}

/**
 * Formats milliseconds in the compact form {@link parseDuration} reads back: 300000 → `5m`,
 * 5400000 → `1h30m`, 1500 → `1s500ms`, 0 → `0s`. Days are the largest unit.
 */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new ValidationError('duration', 'must be a whole number of milliseconds, 0 or more', ms);
  }
  if (ms === 0) return '0s';
  let rest = ms;
  let text = '';
  for (const [unit, size] of UNITS) {
    if (unit === 'w') continue;
    const amount = Math.floor(rest / size);
    if (amount > 0) text += `${amount}${unit}`;
    rest -= amount * size;
  }
  return text;
}
