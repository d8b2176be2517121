import pg from 'pg';

const TIMESTAMPTZ = pg.types.builtins.TIMESTAMPTZ;
const parseAnyTimestamptz = pg.types.getTypeParser(TIMESTAMPTZ, 'text');

/** The value of the decimal digit at `index` of `text`. */
const digit = (text: string, index: number): number => text.charCodeAt(index) - 48;

/** Length of `YYYY-MM-DD HH:MM:SS+00`, the shortest text the fast path reads. */
const SHORTEST = 22;

/**
 * Parses a `timestamptz` as PostgreSQL writes it in UTC (`2026-12-06 18:01:43.218178+00`), the
 * common case, by character codes: about four times faster than node-postgres' regular expressions,
 * and with no match arrays for the collector. Any other form (another time zone, a year before 100
 * or after 9999, BC, infinity) goes to node-postgres' own parser. Like it, keeps milliseconds and
 * drops finer digits.
 */
export function parseTimestamptz(text: string): Date {
  const n = text.length;
  if (
    n < SHORTEST ||
    n > SHORTEST + 7 ||
    text.charCodeAt(n - 3) !== 43 /* + */ ||
    text.charCodeAt(n - 2) !== 48 /* 0 */ ||
    text.charCodeAt(n - 1) !== 48 /* 0 */ ||
    text.charCodeAt(4) !== 45 /* - */ ||
    text.charCodeAt(10) !== 32 /* space */ ||
    (n > SHORTEST && text.charCodeAt(19) !== 46) /* . */ ||
    text.charCodeAt(0) === 48 /* a year before 1000: Date.UTC reads 0-99 as 1900-1999 */
  ) {
    return parseAnyTimestamptz(text) as Date;
  }
  const fraction = n - SHORTEST - 1;
  let ms = 0;
  if (fraction >= 1) ms += digit(text, 20) * 100;
  if (fraction >= 2) ms += digit(text, 21) * 10;
  if (fraction >= 3) ms += digit(text, 22);
  return new Date(
    Date.UTC(
      digit(text, 0) * 1000 + digit(text, 1) * 100 + digit(text, 2) * 10 + digit(text, 3),
      digit(text, 5) * 10 + digit(text, 6) - 1,
      digit(text, 8) * 10 + digit(text, 9),
      digit(text, 11) * 10 + digit(text, 12),
      digit(text, 14) * 10 + digit(text, 15),
      digit(text, 17) * 10 + digit(text, 18),
      ms,
    ),
  );
}

/**
 * Type parsers of the pool the store makes: node-postgres' own, but {@link parseTimestamptz} for
 * `timestamptz` (every run read carries several). Set on the pool, not globally, so that other
 * users of node-postgres in the process are untouched.
 */
export const STORE_TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === TIMESTAMPTZ && format !== 'binary' ? parseTimestamptz : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};
