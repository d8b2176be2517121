import { ValidationError } from '../errors.js';
import { CronPattern, SEARCH_MIN_YEAR } from './cron-pattern.js';
import { CRON_MIN_YEAR, CronSyntaxError, parseCronSpec } from './cron-syntax.js';
import { epochMs } from './instant.js';
import type { Schedule } from './schedule.js';
import { validateTimezone } from './timezone.js';
import { type OffsetSegment, ZoneRules } from './zone-rules.js';

const DAY_MS = 86_400_000;
/** Searches start no earlier than this; fires before year 1000 are not modelled. */
const EARLIEST_AFTER = Date.UTC(SEARCH_MIN_YEAR, 0, 1) - DAY_MS;
const MAX_CACHED = 2048;
const compiled = new Map<string, CronSchedule>();

/** Options of {@link parseCron}. */
export interface ParseCronOptions {
  /** IANA zone in which the fields are read; `UTC` when absent. */
  timezone?: string;
  /** Field named in errors; `cron_expr` when absent. */
  field?: string;
}

/**
 * Compiles a cron expression into a {@link Schedule}. Compiled schedules are cached by
 * expression and zone, so asking again for the same job costs a map lookup.
 *
 * Syntax: 5 fields (minute hour day-of-month month day-of-week), 6 (seconds first) or 7 (seconds
 * first, year 1970-2099 last); names (`JAN`, `MON`), ranges, steps, lists, `?`; in day-of-month
 * `L`, `L-n`, `nW` (the weekday nearest day n, within the month) and `LW`; in day-of-week `nL` (the
 * last such weekday) and `n#k` (the kth such weekday); nicknames `@yearly`, `@annually`,
 * `@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly`. Sunday is 0 or 7.
 *
 * Day-of-month and day-of-week (Vixie cron's rule): when both restrict the day, a day matches if
 * either matches; when one is `*` or `?`, only the other counts.
 *
 * DST: a wall-clock time skipped by a spring-forward fires once, at the first instant after the
 * gap; a wall-clock time repeated by a fall-back fires once, at its first occurrence. Interval
 * schedules, those whose second, minute or hour field starts with `*` (every 15 minutes written
 * as a stepped `*`, `@hourly`, every second), keep their real-time rhythm instead: they fire in
 * both occurrences of a repeated hour, and a skipped wall time fires at the instant it would have
 * had under the old offset (so every 15 minutes stays 15 real minutes apart). Each instant fires
 * at most once, and `next` is always later than its argument.
 *
 * Throws `ValidationError(field, '<what is wrong>', expr)` naming the bad part, e.g.
 * `minute field: 61 is out of range 0-59`, and also for an expression that can never fire
 * (`0 0 0 30 2 *`).
 */
export function parseCron(expr: string, options: ParseCronOptions = {}): Schedule {
  const field = options.field ?? 'cron_expr';
  const timezone = validateTimezone(options.timezone ?? 'UTC');
  const key = `${timezone}\n${expr}`;
  const hit = compiled.get(key);
  if (hit !== undefined) return hit;
  if (typeof expr !== 'string') throw new ValidationError(field, 'must be a cron expression string', expr);
  let pattern: CronPattern;
  try {
    pattern = new CronPattern(parseCronSpec(expr));
  } catch (error) {
    if (error instanceof CronSyntaxError) throw new ValidationError(field, error.message, expr);
    throw error;
  }
  if (pattern.nextWall(Date.UTC(CRON_MIN_YEAR, 0, 1)) === null) {
    throw new ValidationError(field, 'never fires: no date satisfies its day, month and year fields together', expr);
  }
  const schedule = new CronSchedule(expr.trim(), timezone, pattern, ZoneRules.for(timezone));
  if (compiled.size >= MAX_CACHED) compiled.delete(compiled.keys().next().value as string);
  compiled.set(key, schedule);
  return schedule;
}

/** Options of {@link nextRuns}. */
export interface NextRunsOptions {
  /** IANA zone; `UTC` when absent. */
  tz?: string;
  /** How many fires to list (1-1000); 5 when absent. */
  count?: number;
  /** List fires strictly after this instant; now when absent. */
  from?: Date;
}

/** The next `count` fires of a cron expression, for previews such as `symbi cron status`. */
export function nextRuns(expr: string, options: NextRunsOptions = {}): Date[] {
  const count = options.count ?? 5;
  if (!Number.isInteger(count) || count < 1 || count > 1000) {
    throw new ValidationError('count', 'must be a whole number between 1 and 1000', count);
  }
  const schedule = parseCron(expr, options.tz === undefined ? {} : { timezone: options.tz });
  const runs: Date[] = [];
  let cursor: Date | null = options.from ?? new Date();
  while (runs.length < count && (cursor = schedule.next(cursor)) !== null) runs.push(cursor);
  return runs;
}

/** A cron expression bound to a zone, with the DST rules documented on {@link parseCron}. */
class CronSchedule implements Schedule {
  readonly kind = 'cron';

  constructor(
    readonly expression: string,
    readonly timezone: string,
    private readonly pattern: CronPattern,
    private readonly zone: ZoneRules,
  ) {}

  next(after: Date): Date | null {
    const fire = this.#nextInstant(Math.max(epochMs(after, 'after'), EARLIEST_AFTER));
    return fire === null ? null : new Date(fire);
  }

  /**
   * Walks the zone's constant-offset segments from the one holding `after`. Inside a segment the
   * wall clock is the instant plus one offset, so the first matching wall time maps straight to
   * an instant; the segment's start adds the DST cases (skipped or repeated wall times). When a
   * segment holds no fire, the search jumps to the segment near the next matching wall time,
   * so a yearly schedule costs a few steps, not a day-by-day walk.
   */
  #nextInstant(after: number): number | null {
    let segment: OffsetSegment = this.zone.segmentAt(after);
    for (;;) {
      const { start, end, offset, previousOffset } = segment;
      let best = Number.POSITIVE_INFINITY;
      if (previousOffset < offset) {
        // Spring-forward at `start`: wall times in [gapStart, gapEnd) never show on the clock.
        const gapStart = start + previousOffset;
        const gapEnd = start + offset;
        if (this.pattern.interval) {
          const skipped = this.pattern.nextWall(Math.max(gapStart, after + previousOffset + 1));
          if (skipped !== null && skipped < gapEnd) best = skipped - previousOffset;
        } else if (after < start) {
          const skipped = this.pattern.nextWall(gapStart);
          if (skipped !== null && skipped < gapEnd) return start;
        }
      }
      let low = Math.max(start + offset, after + offset + 1);
      // Fall-back at `start`: a fixed-time schedule already fired the repeated wall times.
      if (!this.pattern.interval && previousOffset > offset) low = Math.max(low, start + previousOffset);
      const wall = this.pattern.nextWall(low);
      if (wall !== null && wall < end + offset) best = Math.min(best, wall - offset);
      if (best !== Number.POSITIVE_INFINITY) return best;
      if (wall === null) return null;
      segment = this.zone.segmentAt(Math.max(end, wall - DAY_MS));
    }
  }
}
