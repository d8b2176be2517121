import { ValidationError } from '../errors.js';
import { parseCron } from './cron-schedule.js';
import { epochMs, parseInstant } from './instant.js';
import { validateTimezone } from './timezone.js';

/**
 * When a job fires: a compiled cron expression or a one-shot instant, read in an IANA time zone.
 * Compiled once and cheap to ask: `next` is on the scheduler's hot path.
 */
export interface Schedule {
  /** `cron` for a recurring expression, `at` for a one-shot instant. */
  readonly kind: 'cron' | 'at';
  /** The cron expression or ISO 8601 instant as written. */
  readonly expression: string;
  /** IANA zone in which the expression's wall-clock fields are read (default `UTC`). */
  readonly timezone: string;
  /**
   * The first fire strictly after `after`, or null when none remains (a one-shot already past,
   * a cron whose year field is exhausted). Always later than `after`, so a loop over `next`
   * never spins in place.
   */
  next(after: Date): Date | null;
}

/** What {@link compileSchedule} reads: exactly one of `cronExpr` and `at`, and an optional zone. */
export interface ScheduleSpec {
  /** Cron expression (5, 6 or 7 fields, or a nickname). */
  cronExpr?: string | null;
  /** ISO 8601 instant with `Z` or an offset, for a one-shot job. */
  at?: string | null;
  /** IANA time zone; `UTC` when absent. */
  timezone?: string | null;
}

/**
 * Compiles a job's timing fields into a {@link Schedule}. Exactly one of `cronExpr` and `at` must
 * be given; errors are `ValidationError`s naming `cron_expr`, `at` or `timezone`.
 */
export function compileSchedule(spec: ScheduleSpec): Schedule {
  const hasCron = spec.cronExpr !== undefined && spec.cronExpr !== null;
  const hasAt = spec.at !== undefined && spec.at !== null;
  if (hasCron && hasAt) {
    throw new ValidationError('cron_expr', 'give one of cron_expr or at, not both', { cron_expr: spec.cronExpr, at: spec.at });
  }
  const timezone = validateTimezone(spec.timezone ?? 'UTC');
  if (hasCron) return parseCron(spec.cronExpr as string, { timezone });
  if (hasAt) return new AtSchedule(spec.at as string, parseInstant(spec.at as string), timezone);
  throw new ValidationError('cron_expr', 'one of cron_expr or at is required', undefined);
}

/** A one-shot schedule: fires once at its instant. */
class AtSchedule implements Schedule {
  readonly kind = 'at';
  readonly #instant: number;

  constructor(
    readonly expression: string,
    instant: Date,
    readonly timezone: string,
  ) {
    this.#instant = instant.getTime();
  }

  next(after: Date): Date | null {
    return epochMs(after, 'after') < this.#instant ? new Date(this.#instant) : null;
  }
}

/**
 * The fires of `schedule` in (`afterExclusive`, `untilInclusive`], oldest first, at most `max`
 * of them: what a scheduler coming back from downtime may have to catch up.
 */
export function firesBetween(schedule: Schedule, afterExclusive: Date, untilInclusive: Date, max: number): Date[] {
  if (!Number.isInteger(max) || max < 0) throw new ValidationError('max', 'must be a whole number of fires, 0 or more', max);
  const fires: Date[] = [];
  let cursor = afterExclusive;
  while (fires.length < max) {
    const fire = schedule.next(cursor);
    if (fire === null || fire.getTime() > untilInclusive.getTime()) break;
    fires.push(fire);
    cursor = fire;
  }
  return fires;
}
