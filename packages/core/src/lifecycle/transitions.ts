/**
 * The transitions of the run life cycle that change more than one record, each decided by a pure
 * function that returns the write set a store must persist atomically: a fire (plan, catch-up,
 * overlap, cancel), a finish (count, retry, dead-letter, completion, audit) and an interruption
 * (the owner's lease lapsed). Stores run the queries and persist these write sets; they decide
 * nothing themselves, so the in-memory, SQLite and PostgreSQL stores cannot disagree on a rule.
 */
import type { AuditEvent } from '../domain/audit.js';
import type { CronJobDefinition } from '../domain/job.js';
import type { JobRunRecord } from '../domain/run.js';
import type { ClaimRequest, FinishPlan, FinishRunRequest, JobLoad, RecoverRequest, RunOutcome, RunPatch } from '../ports/job-store.js';
import { applyStatus, checkPlannedRun, checkPlannedRuns, countOutcome } from './job-accounting.js';

/** The fields of a job a fire changes. */
export type FiredJobPatch = Pick<CronJobDefinition, 'id' | 'nextRun' | 'status' | 'version' | 'updatedAt'>;

/** The fields of a job a finished run changes. */
export type FinishedJobPatch = Pick<
  CronJobDefinition,
  'id' | 'runCount' | 'failureCount' | 'consecutiveFailures' | 'lastRun' | 'status' | 'nextRun' | 'version' | 'updatedAt'
>;

/** What one due job's fire writes, in the claim's transaction. */
export interface FireWrites {
  /** The job as the fire leaves it (what a claim hands out with the job's runs). */
  job: CronJobDefinition;
  /** The fields of {@link FireWrites.job} to store. */
  jobPatch: FiredJobPatch;
  /**
   * Runs to insert, each unless a run with its id or `fireKey` exists (exactly-once per fire):
   * `scheduled` ones join the queue unowned, terminal ones (`skipped`) are records.
   */
  runs: JobRunRecord[];
  /** Set `cancelRequested` on the job's `running` runs (overlap `cancel_other`). */
  cancelRunning: boolean;
}

/** What finishing (or interrupting) a run writes beside the run itself, in the same transaction. */
export interface FinishWrites {
  /** The job as the finish leaves it; null when the job is gone. */
  job: CronJobDefinition | null;
  /** The fields of {@link FinishWrites.job} to store; null when the job is gone. */
  jobPatch: FinishedJobPatch | null;
  /** A retry to insert unless its fire has a run already; null for none. */
  retry: JobRunRecord | null;
  /** Audit events to append, in order. */
  audit: AuditEvent[];
}

/** How a finished run is judged: the parts of a `FinishRunRequest` or `RecoverRequest` a decision needs. */
export interface FinishRule {
  /** How the run counts toward its job's failure streak. */
  outcome: RunOutcome;
  /** Pure: what follows the run, given its job with the counters already updated. */
  plan(job: CronJobDefinition, run: JobRunRecord): FinishPlan;
  /** Pure: the audit events of the finish (see `FinishRunRequest.audit`). */
  audit?: ((run: JobRunRecord, job: CronJobDefinition | null) => AuditEvent[]) | undefined;
}

/**
 * Decides a due job's fire: asks the claim's plan (catch-up and overlap are decided there, see
 * `planFire`), checks that every planned run is the job's own, and returns what to write. `job` is
 * the job as stored, `load` its runs in flight. Throws (before anything is written) when the plan
 * throws or returns a run of another job.
 */
export function decideFire(job: CronJobDefinition, load: JobLoad, request: Pick<ClaimRequest, 'now' | 'plan'>): FireWrites {
  const plan = request.plan(job, load);
  checkPlannedRuns(job, plan.runs);
  const nextRun = plan.nextRun === null ? null : new Date(plan.nextRun.getTime());
  const next = { ...job, nextRun };
  applyStatus(next, plan.status, request.now);
  return {
    job: next,
    jobPatch: { id: next.id, nextRun: next.nextRun, status: next.status, version: next.version, updatedAt: next.updatedAt },
    runs: plan.runs,
    cancelRunning: plan.cancelActive === true,
  };
}

/**
 * Decides what a finished run writes beside itself: its job's counters (see `countOutcome`), then
 * the rule's plan on the counted job (retry, dead-letter, completion), then the audit events. `job`
 * is the job as stored (null when it is gone: only the audit events remain), `run` the run as
 * finished. A status change takes effect at the run's `completedAt` (else its start, else its fire
 * time). Throws, before anything is written, when the plan or the audit callback throws or the plan
 * returns a retry of another job.
 */
export function decideFinish(job: CronJobDefinition | null, run: JobRunRecord, rule: FinishRule): FinishWrites {
  if (job === null) return { job: null, jobPatch: null, retry: null, audit: rule.audit?.(run, null) ?? [] };
  return decideFinishOfCopy({ ...job }, run, rule);
}

/**
 * {@link decideFinish} given a copy of the job (never null) that the caller made for this decision
 * and gives up: the counters are updated on it, and it is the job the plan sees and the write set
 * holds. A store that copies the job it hands out anyway is spared a second copy.
 */
export function decideFinishOfCopy(copy: CronJobDefinition, run: JobRunRecord, rule: FinishRule): FinishWrites {
  const next = countOutcome(copy, run, rule.outcome);
  const plan = rule.plan(next, run);
  const retry = plan.retry ?? null;
  if (retry !== null) checkPlannedRun(next, retry);
  applyStatus(next, plan.status, run.completedAt ?? run.startedAt ?? run.scheduledFor);
  return {
    job: next,
    jobPatch: {
      id: next.id,
      runCount: next.runCount,
      failureCount: next.failureCount,
      consecutiveFailures: next.consecutiveFailures,
      lastRun: next.lastRun,
      status: next.status,
      nextRun: next.nextRun,
      version: next.version,
      updatedAt: next.updatedAt,
    },
    retry,
    audit: rule.audit?.(run, next) ?? [],
  };
}

/** The rule of a `finishRun` call. */
export function finishRule(request: FinishRunRequest): FinishRule {
  return { outcome: request.outcome, plan: (job) => request.plan(job), audit: request.audit };
}

/** The rule of a `recoverExpired` call: an interruption counts as a failure. */
export function recoveryRule(request: RecoverRequest): FinishRule {
  return { outcome: 'failure', plan: (job, run) => request.plan(job, run) };
}

/**
 * The patch that ends a `running` run whose owner is gone (it stopped renewing its lease, or was
 * declared dead: `reason` then says why): `interrupted` at `now`, keeping an error it had, and
 * without owner or lease, so its former owner learns from its next renewal that the run is lost
 * and can no longer finish it.
 */
export function interruption(run: Pick<JobRunRecord, 'error' | 'owner' | 'leaseExpiresAt'>, now: Date, reason?: string): RunPatch {
  return {
    status: 'interrupted',
    error: run.error ?? reason ?? `lease expired at ${run.leaseExpiresAt?.toISOString()}: owner ${run.owner} stopped renewing it`,
    completedAt: new Date(now.getTime()),
    owner: null,
    leaseExpiresAt: null,
  };
}
