/**
 * `@symbi/core`: the scheduling engine of symbi-scheduler. Domain types, cron and time-zone rules,
 * the {@link CronScheduler}, the ports a host implements (store, executor, delivery router, policy
 * gate), the in-memory store, policy gates and AgentPin. Test helpers are in
 * `@symbi/core/testing`, the store conformance suite in `@symbi/core/conformance`.
 *
 * @packageDocumentation
 * @module @symbi/core
 */

// Errors
export {
  AgentPinError,
  ConflictError,
  DeliveryError,
  ExecutionError,
  InvalidStateError,
  JobNotFoundError,
  PolicyDeniedError,
  RunNotFoundError,
  RunTimeoutError,
  SchedulerError,
  StorageFullError,
  StoreError,
  StoreUnavailableError,
  ValidationError,
  type SchedulerErrorCode,
} from './errors.js';

// Domain: jobs, runs, sessions, audit events, agents
export {
  AUDIT_LEVELS,
  BUILTIN_DELIVERY_CHANNELS,
  CATCHUP_POLICIES,
  JOB_STATUSES,
  OVERLAP_POLICIES,
  SESSION_MODES,
  type AllowedHours,
  type AuditLevel,
  type BuiltinDeliveryChannel,
  type CatchupPolicy,
  type CronJobDefinition,
  type DeliveryChannel,
  type HeartbeatConfig,
  type HeartbeatContextMode,
  type JobSpec,
  type JobSpecFields,
  type JobStatus,
  type JobUpdate,
  type OverlapPolicy,
  type SchedulePolicy,
  type SessionIsolationMode,
} from './domain/job.js';
export {
  RUN_STATUSES,
  TERMINAL_RUN_STATUSES,
  type DeliveryOutcome,
  type HeartbeatIteration,
  type JobRunRecord,
  type RunApproval,
  type RunStatus,
  type RunTrigger,
} from './domain/run.js';
export type { AgentContext, ContextMessage, SessionState } from './domain/session.js';
export { SECURITY_EVENT_TYPES, type AuditEvent, type NewAuditEvent, type SecurityEventType } from './domain/audit.js';
export { executedAuditEvent, mergeAuditPages, type ExecutedRunFacts } from './domain/run-audit.js';
export { fireKey, newRun, type NewRunFields } from './domain/run-factory.js';
export type { AgentDefinition } from './domain/agent.js';
export { hasEnvReference, interpolateEnv, literalEnvText, referencedVariables, type EnvReferencePolicy } from './env-template.js';
export { identifier, identifierProblem, isJobId, MAX_IDENTIFIER_LENGTH, UNSAFE_CHARACTERS } from './domain/identifier.js';
export { API_KEY_ROLES, type ApiKeyRole } from './domain/api-key-role.js';
export { REDACTION_MASK, Redactor } from './redaction.js';

// Ports: what a host plugs in
export type {
  AuditFilter,
  ClaimedRun,
  ClaimRequest,
  FinishPlan,
  FinishRunRequest,
  FirePlan,
  InstanceRecord,
  InstanceRegistration,
  JobFilter,
  JobLoad,
  JobPruneTerms,
  JobStore,
  LeaseRenewal,
  PruneRequest,
  RecoverRequest,
  ReleaseOwnersRequest,
  RunFilter,
  RunGuard,
  RunOutcome,
  RunPatch,
  StoreCapabilities,
  StoreChange,
} from './ports/job-store.js';
export type { AgentDescriptor, AgentExecutionRequest, AgentExecutionResult, AgentExecutor } from './ports/agent-executor.js';
export type { DeliveryContext, DeliveryRouter } from './ports/delivery-router.js';
export { SchedulePolicyDecision, type PolicyGate } from './ports/policy-gate.js';
export { sleep, systemClock, type Clock, type ClockTimer } from './ports/clock.js';
export { silentLogger, type Logger } from './ports/logger.js';

// Time rules: cron, time zones, durations
export { compileSchedule, firesBetween, type Schedule, type ScheduleSpec } from './time/schedule.js';
export { nextRuns, parseCron, type NextRunsOptions, type ParseCronOptions } from './time/cron-schedule.js';
export { validateTimezone } from './time/timezone.js';
export { parseInstant } from './time/instant.js';
export { formatDuration, parseDuration } from './time/duration.js';
export { parseTimeOfDay } from './time/time-of-day.js';

// Policy gates and AgentPin
export { isWithinAllowedHours } from './policy/allowed-hours.js';
export { SchedulePolicyGate } from './policy/schedule-policy-gate.js';
export { composeGates } from './policy/compose-gates.js';
// The AgentPin barrel lists its public names itself.
export * from './agentpin/index.js';

// The scheduler
export { defaultSchedulerConfig, resolveSchedulerConfig, type CronSchedulerConfig } from './scheduler/config.js';
export { CronScheduler, type ActorOption, type CronSchedulerOptions } from './scheduler/cron-scheduler.js';
export type { SchedulerEvents } from './scheduler/events.js';
export { createJobDefinition, DEFAULT_HEARTBEAT, DEFAULT_POLICY, sameOrigin } from './scheduler/job-definition.js';
export { SchedulerMetrics, type MetricsSnapshot, type SchedulerHealth } from './scheduler/metrics.js';
export type { PruneOutcome } from './scheduler/history-pruner.js';

// The wire format of the HTTP API, CLI and SDKs
export { auditToWire, jobSpecFromWire, jobToWire, jobUpdateFromWire, REDACTED, runToWire, type WireInputOptions } from './wire.js';
export type {
  WireAuditEvent,
  WireJob,
  WireJobHeartbeat,
  WireJobPolicy,
  WireRun,
  WireRunApproval,
  WireRunDelivery,
  WireRunIteration,
} from './wire-types.js';

// The run life cycle: every transition decided once, as write sets the stores persist
export { firstFire, MAX_CATCHUP_FIRES, planFire, type PlanContext } from './lifecycle/fire-planner.js';
export {
  decideFinish,
  decideFire,
  finishRule,
  interruption,
  recoveryRule,
  type FinishedJobPatch,
  type FinishRule,
  type FinishWrites,
  type FiredJobPatch,
  type FireWrites,
} from './lifecycle/transitions.js';
export { guardForPatch } from './lifecycle/run-state.js';
export { claimedRun, claimHorizon, claimTerms, hasFreeSlot, hasLiveLease, isDueRetry, loadShare, type ClaimTerms } from './lifecycle/claim.js';
export {
  abandonment,
  deadInstances,
  HEARTBEAT_INTERVAL_MS,
  SILENCE_LIMIT_MS,
  type Abandonment,
  type DeadInstance,
  type ProcessProbe,
} from './lifecycle/liveness.js';
export { hostnameOf, probeProcess, processStartToken, thisProcess } from './lifecycle/process-identity.js';
export { InstancePresence, type PresenceHooks } from './lifecycle/instance-presence.js';
export {
  checkPruneRequest,
  MAX_RETENTION_DAYS,
  MAX_RETENTION_RUNS,
  prunableRuns,
  pruneTermsFor,
  retentionOf,
  type RetentionPolicy,
} from './lifecycle/retention.js';
export {
  approveRun,
  changeJobStatus,
  denyRun,
  JOB_STATUS_CHANGES,
  releaseClaim,
  type ApprovalDecision,
  type JobStatusChange,
  type RunUpdate,
} from './lifecycle/manual-transitions.js';

// Stores: the in-memory store and the query limits every store checks alike
export { InMemoryJobStore } from './store/in-memory-job-store.js';
export { checkCount } from './store/query-limits.js';
export { copyRun } from './store/record-copies.js';
