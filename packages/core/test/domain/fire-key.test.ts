import { describe, expect, it } from 'vitest';
import { fireKey } from '../../src/domain/run-factory.js';

describe('fire keys', () => {
  it('name the job, the fire time as toISOString writes it, and the attempt', () => {
    const instants = [
      0,
      Date.UTC(2026, 3, 1),
      Date.UTC(2024, 1, 29, 23, 59, 59, 999),
      Date.UTC(2000, 1, 29, 12, 0, 0, 5),
      Date.UTC(2100, 2, 1, 0, 0, 0, 50),
      Date.UTC(9999, 11, 31, 23, 59, 59, 999),
      Date.UTC(10000, 0, 1),
      Date.UTC(1969, 11, 31, 23, 59, 59, 999),
      Date.UTC(-1, 5, 1),
    ];
    for (let i = 0; i < 5000; i++) instants.push(Math.floor(Math.random() * Date.UTC(9999, 11, 31)));
    for (const ms of instants) {
      const at = new Date(ms);
      expect(fireKey('job', at, 2)).toBe(`job@${at.toISOString()}#2`);
    }
  });

  it('refuse an invalid fire time as toISOString does', () => {
    expect(() => fireKey('job', new Date(Number.NaN), 1)).toThrow(RangeError);
  });
});
