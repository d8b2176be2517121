import type { AuditEvent } from './audit.js';
import type { JobRunRecord } from './run.js';

/** What {@link executedAuditEvent} reads of a succeeded run: the fields its history keeps. */
export type ExecutedRunFacts = Pick<JobRunRecord, 'id' | 'jobId' | 'jobName' | 'executionTimeMs'> & { completedAt: Date };

/**
 * The routine `CronJobExecuted` event of a succeeded run, made from the run itself: its id is the
 * run's id (one such event per run), its time the run's `completedAt`, its actor `scheduler`, its
 * details the job's name, `status` and `execution_time_ms`. A store that declares
 * `capabilities.executedAuditFromHistory` keeps no row for this event: it marks the run and answers
 * `queryAudit` with this function's result, so every store returns the same event.
 */
export function executedAuditEvent(run: ExecutedRunFacts): AuditEvent {
  return {
    id: run.id,
    type: 'CronJobExecuted',
    at: new Date(run.completedAt.getTime()),
    jobId: run.jobId,
    runId: run.id,
    actor: 'scheduler',
    details: { job_name: run.jobName, status: 'succeeded', execution_time_ms: run.executionTimeMs },
  };
}

/**
 * One newest-first page of at most `limit` audit events from two newest-first lists: events stored
 * as rows and events derived from run history ({@link executedAuditEvent}). At equal times a derived
 * event comes first (it is the newer: a run's finish follows what was recorded at its start).
 */
export function mergeAuditPages(stored: readonly AuditEvent[], derived: readonly AuditEvent[], limit: number): AuditEvent[] {
  if (derived.length === 0) return stored.slice(0, limit);
  if (stored.length === 0) return derived.slice(0, limit);
  const page: AuditEvent[] = [];
  let s = 0;
  let d = 0;
  while (page.length < limit && (s < stored.length || d < derived.length)) {
    const a = stored[s];
    const b = derived[d];
    if (b === undefined || (a !== undefined && a.at.getTime() > b.at.getTime())) {
      page.push(a as AuditEvent);
      s += 1;
    } else {
      page.push(b);
      d += 1;
    }
  }
  return page;
}
