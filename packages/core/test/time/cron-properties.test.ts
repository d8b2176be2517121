import { type Schedule, ValidationError, firesBetween, parseCron } from '@symbi/core';
import { CronExpressionParser } from 'cron-parser';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type GeneratedCron, cronExpression, offsetOf, transitionsOf, wallFromMs, wallMs, wallOf } from './cron-oracle.js';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Zones with every kind of shift: none, 1 hour, 30 minutes, at midnight, :45 offsets, Ramadan pauses. */
const ZONES = [
  'UTC',
  'America/New_York',
  'Australia/Lord_Howe',
  'Australia/Sydney',
  'America/Santiago',
  'Europe/London',
  'Pacific/Chatham',
  'America/St_Johns',
  'Africa/Casablanca',
  'Asia/Tehran',
  'Asia/Kathmandu',
];
const DST_ZONES = ZONES.filter((zone) => zone !== 'UTC' && zone !== 'Asia/Kathmandu');

/** Compiles a generated expression, or skips the case when it can never fire (e.g. 31 April). */
function compile(cron: GeneratedCron, zone: string): Schedule {
  try {
    return parseCron(cron.text, { timezone: zone });
  } catch (error) {
    if (error instanceof ValidationError && /never fires/.test(error.message)) fc.pre(false);
    throw error;
  }
}

/** A start instant: anywhere in 1990-2060, or within a day and a half of one of the zone's transitions. */
const startNear = (zone: string) =>
  fc.oneof(
    fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2060, 0, 1) }),
    fc.tuple(fc.integer({ min: 1995, max: 2045 }), fc.nat(), fc.integer({ min: -36 * HOUR, max: 36 * HOUR })).map(([year, pick, shift]) => {
      const transitions = transitionsOf(zone, year);
      const base = transitions.length === 0 ? Date.UTC(year, 6, 1) : transitions[pick % transitions.length]!;
      return base + shift;
    }),
  );

const zoneAndStart = fc.constantFrom(...ZONES).chain((zone) => fc.tuple(fc.constant(zone), startNear(zone)));

describe('cron schedules, for random expressions, zones and start times', () => {
  it('give strictly increasing fires that each match the fields in the zone, or stand in for a skipped time', () => {
    fc.assert(
      fc.property(fc.oneof(cronExpression({ extended: true, shape: 'any' }), cronExpression({ extended: true, shape: 'any', dense: true })), zoneAndStart, (cron, [zone, start]) => {
        const schedule = compile(cron, zone);
        let previous = start;
        for (let i = 0; i < 20; i++) {
          const fire = schedule.next(new Date(previous));
          if (fire === null) {
            // Only a year field can end a schedule.
            expect(cron.bounded).toBe(true);
            return;
          }
          const f = fire.getTime();
          expect(f).toBeGreaterThan(previous);
          expect(f % 1000).toBe(0);
          const offset = offsetOf(zone, f);
          const earlier = offsetOf(zone, f - 3 * HOUR);
          if (cron.matches(wallOf(zone, f))) {
            if (!cron.interval && earlier > offset) {
              // A fixed-time schedule never fires the second occurrence of a repeated wall time.
              expect(wallMs(wallOf(zone, f - (earlier - offset)))).not.toBe(wallMs(wallOf(zone, f)));
            }
          } else {
            // Not a match on the wall clock: it must stand in for a wall time skipped by a spring-forward.
            expect(earlier).toBeLessThan(offset);
            if (cron.interval) {
              expect(cron.matches(wallFromMs(f + earlier))).toBe(true);
            } else {
              const before = offsetOf(zone, f - 1000);
              expect(before).toBeLessThan(offset);
              let skippedMatch = false;
              for (let wall = f + before; wall < f + offset && !skippedMatch; wall += 1000) skippedMatch = cron.matches(wallFromMs(wall));
              expect(skippedMatch).toBe(true);
            }
          }
          previous = f;
        }
      }),
      { numRuns: 400 },
    );
  }, 120_000);

  it('agree with cron-parser where it is right: plain syntax in zones without DST', () => {
    fc.assert(
      fc.property(
        cronExpression({ extended: false, shape: 'any' }),
        fc.constantFrom('UTC', 'Asia/Tokyo', 'Asia/Kolkata'),
        fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2060, 0, 1) }),
        (cron, zone, start) => {
          let reference: string[];
          try {
            const expression = CronExpressionParser.parse(cron.text, { tz: zone, currentDate: new Date(start) });
            reference = Array.from({ length: 10 }, () => expression.next().toDate().toISOString());
          } catch {
            // cron-parser refuses some expressions that never fire, and gives up on sparse ones.
            fc.pre(false);
            return;
          }
          const schedule = compile(cron, zone);
          const ours: string[] = [];
          let cursor: Date | null = new Date(start);
          while (ours.length < 10 && (cursor = schedule.next(cursor)) !== null) ours.push(cursor.toISOString());
          expect(ours).toEqual(reference);
        },
      ),
      { numRuns: 400 },
    );
  }, 120_000);

  it('fire exactly where a minute-by-minute scan of the wall clock says, around DST transitions', () => {
    const transition = fc
      .tuple(fc.constantFrom(...DST_ZONES), fc.integer({ min: 2000, max: 2040 }), fc.nat())
      .map(([zone, year, pick]) => {
        const transitions = transitionsOf(zone, year);
        return { zone, at: transitions[pick % Math.max(1, transitions.length)] };
      })
      .filter((t): t is { zone: string; at: number } => t.at !== undefined);
    fc.assert(
      fc.property(cronExpression({ extended: true, shape: 5, dense: true }), transition, (cron, { zone, at }) => {
        const from = at - DAY;
        const until = at + DAY;
        const expected = scanFires(cron, zone, from, until);
        const actual = firesBetween(compile(cron, zone), new Date(from), new Date(until), 100_000).map((d) => d.getTime());
        expect(actual.map(show)).toEqual(expected.map(show));
      }),
      { numRuns: 80 },
    );
  }, 120_000);
});

const show = (t: number) => new Date(t).toISOString();

/**
 * The fires of a minute-level schedule in (from, until], by the DST rules stated plainly over a
 * scan of every minute: a wall time that shows fires (a fixed-time schedule only the first time
 * it shows); a skipped wall time fires at the first instant after the gap (fixed-time) or at the
 * instant it had under the old offset (interval); an instant fires once.
 */
function scanFires(cron: GeneratedCron, zone: string, from: number, until: number): number[] {
  const fires = new Set<number>();
  let previousInstant = from - DAY;
  let previousWall = wallMs(wallOf(zone, previousInstant));
  let highestWall = previousWall;
  for (let t = previousInstant + MINUTE; t <= until; t += MINUTE) {
    const wall = wallMs(wallOf(zone, t));
    if (wall - previousWall > MINUTE) {
      const oldOffset = previousWall - previousInstant;
      for (let skipped = previousWall + MINUTE; skipped < wall; skipped += MINUTE) {
        if (cron.matches(wallFromMs(skipped))) fires.add(cron.interval ? skipped - oldOffset : t);
      }
    }
    if (cron.matches(wallFromMs(wall)) && (cron.interval || wall > highestWall)) fires.add(t);
    highestWall = Math.max(highestWall, wall);
    previousWall = wall;
    previousInstant = t;
  }
  return [...fires].filter((f) => f > from && f <= until).sort((a, b) => a - b);
}
