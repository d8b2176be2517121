import type { AuditEvent, SecurityEventType } from '../domain/audit.js';
import type { CronJobDefinition, JobStatus } from '../domain/job.js';
import type { JobRunRecord, RunStatus } from '../domain/run.js';
import type { SessionState } from '../domain/session.js';

/** What a store adapter can do beyond the basics. */
export interface StoreCapabilities {
  /** Several scheduler processes may share this store safely. */
  multiInstance: boolean;
  /** The store pushes {@link StoreChange} notifications across processes (`subscribe`). */
  crossProcessNotifications: boolean;
  /**
   * The store keeps a succeeded run's routine `CronJobExecuted` event as a mark on the run instead
   * of an audit row (see {@link FinishRunRequest.executedAudit}): `queryAudit` answers it with
   * `executedAuditEvent` of the run, and deleting or pruning the run first writes it as a row, so
   * the audit log answers the same as if it had been appended. Omitted: the scheduler appends the
   * event with the finish, like any other.
   */
  executedAuditFromHistory?: boolean;
}

/** Filter for {@link JobStore.listJobs}. */
export interface JobFilter {
  /** Only jobs with this status. */
  status?: JobStatus;
  /** Only jobs of this agent. */
  agentId?: string;
  /** Most jobs to return (default: all). */
  limit?: number;
  /** Jobs to skip, for paging. */
  offset?: number;
}

/** Filter for {@link JobStore.listRuns}; results are newest first (by `scheduledFor`, then `id`). */
export interface RunFilter {
  /** Only runs of this job. */
  jobId?: string;
  /** Only runs with one of these statuses. */
  status?: RunStatus | RunStatus[];
  /** Only runs of this agent. */
  agentId?: string;
  /** Only runs scheduled at or after this time. */
  since?: Date;
  /** Most runs to return (default 100). */
  limit?: number;
}

/** Filter for {@link JobStore.queryAudit}; results are newest first. */
export interface AuditFilter {
  /** Only events of this type. */
  type?: SecurityEventType;
  /** Only events about this job. */
  jobId?: string;
  /** Only events at or after this time. */
  since?: Date;
  /** Most events to return (default 100). */
  limit?: number;
}

/** How many runs of a job are in flight, as seen inside the claim transaction. */
export interface JobLoad {
  /** Runs `running`, or `scheduled` and not waiting for a slot. */
  active: number;
  /** Runs `scheduled` with `waitForSlot` (buffered by overlap `buffer_one`). */
  waiting: number;
}

/** What one due job's fire turns into, decided by the scheduler core inside the claim transaction. */
export interface FirePlan {
  /**
   * Runs to insert. A run whose `fireKey` already exists is silently not inserted (exactly-once).
   * Runs with status `scheduled` enter the queue unowned; terminal ones (e.g. `skipped`) are records.
   */
  runs: JobRunRecord[];
  /** The job's next fire time after this one; null when none remains. */
  nextRun: Date | null;
  /** New job status (e.g. `completed` for a one-shot whose missed fire was skipped); omit to keep it. */
  status?: JobStatus;
  /** Also request interruption of the job's `running` runs (overlap `cancel_other`). */
  cancelActive?: boolean;
  /** Missed fires the plan makes no run for, for the planner's caller to log and count. */
  dropped?: MissedFiresDropped;
  /**
   * Set when a fire claimed ahead of its time is left undecided until then (its overlap rule is
   * judged at its due time): the plan writes nothing (no run, `nextRun` unchanged), and the
   * planner's caller claims again at this time.
   */
  deferredUntil?: Date;
}

/**
 * Fires that get no run. Mostly missed fires (found more than `misfireThresholdMs` late, or jumped
 * over by a clock step) that a plan makes no run for: every one under `catchup: skip` (or with catch-up disabled), all but the
 * newest under `once`; under `all`, those older than `catchupWindowMs` (`window`) or than the
 * newest `MAX_CATCHUP_FIRES` (`cap`, which wins when both apply).
 */
export interface MissedFiresDropped {
  /** How many: at most `MAX_CATCHUP_FIRES` (1,000), with `more` set when there were more. */
  count: number;
  /** Set when more fires were dropped than `count` says. */
  more?: true;
  /** The oldest dropped fire. */
  oldest: Date;
  /** The newest dropped fire. */
  newest: Date;
  /**
   * Why they get no run: the job's catch-up policy (`skip`, `once`), the limits of `catchup: all`
   * (`window`, `cap`), or a change of the job made while they were due and not yet claimed
   * (`rescheduled`, `paused`; reported by the change, not by a plan).
   */
  reason: 'skip' | 'once' | 'window' | 'cap' | 'rescheduled' | 'paused';
}

/** A request to claim due work in one transaction. */
export interface ClaimRequest {
  /** The scheduler's current time: leases are judged by it and start from it. */
  now: Date;
  /**
   * Claim ahead: jobs whose `nextRun` and queued runs whose `dueAt` fall at or before this time
   * count as due (default `now`; never before `now`). The scheduler claims a little ahead of time
   * and holds such runs until they are due, so the claim's own cost does not make them late.
   */
  horizon?: Date;
  /** Instance id of the claimer. */
  owner: string;
  /** Length of the lease put on claimed runs. */
  leaseMs: number;
  /** Most runs to claim (and most due jobs to plan). */
  limit: number;
  /**
   * The agents this claimer can run. When present, only jobs of these agents are planned and only
   * their runs claimed; the others are left, untouched, to instances that know their agents.
   * Absent, every due job and run is taken.
   */
  agents?: readonly string[];
  /**
   * Pure and synchronous: for each active job with `nextRun <= horizon` (lowest `nextRun` first, found
   * by index, at most `limit`, rows locked or skipped so no two claimers plan the same job), says
   * which runs the fire makes and the job's next fire time. The store asks it through core's
   * `decideFire` and persists the write set that returns, atomically with the claim.
   */
  plan(job: CronJobDefinition, load: JobLoad): FirePlan;
}

/** A run this instance now owns, with the job as it was when claimed. */
export interface ClaimedRun {
  /** The run, now with `owner` and `leaseExpiresAt` set. */
  run: JobRunRecord;
  /** Its job. */
  job: CronJobDefinition;
}

/** Fields of a run that may change after it is created. */
export type RunPatch = Partial<
  Pick<
    JobRunRecord,
    | 'status'
    | 'input'
    | 'output'
    | 'summary'
    | 'error'
    | 'stderr'
    | 'startedAt'
    | 'completedAt'
    | 'executionTimeMs'
    | 'iterations'
    | 'deliveries'
    | 'approval'
    | 'owner'
    | 'leaseExpiresAt'
    | 'dueAt'
    | 'cancelRequested'
  >
>;

/** Conditions a run must meet for {@link JobStore.updateRun} to apply a patch. */
export interface RunGuard {
  /** The run's current owner must be this instance. */
  owner?: string;
  /** The run's current status must be one of these. */
  statusIn?: RunStatus[];
}

/** How a finished run counts toward its job's failure streak. */
export type RunOutcome = 'success' | 'failure' | 'neutral';

/** Decision taken after the job's counters were updated for a finished run. */
export interface FinishPlan {
  /** New job status (e.g. `dead_letter`, `completed`), or undefined to leave it. */
  status?: JobStatus;
  /** A retry run to enqueue, or null. */
  retry?: JobRunRecord | null;
}

/** A request to finish a run and update its job, in one transaction. */
export interface FinishRunRequest {
  /** The run to finish. */
  runId: string;
  /** Only its owner may finish it (omit to skip the check, e.g. when recovering). */
  owner?: string;
  /** The final fields: a terminal `status`, output, error, times, deliveries… */
  patch: RunPatch;
  /**
   * How it counts: `success` resets `consecutiveFailures`, `failure` increments it and
   * `failureCount`, `neutral` (skipped, denied) leaves both. Every outcome but a skipped run
   * increments `runCount` and sets `lastRun` to the run's `startedAt` (or `scheduledFor`).
   */
  outcome: RunOutcome;
  /**
   * Pure and synchronous: called with the job after its counters changed; the store asks it through
   * core's `decideFinish` and persists the write set that returns.
   */
  plan(job: CronJobDefinition): FinishPlan;
  /**
   * Pure and synchronous: the audit events of this finish (e.g. `CronJobExecuted`), called inside
   * the transaction, after `plan`, with the finished run and the job as the plan left it (null when
   * the job is gone). The store appends the events it returns in the same transaction, in order, so
   * the finish and its audit rows commit together or not at all: a refused finish (owner check
   * failed, run absent or already finished) writes none, and a throw rolls the finish back and
   * rejects `finishRun` with it.
   */
  audit?: (run: JobRunRecord, job: CronJobDefinition | null) => AuditEvent[];
  /**
   * Only to a store that declares `capabilities.executedAuditFromHistory`, and only for a run that
   * finishes `succeeded`: the run's `CronJobExecuted` event (`executedAuditEvent`) belongs to the
   * audit log. The store marks the finished run, in the same transaction, instead of appending a row.
   */
  executedAudit?: boolean;
}

/** A request to end runs whose owner stopped renewing its lease. */
export interface RecoverRequest {
  /** Current time; a `running` run whose `leaseExpiresAt < now` has lost its owner. */
  now: Date;
  /** Most runs to recover in one call. */
  limit: number;
  /**
   * Pure and synchronous: called for each run ended `interrupted`, with its job after its counters
   * changed (an interruption counts as a failure); the store asks it through core's `decideFinish`
   * (with `recoveryRule`) and persists the write set in the same transaction.
   */
  plan(job: CronJobDefinition, run: JobRunRecord): FinishPlan;
}

/** Result of {@link JobStore.renewLeases}. */
export interface LeaseRenewal {
  /** Runs whose lease was extended. */
  renewed: string[];
  /** Runs among them whose interruption was requested (`cancelRequested`). */
  cancelRequested: string[];
  /** Runs this instance no longer owns (another took over after the lease lapsed). */
  lost: string[];
}

/** A scheduler process as it registers itself with a store it shares (see `lifecycle/liveness.ts`). */
export interface InstanceRegistration {
  /** The scheduler's instance id: the owner of the runs it claims. */
  id: string;
  /** The machine and process namespace it runs in (`thisProcess().host`): pids are comparable only within one. */
  host: string;
  /** Its process id on that host. */
  pid: number;
  /** When the operating system started the process (Linux: `/proc/<pid>/stat`), to tell a reused pid; null when unknown. */
  startToken: string | null;
}

/** A registered instance as the store holds it. */
export interface InstanceRecord extends InstanceRegistration {
  /** Heartbeats so far; deleting the row only with the count read makes declaring it dead a compare-and-swap. */
  beats: number;
  /** How long ago its last heartbeat was, by the store's own clock (PostgreSQL: the server's `now()`). */
  silentMs: number;
}

/** A request to release the runs of instances declared dead (see {@link JobStore.releaseOwners}). */
export interface ReleaseOwnersRequest {
  /** The dead instances, each with why it is judged dead (kept in the interrupted runs' error). */
  owners: readonly { id: string; reason: string }[];
  /** Current time: when their runs end `interrupted`. */
  now: Date;
  /** Most runs to release in one call. */
  limit: number;
  /**
   * Pure and synchronous: what follows each run ended `interrupted` (its job's counters already
   * changed), as for {@link RecoverRequest.plan}.
   */
  plan(job: CronJobDefinition, run: JobRunRecord): FinishPlan;
}

/**
 * What history pruning deletes of one job's runs, as core decided it (`pruneTermsFor` in
 * `lifecycle/retention.ts`); the rule itself is `prunableRuns` there.
 */
export interface JobPruneTerms {
  /** The job. */
  jobId: string;
  /** A run both scheduled and finished before this instant is deleted; null for no age limit. */
  finishedBefore: Date | null;
  /** The newest this many finished runs (by `scheduledFor`, then `id`) are kept, older ones deleted; null for no count limit. */
  keepNewest: number | null;
}

/** A request to delete old history, one bounded batch at a time (see {@link JobStore.pruneHistory}). */
export interface PruneRequest {
  /** The jobs to prune, each with its terms. */
  jobs: readonly JobPruneTerms[];
  /** Statuses a deleted run may have: core passes `TERMINAL_RUN_STATUSES`. */
  statuses: readonly RunStatus[];
  /** Most runs deleted by this call, in one transaction. */
  limit: number;
  /** Count every run the terms select instead of deleting (`limit` then does not apply). */
  dryRun?: boolean;
}

/** A change other instances should react to at once rather than at the next tick. */
export interface StoreChange {
  /** What changed. */
  kind: 'job' | 'run';
  /** The id of the changed job or run. */
  id: string;
}

/**
 * Durable state of the scheduler: jobs, runs (the run queue and its history), session contexts,
 * the delivery outbox and the audit log.
 *
 * Contract (checked by `runJobStoreConformance` in `@symbi/core/testing`):
 * - Every method that changes more than one row does so in one transaction.
 * - A store decides no life-cycle rule: core decides fires, finishes, interruptions and claim terms
 *   (`decideFire`, `decideFinish`, `interruption`, `claimTerms`) and the store persists the write
 *   sets they return. Bad limits, offsets and leases are refused alike (`checkCount`, `claimTerms`).
 * - Dates round-trip with millisecond precision; strings of any content round-trip intact.
 * - Job names are unique; `createJob` with a taken name throws `ConflictError`.
 * - `claimDue` never lets two claimers own the same run at once, and never inserts a run whose
 *   `fireKey` exists already: each (job, scheduled time, attempt) runs at most once, anywhere.
 * - Deleting a job deletes its runs and session; audit events stay.
 */
export interface JobStore {
  /** What the adapter can do. */
  readonly capabilities: StoreCapabilities;

  /** Prepares the store (runs migrations). Safe to call more than once. */
  init(): Promise<void>;
  /** Releases connections. */
  close(): Promise<void>;

  /** Inserts a job. Throws `ConflictError` if the id or name is taken. */
  createJob(job: CronJobDefinition): Promise<CronJobDefinition>;
  /**
   * Inserts a job unless a job with its name exists (`INSERT … ON CONFLICT (name) DO NOTHING`),
   * atomically: of several callers racing with one name, exactly one creates it and every caller
   * gets the stored job back. Throws `ConflictError` if only its id is taken.
   */
  createJobIfAbsent(job: CronJobDefinition): Promise<{ job: CronJobDefinition; created: boolean }>;
  /**
   * Replaces a job's stored fields with `job` (all but `id`, `createdAt`, `runCount`,
   * `failureCount` and `lastRun`, which only `finishRun`/`recoverExpired` change, and `version`,
   * which it bumps). `updatedAt` is stored as given: the caller's clock decides it. With `expectedVersion`, throws `ConflictError` when the stored
   * version differs. Throws `JobNotFoundError` when absent and `ConflictError` on a taken name.
   */
  saveJob(job: CronJobDefinition, options?: { expectedVersion?: number }): Promise<CronJobDefinition>;
  /** Deletes a job with its runs and session; false when it did not exist. */
  deleteJob(id: string): Promise<boolean>;
  /** A job by id, or null. */
  getJob(id: string): Promise<CronJobDefinition | null>;
  /** A job by name, or null. */
  getJobByName(name: string): Promise<CronJobDefinition | null>;
  /** Jobs ordered by name. */
  listJobs(filter?: JobFilter): Promise<CronJobDefinition[]>;
  /** How many jobs have each status (every status present, zero when none). */
  countJobs(): Promise<Record<JobStatus, number>>;
  /**
   * The earliest time at which something may become claimable: the lowest `nextRun` of active jobs,
   * the lowest `dueAt` of unowned `scheduled` runs (a `waitForSlot` run only while its job has a
   * free slot), and the lowest lease expiry of owned
   * non-terminal runs. Null when nothing is pending. Found by index.
   */
  nextWakeAt(agents?: readonly string[]): Promise<Date | null>;

  /**
   * In one transaction: plans and advances every due job (see {@link ClaimRequest.plan}), then
   * claims up to `limit` queued runs with `status = 'scheduled'`, `dueAt <= horizon` (default
   * `now`), no live lease
   * (owner null or lease expired) and, for `waitForSlot` runs, fewer than `maxConcurrent` active
   * runs of their job; sets their owner and lease, lowest `dueAt` first.
   */
  claimDue(request: ClaimRequest): Promise<ClaimedRun[]>;
  /** Inserts a run (a manual run, a skipped record…). A duplicate `fireKey` throws `ConflictError`. */
  insertRun(run: JobRunRecord): Promise<JobRunRecord>;
  /**
   * Applies `patch` if `guard` holds; returns the updated run, or null if absent or the guard failed.
   * A finished run's status is final: a patch that sets a status applies only to a run not finished
   * yet (see `guardForPatch`), while other patches (deliveries, times) reach finished runs too.
   */
  updateRun(runId: string, patch: RunPatch, guard?: RunGuard): Promise<JobRunRecord | null>;
  /**
   * Finishes a run, updates its job and appends the finish's audit events in one transaction
   * (see {@link FinishRunRequest}).
   * Returns null when the run is absent or the owner check fails; `job` is null when the job is gone.
   */
  finishRun(request: FinishRunRequest): Promise<{ run: JobRunRecord; job: CronJobDefinition | null } | null>;
  /** Extends the lease of the listed runs still owned by `owner` to `until`. */
  renewLeases(owner: string, runIds: string[], until: Date): Promise<LeaseRenewal>;
  /**
   * Ends runs with status `running` whose lease expired as `interrupted` (their owner died) and
   * applies the plan for each; returns the runs ended. Queued `scheduled` runs with an expired
   * lease are not touched: `claimDue` simply claims them again.
   */
  recoverExpired(request: RecoverRequest): Promise<JobRunRecord[]>;
  /** A run by id, or null. */
  getRun(id: string): Promise<JobRunRecord | null>;
  /** Runs matching the filter, newest first. */
  listRuns(filter?: RunFilter): Promise<JobRunRecord[]>;
  /**
   * Deletes, in one transaction, at most `limit` runs that `prunableRuns` (core's retention rule)
   * selects by the request's terms: only runs with one of `statuses` and no `pending` delivery,
   * never a run in flight, awaiting approval or in the delivery outbox. Returns how many it
   * deleted (with `dryRun`, how many it would delete, all of them, deleting none). The request is
   * checked with `checkPruneRequest`. Optional: without it the scheduler keeps every run.
   */
  pruneHistory?(request: PruneRequest): Promise<number>;

  /**
   * Claims up to `limit` finished runs with a `pending` delivery and no live lease, lowest
   * `completedAt` first, setting owner and lease: the outbox drained after a restart.
   */
  claimPendingDeliveries(request: { now: Date; owner: string; leaseMs: number; limit: number }): Promise<ClaimedRun[]>;

  /** The stored session of a job, or null. */
  loadSession(jobId: string): Promise<SessionState | null>;
  /** Stores (replaces) the session of a job. */
  saveSession(jobId: string, state: SessionState): Promise<void>;

  /** Appends an audit event. */
  appendAudit(event: AuditEvent): Promise<void>;
  /** Audit events matching the filter, newest first. */
  queryAudit(filter?: AuditFilter): Promise<AuditEvent[]>;

  /**
   * Records (or re-records) a scheduler instance as alive, its heartbeat taken now by the store's
   * clock (`now` for a store without one of its own). Optional, with the other instance methods:
   * a store shared by no other process has no use for them, and runs of a dead owner are then
   * freed when their leases lapse.
   */
  registerInstance?(instance: InstanceRegistration, now: Date): Promise<void>;
  /** Refreshes an instance's heartbeat; false when its row is gone (another instance declared it dead). */
  beatInstance?(id: string, now: Date): Promise<boolean>;
  /** Every registered instance, with how long each has been silent by the store's clock. */
  listInstances?(now: Date): Promise<InstanceRecord[]>;
  /**
   * Deletes the rows of the listed instances whose heartbeat count is still the one given (one
   * judge wins; a beat in between saves the instance); returns the ids deleted.
   */
  forgetInstances?(instances: readonly Pick<InstanceRecord, 'id' | 'beats'>[]): Promise<string[]>;
  /** Deletes an instance's row (its graceful stop). */
  deregisterInstance?(id: string): Promise<void>;
  /**
   * In one transaction, up to `limit` runs owned by the listed owners, whatever their lease: each
   * is changed as core's `abandonment` says (a `running` run ends `interrupted` and is finished
   * through `decideFinish` with `plan`, exactly as `recoverExpired` does; a run claimed ahead or a
   * delivery claimed from the outbox is handed back to the queue). Returns the runs changed.
   */
  releaseOwners?(request: ReleaseOwnersRequest): Promise<JobRunRecord[]>;

  /**
   * Why the store cannot do its work now, e.g. `database unreachable since …: connection refused`
   * or `writes fail: disk full`; null when nothing is known to be wrong. Answers from what the
   * store saw, without a round trip. Optional: a store that cannot fail this way omits it.
   */
  trouble?(): string | null;

  /**
   * Tells this store that something changed, so other processes sharing it wake up
   * (Postgres `NOTIFY`). A no-op for single-process stores.
   */
  notify?(change: StoreChange): Promise<void>;
  /** Listens for changes made by other processes; returns an unsubscribe function. */
  subscribe?(listener: (change: StoreChange) => void): () => void;
}

