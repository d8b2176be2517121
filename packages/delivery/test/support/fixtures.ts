import { newRun } from '@symbi/core';
import { makeJob as makeTestJob } from '@symbi/core/testing';
import type { Clock, ClockTimer, CronJobDefinition, JobRunRecord, Logger } from '@symbi/core';

/** The instant every fixture run is scheduled for. */
export const SCHEDULED_FOR = new Date('2026-03-01T09:00:00.000Z');

/** A complete job definition (daily-report to stdout) with the given fields changed. */
export function makeJob(overrides: Partial<CronJobDefinition> = {}): CronJobDefinition {
  return makeTestJob({
    id: 'job-1',
    name: 'daily-report',
    agentId: 'reporter-agent',
    cronExpr: '0 0 9 * * *',
    delivery: ['stdout'],
    nextRun: null,
    ...overrides,
  });
}

/** A finished run of `job` (succeeded in 1.2 s unless told otherwise). */
export function makeRun(job: CronJobDefinition, overrides: Partial<JobRunRecord> = {}): JobRunRecord {
  return {
    ...newRun(job, { scheduledFor: SCHEDULED_FOR, trigger: 'schedule' }),
    status: 'succeeded',
    startedAt: SCHEDULED_FOR,
    completedAt: new Date(SCHEDULED_FOR.getTime() + 1234),
    executionTimeMs: 1234,
    ...overrides,
  };
}

/** A clock standing at `now` whose timers fire at once, recording each wait asked for. */
export interface InstantClock extends Clock {
  /** The waits asked for, in milliseconds, in order. */
  delays: number[];
}

/** See {@link InstantClock}. */
export function instantClock(now: Date = SCHEDULED_FOR): InstantClock {
  const delays: number[] = [];
  return {
    delays,
    now: () => now.getTime(),
    monotonic: () => now.getTime(),
    setTimeout(fn: () => void, ms: number): ClockTimer {
      delays.push(ms);
      return setImmediate(fn);
    },
    clearTimeout(timer: ClockTimer): void {
      clearImmediate(timer as NodeJS.Immediate);
    },
  };
}

/** A logger that keeps every entry. */
export interface CapturingLogger extends Logger {
  /** Entries in order. */
  entries: Array<{ level: string; fields: Record<string, unknown>; message: string }>;
}

/** See {@link CapturingLogger}. */
export function capturingLogger(): CapturingLogger {
  const entries: CapturingLogger['entries'] = [];
  const at = (level: string) => (fields: Record<string, unknown>, message: string) => {
    entries.push({ level, fields, message });
  };
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Runs `promise` and returns what it rejected with; fails the test when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected the promise to reject, but it resolved');
}
