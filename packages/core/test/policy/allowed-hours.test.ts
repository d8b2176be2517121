import { describe, expect, it } from 'vitest';
import { ValidationError, isWithinAllowedHours } from '@symbi/core';

const at = (iso: string) => new Date(iso);

describe('isWithinAllowedHours', () => {
  it('admits the start and refuses the end of a same-day window', () => {
    const hours = { start: '00:00', end: '04:00' };
    expect(isWithinAllowedHours(hours, at('2026-03-01T00:00:00.000Z'))).toBe(true);
    expect(isWithinAllowedHours(hours, at('2026-03-01T03:59:59.999Z'))).toBe(true);
    expect(isWithinAllowedHours(hours, at('2026-03-01T04:00:00.000Z'))).toBe(false);
    expect(isWithinAllowedHours(hours, at('2026-03-01T23:59:59.999Z'))).toBe(false);
  });

  it('crosses midnight when the end is before the start', () => {
    const hours = { start: '22:00', end: '02:00' };
    expect(isWithinAllowedHours(hours, at('2026-03-01T21:59:59.999Z'))).toBe(false);
    expect(isWithinAllowedHours(hours, at('2026-03-01T22:00:00.000Z'))).toBe(true);
    expect(isWithinAllowedHours(hours, at('2026-03-01T23:59:59.999Z'))).toBe(true);
    expect(isWithinAllowedHours(hours, at('2026-03-02T00:00:00.000Z'))).toBe(true);
    expect(isWithinAllowedHours(hours, at('2026-03-02T01:59:59.999Z'))).toBe(true);
    expect(isWithinAllowedHours(hours, at('2026-03-02T02:00:00.000Z'))).toBe(false);
    expect(isWithinAllowedHours(hours, at('2026-03-02T12:00:00.000Z'))).toBe(false);
  });

  it('treats 00:00-24:00 as the whole day', () => {
    const hours = { start: '00:00', end: '24:00' };
    for (const time of ['00:00:00.000', '06:30:00.000', '12:00:00.000', '23:59:59.999']) {
      expect(isWithinAllowedHours(hours, at(`2026-03-01T${time}Z`))).toBe(true);
    }
  });

  it('treats a window whose start equals its end as empty', () => {
    const hours = { start: '09:00', end: '09:00' };
    expect(isWithinAllowedHours(hours, at('2026-03-01T09:00:00Z'))).toBe(false);
    expect(isWithinAllowedHours(hours, at('2026-03-01T08:59:59Z'))).toBe(false);
  });

  it('reads the instant in UTC whatever offset it was written with', () => {
    const hours = { start: '00:00', end: '04:00' };
    // 05:30 in Berlin (+02:00 in summer) is 03:30 UTC.
    expect(isWithinAllowedHours(hours, at('2026-07-01T05:30:00+02:00'))).toBe(true);
    // 01:00 in New York (-04:00) is 05:00 UTC.
    expect(isWithinAllowedHours(hours, at('2026-07-01T01:00:00-04:00'))).toBe(false);
  });

  it('reports a malformed time with the field it came from', () => {
    const check = (hours: { start: string; end: string }) => () => isWithinAllowedHours(hours, at('2026-03-01T00:00:00Z'));
    expect(check({ start: '25:00', end: '04:00' })).toThrowError(ValidationError);
    expect(check({ start: '25:00', end: '04:00' })).toThrowError(/policy\.allowed_hours\.start/);
    expect(check({ start: '00:00', end: 'noon' })).toThrowError(/policy\.allowed_hours\.end/);
  });
});
