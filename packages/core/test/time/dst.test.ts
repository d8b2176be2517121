import { firesBetween, nextRuns, parseCron, parseInstant } from '@symbi/core';
import { describe, expect, it } from 'vitest';

/**
 * 2026 transitions used below (wall clock → UTC):
 * - America/New_York: Mar 8 02:00 EST → 03:00 EDT (07:00Z); Nov 1 02:00 EDT → 01:00 EST (06:00Z).
 * - Australia/Lord_Howe (30-minute shift, +10:30/+11): Apr 5 02:00 → 01:30 (Apr 4 15:00Z);
 *   Oct 4 02:00 → 02:30 (Oct 3 15:30Z).
 * - Australia/Sydney (+10/+11): Apr 5 03:00 → 02:00 (Apr 4 16:00Z); Oct 4 02:00 → 03:00 (Oct 3 16:00Z).
 * - America/Santiago (-4/-3, changes at midnight): Apr 5 00:00 → Apr 4 23:00 (03:00Z);
 *   Sep 6 00:00 → 01:00 (04:00Z).
 */
interface DstCase {
  zone: string;
  expr: string;
  from: string;
  expected: string[];
  why: string;
}

const CASES: DstCase[] = [
  // America/New_York
  {
    zone: 'America/New_York',
    expr: '0 30 2 * * *',
    from: '2026-03-07T00:00:00Z',
    expected: ['2026-03-07T07:30:00Z', '2026-03-08T07:00:00Z', '2026-03-09T06:30:00Z'],
    why: 'daily 02:30 does not exist on Mar 8: fires once at 03:00 EDT, the first instant after the gap',
  },
  {
    zone: 'America/New_York',
    expr: '0 0 2 * * *',
    from: '2026-03-07T12:00:00Z',
    expected: ['2026-03-08T07:00:00Z', '2026-03-09T06:00:00Z'],
    why: 'daily 02:00 (the start of the gap) fires at 03:00 EDT',
  },
  {
    zone: 'America/New_York',
    expr: '0 30 1 * * *',
    from: '2026-10-31T00:00:00Z',
    expected: ['2026-10-31T05:30:00Z', '2026-11-01T05:30:00Z', '2026-11-02T06:30:00Z'],
    why: 'daily 01:30 happens twice on Nov 1: fires once, at 01:30 EDT',
  },
  {
    zone: 'America/New_York',
    expr: '0 */15 * * * *',
    from: '2026-03-08T06:30:00Z',
    expected: ['2026-03-08T06:45:00Z', '2026-03-08T07:00:00Z', '2026-03-08T07:15:00Z'],
    why: 'every 15 minutes stays 15 real minutes apart across spring-forward (01:45 EST → 03:00 EDT)',
  },
  {
    zone: 'America/New_York',
    expr: '0 */15 * * * *',
    from: '2026-11-01T05:30:00Z',
    expected: [
      '2026-11-01T05:45:00Z',
      '2026-11-01T06:00:00Z',
      '2026-11-01T06:15:00Z',
      '2026-11-01T06:30:00Z',
      '2026-11-01T06:45:00Z',
      '2026-11-01T07:00:00Z',
    ],
    why: 'every 15 minutes fires in both 01:00 hours (EDT then EST), each real instant once',
  },
  {
    zone: 'America/New_York',
    expr: '0 30 * * * *',
    from: '2026-03-08T05:00:00Z',
    expected: ['2026-03-08T05:30:00Z', '2026-03-08T06:30:00Z', '2026-03-08T07:30:00Z', '2026-03-08T08:30:00Z'],
    why: 'hourly at :30 keeps one real hour between fires; 02:30 EST would be 03:30 EDT, fired once',
  },
  {
    zone: 'America/New_York',
    expr: '0 0 * * * *',
    from: '2026-11-01T03:30:00Z',
    expected: ['2026-11-01T04:00:00Z', '2026-11-01T05:00:00Z', '2026-11-01T06:00:00Z', '2026-11-01T07:00:00Z'],
    why: 'hourly fires at 01:00 EDT and again at 01:00 EST',
  },
  {
    zone: 'America/New_York',
    expr: '* * * * * *',
    from: '2026-03-08T06:59:58Z',
    expected: ['2026-03-08T06:59:59Z', '2026-03-08T07:00:00Z', '2026-03-08T07:00:01Z'],
    why: 'every second runs straight through the gap',
  },
  // Australia/Lord_Howe: a 30-minute shift
  {
    zone: 'Australia/Lord_Howe',
    expr: '0 15 2 * * *',
    from: '2026-10-02T00:00:00Z',
    expected: ['2026-10-02T15:45:00Z', '2026-10-03T15:30:00Z', '2026-10-04T15:15:00Z'],
    why: 'daily 02:15 falls in the 02:00-02:30 gap on Oct 4: fires at 02:30, once',
  },
  {
    zone: 'Australia/Lord_Howe',
    expr: '0 45 1 * * *',
    from: '2026-04-04T00:00:00Z',
    expected: ['2026-04-04T14:45:00Z', '2026-04-05T15:15:00Z'],
    why: 'daily 01:45 happens twice on Apr 5 (+11 then +10:30): fires at the first only',
  },
  {
    zone: 'Australia/Lord_Howe',
    expr: '0 */15 * * * *',
    from: '2026-04-04T14:30:00Z',
    expected: ['2026-04-04T14:45:00Z', '2026-04-04T15:00:00Z', '2026-04-04T15:15:00Z', '2026-04-04T15:30:00Z'],
    why: 'every 15 minutes fires in both 01:30-02:00 half hours',
  },
  {
    zone: 'Australia/Lord_Howe',
    expr: '0 */15 * * * *',
    from: '2026-10-03T15:00:00Z',
    expected: ['2026-10-03T15:15:00Z', '2026-10-03T15:30:00Z', '2026-10-03T15:45:00Z'],
    why: 'every 15 minutes stays 15 real minutes apart across the half-hour gap',
  },
  {
    zone: 'Australia/Lord_Howe',
    expr: '0 0 * * * *',
    from: '2026-10-03T14:00:00Z',
    expected: ['2026-10-03T14:30:00Z', '2026-10-03T15:30:00Z', '2026-10-03T16:00:00Z'],
    why: 'hourly: 02:00 does not exist and fires one real hour after 01:00, then 03:00 on the new offset',
  },
  // Australia/Sydney (southern hemisphere, 1-hour shift)
  {
    zone: 'Australia/Sydney',
    expr: '0 30 2 * * *',
    from: '2026-10-02T00:00:00Z',
    expected: ['2026-10-02T16:30:00Z', '2026-10-03T16:00:00Z', '2026-10-04T15:30:00Z'],
    why: 'daily 02:30 skipped on Oct 4: fires at 03:00 AEDT',
  },
  {
    zone: 'Australia/Sydney',
    expr: '0 30 2 * * *',
    from: '2026-04-03T00:00:00Z',
    expected: ['2026-04-03T15:30:00Z', '2026-04-04T15:30:00Z', '2026-04-05T16:30:00Z'],
    why: 'daily 02:30 happens twice on Apr 5: fires at 02:30 AEDT only',
  },
  {
    zone: 'Australia/Sydney',
    expr: '0 */30 * * * *',
    from: '2026-04-04T15:00:00Z',
    expected: ['2026-04-04T15:30:00Z', '2026-04-04T16:00:00Z', '2026-04-04T16:30:00Z', '2026-04-04T17:00:00Z'],
    why: 'every 30 minutes fires in both 02:00 hours',
  },
  // America/Santiago (changes at midnight)
  {
    zone: 'America/Santiago',
    expr: '0 0 0 * * *',
    from: '2026-09-04T00:00:00Z',
    expected: ['2026-09-04T04:00:00Z', '2026-09-05T04:00:00Z', '2026-09-06T04:00:00Z', '2026-09-07T03:00:00Z'],
    why: 'daily midnight does not exist on Sep 6: fires at 01:00, the first instant of the day',
  },
  {
    zone: 'America/Santiago',
    expr: '0 30 23 * * *',
    from: '2026-04-03T12:00:00Z',
    expected: ['2026-04-04T02:30:00Z', '2026-04-05T02:30:00Z', '2026-04-06T03:30:00Z'],
    why: 'daily 23:30 happens twice on Apr 4: fires at the first (-03) only',
  },
  {
    zone: 'America/Santiago',
    expr: '0 0 * * * *',
    from: '2026-04-05T01:30:00Z',
    expected: ['2026-04-05T02:00:00Z', '2026-04-05T03:00:00Z', '2026-04-05T04:00:00Z'],
    why: 'hourly fires at 23:00 -03 and again at 23:00 -04',
  },
  {
    zone: 'America/Santiago',
    expr: '0 0 9 * * 0',
    from: '2026-09-05T00:00:00Z',
    expected: ['2026-09-06T12:00:00Z', '2026-09-13T12:00:00Z'],
    why: 'a weekly job on the transition Sunday fires at 09:00 on the new offset',
  },
];

describe('DST transitions', () => {
  it.each(CASES)('$zone $expr: $why', ({ zone, expr, from, expected }) => {
    const fires = nextRuns(expr, { tz: zone, from: new Date(from), count: expected.length });
    expect(fires.map((d) => d.toISOString().replace('.000Z', 'Z'))).toEqual(expected);
  });

  it('covers enough zones and cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(12);
    expect(new Set(CASES.map((c) => c.zone)).size).toBeGreaterThanOrEqual(3);
  });
});

const localDate = (zone: string) => {
  const format = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' });
  return (instant: Date) => format.format(instant);
};

describe('daily schedules fire exactly once on every local day of a year', () => {
  const zones = ['America/New_York', 'Australia/Lord_Howe', 'Australia/Sydney', 'America/Santiago', 'Europe/London'];
  const times = ['0 0 0 * * *', '0 0 1 * * *', '0 30 1 * * *', '0 0 2 * * *', '0 15 2 * * *', '0 30 2 * * *', '0 30 23 * * *'];
  it.each(zones.flatMap((zone) => times.map((expr) => [zone, expr] as const)))('%s %s', (zone, expr) => {
    const schedule = parseCron(expr, { timezone: zone });
    const fires = firesBetween(schedule, new Date('2025-12-31T00:00:00Z'), new Date('2027-01-02T00:00:00Z'), 1000);
    const days = fires.map(localDate(zone)).filter((day) => day.startsWith('2026-'));
    expect(days).toHaveLength(365);
    expect(new Set(days).size).toBe(365);
    for (let i = 1; i < fires.length; i++) expect(fires[i]!.getTime()).toBeGreaterThan(fires[i - 1]!.getTime());
  });
});

describe('interval schedules keep their rhythm across a whole year', () => {
  it.each(['America/New_York', 'Australia/Lord_Howe', 'America/Santiago'])('every 15 minutes in %s is always 15 real minutes apart', (zone) => {
    const schedule = parseCron('0 */15 * * * *', { timezone: zone });
    const fires = firesBetween(schedule, new Date('2026-01-01T00:00:00Z'), new Date('2027-01-01T00:00:00Z'), 40_000);
    expect(fires).toHaveLength(365 * 96);
    for (let i = 1; i < fires.length; i++) expect(fires[i]!.getTime() - fires[i - 1]!.getTime()).toBe(900_000);
  });
});

describe('parseInstant of a local time read in a zone', () => {
  /** The fire of a 7-field cron naming exactly that wall time, i.e. cron's answer for it. */
  const cronAnswer = (wall: string, zone: string): string => {
    const [, y, mo, d, h, mi, s] = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(wall)!.map(Number);
    const schedule = parseCron(`${s} ${mi} ${h} ${d} ${mo} * ${y}`, { timezone: zone });
    return schedule.next(new Date(Date.UTC(y!, mo! - 1, d!) - 2 * 86_400_000))!.toISOString();
  };

  it.each([
    ['2026-03-08T02:30:00', 'America/New_York', '2026-03-08T07:00:00.000Z', 'skipped by the spring-forward: the first instant after the gap'],
    ['2026-11-01T01:30:00', 'America/New_York', '2026-11-01T05:30:00.000Z', 'repeated by the fall-back: its first occurrence (EDT)'],
    ['2026-10-04T02:10:00', 'Australia/Lord_Howe', '2026-10-03T15:30:00.000Z', 'inside a 30-minute gap'],
    ['2026-04-05T01:45:00', 'Australia/Lord_Howe', '2026-04-04T14:45:00.000Z', 'repeated half hour: first occurrence (+11)'],
    ['2026-09-06T00:30:00', 'America/Santiago', '2026-09-06T04:00:00.000Z', 'gap at midnight'],
    ['2026-03-31T23:59:00', 'UTC', '2026-03-31T23:59:00.000Z', 'UTC'],
    ['2026-07-01T09:00:00', 'Europe/Paris', '2026-07-01T07:00:00.000Z', 'an ordinary summer time'],
  ])('%s in %s → %s (%s)', (wall, zone, expected) => {
    expect(parseInstant(wall, 'at', zone).toISOString()).toBe(expected);
    expect(parseInstant(wall, 'at', zone).toISOString()).toBe(cronAnswer(wall, zone));
  });

  it('still refuses a local time when no zone is given', () => {
    expect(() => parseInstant('2026-03-31T23:59:00')).toThrow(/has no time zone/);
  });
});
