import type { AuditEvent, SecurityEventType } from '../domain/audit.js';
import type { CronJobDefinition } from '../domain/job.js';
import type { JobRunRecord } from '../domain/run.js';
import { timeOrderedId } from '../domain/uuid.js';
import type { Redactor } from '../redaction.js';

/** What an audit event is about: its job and run, who acted, and extra facts. */
export interface AuditFields {
  /** The job concerned; its name goes into `details.job_name`. */
  job?: CronJobDefinition;
  /** The run concerned; names the job when `job` is absent. */
  run?: JobRunRecord;
  /** Who acted; default `scheduler`, or `api` for a run-only event (an approval decided by a caller). */
  actor?: string;
  /** Extra facts, after `job_name`. */
  details?: Record<string, unknown>;
}

/**
 * The audit event of type `type` at `at`, with a fresh time-ordered id: the one shape every scheduler event has.
 * `redactor` masks secrets in its details.
 */
export function auditEvent(type: SecurityEventType, fields: AuditFields, at: Date, redactor: Redactor): AuditEvent {
  const { job, run } = fields;
  const details: Record<string, unknown> = {};
  const jobName = job ? job.name : run ? run.jobName : undefined;
  if (jobName !== undefined) details.job_name = redactor.text(jobName);
  // Each detail masked as it is copied: one object built, not a merge and then a masked copy.
  if (fields.details) redactor.copyInto(details, fields.details);
  return {
    // Time-ordered, like run ids: a store's index of event ids grows at its end instead of
    // rewriting pages all over it.
    id: timeOrderedId(),
    type,
    at,
    jobId: job?.id ?? run?.jobId ?? null,
    runId: run?.id ?? null,
    actor: fields.actor ?? (run && !job ? 'api' : 'scheduler'),
    details,
  };
}
