/**
 * UTC offsets of an IANA time zone, read from `Intl` once per zone and UTC year and kept as a
 * short table of transitions, so the scheduler's hot path never formats a date.
 */

const DAY_MS = 86_400_000;
const SECOND_MS = 1000;
const MAX_CACHED_YEARS = 4096;

/** A stretch of time during which a zone keeps one UTC offset. */
export interface OffsetSegment {
  /** First instant of the stretch (epoch ms). */
  readonly start: number;
  /** First instant after the stretch (epoch ms). */
  readonly end: number;
  /** Milliseconds to add to an instant to get its wall-clock time. */
  readonly offset: number;
  /**
   * Offset in force just before `start`. Greater than `offset` when the stretch starts with a
   * fall-back (wall times repeat), smaller after a spring-forward (wall times are skipped), equal
   * when the stretch starts at a UTC year boundary without a change.
   */
  readonly previousOffset: number;
}

interface Transition {
  readonly at: number;
  readonly before: number;
  readonly after: number;
}

interface YearTable {
  readonly start: number;
  readonly end: number;
  /** Offset just before the year starts. */
  readonly initial: number;
  readonly transitions: readonly Transition[];
}

const zones = new Map<string, ZoneRules>();

/** The offset rules of one time zone. */
export class ZoneRules {
  readonly #format: Intl.DateTimeFormat | null;
  readonly #years = new Map<number, YearTable>();

  private constructor(timeZone: string) {
    const format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    this.#format = format.resolvedOptions().timeZone === 'UTC' ? null : format;
  }

  /** The shared rules of a zone already checked by `validateTimezone`. */
  static for(timeZone: string): ZoneRules {
    let rules = zones.get(timeZone);
    if (rules === undefined) {
      rules = new ZoneRules(timeZone);
      zones.set(timeZone, rules);
    }
    return rules;
  }

  /**
   * The segment holding `instant`. Segments are cut at every offset change and at UTC year
   * boundaries (where `previousOffset` equals `offset`).
   */
  segmentAt(instant: number): OffsetSegment {
    const table = this.#table(new Date(instant).getUTCFullYear());
    let start = table.start;
    let end = table.end;
    let offset = table.initial;
    let previousOffset = table.initial;
    for (const transition of table.transitions) {
      if (transition.at > instant) {
        end = transition.at;
        break;
      }
      start = transition.at;
      offset = transition.after;
      previousOffset = transition.before;
    }
    return { start, end, offset, previousOffset };
  }

  /**
   * The instant at which this zone's clock shows `wall` (a wall-clock time as pseudo-UTC
   * milliseconds, the value `Date.UTC` gives for its fields), by the rule cron applies to a fixed
   * time: a wall time skipped by a spring-forward maps to the first instant after the gap, one
   * repeated by a fall-back to its first occurrence.
   */
  instantOfWall(wall: number): number {
    // Offsets stay within a day, so the answer lies after the segment holding `wall - DAY_MS`.
    for (let segment = this.segmentAt(wall - DAY_MS); ; segment = this.segmentAt(segment.end)) {
      const { start, end, offset, previousOffset } = segment;
      if (previousOffset < offset && wall >= start + previousOffset && wall < start + offset) return start;
      const instant = wall - offset;
      if (instant >= start && instant < end) return instant;
    }
  }

  #table(year: number): YearTable {
    let table = this.#years.get(year);
    if (table === undefined) {
      if (this.#years.size >= MAX_CACHED_YEARS) this.#years.clear();
      table = this.#buildTable(year);
      this.#years.set(year, table);
    }
    return table;
  }

  /**
   * Samples the offset once a day and bisects to the second wherever it changed. Zones change
   * offset at most a few times a year and never twice within a day, so daily samples see every
   * change.
   */
  #buildTable(year: number): YearTable {
    const start = utcYearStart(year);
    const end = utcYearStart(year + 1);
    const initial = this.#rawOffset(start - SECOND_MS);
    const transitions: Transition[] = [];
    if (this.#format !== null) {
      let before = start - SECOND_MS;
      let beforeOffset = initial;
      for (let sample = start; before < end - SECOND_MS; sample = Math.min(sample + DAY_MS, end - SECOND_MS)) {
        const sampleOffset = this.#rawOffset(sample);
        while (sampleOffset !== beforeOffset) {
          const at = this.#firstChange(before, sample, beforeOffset);
          const after = this.#rawOffset(at);
          transitions.push({ at, before: beforeOffset, after });
          before = at;
          beforeOffset = after;
        }
        before = sample;
      }
    }
    return { start, end, initial, transitions };
  }

  /** Smallest whole second in (`low`, `high`] whose offset differs from `lowOffset`. */
  #firstChange(low: number, high: number, lowOffset: number): number {
    while (high - low > SECOND_MS) {
      const middle = low + Math.floor((high - low) / (2 * SECOND_MS)) * SECOND_MS;
      if (this.#rawOffset(middle) === lowOffset) low = middle;
      else high = middle;
    }
    return high;
  }

  /** Offset at a whole-second instant, straight from `Intl`. */
  #rawOffset(instant: number): number {
    if (this.#format === null) return 0;
    const fields: Record<string, number> = {};
    for (const part of this.#format.formatToParts(instant)) {
      if (part.type !== 'literal') fields[part.type] = Number(part.value);
    }
    const wall = new Date(0);
    wall.setUTCFullYear(fields.year ?? 0, (fields.month ?? 1) - 1, fields.day ?? 1);
    wall.setUTCHours(fields.hour ?? 0, fields.minute ?? 0, fields.second ?? 0, 0);
    return wall.getTime() - instant;
  }
}

function utcYearStart(year: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, 0, 1);
  return date.getTime();
}
