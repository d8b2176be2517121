/**
 * `@symbi/client`: `SymbiontClient`, the JavaScript SDK of the symbi scheduler HTTP API. Results are
 * the wire types of `@symbi/core` under the spec's SDK names (`Job`, `Run`, `AuditEvent`).
 *
 * @packageDocumentation
 * @module @symbi/client
 */
export { SymbiontClient, type SymbiontClientOptions } from './symbiont-client.js';
export {
  ScheduleApi,
  type ApprovalsOptions,
  type AuditOptions,
  type DecisionOptions,
  type HistoryOptions,
  type ListJobsOptions,
  type ListRunsOptions,
} from './schedule-api.js';
export type { FetchFunction } from './http-transport.js';
export { toWireJob, type CreateJobInput, type DurationInput, type HeartbeatInput, type JobFields, type PolicyInput, type UpdateJobInput, type WireJobFields } from './job-input.js';
export {
  ConflictError,
  NotFoundError,
  SymbiontApiError,
  SymbiontError,
  SymbiontNetworkError,
  UnauthorizedError,
  ValidationFailedError,
} from './errors.js';
export type {
  AuditEvent,
  Job,
  JobHeartbeat,
  JobPolicy,
  JobStatus,
  NextRun,
  PruneResult,
  Run,
  RunApproval,
  RunDelivery,
  RunIteration,
  RunStatus,
  SchedulerHealth,
  SecurityEventType,
  SessionMode,
} from './wire-types.js';
