/**
 * Transitions an operator or the scheduler's own bookkeeping asks for outside a fire or a finish:
 * pausing, resuming and resetting a job, approving or denying a run that waits for approval, and
 * handing back a run claimed ahead. Each returns what to write; `CronScheduler` writes it.
 */
import type { CronJobDefinition, JobStatus } from '../domain/job.js';
import type { JobRunRecord, RunApproval } from '../domain/run.js';
import { InvalidStateError } from '../errors.js';
import type { RunGuard, RunPatch } from '../ports/job-store.js';
import { firstFire } from './fire-planner.js';
import { statusesBefore } from './run-state.js';

/** A guarded run update: apply `patch` only while `guard` holds (see `JobStore.updateRun`). */
export interface RunUpdate {
  /** The fields to change. */
  patch: RunPatch;
  /** What must still hold when it is applied. */
  guard: RunGuard;
}

/** The job status changes an operator may ask for, with the statuses each starts from. */
export const JOB_STATUS_CHANGES = {
  pause: { from: ['active'], to: 'paused' },
  resume: { from: ['paused'], to: 'active' },
  reset: { from: ['dead_letter', 'failed'], to: 'active' },
} as const satisfies Record<string, { from: readonly JobStatus[]; to: JobStatus }>;

/** One of {@link JOB_STATUS_CHANGES}. */
export type JobStatusChange = keyof typeof JOB_STATUS_CHANGES;

/**
 * `job` after the operator's `change` at `now`, to be saved with its current version: a job made
 * active resumes from its first fire after now (fires missed meanwhile are not run), any other loses
 * its next fire, and a reset clears the failure streak. Throws `InvalidStateError` when the job's
 * status is not one the change starts from.
 */
export function changeJobStatus(job: CronJobDefinition, change: JobStatusChange, now: Date): CronJobDefinition {
  const { from, to } = JOB_STATUS_CHANGES[change];
  if (!(from as readonly JobStatus[]).includes(job.status)) {
    throw new InvalidStateError(`job ${job.name} is ${job.status}; only a job that is ${from.join(' or ')} can become ${to}`);
  }
  const next: CronJobDefinition = { ...job, status: to, updatedAt: now, nextRun: to === 'active' ? firstFire(job, now) : null };
  if (change === 'reset') next.consecutiveFailures = 0;
  return next;
}

/** An approver's decision on a run waiting for approval. */
export interface ApprovalDecision {
  /** Who decided. */
  approver: string;
  /** Why, if they said. */
  note: string | null;
}

/** Approves a run waiting for approval: it is queued again, due now, and will run without re-asking the gates. */
export function approveRun(run: Pick<JobRunRecord, 'approval'>, decision: ApprovalDecision, now: Date): RunUpdate {
  return {
    patch: { status: 'scheduled', dueAt: now, approval: decided(run, 'approved', decision, now) },
    guard: { statusIn: statusesBefore('scheduled') },
  };
}

/**
 * The finishing patch of a run whose approval was denied, or expired (`decision.approver` is then the
 * scheduler): it ends `denied` at `now`, with the reason as its error.
 */
export function denyRun(run: Pick<JobRunRecord, 'approval'>, outcome: 'denied' | 'expired', decision: ApprovalDecision, now: Date): RunPatch {
  const { approver, note } = decision;
  return {
    status: 'denied',
    completedAt: now,
    error: outcome === 'expired' ? 'approval request expired' : `denied by ${approver}${note ? `: ${note}` : ''}`,
    approval: decided(run, outcome, decision, now),
  };
}

/** Hands back a run `owner` claimed ahead and will not start (it stops, or lost the run): the queue takes it again. */
export function releaseClaim(owner: string): RunUpdate {
  return { patch: { owner: null, leaseExpiresAt: null }, guard: { owner, statusIn: ['scheduled'] } };
}

function decided(run: Pick<JobRunRecord, 'approval'>, outcome: RunApproval['decision'], decision: ApprovalDecision, now: Date): RunApproval {
  if (run.approval === null) throw new InvalidStateError('the run has no approval request to decide');
  return { ...run.approval, decision: outcome, decidedBy: decision.approver, decidedAt: now, note: decision.note };
}
