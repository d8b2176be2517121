import type { AuditEvent } from '../domain/audit.js';
import type { CronJobDefinition } from '../domain/job.js';
import type { DeliveryOutcome, HeartbeatIteration, JobRunRecord } from '../domain/run.js';

/**
 * Typed events of a {@link CronScheduler}, `noun:verb` names with one payload object each.
 *
 * @example
 * ```ts
 * scheduler.on('run:failed', ({ job, run }) => console.error(job.name, run.error));
 * ```
 */
export interface SchedulerEvents {
  /** The loop started. */
  'scheduler:started': (payload: { instanceId: string }) => void;
  /** The loop stopped; in-flight runs were finished or interrupted. */
  'scheduler:stopped': (payload: { instanceId: string; interrupted: number }) => void;
  /** Something went wrong in the loop itself (the loop carries on). */
  'scheduler:error': (payload: { error: unknown; during: string }) => void;
  /** A job was created. */
  'job:created': (payload: { job: CronJobDefinition }) => void;
  /** A job's definition changed. */
  'job:updated': (payload: { job: CronJobDefinition }) => void;
  /** A job was deleted. */
  'job:deleted': (payload: { job: CronJobDefinition }) => void;
  /** A job was paused. */
  'job:paused': (payload: { job: CronJobDefinition }) => void;
  /** A job was resumed. */
  'job:resumed': (payload: { job: CronJobDefinition }) => void;
  /** A dead-lettered or failed job was reset to active. */
  'job:reset': (payload: { job: CronJobDefinition }) => void;
  /** A one-shot job is done. */
  'job:completed': (payload: { job: CronJobDefinition }) => void;
  /** A job reached `max_retries` consecutive failures. */
  'job:dead_lettered': (payload: { job: CronJobDefinition; run: JobRunRecord }) => void;
  /** A run was queued (scheduled fire, manual run, retry). */
  'run:queued': (payload: { run: JobRunRecord }) => void;
  /** A run started executing. */
  'run:started': (payload: { job: CronJobDefinition; run: JobRunRecord }) => void;
  /** A heartbeat iteration finished. */
  'run:iteration': (payload: { job: CronJobDefinition; run: JobRunRecord; iteration: HeartbeatIteration }) => void;
  /** A run succeeded. */
  'run:succeeded': (payload: { job: CronJobDefinition; run: JobRunRecord }) => void;
  /** A run failed (including timed out). */
  'run:failed': (payload: { job: CronJobDefinition; run: JobRunRecord }) => void;
  /** A fire was skipped (overlap, paused job). */
  'run:skipped': (payload: { job: CronJobDefinition; run: JobRunRecord }) => void;
  /** A policy gate denied a run. */
  'run:denied': (payload: { job: CronJobDefinition; run: JobRunRecord; reason: string }) => void;
  /** A run was interrupted (shutdown, overlap cancel, owner died). */
  'run:interrupted': (payload: { run: JobRunRecord }) => void;
  /** A run waits for a human decision. */
  'run:awaiting_approval': (payload: { job: CronJobDefinition; run: JobRunRecord }) => void;
  /** An approval request was decided or expired. */
  'run:approval_decided': (payload: { run: JobRunRecord; decision: 'approved' | 'denied' | 'expired' }) => void;
  /** One channel accepted a run's output. */
  'delivery:succeeded': (payload: { run: JobRunRecord; outcome: DeliveryOutcome }) => void;
  /** One channel failed to accept a run's output. */
  'delivery:failed': (payload: { run: JobRunRecord; outcome: DeliveryOutcome }) => void;
  /** An audit event was written. */
  'audit:recorded': (payload: { event: AuditEvent }) => void;
}
