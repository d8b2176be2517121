import { RUN_STATUSES, type RunStatus } from '../domain/run.js';
import type { RunGuard, RunOutcome, RunPatch } from '../ports/job-store.js';

/**
 * The run state machine, in one place. A run is created `scheduled` (queued), or terminal
 * (`skipped`); a claimed run goes `running` or, when a policy asks, `awaiting_approval`; an
 * approved run goes back to `scheduled` to be claimed again.
 */
export const RUN_TRANSITIONS: Readonly<Record<RunStatus, readonly RunStatus[]>> = {
  scheduled: ['running', 'awaiting_approval', 'denied', 'skipped', 'interrupted'],
  awaiting_approval: ['scheduled', 'denied'],
  running: ['succeeded', 'failed', 'timed_out', 'interrupted'],
  succeeded: [],
  failed: [],
  timed_out: [],
  skipped: [],
  denied: [],
  interrupted: [],
};

/** Whether a run may move from `from` to `to`. */
export function canTransition(from: RunStatus, to: RunStatus): boolean {
  return RUN_TRANSITIONS[from].includes(to);
}

/** Statuses from which a run may still move to `to`: the guard for a store update. */
export function statusesBefore(to: RunStatus): RunStatus[] {
  return (Object.keys(RUN_TRANSITIONS) as RunStatus[]).filter((from) => canTransition(from, to));
}

/** Whether a run of `status` can still leave it (see {@link RUN_TRANSITIONS}): all but the terminal statuses. */
const unfinished = (status: RunStatus): boolean => RUN_TRANSITIONS[status].length > 0;

/**
 * The guard under which a store applies `JobStore.updateRun(runId, patch, guard)`. A finished run's
 * status is final: a patch that sets a status applies only to a run not finished yet, so a finish
 * is never undone and its success never audited twice. Other patches (deliveries, lease, times)
 * keep `guard` as given.
 */
export function guardForPatch(patch: RunPatch, guard: RunGuard = {}): RunGuard {
  if (patch.status === undefined || guard.statusIn?.every(unfinished)) return guard;
  const statusIn = (guard.statusIn ?? RUN_STATUSES).filter(unfinished);
  return { ...guard, statusIn };
}

/**
 * How a terminal status counts for the job's failure streak: timed-out and interrupted runs are
 * failures (retried, and dead-letter the job in the end); skipped and denied runs count neither way.
 */
export function outcomeOf(status: RunStatus): RunOutcome {
  if (status === 'succeeded') return 'success';
  if (status === 'failed' || status === 'timed_out' || status === 'interrupted') return 'failure';
  return 'neutral';
}
