import { ValidationError, formatDuration, parseDuration, parseInstant, parseTimeOfDay, validateTimezone } from '@symbi/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

/** Runs `fn` and returns the ValidationError it throws. */
function refusal(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error('expected a ValidationError');
}

describe('validateTimezone', () => {
  it.each([
    ['UTC', 'UTC'],
    ['Europe/Paris', 'Europe/Paris'],
    ['America/New_York', 'America/New_York'],
    ['Australia/Lord_Howe', 'Australia/Lord_Howe'],
    ['US/Eastern', 'US/Eastern'],
    ['Etc/GMT-2', 'Etc/GMT-2'],
    ['utc', 'UTC'],
    ['america/new_york', 'America/New_York'],
  ])('accepts %s as %s', (input, expected) => {
    expect(validateTimezone(input)).toBe(expected);
  });

  it.each([
    ['', /must be an IANA time zone name/],
    ['   ', /must be an IANA time zone name/],
    ['+02:00', /is an offset, not a time zone/],
    ['-0500', /is an offset, not a time zone/],
    ['Mars/Olympus_Mons', /unknown time zone "Mars\/Olympus_Mons"/],
    ['GMT+5', /unknown time zone/],
    ['Europe/Paris ', /unknown time zone/],
    ['local', /unknown time zone/],
  ])('refuses %j', (input, message) => {
    const error = refusal(() => validateTimezone(input));
    expect(error.field).toBe('timezone');
    expect(error.value).toBe(input);
    expect(error.message).toMatch(message);
  });

  it('names the field it is given', () => {
    expect(refusal(() => validateTimezone('Nowhere', 'scheduler.timezone')).field).toBe('scheduler.timezone');
  });
});

describe('parseInstant', () => {
  it.each([
    ['2026-02-15T14:30:00Z', '2026-02-15T14:30:00.000Z'],
    ['2026-02-15T14:30Z', '2026-02-15T14:30:00.000Z'],
    ['2026-02-15t14:30:00z', '2026-02-15T14:30:00.000Z'],
    ['2026-02-15 14:30:00Z', '2026-02-15T14:30:00.000Z'],
    ['2026-02-15T15:30:00+01:00', '2026-02-15T14:30:00.000Z'],
    ['2026-02-15T09:00:00-05:30', '2026-02-15T14:30:00.000Z'],
    ['2026-02-15T15:30:00+0100', '2026-02-15T14:30:00.000Z'],
    ['2026-02-15T15:30:00+01', '2026-02-15T14:30:00.000Z'],
    ['2026-02-15T14:30:00.25Z', '2026-02-15T14:30:00.250Z'],
    ['2026-02-15T14:30:00.123456789Z', '2026-02-15T14:30:00.123Z'],
    ['2028-02-29T00:00:00Z', '2028-02-29T00:00:00.000Z'],
    ['0099-01-01T00:00:00Z', '0099-01-01T00:00:00.000Z'],
  ])('reads %s', (text, expected) => {
    expect(parseInstant(text).toISOString()).toBe(expected);
  });

  it.each([
    ['2026-02-15T14:30:00', /has no time zone/],
    ['2026-02-15', /has no time of day/],
    ['tomorrow', /is not an ISO 8601 instant/],
    ['', /is not an ISO 8601 instant/],
    ['1771165800', /is not an ISO 8601 instant/],
    ['2026-02-30T10:00:00Z', /day 30 does not exist in 2026-02/],
    ['2027-02-29T10:00:00Z', /day 29 does not exist/],
    ['2026-13-01T10:00:00Z', /month 13 is out of range/],
    ['2026-02-15T24:00:00Z', /hour 24 is out of range/],
    ['2026-02-15T14:60:00Z', /minute 60 is out of range/],
    ['2026-02-15T14:30:60Z', /second 60 is out of range/],
    ['2026-02-15T14:30:00+25:00', /offset \+25:00 is out of range/],
    ['2026-02-15T14:30:00 Europe/Paris', /is not an ISO 8601 instant/],
  ])('refuses %j', (text, message) => {
    const error = refusal(() => parseInstant(text));
    expect(error.field).toBe('at');
    expect(error.value).toBe(text);
    expect(error.message).toMatch(message);
  });

  it('names the field it is given', () => {
    expect(refusal(() => parseInstant('soon', 'start_at')).field).toBe('start_at');
  });

  it('reads back every instant it is shown in ISO form', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('1000-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }), (date) => {
        expect(parseInstant(date.toISOString()).getTime()).toBe(date.getTime());
      }),
    );
  });
});

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1h 30m', 5_400_000],
    ['2d', 172_800_000],
    ['1w', 604_800_000],
    ['1d2h3m4s5ms', 93_784_005],
    ['1.5h', 5_400_000],
    ['0s', 0],
    ['PT5M', 300_000],
    ['pt30s', 30_000],
    ['P1DT2H', 93_600_000],
    ['P2D', 172_800_000],
    ['P1W', 604_800_000],
    ['PT0.5S', 500],
    ['PT1,5S', 1500],
    ['30', 30_000],
    ['2.5', 2500],
  ] as const)('reads %j as %d ms', (text, ms) => {
    expect(parseDuration(text, 'max_runtime')).toBe(ms);
  });

  it('reads a bare number as seconds', () => {
    expect(parseDuration(30, 'max_runtime')).toBe(30_000);
    expect(parseDuration(0.25, 'max_runtime')).toBe(250);
    expect(parseDuration(0, 'max_runtime')).toBe(0);
  });

  it.each([
    ['', /is not a duration/],
    ['soon', /is not a duration/],
    ['5 minutes', /is not a duration/],
    ['-5m', /is negative/],
    ['30m1h', /repeats or misorders units/],
    ['5m5m', /repeats or misorders units/],
    ['5x', /is not a duration/],
    ['5M', /is not a duration/],
    ['P1M', /years or months, which have no fixed length/],
    ['P1Y2D', /years or months/],
    ['PT', /is not a duration/],
    ['P', /is not a duration/],
    ['0.5ms', /finer than a millisecond/],
    ['99999999999999999d', /too long/],
  ])('refuses %j', (text, message) => {
    const error = refusal(() => parseDuration(text, 'policy.max_runtime'));
    expect(error.field).toBe('policy.max_runtime');
    expect(error.value).toBe(text);
    expect(error.message).toMatch(message);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('refuses the number %d', (value) => {
    expect(refusal(() => parseDuration(value, 'timeout')).field).toBe('timeout');
  });
});

describe('formatDuration', () => {
  it.each([
    [300_000, '5m'],
    [5_400_000, '1h30m'],
    [0, '0s'],
    [250, '250ms'],
    [1500, '1s500ms'],
    [86_400_000, '1d'],
    [93_784_005, '1d2h3m4s5ms'],
    [1_209_600_000, '14d'],
  ])('shows %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it.each([-1, 1.5, Number.NaN])('refuses %d', (ms) => {
    expect(refusal(() => formatDuration(ms)).field).toBe('duration');
  });

  it('round-trips every whole number of milliseconds', () => {
    fc.assert(
      fc.property(fc.oneof(fc.nat({ max: 10_000 }), fc.nat({ max: 100 * 86_400_000 }), fc.maxSafeNat()), (ms) => {
        expect(parseDuration(formatDuration(ms), 'duration')).toBe(ms);
      }),
    );
  });
});

describe('parseTimeOfDay', () => {
  it.each([
    ['00:00', 0],
    ['04:00', 240],
    ['09:30', 570],
    ['23:59', 1439],
    ['24:00', 1440],
  ])('reads %s as %d minutes', (text, minutes) => {
    expect(parseTimeOfDay(text, 'policy.allowed_hours.start')).toBe(minutes);
  });

  it.each([
    ['24:01', /hour 24 is out of range/],
    ['25:00', /hour 25 is out of range/],
    ['12:60', /minute 60 is out of range/],
    ['9:00', /is not a time of day HH:MM/],
    ['09:00:00', /is not a time of day HH:MM/],
    ['noon', /is not a time of day HH:MM/],
    ['', /is not a time of day HH:MM/],
  ])('refuses %j', (text, message) => {
    const error = refusal(() => parseTimeOfDay(text, 'policy.allowed_hours.end'));
    expect(error.field).toBe('policy.allowed_hours.end');
    expect(error.value).toBe(text);
    expect(error.message).toMatch(message);
  });
});
