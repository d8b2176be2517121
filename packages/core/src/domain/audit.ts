/** Security and audit event types: the spec's `SecurityEventType`, plus approval events. */
export type SecurityEventType =
  | 'CronJobCreated'
  | 'CronJobUpdated'
  | 'CronJobDeleted'
  | 'CronJobPaused'
  | 'CronJobResumed'
  | 'CronJobExecuted'
  | 'CronJobFailed'
  | 'CronJobDeadLettered'
  | 'CronJobReset'
  | 'AgentPinVerificationFailed'
  | 'ApprovalRequested'
  | 'ApprovalGranted'
  | 'ApprovalDenied'
  | 'ApprovalExpired'
  | 'HistoryPruned';

/** Every audit event type. */
export const SECURITY_EVENT_TYPES: readonly SecurityEventType[] = [
  'CronJobCreated',
  'CronJobUpdated',
  'CronJobDeleted',
  'CronJobPaused',
  'CronJobResumed',
  'CronJobExecuted',
  'CronJobFailed',
  'CronJobDeadLettered',
  'CronJobReset',
  'AgentPinVerificationFailed',
  'ApprovalRequested',
  'ApprovalGranted',
  'ApprovalDenied',
  'ApprovalExpired',
  'HistoryPruned',
];

/** One audit log entry. `details` never holds secrets. */
export interface AuditEvent {
  /** Event id (UUID). */
  id: string;
  /** What happened. */
  type: SecurityEventType;
  /** When. */
  at: Date;
  /** The job concerned, if any. */
  jobId: string | null;
  /** The run concerned, if any. */
  runId: string | null;
  /** Who did it: `scheduler`, an API key label, a CLI user, an approver. */
  actor: string;
  /** Extra facts (reason, changed fields, …). */
  details: Record<string, unknown>;
}

/** Input to append an audit event; the store assigns nothing, the caller fills every field. */
export type NewAuditEvent = AuditEvent;
