import type { CronJobDefinition } from './job.js';
import type { JobRunRecord, RunTrigger } from './run.js';
import { isoText } from '../time/instant.js';
import { timeOrderedId } from './uuid.js';

/** The last instant {@link fireKey} wrote, as epoch ms and ISO text: the runs of one claim often share their fire time. */
let isoMs = Number.NaN;
let iso = '';

/** The identity of a fire for exactly-once: the same job, scheduled time (as `toISOString` writes it) and attempt. */
export function fireKey(jobId: string, scheduledFor: Date, attempt: number): string {
  const ms = scheduledFor.getTime();
  if (ms !== isoMs) {
    iso = isoText(ms);
    isoMs = ms;
  }
  return `${jobId}@${iso}#${attempt}`;
}

/** Fields a caller chooses when creating a run; everything else starts empty. */
export interface NewRunFields {
  /** Fire time the run belongs to. */
  scheduledFor: Date;
  /** Why it exists. */
  trigger: RunTrigger;
  /** When it may start; defaults to `scheduledFor`. */
  dueAt?: Date;
  /** Attempt number; defaults to 1. */
  attempt?: number;
  /** Input; defaults to the job's input. */
  input?: string | null;
  /** Initial status; defaults to `scheduled`. */
  status?: JobRunRecord['status'];
  /** Reason for a run created terminal (skipped…). */
  error?: string | null;
  /** Wait for a concurrency slot (overlap `buffer_one`). */
  waitForSlot?: boolean;
}

/**
 * A new run record for `job`. Scheduled, catch-up and retry runs get a fire key (exactly-once per
 * job, time and attempt); manual runs get none, so each request runs.
 */
export function newRun(job: CronJobDefinition, fields: NewRunFields): JobRunRecord {
  const attempt = fields.attempt ?? 1;
  const status = fields.status ?? 'scheduled';
  const terminal = status !== 'scheduled' && status !== 'awaiting_approval';
  return {
    id: timeOrderedId(),
    jobId: job.id,
    jobName: job.name,
    agentId: job.agentId,
    scheduledFor: fields.scheduledFor,
    dueAt: fields.dueAt ?? fields.scheduledFor,
    trigger: fields.trigger,
    attempt,
    status,
    input: fields.input === undefined ? job.input : fields.input,
    output: null,
    summary: null,
    error: fields.error ?? null,
    stderr: null,
    startedAt: null,
    completedAt: terminal ? fields.dueAt ?? fields.scheduledFor : null,
    executionTimeMs: null,
    iterations: [],
    deliveries: [],
    approval: null,
    owner: null,
    leaseExpiresAt: null,
    fireKey: fields.trigger === 'manual' ? null : fireKey(job.id, fields.scheduledFor, attempt),
    waitForSlot: fields.waitForSlot ?? false,
    cancelRequested: false,
  };
}
