import { describe, expect, it } from 'vitest';
import { formatDuration, truncateOutput } from '../src/run-summary.js';

describe('formatDuration', () => {
  it.each([
    [null, '—'],
    [0, '0 ms'],
    [850, '850 ms'],
    [999.6, '1.0 s'],
    [1234, '1.2 s'],
    [59_960, '1 min'],
    [245_000, '4 min 5 s'],
    [3_600_000, '60 min'],
  ])('%s ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('truncateOutput', () => {
  it('leaves short text alone', () => {
    expect(truncateOutput('short', 10)).toBe('short');
  });

  it('keeps the beginning within the limit and counts what it dropped', () => {
    const text = 'a'.repeat(1000);
    const cut = truncateOutput(text, 200);
    const kept = cut.indexOf('\n');
    expect(cut.length).toBeLessThanOrEqual(200);
    expect(cut).toContain(`… (${1000 - kept} more characters`);
  });
});
