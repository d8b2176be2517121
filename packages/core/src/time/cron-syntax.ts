/**
 * Reading cron text into plain sets of allowed values. Every error names the field and the bad
 * part, so a user sees "minute field: 61 is out of range 0-59" rather than a generic failure.
 * The matcher that turns these sets into fire times lives in `cron-pattern.ts`.
 */

/** Reason a cron expression was refused; the caller wraps it in a `ValidationError`. */
export class CronSyntaxError extends Error {}

/** Day-of-month items beyond plain numbers. */
export interface DayOfMonthSpec {
  /** `*` or `?`: the field does not restrict the day. */
  readonly any: boolean;
  /** Plain days 1-31. */
  readonly days: ReadonlySet<number>;
  /** `L` (0) and `L-n` (n): days counted back from the last day of the month. */
  readonly fromLast: ReadonlySet<number>;
  /** `nW`: the weekday nearest to day n, within the same month. */
  readonly nearestWeekday: ReadonlySet<number>;
  /** `LW`: the last weekday (Monday-Friday) of the month. */
  readonly lastWeekday: boolean;
}

/** Day-of-week items beyond plain numbers; days are 0-6 with Sunday 0. */
export interface DayOfWeekSpec {
  /** `*` or `?`: the field does not restrict the day. */
  readonly any: boolean;
  /** Plain weekdays. */
  readonly weekdays: ReadonlySet<number>;
  /** `5L`: the last such weekday of the month. */
  readonly last: ReadonlySet<number>;
  /** `1#2`: the nth (1-5) such weekday of the month, as `[weekday, n]`. */
  readonly nth: readonly (readonly [number, number])[];
}

/** A parsed cron expression, in wall-clock terms, before compilation into lookup tables. */
export interface CronSpec {
  /** Allowed seconds 0-59 (just 0 for a 5-field expression). */
  readonly seconds: ReadonlySet<number>;
  /** Allowed minutes 0-59. */
  readonly minutes: ReadonlySet<number>;
  /** Allowed hours 0-23. */
  readonly hours: ReadonlySet<number>;
  /** The day-of-month field. */
  readonly dayOfMonth: DayOfMonthSpec;
  /** Allowed months 1-12. */
  readonly months: ReadonlySet<number>;
  /** The day-of-week field. */
  readonly dayOfWeek: DayOfWeekSpec;
  /** Allowed years, or null when the expression has no year field (or `*`). */
  readonly years: ReadonlySet<number> | null;
  /**
   * Whether the second, minute or hour field is written as a wildcard (`*` or `*`/n), which makes
   * the schedule an interval that keeps its real-time rhythm across DST changes (Vixie cron's
   * rule for "wildcard jobs"); otherwise the schedule names fixed wall-clock times.
   */
  readonly interval: boolean;
}

/** Smallest year a year field may name (Quartz's range is 1970-2099). */
export const CRON_MIN_YEAR = 1970;
const CRON_MAX_YEAR = 2099;

const MAX_EXPRESSION_LENGTH = 1024;

const NICKNAMES: Readonly<Record<string, string>> = {
  '@yearly': '0 0 0 1 1 *',
  '@annually': '0 0 0 1 1 *',
  '@monthly': '0 0 0 1 * *',
  '@weekly': '0 0 0 * * 0',
  '@daily': '0 0 0 * * *',
  '@midnight': '0 0 0 * * *',
  '@hourly': '0 0 * * * *',
};

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldRange {
  readonly label: string;
  readonly min: number;
  readonly max: number;
  /** Names accepted for values, index 0 standing for `min`. */
  readonly names?: readonly string[];
}

const SECOND: FieldRange = { label: 'second', min: 0, max: 59 };
const MINUTE: FieldRange = { label: 'minute', min: 0, max: 59 };
const HOUR: FieldRange = { label: 'hour', min: 0, max: 23 };
const DAY_OF_MONTH: FieldRange = { label: 'day-of-month', min: 1, max: 31 };
const MONTH: FieldRange = { label: 'month', min: 1, max: 12, names: MONTH_NAMES };
/** 7 is accepted as a second name for Sunday, as in every common cron. */
const DAY_OF_WEEK: FieldRange = { label: 'day-of-week', min: 0, max: 7, names: DAY_NAMES };
const YEAR: FieldRange = { label: 'year', min: CRON_MIN_YEAR, max: CRON_MAX_YEAR };

function fail(range: FieldRange, message: string): never {
  throw new CronSyntaxError(`${range.label} field: ${message}`);
}

/**
 * Parses a cron expression: 5 fields (minute first), 6 (seconds first), 7 (seconds first, year
 * last), or a nickname such as `@daily`. Throws {@link CronSyntaxError} naming the bad part.
 */
export function parseCronSpec(expression: string): CronSpec {
  const text = expression.trim();
  if (text.length === 0) throw new CronSyntaxError('is empty');
  if (text.length > MAX_EXPRESSION_LENGTH) {
    throw new CronSyntaxError(`is longer than ${MAX_EXPRESSION_LENGTH} characters`);
  }
  if (text.startsWith('@')) return parseCronSpec(expandNickname(text));

  const parts = text.split(/\s+/);
  if (parts.length < 5 || parts.length > 7) {
    throw new CronSyntaxError(
      `expected 5 fields (minute hour day-of-month month day-of-week), 6 (seconds first) or 7 (seconds first, year last), got ${parts.length}`,
    );
  }
  const [second, minute, hour, dayOfMonth, month, dayOfWeek, year] = (parts.length === 5 ? ['0', ...parts] : parts) as [
    string,
    string,
    string,
    string,
    string,
    string,
    string | undefined,
  ];
  return {
    seconds: parsePlainField(second, SECOND),
    minutes: parsePlainField(minute, MINUTE),
    hours: parsePlainField(hour, HOUR),
    dayOfMonth: parseDayOfMonth(dayOfMonth),
    months: parsePlainField(month, MONTH),
    dayOfWeek: parseDayOfWeek(dayOfWeek),
    years: year === undefined || year === '*' ? null : parsePlainField(year, YEAR),
    interval: [second, minute, hour].some((field) => field.startsWith('*')),
  };
}

function expandNickname(text: string): string {
  const name = text.toLowerCase();
  if (name === '@reboot') {
    throw new CronSyntaxError('@reboot is not supported: a scheduler has no boot to fire at; use at: for a one-shot job');
  }
  const expansion = NICKNAMES[name];
  if (expansion === undefined) {
    throw new CronSyntaxError(`unknown nickname ${text}; use one of ${Object.keys(NICKNAMES).join(', ')}`);
  }
  return expansion;
}

function listItems(text: string, range: FieldRange): string[] {
  const items = text.split(',');
  if (items.some((item) => item.length === 0)) fail(range, `"${text}" has an empty list item`);
  return items;
}

function parsePlainField(text: string, range: FieldRange): Set<number> {
  const values = new Set<number>();
  for (const item of listItems(text, range)) addPlainItem(item, range, values);
  return values;
}

/** `*`, `*`/s, `a`, `a-b`, `a-b/s` or `a/s` (from a to the field's end). */
function addPlainItem(item: string, range: FieldRange, into: Set<number>): void {
  if (SPECIAL_ITEM.test(item) || item === '?') fail(range, misplacedSpecial(item, range));
  const slash = item.indexOf('/');
  const base = slash < 0 ? item : item.slice(0, slash);
  const step = slash < 0 ? 1 : parseStep(item.slice(slash + 1), item, range);
  let low: number;
  let high: number;
  if (base === '*') {
    low = range.min;
    high = range.max;
  } else {
    const dash = base.indexOf('-');
    if (dash < 0) {
      low = parseValue(base, range);
      high = slash < 0 ? low : range.max;
    } else {
      low = parseValue(base.slice(0, dash), range);
      high = parseValue(base.slice(dash + 1), range);
      // MON-SUN means the rest of the week: Sunday closes a range as 7.
      if (range === DAY_OF_WEEK && high === 0 && low > 0) high = 7;
      if (low > high) {
        fail(range, `range ${base} is reversed; write it as two parts, e.g. ${base.slice(0, dash)}-${range.max},${range.min}-${base.slice(dash + 1)}`);
      }
    }
  }
  for (let value = low; value <= high; value += step) into.add(range === DAY_OF_WEEK && value === 7 ? 0 : value);
}

/** Items using `?`, `L`, `W` or `#`, which only the day fields understand, and only in some forms. */
const SPECIAL_ITEM = /^(\d+|[A-Z]{3})?(L|W|LW|L-\d+)$|#/i;

function misplacedSpecial(item: string, range: FieldRange): string {
  if (range === DAY_OF_MONTH || range === DAY_OF_WEEK) {
    if (item === '?') return '? must be the whole field, not part of a list';
    return range === DAY_OF_MONTH
      ? `"${item}" is not a day-of-month item; use a day, L, L-n, LW or nW (e.g. 15W)`
      : `"${item}" is not a day-of-week item; use a weekday, nL (e.g. 5L) or n#k (e.g. 1#2)`;
  }
  if (item === '?') return '? is only allowed in the day-of-month and day-of-week fields';
  if (item.includes('#')) return `"${item}" uses #, which is only allowed in the day-of-week field`;
  if (/W/i.test(item.replace(/^[A-Z]{3}/i, ''))) return `"${item}" uses W, which is only allowed in the day-of-month field`;
  return `"${item}" uses L, which is only allowed in the day-of-month and day-of-week fields`;
}

function parseStep(text: string, item: string, range: FieldRange): number {
  if (!/^\d{1,4}$/.test(text)) fail(range, `step "${text}" in "${item}" is not a whole number`);
  const step = Number(text);
  const span = range.max - range.min + 1;
  if (step < 1 || step > span) fail(range, `step ${step} in "${item}" must be between 1 and ${span}`);
  return step;
}

function parseValue(text: string, range: FieldRange): number {
  if (/^\d{1,4}$/.test(text)) {
    const value = Number(text);
    if (value < range.min || value > range.max) fail(range, `${value} is out of range ${range.min}-${range.max}`);
    return value;
  }
  if (range.names) {
    const index = range.names.indexOf(text.toUpperCase());
    if (index >= 0) return range.min + index;
    fail(range, `"${text}" is not a number ${range.min}-${range.max} or a name ${range.names[0]}-${range.names[range.names.length - 1]}`);
  }
  if (text.length === 0) fail(range, 'a value is missing');
  fail(range, `"${text}" is not a number ${range.min}-${range.max}`);
}

function parseDayOfMonth(text: string): DayOfMonthSpec {
  const range = DAY_OF_MONTH;
  const days = new Set<number>();
  const fromLast = new Set<number>();
  const nearestWeekday = new Set<number>();
  let lastWeekday = false;
  const any = text === '*' || text === '?';
  if (!any) {
    for (const raw of listItems(text, range)) {
      const item = raw.toUpperCase();
      if (item === 'L') fromLast.add(0);
      else if (item === 'LW') lastWeekday = true;
      else if (item.startsWith('L-')) {
        const back = item.slice(2);
        if (!/^\d{1,2}$/.test(back) || Number(back) > 30) fail(range, `"${raw}" must be L-n with n between 0 and 30`);
        fromLast.add(Number(back));
      } else if (item.endsWith('W')) {
        const day = item.slice(0, -1);
        if (!/^\d{1,2}$/.test(day)) fail(range, `"${raw}" must be a single day followed by W, e.g. 15W`);
        nearestWeekday.add(parseValue(day, range));
      } else if (item.includes('#')) {
        fail(range, `"${raw}" uses #, which is only allowed in the day-of-week field`);
      } else addPlainItem(item, range, days);
    }
  }
  return { any, days, fromLast, nearestWeekday, lastWeekday };
}

function parseDayOfWeek(text: string): DayOfWeekSpec {
  const range = DAY_OF_WEEK;
  const weekdays = new Set<number>();
  const last = new Set<number>();
  const nth: [number, number][] = [];
  const any = text === '*' || text === '?';
  if (!any) {
    for (const raw of listItems(text, range)) {
      const item = raw.toUpperCase();
      const hash = item.indexOf('#');
      if (item === 'L') {
        fail(range, 'L alone is ambiguous here; write 5L for the last Friday of the month, or L in the day-of-month field for its last day');
      } else if (hash >= 0) {
        const occurrence = item.slice(hash + 1);
        if (!/^[1-5]$/.test(occurrence)) fail(range, `"${raw}" must be weekday#n with n between 1 and 5`);
        nth.push([parseValue(item.slice(0, hash), range) % 7, Number(occurrence)]);
      } else if (item.length > 1 && item.endsWith('L')) {
        last.add(parseValue(item.slice(0, -1), range) % 7);
      } else addPlainItem(item, range, weekdays);
    }
  }
  return { any, weekdays, last, nth };
}
