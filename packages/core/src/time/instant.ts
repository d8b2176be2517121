import { ValidationError } from '../errors.js';
import { daysInMonth } from './cron-pattern.js';
import { ZoneRules } from './zone-rules.js';

const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$/;

/**
 * Parses an ISO 8601 instant such as `2026-02-15T14:30:00Z` or `2026-02-15T15:30:00.250+01:00`.
 * Impossible dates and anything else are refused with a `ValidationError` naming `field` and the
 * value. Digits beyond milliseconds are dropped.
 *
 * A local time without `Z` or an offset is ambiguous (which zone? which side of a DST change?):
 * it is refused unless `timezone` (an IANA zone already checked by `validateTimezone`) says where
 * it is read, with the DST rules of cron's fixed times (see `ZoneRules.instantOfWall`).
 */
export function parseInstant(text: string, field = 'at', timezone?: string): Date {
  const example = 'an ISO 8601 instant such as 2026-02-15T14:30:00Z';
  if (typeof text !== 'string') throw new ValidationError(field, `must be ${example}`, text);
  const match = INSTANT.exec(text.trim());
  if (match === null) {
    if (/^\d{4}-\d{2}-\d{2}$/.test(text.trim())) {
      throw new ValidationError(field, `"${text}" has no time of day; write ${example}`, text);
    }
    throw new ValidationError(field, `"${text}" is not ${example}`, text);
  }
  const [, year, month, day, hour, minute, second, fraction, zulu, sign, offsetHours, offsetMinutes] = match;
  const local = zulu === undefined && sign === undefined;
  if (local && timezone === undefined) {
    throw new ValidationError(field, `"${text}" has no time zone; add Z or an offset such as +01:00, since a local time is ambiguous`, text);
  }
  const numbers = [year, month, day, hour, minute, second ?? '0', offsetHours ?? '0', offsetMinutes ?? '0'].map(Number) as [
    number, number, number, number, number, number, number, number,
  ];
  const [y, mo, d, h, mi, s, oh, om] = numbers;
  const problem =
    y < 1 ? 'year 0000 does not exist'
    : mo < 1 || mo > 12 ? `month ${mo} is out of range 1-12`
    : d < 1 || d > daysInMonth(y, mo) ? `day ${d} does not exist in ${year}-${month}`
    : h > 23 ? `hour ${h} is out of range 0-23`
    : mi > 59 ? `minute ${mi} is out of range 0-59`
    : s > 59 ? `second ${s} is out of range 0-59`
    : oh > 23 || om > 59 ? `offset ${sign}${offsetHours}:${offsetMinutes ?? '00'} is out of range`
    : null;
  if (problem !== null) throw new ValidationError(field, `"${text}": ${problem}`, text);
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0')));
  if (local) return new Date(ZoneRules.for(timezone as string).instantOfWall(date.getTime()));
  const offsetMs = (oh * 60 + om) * 60_000 * (sign === '-' ? -1 : 1);
  return new Date(date.getTime() - offsetMs);
}

/** Epoch milliseconds of `date`; an invalid `Date` (time NaN) throws a `ValidationError` naming `field`. */
export function epochMs(date: Date, field: string): number {
  const time = date instanceof Date ? date.getTime() : Number.NaN;
  if (Number.isNaN(time)) throw new ValidationError(field, 'is not a valid date', date);
  return time;
}

/** Last instant {@link isoText} formats itself: beyond it (and before 1970), `toISOString` does. */
const LAST_FOUR_DIGIT_YEAR_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const DAY_MS = 86_400_000;

/** Character codes of {@link isoText}'s text. */
const CHAR = { zero: 48, dash: 45, colon: 58, dot: 46, t: 84, z: 90 } as const;

/**
 * `new Date(ms).toISOString()`, the same text, without a `Date` and several times faster: fire
 * keys format one instant per fire. Instants from 1970 to 9999 are formatted here (by the
 * civil-from-days algorithm), others by `toISOString`.
 */
export function isoText(ms: number): string {
  if (!(ms >= 0 && ms <= LAST_FOUR_DIGIT_YEAR_MS) || !Number.isInteger(ms)) return new Date(ms).toISOString();
  const days = Math.floor(ms / DAY_MS);
  let rest = ms - days * DAY_MS;
  // Days since 0000-03-01, in 400-year eras: March-first years put the leap day last.
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthFromMarch = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthFromMarch + 2) / 5) + 1;
  const month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const hour = Math.floor(rest / 3_600_000);
  rest -= hour * 3_600_000;
  const minute = Math.floor(rest / 60_000);
  rest -= minute * 60_000;
  const second = Math.floor(rest / 1000);
  const milli = rest - second * 1000;
  const century = Math.floor(year / 100);
  const { zero, dash, colon, dot } = CHAR;
  // One flat string from its character codes: no digit strings, no concatenation.
  // biome-ignore format: one line per part of the text
  return String.fromCharCode(
    tens(century), ones(century), tens(year), ones(year), dash, tens(month), ones(month), dash, tens(day), ones(day), CHAR.t,
    tens(hour), ones(hour), colon, tens(minute), ones(minute), colon, tens(second), ones(second),
    dot, zero + Math.floor(milli / 100), tens(milli), ones(milli), CHAR.z,
  );
}

/** The character code of the tens digit of `n` (its last two digits). */
function tens(n: number): number {
  return CHAR.zero + (Math.floor(n / 10) % 10);
}

/** The character code of the last digit of `n`. */
function ones(n: number): number {
  return CHAR.zero + (n % 10);
}

