import type { CronJobDefinition } from '../domain/job.js';
import type { JobRunRecord, RunTrigger } from '../domain/run.js';
import { newRun } from '../domain/run-factory.js';
import type { FinishPlan, FirePlan, JobLoad, MissedFiresDropped, RunOutcome } from '../ports/job-store.js';
import { compileSchedule, firesBetween, type Schedule } from '../time/index.js';
import type { CronSchedulerConfig } from '../scheduler/config.js';
import { jumpedOver, type ClockStep } from './clock-step.js';

/**
 * Most missed fires one `catchup: all` plan enqueues: the newest ones; older ones are dropped and
 * reported in `FirePlan.dropped`. Also the most dropped fires one plan counts one by one.
 */
export const MAX_CATCHUP_FIRES = 1000;

/** What the planners need besides the job. */
export interface PlanContext {
  /** The scheduler's current time. */
  now: Date;
  /** Scheduler settings. */
  config: CronSchedulerConfig;
  /** Source of randomness in [0, 1) for jitter and backoff. */
  random: () => number;
  /** The wall time the latest forward clock step jumped over: fires in it were missed (see `clockStep`). */
  steppedOver?: Pick<ClockStep, 'from' | 'to'> | null;
}

/**
 * The next fire of a job strictly after `after`, by its cron expression or `at` instant, in its
 * time zone. Null when none remains.
 */
export function nextFireAfter(job: Pick<CronJobDefinition, 'cronExpr' | 'at' | 'timezone'>, after: Date): Date | null {
  return compileSchedule(job).next(after);
}

/**
 * The first fire of a newly created, resumed or reset job: its next fire strictly after `now`,
 * except that a one-shot whose instant is already past fires at once.
 */
export function firstFire(job: Pick<CronJobDefinition, 'cronExpr' | 'at' | 'timezone'>, now: Date): Date | null {
  if (job.at !== null) {
    const at = new Date(job.at);
    return at.getTime() <= now.getTime() ? now : at;
  }
  return nextFireAfter(job, now);
}

/**
 * Decides what a due job's fire turns into (called by the store inside its claim transaction).
 *
 * Time rules: a fire at most `misfireThresholdMs` late runs normally; a later one, or one in the
 * wall time a forward clock step jumped over (`ctx.steppedOver`), was missed and follows the job's
 * `catchup` policy within `catchupWindowMs`: `skip` runs nothing, `once` runs the newest missed
 * fire, `all` runs every missed fire in order (the newest {@link MAX_CATCHUP_FIRES}; the rest are
 * reported in `dropped`). Missed fires queue for the job's slot, one after another, so they never
 * meet the job's overlap rule (a stale run still queued must not make the catch-up fire skipped).
 * `next_run` advances from the scheduled time, never from the clock, so schedules do not drift;
 * after a miss it resumes at the first fire after now.
 *
 * Overlap is judged at the fire's due time: a fire claimed ahead of its time (`ctx.now` before it)
 * that its overlap rule would skip, or that would cancel the runs in flight, is left undecided
 * (`deferredUntil`, nothing written), since the run in its way may still end before then.
 */
export function planFire(job: CronJobDefinition, load: JobLoad, ctx: PlanContext): FirePlan {
  const scheduledFor = job.nextRun ?? ctx.now;
  const schedule = scheduleOf(job);
  const late = ctx.now.getTime() - scheduledFor.getTime() > ctx.config.misfireThresholdMs || jumpedOver(ctx.steppedOver, scheduledFor);
  if (!late) {
    const planned = withOverlap(job, load, fire(job, scheduledFor, 'schedule', ctx), ctx.now);
    const blocked = planned.cancelActive === true || planned.runs[0]!.status === 'skipped';
    if (blocked && scheduledFor.getTime() > ctx.now.getTime()) return { runs: [], nextRun: scheduledFor, deferredUntil: scheduledFor };
    planned.nextRun = schedule.next(scheduledFor);
    return planned;
  }
  const nextRun = schedule.next(ctx.now);
  const policy = ctx.config.enableMissedRunCatchup ? job.catchup : 'skip';
  const windowStart = new Date(Math.max(scheduledFor.getTime() - 1, ctx.now.getTime() - ctx.config.catchupWindowMs));
  let kept: Date[] = [];
  if (policy === 'once') {
    const newest = newestFireBetween(schedule, windowStart, ctx.now);
    if (newest !== null) kept = [newest];
  } else if (policy === 'all') {
    kept = firesBetween(schedule, windowStart, ctx.now, Number.MAX_SAFE_INTEGER).slice(-MAX_CATCHUP_FIRES);
  }
  const reason = policy !== 'all' ? policy : kept.length === MAX_CATCHUP_FIRES ? 'cap' : 'window';
  const lastDropped = kept.length > 0 ? new Date(kept[0]!.getTime() - 1) : ctx.now;
  const dropped = notRun(schedule, scheduledFor, lastDropped, reason);
  const plan: FirePlan = { runs: inOrder(job, load, kept.map((t) => catchupFire(job, t))), nextRun };
  if (dropped !== null) plan.dropped = dropped;
  if (kept.length === 0 && job.at !== null) plan.status = 'completed';
  return plan;
}

/**
 * The fires of `before`'s schedule that a change of the job drops: from its planned next fire, due
 * by `now` and not yet claimed, up to `now`. Null when no fire was overdue or the change (`after`)
 * keeps it. A rescheduled job starts its new schedule from now; a paused one plans nothing.
 */
export function overdueFiresDropped(
  before: CronJobDefinition,
  after: Pick<CronJobDefinition, 'nextRun'>,
  now: Date,
  reason: 'rescheduled' | 'paused',
): MissedFiresDropped | null {
  const due = before.nextRun;
  if (before.status !== 'active' || due === null || due.getTime() > now.getTime() || after.nextRun?.getTime() === due.getTime()) return null;
  return notRun(scheduleOf(before), due, now, reason);
}

/**
 * The missed fires in [`first`, `last`] that get no run (`first` is the job's planned fire, the
 * oldest missed; `last` is now, or just before the oldest fire a plan runs), or null when there
 * are none. Counted up to {@link MAX_CATCHUP_FIRES}: past that, `count` is that
 * many and `more` is set, so a long outage of a dense schedule is not walked fire by fire.
 */
function notRun(schedule: Schedule, first: Date, last: Date, reason: MissedFiresDropped['reason']): MissedFiresDropped | null {
  const counted = firesBetween(schedule, new Date(first.getTime() - 1), last, MAX_CATCHUP_FIRES + 1);
  if (counted.length === 0) return null;
  const more = counted.length > MAX_CATCHUP_FIRES;
  const newest = more ? newestFireBetween(schedule, counted[MAX_CATCHUP_FIRES - 1]!, last)! : counted[counted.length - 1]!;
  return { count: Math.min(counted.length, MAX_CATCHUP_FIRES), oldest: counted[0]!, newest, reason, ...(more ? { more } : {}) };
}

/**
 * The newest fire of `schedule` in (`after`, `until`], or null: looked for in windows ending at
 * `until` that double in length, so a dense schedule is not walked from `after`.
 */
function newestFireBetween(schedule: Schedule, after: Date, until: Date): Date | null {
  for (let span = 1000; ; span *= 2) {
    const from = Math.max(after.getTime(), until.getTime() - span);
    const fires = firesBetween(schedule, new Date(from), until, Number.MAX_SAFE_INTEGER);
    if (fires.length > 0) return fires[fires.length - 1]!;
    if (from === after.getTime()) return null;
  }
}

/** A missed fire: due at once, at its scheduled time (no jitter), so missed fires keep their order. */
function catchupFire(job: CronJobDefinition, scheduledFor: Date): JobRunRecord {
  return newRun(job, { scheduledFor, trigger: 'catchup', dueAt: scheduledFor });
}

/**
 * Missed fires as a queue: as many as the job has free slots start, the others wait for a slot,
 * each claimed in order of its scheduled time (overlap `allow_all` runs them all).
 */
function inOrder(job: CronJobDefinition, load: JobLoad, runs: JobRunRecord[]): JobRunRecord[] {
  const free = job.overlap === 'allow_all' ? runs.length : Math.max(0, job.maxConcurrent - load.active);
  return runs.map((run, i) => (i < free ? run : { ...run, waitForSlot: true }));
}

/**
 * Why a claimed `schedule` run found due long after its time must not start, or null when it may:
 * a fire handed back at shutdown, or re-queued after its claimer died, is judged again like a
 * missed fire. More than `misfireThresholdMs` late, under `catchup: skip` (or with catch-up
 * disabled) it is dropped; under `once` it is dropped when a newer fire of the job is due by now
 * (that one is the newest missed fire, which the planner runs) and runs otherwise; under `all` it
 * runs (it is the oldest of the missed fires). Runs of a job that queues for its slot (overlap
 * `buffer_one`, `cancel_other`) may have waited for the slot and always start. `nowMs` is the
 * current time, epoch ms.
 */
export function missedAtStart(
  job: Pick<CronJobDefinition, 'overlap' | 'catchup' | 'cronExpr' | 'at' | 'timezone'>,
  run: Pick<JobRunRecord, 'trigger' | 'dueAt' | 'scheduledFor'>,
  nowMs: number,
  config: Pick<CronSchedulerConfig, 'misfireThresholdMs' | 'enableMissedRunCatchup'>,
): string | null {
  if (run.trigger !== 'schedule' || job.overlap === 'buffer_one' || job.overlap === 'cancel_other') return null;
  const lateMs = nowMs - run.dueAt.getTime();
  const policy = config.enableMissedRunCatchup ? job.catchup : 'skip';
  if (lateMs <= config.misfireThresholdMs || policy === 'all') return null;
  const late = `skipped: missed fire, ${Math.round(lateMs / 1000)} s late when it could start`;
  if (policy === 'skip') return `${late} (catchup skip)`;
  const newer = nextFireAfter(job, run.scheduledFor);
  if (newer === null || newer.getTime() > nowMs) return null;
  return `${late}; a newer fire (${newer.toISOString()}) is due, and only the newest missed fire runs (catchup once)`;
}

function fire(job: CronJobDefinition, scheduledFor: Date, trigger: RunTrigger, ctx: PlanContext): JobRunRecord {
  const jitterMs = Math.floor(ctx.random() * (job.jitterSeconds ?? ctx.config.maxJitterSeconds) * 1000);
  // Without jitter the run is due at its scheduled time: one Date for both (a stored run shares it anyway).
  return newRun(job, { scheduledFor, trigger, dueAt: jitterMs === 0 ? scheduledFor : new Date(scheduledFor.getTime() + jitterMs) });
}

/**
 * Applies the job's overlap policy to the run a fire makes, given what is already in flight: runs
 * waiting for a slot (missed fires queued by catch-up, a buffered fire) take their place before a
 * new fire, so it finds the slot taken. The plan's `nextRun` is left for the caller to set.
 */
function withOverlap(job: CronJobDefinition, load: JobLoad, run: JobRunRecord, now: Date): FirePlan {
  const { active, waiting } = load;
  if (job.overlap === 'allow_all' || active + waiting < job.maxConcurrent) return { runs: [run], nextRun: null };
  if (job.overlap === 'cancel_other') return { runs: [{ ...run, waitForSlot: true }], nextRun: null, cancelActive: true };
  if (job.overlap === 'buffer_one' && waiting === 0) return { runs: [{ ...run, waitForSlot: true }], nextRun: null };
  const error = `skipped: ${active + waiting} run(s) already in flight (max_concurrent ${job.maxConcurrent}, overlap ${job.overlap})`;
  return { runs: [{ ...run, status: 'skipped', completedAt: now, error }], nextRun: null };
}

/** Most schedules {@link scheduleOf} keeps compiled. */
const MAX_CACHED_SCHEDULES = 1024;
/** Compiled schedules by their expression (`cronExpr` or `at` as written), with the zone they were compiled in. */
const schedules = new Map<string, { timezone: string; schedule: Schedule }>();

/**
 * The job's compiled schedule, kept for the next fire: compiling again (checking the zone, parsing
 * a one-shot's instant, building the cache key) cost each fire more than planning it.
 */
function scheduleOf(job: CronJobDefinition): Schedule {
  const expression = job.at ?? job.cronExpr;
  if (expression === null) return compileSchedule(job);
  const hit = schedules.get(expression);
  if (hit !== undefined && hit.timezone === job.timezone) return hit.schedule;
  const schedule = compileSchedule(job);
  if (hit === undefined && schedules.size >= MAX_CACHED_SCHEDULES) schedules.delete(schedules.keys().next().value as string);
  schedules.set(expression, { timezone: job.timezone, schedule });
  return schedule;
}

/**
 * Decides what follows a finished run (called by the store inside its finish transaction, with
 * the job's counters already updated): a failure is retried with exponential backoff and jitter
 * until `max_retries` consecutive failures, which dead-letter the job; a one-shot completes on
 * success and ends `failed` when denied. A retry waits for a free slot of its job (unless its
 * overlap is `allow_all`), so while it waits out its back-off it does not count as in flight.
 */
export function planFinish(job: CronJobDefinition, run: JobRunRecord, outcome: RunOutcome, ctx: PlanContext): FinishPlan {
  const oneShot = job.at !== null && job.nextRun === null;
  if (outcome === 'success') return oneShot && job.status === 'active' ? { status: 'completed' } : {};
  if (outcome === 'neutral') return oneShot && job.status === 'active' && run.status === 'denied' ? { status: 'failed' } : {};
  const maxRetries = job.maxRetries ?? ctx.config.defaultMaxRetries;
  if (job.consecutiveFailures >= maxRetries) return job.status === 'active' ? { status: 'dead_letter' } : {};
  if (job.status !== 'active' || run.trigger === 'manual') return {};
  return {
    retry: newRun(job, {
      scheduledFor: run.scheduledFor,
      trigger: 'retry',
      attempt: run.attempt + 1,
      input: run.input,
      dueAt: new Date(ctx.now.getTime() + retryDelayMs(job.consecutiveFailures, ctx)),
      // Waiting out its back-off, a retry is not in flight: it waits for a slot (overlap
      // `allow_all` takes none) rather than take one, so the job's fires meanwhile still run.
      waitForSlot: job.overlap !== 'allow_all',
    }),
  };
}

/** Exponential backoff with ±20 % jitter: base × 2^(failures−1), capped. */
export function retryDelayMs(consecutiveFailures: number, ctx: Pick<PlanContext, 'config' | 'random'>): number {
  const exponential = ctx.config.retryBaseDelayMs * 2 ** Math.max(0, consecutiveFailures - 1);
  const capped = Math.min(ctx.config.retryMaxDelayMs, exponential);
  return Math.round(capped * (0.8 + 0.4 * ctx.random()));
}
