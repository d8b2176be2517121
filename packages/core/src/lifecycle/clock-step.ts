/**
 * Wall-clock steps (an NTP correction, a resumed laptop, a VM restored from a snapshot): how one is
 * recognised and what it changes. The rule, also in docs/scheduling.md:
 *
 * - A step is the wall clock moving more than {@link CLOCK_STEP_THRESHOLD_MS} away from monotonic
 *   time between two looks. Durations (leases, timeouts, intervals) are monotonic and never step.
 * - Forward: the fires the step jumped over were missed, whatever the size of the step; each job's
 *   `catchup` policy decides what runs (see `planFire`), never a burst of `schedule` fires.
 * - Backward: a job whose next fire lies beyond "now + its period" is planned again from the new
 *   now, so wildcard and interval jobs keep firing at the new wall times and nothing waits for the
 *   old timeline. A fire that already has a run (same job and scheduled time) is not run again.
 *   A queued retry keeps its back-off as a duration: its due time moves back with the clock.
 */
import type { CronJobDefinition } from '../domain/job.js';
import type { JobRunRecord } from '../domain/run.js';
import { compileSchedule } from '../time/index.js';

/** How far the wall clock may drift from monotonic time between two looks before it counts as a step. */
export const CLOCK_STEP_THRESHOLD_MS = 1000;

/** The two clocks read at one moment. */
export interface ClockReading {
  /** Wall time, epoch milliseconds. */
  wall: number;
  /** Monotonic time, milliseconds. */
  monotonic: number;
}

/** A step of the wall clock between two looks. */
export interface ClockStep {
  /** Signed size in milliseconds: positive forward, negative backward. */
  ms: number;
  /** What the wall clock would read now had it not stepped. */
  from: Date;
  /** What it reads now. */
  to: Date;
}

/**
 * The wall-clock step between two readings, or null when wall time kept pace with monotonic time
 * within `thresholdMs`.
 */
export function clockStep(before: ClockReading, after: ClockReading, thresholdMs = CLOCK_STEP_THRESHOLD_MS): ClockStep | null {
  const expected = before.wall + (after.monotonic - before.monotonic);
  const ms = after.wall - expected;
  if (Math.abs(ms) <= thresholdMs) return null;
  return { ms, from: new Date(expected), to: new Date(after.wall) };
}

/** Whether a fire scheduled at `scheduledFor` lies in the wall time a forward `step` jumped over. */
export function jumpedOver(step: Pick<ClockStep, 'from' | 'to'> | null | undefined, scheduledFor: Date): boolean {
  if (!step) return false;
  const t = scheduledFor.getTime();
  return t > step.from.getTime() && t <= step.to.getTime();
}

/**
 * After a backward step to `now`: the job's next fire planned again from `now`, when its current
 * one lies beyond "now + its period" (the gap between its next two fires after `now`); null when
 * the job keeps its plan (not active, a one-shot, no fire left, or its next fire is near enough).
 */
export function replanAfterBackwardStep(
  job: Pick<CronJobDefinition, 'cronExpr' | 'at' | 'timezone' | 'status' | 'nextRun'>,
  now: Date,
): Date | null {
  if (job.status !== 'active' || job.at !== null || job.nextRun === null) return null;
  const schedule = compileSchedule(job);
  const next = schedule.next(now);
  const after = next && schedule.next(next);
  if (!next || !after) return null;
  const period = after.getTime() - next.getTime();
  if (job.nextRun.getTime() <= now.getTime() + period) return null;
  return next;
}

/**
 * After a backward `step`: the due time of a queued retry moved back by the step (never before the
 * new now), so its back-off stays a duration rather than waiting for the old timeline; null for
 * any other run, or a retry already due.
 */
export function retryDueAfterBackwardStep(
  run: Pick<JobRunRecord, 'trigger' | 'status' | 'dueAt'>,
  step: Pick<ClockStep, 'ms' | 'to'>,
): Date | null {
  if (step.ms >= 0 || run.trigger !== 'retry' || run.status !== 'scheduled' || run.dueAt.getTime() <= step.to.getTime()) return null;
  return new Date(Math.max(step.to.getTime(), run.dueAt.getTime() + step.ms));
}
