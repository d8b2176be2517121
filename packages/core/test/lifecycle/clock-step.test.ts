import { describe, expect, it } from 'vitest';
import { CLOCK_STEP_THRESHOLD_MS, clockStep, jumpedOver, replanAfterBackwardStep, retryDueAfterBackwardStep } from '../../src/lifecycle/clock-step.js';
import { missedAtStart } from '../../src/lifecycle/fire-planner.js';
import { VirtualClock, makeJob } from '@symbi/core/testing';

const at = (iso: string): Date => new Date(iso);

describe('clockStep: a wall-clock step between two looks', () => {
  const before = { wall: at('2026-03-02T09:00:00Z').getTime(), monotonic: 5_000 };
  it.each([
    ['wall kept pace with monotonic time', 60_000, 60_000, null],
    ['drift within the threshold', 10_000, 10_000 + CLOCK_STEP_THRESHOLD_MS, null],
    ['+50 s', 1_000, 51_000, 50_000],
    ['+1 h while the process slept 10 s', 10_000, 3_610_000, 3_600_000],
    ['-3 s', 2_000, -1_000, -3_000],
    ['-1 h', 1_000, 1_000 - 3_600_000, -3_600_000],
  ])('%s', (_label, monoElapsed, wallElapsed, expected) => {
    const step = clockStep(before, { wall: before.wall + wallElapsed, monotonic: before.monotonic + monoElapsed });
    expect(step?.ms ?? null).toBe(expected);
    if (step) {
      expect(step.from.getTime()).toBe(before.wall + monoElapsed);
      expect(step.to.getTime()).toBe(before.wall + wallElapsed);
    }
  });
});

describe('jumpedOver: fires inside the wall time a forward step skipped', () => {
  const step = { from: at('2026-03-02T09:00:05Z'), to: at('2026-03-02T09:00:55Z') };
  it.each([
    ['2026-03-02T09:00:05Z', false],
    ['2026-03-02T09:00:06Z', true],
    ['2026-03-02T09:00:55Z', true],
    ['2026-03-02T09:00:56Z', false],
  ])('%s → %s', (fire, expected) => {
    expect(jumpedOver(step, at(fire))).toBe(expected);
  });
  it('no step: nothing was jumped over', () => {
    expect(jumpedOver(null, at('2026-03-02T09:00:06Z'))).toBe(false);
  });
});

describe('replanAfterBackwardStep: the next fire after a backward step', () => {
  const now = at('2026-03-02T08:00:03Z');
  it.each([
    ['every second, planned on the old timeline an hour ahead', '* * * * * *', '2026-03-02T09:00:04Z', '2026-03-02T08:00:04.000Z'],
    ['every ten seconds, 3 s back: next fire within a period stays', '*/10 * * * * *', '2026-03-02T08:00:10Z', null],
    ['every ten seconds, an hour back', '*/10 * * * * *', '2026-03-02T09:00:10Z', '2026-03-02T08:00:10.000Z'],
    ['daily at 09:00, stepped back across its fire: planned at today 09:00 again', '0 0 9 * * *', '2026-03-03T09:00:00Z', '2026-03-02T09:00:00.000Z'],
    ['daily at 09:00, next fire within a day', '0 0 9 * * *', '2026-03-02T09:00:00Z', null],
  ])('%s', (_label, cronExpr, nextRun, expected) => {
    const job = makeJob({ cronExpr, nextRun: at(nextRun) });
    expect(replanAfterBackwardStep(job, now)?.toISOString() ?? null).toBe(expected);
  });
  it('paused jobs and one-shots keep their plan', () => {
    const nextRun = at('2026-03-02T09:00:04Z');
    expect(replanAfterBackwardStep(makeJob({ cronExpr: '* * * * * *', nextRun, status: 'paused' }), now)).toBeNull();
    expect(replanAfterBackwardStep(makeJob({ cronExpr: null, at: nextRun.toISOString(), nextRun }), now)).toBeNull();
  });
});

describe('VirtualClock.stepWall', () => {
  it('steps wall time alone: monotonic time and timers do not move', async () => {
    const clock = new VirtualClock('2026-03-02T09:00:00Z');
    const fired: number[] = [];
    clock.setTimeout(() => fired.push(clock.monotonic()), 1_000);
    await clock.stepWall('1h');
    expect(clock.date().toISOString()).toBe('2026-03-02T10:00:00.000Z');
    expect(clock.monotonic()).toBe(0);
    expect(fired).toEqual([]);
    await clock.stepWall('-1h3s');
    expect(clock.date().toISOString()).toBe('2026-03-02T08:59:57.000Z');
    await clock.advance('1s');
    expect(fired).toEqual([1_000]);
    expect(clock.date().toISOString()).toBe('2026-03-02T08:59:58.000Z');
  });
});

describe('missedAtStart: a claimed schedule run found due long after its time', () => {
  const config = { misfireThresholdMs: 60_000, enableMissedRunCatchup: true };
  const now = at('2026-03-02T10:00:00Z');
  it.each([
    ['within the misfire threshold it starts', {}, { dueAt: at('2026-03-02T09:59:30Z') }, config, null],
    ['an hour late under catchup skip it is dropped', {}, {}, config, 'skipped: missed fire, 3600 s late when it could start (catchup skip)'],
    ['an hour late with catch-up disabled it is dropped', { catchup: 'all' }, {}, { ...config, enableMissedRunCatchup: false }, 'skipped: missed fire, 3600 s late when it could start (catchup skip)'],
    ['an hour late under catchup all it runs (the oldest missed fire)', { catchup: 'all' }, {}, config, null],
    [
      'an hour late under catchup once, with newer fires due, it is dropped: the newest missed fire runs instead',
      { catchup: 'once' },
      {},
      config,
      'skipped: missed fire, 3600 s late when it could start; a newer fire (2026-03-02T09:00:10.000Z) is due, and only the newest missed fire runs (catchup once)',
    ],
    ['an hour late under catchup once it runs when it is the newest missed fire', { catchup: 'once', cronExpr: '0 0 9 * * *' }, {}, config, null],
    ['a retry due long ago runs', {}, { trigger: 'retry' }, config, null],
    ['a buffer_one run may have waited for its slot: it runs', { overlap: 'buffer_one' }, {}, config, null],
  ] as const)('%s', (_label, job, run, cfg, expected) => {
    const base = { overlap: 'skip', catchup: 'skip', cronExpr: '*/10 * * * * *', at: null, timezone: 'UTC', ...job } as const;
    const stale = { trigger: 'schedule', dueAt: at('2026-03-02T09:00:00Z'), scheduledFor: at('2026-03-02T09:00:00Z'), ...run } as const;
    expect(missedAtStart(base, stale, now.getTime(), cfg)).toBe(expected);
  });
});

describe('retryDueAfterBackwardStep: a queued retry keeps its back-off as a duration', () => {
  const back = { ms: -3_600_000, to: at('2026-03-02T09:00:01Z') };
  it.each([
    ['a retry due 4 s after the old now is due 4 s after the new now', 'retry', '2026-03-02T10:00:05Z', back, '2026-03-02T09:00:05.000Z'],
    ['a retry already due stays', 'retry', '2026-03-02T09:00:00Z', back, null],
    ['a schedule run keeps its wall instant', 'schedule', '2026-03-02T10:00:05Z', back, null],
    ['a forward step changes nothing', 'retry', '2026-03-02T10:00:05Z', { ms: 3_600_000, to: at('2026-03-02T11:00:01Z') }, null],
    ['never before the new now', 'retry', '2026-03-02T09:30:00Z', back, '2026-03-02T09:00:01.000Z'],
  ] as const)('%s', (_label, trigger, dueAt, step, expected) => {
    expect(retryDueAfterBackwardStep({ trigger, status: 'scheduled', dueAt: at(dueAt) }, step)?.toISOString() ?? null).toBe(expected);
  });
});
