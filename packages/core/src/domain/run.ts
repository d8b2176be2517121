/**
 * Status of one run. See the run state machine (`run-state.ts`) for the allowed transitions.
 */
export type RunStatus =
  | 'scheduled'
  | 'awaiting_approval'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'timed_out'
  | 'skipped'
  | 'denied'
  | 'interrupted';

/** Every run status. */
export const RUN_STATUSES: readonly RunStatus[] = [
  'scheduled',
  'awaiting_approval',
  'running',
  'succeeded',
  'failed',
  'timed_out',
  'skipped',
  'denied',
  'interrupted',
];

/** Statuses a run never leaves. */
export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'timed_out', 'skipped', 'denied', 'interrupted'];

/** Why a run exists. */
export type RunTrigger = 'schedule' | 'manual' | 'catchup' | 'retry';

/** One assess → act iteration of a heartbeat run. */
export interface HeartbeatIteration {
  /** 1-based iteration number. */
  index: number;
  /** What the agent produced. */
  output: string;
  /** The agent's summary of the iteration, if any. */
  summary: string | null;
  /** Whether the agent asked to sleep after this iteration. */
  action: 'sleep' | 'continue';
  /** Wall time of the iteration. */
  durationMs: number;
}

/** Outcome of delivering a run's output to one channel (the durable outbox entry). */
export interface DeliveryOutcome {
  /** Channel name. */
  channel: string;
  /** `pending` until acknowledged or given up. */
  status: 'pending' | 'delivered' | 'failed';
  /** Attempts made so far. */
  attempts: number;
  /** Last error (never holds secrets). */
  error: string | null;
  /** When it was delivered or given up. */
  completedAt: Date | null;
}

/** A pending or decided approval request attached to a run. */
export interface RunApproval {
  /** Who was asked. */
  approver: string;
  /** Why approval is needed. */
  reason: string;
  /** The policy that asked for it. */
  policyId: string;
  /** When the request was made. */
  requestedAt: Date;
  /** When an undecided request ends the run `denied`. */
  expiresAt: Date;
  /** `approved`, `denied`, `expired`, or null while pending. */
  decision: 'approved' | 'denied' | 'expired' | null;
  /** Who decided. */
  decidedBy: string | null;
  /** When it was decided. */
  decidedAt: Date | null;
  /** Note left by whoever decided. */
  note: string | null;
}

/** One execution (or skipped fire) of a job. */
export interface JobRunRecord {
  /** Run id (UUID). */
  id: string;
  /** The job it belongs to. */
  jobId: string;
  /** The job's name when the run was created. */
  jobName: string;
  /** The agent that runs. */
  agentId: string;
  /** The fire time this run belongs to (for manual runs, the time it was asked for). */
  scheduledFor: Date;
  /** When the run may start (scheduled time plus jitter, or retry backoff). */
  dueAt: Date;
  /** Why it exists. */
  trigger: RunTrigger;
  /** 1 for the first try of a fire, 2.. for retries. */
  attempt: number;
  /** Current status. */
  status: RunStatus;
  /** Input handed to the agent. */
  input: string | null;
  /** What the agent produced (kept even when delivery fails). */
  output: string | null;
  /** The agent's summary, carried into the next run by `ephemeral_with_summary`. */
  summary: string | null;
  /** Why it failed, was denied, skipped or interrupted. */
  error: string | null;
  /** Diagnostic output of the executor (e.g. a child process's stderr). */
  stderr: string | null;
  /** When execution started. */
  startedAt: Date | null;
  /** When the run reached a terminal status. */
  completedAt: Date | null;
  /** Execution wall time. */
  executionTimeMs: number | null;
  /** Heartbeat iterations, in order (empty for plain jobs). */
  iterations: HeartbeatIteration[];
  /** Per-channel delivery outcomes. */
  deliveries: DeliveryOutcome[];
  /** Approval request, when the policy asked for one. */
  approval: RunApproval | null;
  /** Scheduler instance holding the run's lease. */
  owner: string | null;
  /** When the lease ends; an expired lease on a running run means its owner died. */
  leaseExpiresAt: Date | null;
  /** Identity of the fire for exactly-once: `jobId@scheduledFor#attempt`; null for manual runs. */
  fireKey: string | null;
  /** Waits for a free concurrency slot before it may be claimed (overlap `buffer_one`). */
  waitForSlot: boolean;
  /** Someone asked for this run to be interrupted (overlap `cancel_other`). */
  cancelRequested: boolean;
}
