import type { CronSpec, DayOfMonthSpec, DayOfWeekSpec } from './cron-syntax.js';

/**
 * Wall-clock times are handled as "pseudo-UTC" milliseconds: the value `Date.UTC` gives for the
 * local year, month, day, hour, minute and second. Zone offsets are applied elsewhere
 * (`cron-schedule.ts`), so this module is pure calendar arithmetic.
 */

const DAY_MS = 86_400_000;

/** First and last years the matcher searches; beyond them `next` reports no fire. */
export const SEARCH_MIN_YEAR = 1000;
/** Last year searched (the last four-digit year). */
export const SEARCH_MAX_YEAR = 9999;
const SEARCH_START = Date.UTC(SEARCH_MIN_YEAR, 0, 1);
const SEARCH_END = Date.UTC(SEARCH_MAX_YEAR + 1, 0, 1);

/** Compiled cron fields: O(1) lookups for "the next allowed value at or after v". */
export class CronPattern {
  /** Whether the schedule is an interval (see {@link CronSpec.interval}). */
  readonly interval: boolean;
  readonly #nextSecond: Int8Array;
  readonly #nextMinute: Int8Array;
  readonly #nextHour: Int8Array;
  readonly #nextMonth: Int8Array;
  readonly #years: readonly number[] | null;
  /**
   * Which days fire, by the shape of the month: index `firstWeekday * 4 + (daysInMonth - 28)`,
   * bit `day - 1` set when that day matches. A month's matching days depend only on its length
   * and the weekday it starts on, so the 28 shapes are computed once here.
   */
  readonly #dayMasks: Uint32Array;

  constructor(spec: CronSpec) {
    this.interval = spec.interval;
    this.#nextSecond = nextTable(spec.seconds, 0, 59);
    this.#nextMinute = nextTable(spec.minutes, 0, 59);
    this.#nextHour = nextTable(spec.hours, 0, 23);
    this.#nextMonth = nextTable(spec.months, 1, 12);
    this.#years = spec.years === null ? null : [...spec.years].sort((a, b) => a - b);
    this.#dayMasks = new Uint32Array(28);
    for (let firstWeekday = 0; firstWeekday < 7; firstWeekday++) {
      for (let length = 28; length <= 31; length++) {
        this.#dayMasks[firstWeekday * 4 + length - 28] = dayMask(spec.dayOfMonth, spec.dayOfWeek, firstWeekday, length);
      }
    }
  }

  /**
   * The first matching wall time at or after `wall` (rounded up to a whole second), or null when
   * none remains before the end of {@link SEARCH_MAX_YEAR}. Each turn of the loop moves at least
   * one month or one step of a finer field forward, so the search always ends.
   */
  nextWall(wall: number): number | null {
    const from = Math.max(Math.ceil(wall / 1000) * 1000, SEARCH_START);
    // Also refuses NaN, which would otherwise never compare past the last year.
    if (!(from < SEARCH_END)) return null;
    const start = new Date(from);
    let year = start.getUTCFullYear();
    let month = start.getUTCMonth() + 1;
    let day = start.getUTCDate();
    let hour = start.getUTCHours();
    let minute = start.getUTCMinutes();
    let second = start.getUTCSeconds();
    for (;;) {
      if (year > SEARCH_MAX_YEAR) return null;
      if (this.#years !== null) {
        const allowed = this.#years.find((candidate) => candidate >= year);
        if (allowed === undefined) return null;
        if (allowed !== year) {
          year = allowed;
          month = 1;
          day = 1;
          hour = minute = second = 0;
        }
      }
      const nextMonth = this.#nextMonth[month] ?? -1;
      if (nextMonth < 0) {
        year++;
        month = day = 1;
        hour = minute = second = 0;
        continue;
      }
      if (nextMonth !== month) {
        month = nextMonth;
        day = 1;
        hour = minute = second = 0;
      }
      const length = daysInMonth(year, month);
      const nextDay = nextBit(this.#dayMasks[weekdayOf(year, month, 1) * 4 + length - 28] ?? 0, day);
      if (nextDay < 0) {
        month++;
        day = 1;
        hour = minute = second = 0;
        continue;
      }
      if (nextDay !== day) {
        day = nextDay;
        hour = minute = second = 0;
      }
      const nextHour = this.#nextHour[hour] ?? -1;
      if (nextHour < 0) {
        day++;
        hour = minute = second = 0;
        continue;
      }
      if (nextHour !== hour) {
        hour = nextHour;
        minute = second = 0;
      }
      const nextMinute = this.#nextMinute[minute] ?? -1;
      if (nextMinute < 0) {
        hour++;
        minute = second = 0;
        continue;
      }
      if (nextMinute !== minute) {
        minute = nextMinute;
        second = 0;
      }
      const nextSecond = this.#nextSecond[second] ?? -1;
      if (nextSecond < 0) {
        minute++;
        second = 0;
        continue;
      }
      return Date.UTC(year, month - 1, day, hour, minute, nextSecond);
    }
  }
}

/** `table[v]` is the smallest allowed value >= v, or -1; one extra slot past `max` holds -1. */
function nextTable(values: ReadonlySet<number>, min: number, max: number): Int8Array {
  const table = new Int8Array(max + 2).fill(-1);
  let next = -1;
  for (let value = max; value >= min; value--) {
    if (values.has(value)) next = value;
    table[value] = next;
  }
  return table;
}

/** The smallest set bit at or above `day - 1`, as a day number, or -1. */
function nextBit(mask: number, day: number): number {
  if (day > 31) return -1;
  const rest = mask >>> (day - 1);
  if (rest === 0) return -1;
  return day + 31 - Math.clz32(rest & -rest);
}

/** Days in a month (1-12) of the proleptic Gregorian calendar. */
export function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Weekday (0 = Sunday) of a calendar date. */
function weekdayOf(year: number, month: number, day: number): number {
  const days = Math.floor(Date.UTC(year, month - 1, day) / DAY_MS);
  return (((days + 4) % 7) + 7) % 7;
}

/**
 * Matching days of a month of `length` days starting on `firstWeekday`.
 *
 * Day-of-month vs day-of-week follows Vixie cron: when both fields restrict the day (neither is
 * `*` nor `?`), a day matches if EITHER matches; when one of them is `*` or `?`, only the other
 * counts. Unlike Vixie cron, a stepped wildcard such as `*`/2 counts as a restriction.
 */
function dayMask(dom: DayOfMonthSpec, dow: DayOfWeekSpec, firstWeekday: number, length: number): number {
  if (dom.any && dow.any) return 2 ** length - 1;
  const byDom = dom.any ? 0 : dayOfMonthMask(dom, firstWeekday, length);
  const byDow = dow.any ? 0 : dayOfWeekMask(dow, firstWeekday, length);
  return (byDom | byDow) >>> 0;
}

function dayOfMonthMask(dom: DayOfMonthSpec, firstWeekday: number, length: number): number {
  const weekday = (day: number) => (firstWeekday + day - 1) % 7;
  let mask = 0;
  const set = (day: number) => {
    if (day >= 1 && day <= length) mask |= 1 << (day - 1);
  };
  for (const day of dom.days) set(day);
  for (const back of dom.fromLast) set(length - back);
  for (const target of dom.nearestWeekday) {
    // Quartz's rule: the nearest Monday-Friday, never crossing into another month.
    if (target > length) continue;
    const w = weekday(target);
    if (w === 6) set(target === 1 ? 3 : target - 1);
    else if (w === 0) set(target === length ? target - 2 : target + 1);
    else set(target);
  }
  if (dom.lastWeekday) {
    let day = length;
    while (weekday(day) === 0 || weekday(day) === 6) day--;
    set(day);
  }
  return mask >>> 0;
}

function dayOfWeekMask(dow: DayOfWeekSpec, firstWeekday: number, length: number): number {
  let mask = 0;
  const firstDayOn = (weekday: number) => 1 + ((weekday - firstWeekday + 7) % 7);
  for (let day = 1; day <= length; day++) {
    if (dow.weekdays.has((firstWeekday + day - 1) % 7)) mask |= 1 << (day - 1);
  }
  for (const weekday of dow.last) {
    const first = firstDayOn(weekday);
    mask |= 1 << (first + 7 * Math.floor((length - first) / 7) - 1);
  }
  for (const [weekday, n] of dow.nth) {
    const day = firstDayOn(weekday) + 7 * (n - 1);
    if (day <= length) mask |= 1 << (day - 1);
  }
  return mask >>> 0;
}
