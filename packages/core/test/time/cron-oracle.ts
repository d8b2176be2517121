/**
 * Test oracles for cron schedules, written independently of `src/time`: random expressions that
 * carry their own field matcher, and wall clocks read straight from `Intl` one instant at a time.
 */
import fc from 'fast-check';

/** Local calendar fields of an instant in a zone. */
export interface Wall {
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
  s: number;
}

/** A generated cron expression with a matcher that knows what it means. */
export interface GeneratedCron {
  text: string;
  /** Whether the second, minute or hour field starts with `*` (an interval schedule). */
  interval: boolean;
  /** Whether the year field limits the schedule (it may end). */
  bounded: boolean;
  matches(wall: Wall): boolean;
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** The wall clock of `instant` in `zone`, from `Intl`. */
export function wallOf(zone: string, instant: number): Wall {
  let format = formats.get(zone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formats.set(zone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(instant).map((part) => [part.type, Number(part.value)]));
  return { y: parts.year!, mo: parts.month!, d: parts.day!, h: parts.hour!, mi: parts.minute!, s: parts.second! };
}

/** A wall clock as the UTC milliseconds of the same fields. */
export function wallMs(wall: Wall): number {
  return Date.UTC(wall.y, wall.mo - 1, wall.d, wall.h, wall.mi, wall.s);
}

/** Wall minus UTC, in milliseconds, at a whole-second instant. */
export function offsetOf(zone: string, instant: number): number {
  const whole = Math.floor(instant / 1000) * 1000;
  return wallMs(wallOf(zone, whole)) - whole;
}

/** The wall fields of UTC milliseconds built by {@link wallMs}. */
export function wallFromMs(ms: number): Wall {
  const date = new Date(ms);
  return {
    y: date.getUTCFullYear(),
    mo: date.getUTCMonth() + 1,
    d: date.getUTCDate(),
    h: date.getUTCHours(),
    mi: date.getUTCMinutes(),
    s: date.getUTCSeconds(),
  };
}

const DAY = 86_400_000;
const transitionCache = new Map<string, number[]>();

/**
 * Instants at which `zone` changes offset during a UTC year: a daily scan, then bisection to the
 * second (zones never change offset twice within a day).
 */
export function transitionsOf(zone: string, year: number): number[] {
  const key = `${zone}/${year}`;
  const cached = transitionCache.get(key);
  if (cached !== undefined) return cached;
  const found: number[] = [];
  const end = Date.UTC(year + 1, 0, 1);
  let previous = offsetOf(zone, Date.UTC(year, 0, 1));
  for (let t = Date.UTC(year, 0, 1) + DAY; t <= end; t += DAY) {
    const offset = offsetOf(zone, t);
    if (offset !== previous) {
      let low = t - DAY;
      let high = t;
      while (high - low > 1000) {
        const middle = low + Math.floor((high - low) / 2000) * 1000;
        if (offsetOf(zone, middle) === previous) low = middle;
        else high = middle;
      }
      found.push(high);
      previous = offset;
    }
  }
  transitionCache.set(key, found);
  return found;
}

function daysIn(y: number, mo: number): number {
  return new Date(Date.UTC(y, mo, 0)).getUTCDate();
}

function weekday(y: number, mo: number, d: number): number {
  return new Date(Date.UTC(y, mo - 1, d)).getUTCDay();
}

interface Part {
  text: string;
  values: number[];
}

function stepped(low: number, high: number, step: number): number[] {
  const values: number[] = [];
  for (let v = low; v <= high; v += step) values.push(v);
  return values;
}

/** One list item of a plain field: value, range, stepped range, `*`/s or a/s. */
function item(min: number, max: number, name?: (v: number) => string): fc.Arbitrary<Part> {
  const value = fc.integer({ min, max });
  const step = fc.integer({ min: 1, max: Math.min(max - min + 1, 20) });
  const show = (v: number, useName: boolean) => (useName && name ? name(v) : String(v));
  return fc.oneof(
    fc.tuple(value, fc.boolean()).map(([v, n]) => ({ text: show(v, n), values: [v] })),
    fc.tuple(value, value, fc.boolean()).map(([a, b, n]) => {
      const [low, high] = a <= b ? [a, b] : [b, a];
      return { text: `${show(low, n)}-${show(high, n)}`, values: stepped(low, high, 1) };
    }),
    fc.tuple(value, value, step).map(([a, b, s]) => {
      const [low, high] = a <= b ? [a, b] : [b, a];
      return { text: `${low}-${high}/${s}`, values: stepped(low, high, s) };
    }),
    step.map((s) => ({ text: `*/${s}`, values: stepped(min, max, s) })),
    fc.tuple(value, step).map(([a, s]) => ({ text: `${a}/${s}`, values: stepped(a, max, s) })),
  );
}

function plainField(min: number, max: number, name?: (v: number) => string, starWeight = 1): fc.Arbitrary<Part> {
  return fc.oneof(
    { weight: starWeight, arbitrary: fc.constant({ text: '*', values: stepped(min, max, 1) }) },
    {
      weight: 3,
      arbitrary: fc.array(item(min, max, name), { minLength: 1, maxLength: 3 }).map((items) => ({
        text: items.map((i) => i.text).join(','),
        values: items.flatMap((i) => i.values),
      })),
    },
  );
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'];

type DayTest = (y: number, mo: number, d: number) => boolean;
interface DayPart {
  text: string;
  test: DayTest;
}

/** Day-of-month items, with the extended forms when `extended`. */
function dayOfMonthItem(extended: boolean): fc.Arbitrary<DayPart> {
  const plain = item(1, 31).map((p) => ({ text: p.text, test: ((_y, _mo, d) => p.values.includes(d)) as DayTest }));
  if (!extended) return plain;
  return fc.oneof(
    plain,
    fc.integer({ min: 0, max: 5 }).map((n) => ({
      text: n === 0 ? 'L' : `L-${n}`,
      test: ((y, mo, d) => d === daysIn(y, mo) - n) as DayTest,
    })),
    fc.integer({ min: 1, max: 31 }).map((n) => ({
      text: `${n}W`,
      test: ((y, mo, d) => {
        const length = daysIn(y, mo);
        if (n > length) return false;
        let target = n;
        const w = weekday(y, mo, n);
        if (w === 6) target = n === 1 ? 3 : n - 1;
        if (w === 0) target = n === length ? n - 2 : n + 1;
        return d === target;
      }) as DayTest,
    })),
    fc.constant({
      text: 'LW',
      test: ((y, mo, d) => {
        let last = daysIn(y, mo);
        while (weekday(y, mo, last) % 6 === 0) last--;
        return d === last;
      }) as DayTest,
    }),
  );
}

/** Day-of-week items, with `nL` and `n#k` when `extended`. */
function dayOfWeekItem(extended: boolean): fc.Arbitrary<DayPart> {
  // Sunday as 7 is only used where cron-parser reads it the same way, and always as a number:
  // SUN-SUN means Sunday alone, not the whole week.
  const plain = item(0, extended ? 7 : 6, (v) => (v === 7 ? '7' : DAYS[v]!)).map((p) => ({
    text: p.text,
    test: ((y, mo, d) => p.values.map((v) => v % 7).includes(weekday(y, mo, d))) as DayTest,
  }));
  if (!extended) return plain;
  return fc.oneof(
    plain,
    fc.tuple(fc.integer({ min: 0, max: 7 }), fc.boolean()).map(([v, n]) => ({
      text: `${n ? DAYS[v] : v}L`,
      test: ((y, mo, d) => weekday(y, mo, d) === v % 7 && d + 7 > daysIn(y, mo)) as DayTest,
    })),
    fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 1, max: 5 })).map(([v, k]) => ({
      text: `${v}#${k}`,
      test: ((y, mo, d) => weekday(y, mo, d) === v && Math.ceil(d / 7) === k) as DayTest,
    })),
  );
}

function dayField(itemArb: fc.Arbitrary<DayPart>, maxItems: number, anyWeight: number): fc.Arbitrary<DayPart & { any: boolean }> {
  return fc.oneof(
    { weight: anyWeight, arbitrary: fc.constantFrom('*', '?').map((text) => ({ text, any: true, test: (() => true) as DayTest })) },
    fc.array(itemArb, { minLength: 1, maxLength: maxItems }).map((items) => ({
      text: items.map((i) => i.text).join(','),
      any: false,
      test: ((y, mo, d) => items.some((i) => i.test(y, mo, d))) as DayTest,
    })),
  );
}

/**
 * Random valid cron expressions. `extended` adds L, W, #, names, Sunday as 7 and, for 7-field
 * expressions, a year field; without it the syntax stays within what cron-parser also reads the
 * same way. `shape` picks 5-field (minute first), 6-field or 7-field expressions.
 */
export function cronExpression(options: { extended: boolean; shape: 5 | 6 | 7 | 'any'; dense?: boolean }): fc.Arbitrary<GeneratedCron> {
  const { extended } = options;
  // Dense expressions leave the day and month fields open more often, so fires are frequent
  // enough to meet the few hours around a DST transition.
  const openWeight = options.dense ? 6 : 1;
  const shape = options.shape === 'any' ? fc.constantFrom(5, 6, 7) : fc.constant(options.shape);
  return fc
    .record({
      shape,
      second: plainField(0, 59),
      minute: plainField(0, 59),
      hour: plainField(0, 23),
      dom: dayField(dayOfMonthItem(extended), extended ? 3 : 2, openWeight),
      month: plainField(1, 12, extended ? (v) => MONTHS[v - 1]! : undefined, openWeight),
      // cron-parser only reads a single `#` or `nL` item; the extended form lists several.
      dow: dayField(dayOfWeekItem(extended), extended ? 3 : 2, openWeight),
      year: extended ? plainField(1970, 2099) : fc.constant({ text: '*', values: [] as number[] }),
    })
    .map(({ shape: size, second, minute, hour, dom, month, dow, year }) => {
      const seconds = size === 5 ? { text: '0', values: [0] } : second;
      const useYear = size === 7 && year.text !== '*';
      const fields = [minute.text, hour.text, dom.text, month.text, dow.text];
      const text = size === 5 ? fields.join(' ') : [seconds.text, ...fields, ...(size === 7 ? [year.text] : [])].join(' ');
      const sets = {
        s: new Set(seconds.values),
        mi: new Set(minute.values),
        h: new Set(hour.values),
        mo: new Set(month.values),
        y: new Set(year.values),
      };
      return {
        text,
        interval: [seconds.text, minute.text, hour.text].some((f) => f.startsWith('*')),
        bounded: useYear,
        matches: (w: Wall) => {
          if (!sets.s.has(w.s) || !sets.mi.has(w.mi) || !sets.h.has(w.h) || !sets.mo.has(w.mo)) return false;
          if (useYear && !sets.y.has(w.y)) return false;
          const byDom = dom.test(w.y, w.mo, w.d);
          const byDow = dow.test(w.y, w.mo, w.d);
          if (dom.any && dow.any) return true;
          if (dom.any) return byDow;
          if (dow.any) return byDom;
          return byDom || byDow;
        },
      };
    });
}
