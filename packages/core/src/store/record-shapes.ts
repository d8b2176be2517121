import type { CronJobDefinition, SchedulePolicy } from '../domain/job.js';
import type { JobRunRecord } from '../domain/run.js';

/**
 * `fields` as given, when it names every key of `T`: a missing key turns the parameter's type into
 * `never`, so adding a field to a record without listing it here fails to compile.
 */
const everyFieldOf =
  <T>() =>
  <const K extends readonly (keyof T & string)[]>(fields: K & (Exclude<keyof T, K[number]> extends never ? unknown : never)): K =>
    fields;

/** Every field of a run, in the order the in-memory store's records hold them. */
const RUN_FIELDS = everyFieldOf<JobRunRecord>()([
  'id', 'jobId', 'jobName', 'agentId', 'scheduledFor', 'dueAt', 'trigger', 'attempt', 'status', 'input', 'output', 'summary', 'error',
  'stderr', 'startedAt', 'completedAt', 'executionTimeMs', 'iterations', 'deliveries', 'approval', 'owner', 'leaseExpiresAt', 'fireKey',
  'waitForSlot', 'cancelRequested',
]);

/** Every field of a job, in the order the in-memory store's records hold them. */
const JOB_FIELDS = everyFieldOf<CronJobDefinition>()([
  'id', 'name', 'agentId', 'cronExpr', 'at', 'timezone', 'input', 'sessionMode', 'delivery', 'webhookUrl', 'webhookHeaders', 'slackChannel',
  'emailRecipients', 'policy', 'heartbeat', 'maxConcurrent', 'maxRetries', 'agentPinJwt', 'jitterSeconds', 'catchup', 'overlap', 'status',
  'historyRetentionDays', 'historyRetentionRuns', 'nextRun', 'lastRun', 'runCount', 'failureCount', 'consecutiveFailures', 'createdAt', 'updatedAt',
  'version',
]);

/** How a copier copies some fields of `T`, each by its function; the others it takes as they are. */
export type FieldCopies<T> = { [K in keyof T]?: (value: T[K]) => T[K] };

/**
 * A copier that builds one object literal naming every field of `fields`, compiled once; a field
 * of `parts` is its function's copy of the field, so a deep copy is one literal too, not a shallow
 * copy whose parts are set again. Every copy it makes has one shape, whatever shape its source had:
 * generic spreads (`{ ...run }`) of records that arrived in many shapes fall to V8's slow path
 * (about ten times slower), and the records they make multiply the shapes further, while one shape
 * keeps every reader monomorphic.
 */
function shapeCopier<T>(fields: readonly (keyof T & string)[], parts: FieldCopies<T> = {}): (record: T) => T {
  const copied = fields.filter((field) => parts[field] !== undefined);
  const value = (field: string) => (copied.includes(field as keyof T & string) ? `copy_${field}(record.${field})` : `record.${field}`);
  const body = `return (record) => ({ ${fields.map((field) => `${field}: ${value(field)}`).join(', ')} });`;
  return new Function(...copied.map((field) => `copy_${field}`), body)(...copied.map((field) => parts[field])) as (record: T) => T;
}

/**
 * A shallow copy of a run the in-memory store holds, in the one shape all of them have. Each copier
 * below reads one kind of source: fed only stored records it reads one shape, which V8 does in a few
 * nanoseconds, while a copier fed callers' records of many shapes too is about ten times slower.
 */
export const runRecord: (run: JobRunRecord) => JobRunRecord = shapeCopier(RUN_FIELDS);

/** A shallow copy of a caller's run, of any shape, in the shape of {@link runRecord}. */
export const runRecordFrom: (run: JobRunRecord) => JobRunRecord = shapeCopier(RUN_FIELDS);

/**
 * A copier of jobs, each field of `parts` copied by its function, in one shape (see
 * {@link runRecord}): that of every job the in-memory store holds and of its copies for callers.
 * Each copier made reads one kind of source.
 */
export const jobCopier = (parts: FieldCopies<CronJobDefinition>): ((job: CronJobDefinition) => CronJobDefinition) => shapeCopier(JOB_FIELDS, parts);

/** Every field of a job's policy, in the order the in-memory store's copies hold them. */
const POLICY_FIELDS = everyFieldOf<SchedulePolicy>()([
  'requireApproval', 'approver', 'approvalTimeoutMs', 'maxRuntimeMs', 'requireCapabilities', 'allowedHours', 'allowedEnvironments', 'requireAgentPin',
  'audit',
]);

/** A copier of job policies, as {@link jobCopier} is of jobs. */
export const policyCopier = (parts: FieldCopies<SchedulePolicy>): ((policy: SchedulePolicy) => SchedulePolicy) => shapeCopier(POLICY_FIELDS, parts);
