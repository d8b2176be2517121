import type { AuditEvent } from '../domain/audit.js';
import { executedAuditEvent, type ExecutedRunFacts } from '../domain/run-audit.js';
import { JOB_STATUSES, type CronJobDefinition, type JobStatus } from '../domain/job.js';
import { TERMINAL_RUN_STATUSES, type JobRunRecord, type RunStatus } from '../domain/run.js';
import type { SessionState } from '../domain/session.js';
import { ConflictError, JobNotFoundError } from '../errors.js';
import type {
  AuditFilter,
  ClaimedRun,
  ClaimRequest,
  FinishRunRequest,
  JobFilter,
  JobLoad,
  JobStore,
  LeaseRenewal,
  PruneRequest,
  RecoverRequest,
  RunFilter,
  RunGuard,
  RunPatch,
  StoreCapabilities,
  StoreChange,
} from '../ports/job-store.js';
import { EntryHeap, heapEntry, IndexedHeap, isLower, type HeapEntry } from './indexed-heap.js';
import { runRecord } from './record-shapes.js';
import { copyAudit, copyJob, copyPatched, copyRun, copySession, keptOrCopied, patched, patchInto, storedAudit, storedDate, storedJob, storedRun, storedSession } from './record-copies.js';
import { claimTerms, hasFreeSlot, hasLiveLease, isDueRetry, leaseRun, loadShare, type ClaimTerms } from '../lifecycle/claim.js';
import { decideFire, decideFinishOfCopy, finishRule, interruption, recoveryRule, type FinishWrites, type FireWrites } from '../lifecycle/transitions.js';
import { checkCount } from './query-limits.js';
import { checkPruneRequest, prunableRuns } from '../lifecycle/retention.js';
import { guardForPatch } from '../lifecycle/run-state.js';

const DEFAULT_PAGE = 100;

/**
 * Per-job bookkeeping that lets claims count a job's load without looking at its history. Made when
 * the job's first run is stored, so a million jobs that never ran cost no more than their records.
 */
interface JobRuntime {
  /** Every run of the job, in no order, for cascading deletes and per-job listings (see {@link RunSlot.place}). */
  runs: RunSlot[];
  /** Runs `running`, or `scheduled` without `waitForSlot` (`JobLoad.active`). */
  active: number;
  /** Runs `scheduled` with `waitForSlot` (`JobLoad.waiting`). */
  waiting: number;
  /** Unleased `waitForSlot` runs, by `dueAt`; null until the job's first such run. */
  waitingQueue: RunIndex | null;
  /** The job as a fire of the claim under way left it, to hand out with its first run claimed (see {@link InMemoryJobStore.claimDue}). */
  fired: CronJobDefinition | null;
  /** The job's entry, so a run's slot leads to its job without a lookup. */
  entry: JobEntry;
}

/**
 * A stored job with its place in the index of due jobs and its runs' bookkeeping: one lookup of
 * its id finds all three, and a claim, fire or finish that has one looks nothing else up.
 */
interface JobEntry {
  /** The job as stored. */
  job: CronJobDefinition;
  /** Its entry in the index of due jobs while it is due (active, with a next fire), else null. */
  due: HeapEntry<JobEntry> | null;
  /** Its runs' bookkeeping; null until its first run is stored. */
  runtime: JobRuntime | null;
}

/**
 * Where the store keeps a run: its stored version, changed in place or replaced by each change, with
 * what indexes it. A call looks a run up once and passes its slot along, and a new version goes in
 * the slot rather than in the map of runs.
 */
interface RunSlot {
  /** The run as stored now. */
  run: JobRunRecord;
  /** Its entry in the one index it is in (the queue, its job's waiting queue, a lease index or an outbox), or null. */
  entry: HeapEntry<RunSlot> | null;
  /** Its job's bookkeeping, found without a lookup. */
  runtime: JobRuntime;
  /** Its position in `runtime.runs`, so it leaves that list in O(1). */
  place: number;
}

/** Takes `slot` out of `runs` (its job's list) by moving the last slot into its place. */
function removeSlot(runs: RunSlot[], slot: RunSlot): void {
  const last = runs.pop() as RunSlot;
  if (last === slot) return;
  last.place = slot.place;
  runs[slot.place] = last;
}

/** An index of runs: its entries stand for the runs' slots. */
type RunIndex = EntryHeap<RunSlot>;

const isTerminal = (run: JobRunRecord): boolean => TERMINAL_RUN_STATUSES.includes(run.status);

const isPending = (delivery: JobRunRecord['deliveries'][number]): boolean => delivery.status === 'pending';

const hasPendingDelivery = (run: JobRunRecord): boolean => run.deliveries.some(isPending);

/** Whether `job` is in the index of due jobs: active, with a next fire. */
const isDue = (job: CronJobDefinition): job is CronJobDefinition & { nextRun: Date } => job.status === 'active' && job.nextRun !== null;

/** When the lease held on `run` expires (epoch ms), or null when none is held. */
const heldLease = (run: JobRunRecord): number | null => (run.owner !== null && run.leaseExpiresAt !== null ? run.leaseExpiresAt.getTime() : null);

/** When a finished run joined the outbox, what orders the outbox. */
const outboxAt = (run: JobRunRecord): number => (run.completedAt ?? run.scheduledFor).getTime();

/** The earliest time in `index` of a key `keep` accepts (default: any), or Infinity. */
const earliestIn = <T>(index: EntryHeap<T>, keep: ((key: string) => boolean) | undefined): number =>
  (keep === undefined ? index.peek() : index.first(keep))?.at ?? Number.POSITIVE_INFINITY;

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * A succeeded run's `CronJobExecuted` event, kept as the few facts it is made of (see
 * `executedAuditEvent`) instead of as an event: it holds none of the run's output, so it may outlive
 * the run (deleted or pruned) at no cost, and it is made into the event only when read.
 */
class ExecutedMark implements ExecutedRunFacts {
  /** The event's type, for the filters events and marks share. */
  readonly type = 'CronJobExecuted';
  readonly id: string;
  readonly jobId: string;
  readonly jobName: string;
  readonly executionTimeMs: number | null;
  readonly completedAt: Date;

  /** The mark of `run` as it finished (its fields copied: a later change of the run is not the event's). */
  constructor(run: ExecutedRunFacts) {
    this.id = run.id;
    this.jobId = run.jobId;
    this.jobName = run.jobName;
    this.executionTimeMs = run.executionTimeMs;
    this.completedAt = run.completedAt;
  }

  /** When the event happened: the run's end. */
  get at(): Date {
    return this.completedAt;
  }
}

/**
 * Whether the stored `entry` goes after an event or mark (`isMark`) inserted at `at` (epoch ms): it
 * is later, or of that time and a mark while the one inserted is an event (see `#insertAudit`).
 */
function goesAfter(entry: AuditEvent | ExecutedMark, at: number, isMark: boolean): boolean {
  const time = entry.at.getTime();
  return time > at || (time === at && !isMark && entry instanceof ExecutedMark);
}

/**
 * The reference {@link JobStore}: everything in this process's memory, nothing survives a restart.
 *
 * Each method does all its work synchronously before its promise resolves, so every method is
 * atomic and several schedulers in one process may share an instance (they may race on claims and
 * never both win). Objects go in and come out as copies, so callers never alias stored state.
 *
 * Due jobs, the run queue, leases and the delivery outbox are kept in ordered indexes (binary heaps
 * keyed on `nextRun`, `dueAt`, lease expiry and `completedAt`) and each job keeps its load counters,
 * so claiming stays O(k log n) with hundreds of thousands of jobs.
 *
 * Choices where the contract leaves room, all in favour of exactly-once and crash safety:
 * - Claiming a `waitForSlot` run clears the flag: the claimed run now holds a slot and counts as
 *   active, so a second claimer cannot fill the same slot before it starts.
 * - `waitForSlot` runs whose job has no free slot are left out of {@link nextWakeAt}: they become
 *   claimable only when a run of that job ends, which is itself a change to wake on.
 * - A run ended `interrupted` by {@link recoverExpired} loses its owner and lease, so its former
 *   owner learns from {@link renewLeases} that it is lost and cannot finish it.
 * - {@link finishRun} refuses a run that is already terminal, so one run never counts twice.
 * - A plan (claim, finish or recovery) that changes a job's status bumps its `version`, so an edit
 *   saved with a stale `expectedVersion` cannot silently undo a dead-letter or completion.
 */
export class InMemoryJobStore implements JobStore {
  /** Single process only; changes are announced to listeners in this process. */
  readonly capabilities: StoreCapabilities = {
    multiInstance: false,
    crossProcessNotifications: false,
    executedAuditFromHistory: true,
  };

  #jobs = new Map<string, JobEntry>();
  #jobIdsByName = new Map<string, string>();
  /** Job ids ordered by name, rebuilt lazily after a create, delete or rename. */
  #jobIdsInNameOrder: string[] | null = null;
  #statusCounts = Object.fromEntries(JOB_STATUSES.map((status) => [status, 0])) as Record<JobStatus, number>;
  /** Active jobs with a `nextRun`, by `nextRun` (see {@link JobEntry.due}). */
  #dueJobs = new EntryHeap<JobEntry>();

  #runs = new Map<string, RunSlot>();
  /** The highest id of any run stored so far (see {@link #isFreeRunId}). */
  #highestRunId = '';
  /** The `fireKey` of every run that has one (see {@link #takeFireKey}). */
  #fireKeys = new Set<string>();
  /**
   * Ids of the runs `scheduled` or `running` (few, unlike the history): one set, so a run that
   * starts stays where it is (see {@link #inFlightSet}).
   */
  #runIdsActive = new Set<string>();
  /** Ids of the runs `awaiting_approval`, which the scheduler lists every tick. */
  #runIdsAwaiting = new Set<string>();
  /** `scheduled` runs without `waitForSlot` and without a held lease, by `dueAt`. */
  #queue: RunIndex = new EntryHeap();
  /** Jobs with a free slot and an unleased `waitForSlot` run, by that run's `dueAt`. */
  #jobsWithFreeSlot = new IndexedHeap();
  /** `scheduled` runs with a lease, by lease expiry; they return to the queue once it lapses. */
  #leasedScheduled: RunIndex = new EntryHeap();
  /** `running` runs with a lease, by lease expiry (what {@link recoverExpired} looks at). */
  #leasedRunning: RunIndex = new EntryHeap();
  /** `awaiting_approval` runs with a lease, by lease expiry. */
  #leasedAwaiting: RunIndex = new EntryHeap();
  /** Finished runs with a pending delivery and no held lease, by `completedAt`. */
  #outbox: RunIndex = new EntryHeap();
  /** Finished runs with a pending delivery and a lease, by lease expiry. */
  #leasedOutbox: RunIndex = new EntryHeap();
  /**
   * The latest `now` any claim has seen. Leases that lapsed before it are treated as released, so
   * where a run is indexed depends only on its fields and this mark, never on the order of calls.
   */
  #releasedBefore = Number.NEGATIVE_INFINITY;

  #sessions = new Map<string, SessionState>();
  /** Audit events ordered by `at`; equal times keep their insertion order. */
  #audit: (AuditEvent | ExecutedMark)[] = [];
  #listeners = new Set<(change: StoreChange) => void>();

  /** Nothing to prepare. */
  async init(): Promise<void> {}

  /** Forgets the listeners; the data stays readable. */
  async close(): Promise<void> {
    this.#listeners.clear();
  }

  /** Inserts a job. Throws `ConflictError` if the id or name is taken. */
  async createJob(job: CronJobDefinition): Promise<CronJobDefinition> {
    if (this.#jobs.has(job.id)) throw new ConflictError(`a job with id ${job.id} exists already`);
    if (this.#jobIdsByName.has(job.name)) throw new ConflictError(`a job named ${job.name} exists already`);
    const stored = storedJob(job);
    this.#replaceJob(null, stored);
    return copyJob(stored);
  }

  /** Inserts a job unless one with its name exists; answers the stored job of that name. */
  async createJobIfAbsent(job: CronJobDefinition): Promise<{ job: CronJobDefinition; created: boolean }> {
    const id = this.#jobIdsByName.get(job.name);
    const existing = id === undefined ? undefined : this.#jobs.get(id)?.job;
    if (existing !== undefined) return { job: copyJob(existing), created: false };
    return { job: await this.createJob(job), created: true };
  }

  /** Replaces a job's definition and status, keeping its id, creation time and run counters. */
  async saveJob(job: CronJobDefinition, options?: { expectedVersion?: number }): Promise<CronJobDefinition> {
    const entry = this.#jobs.get(job.id);
    if (entry === undefined) throw new JobNotFoundError(job.id);
    const stored = entry.job;
    const expected = options?.expectedVersion;
    if (expected !== undefined && stored.version !== expected) {
      throw new ConflictError(`job ${job.id} is at version ${stored.version}, not ${expected}`);
    }
    const holder = this.#jobIdsByName.get(job.name);
    if (holder !== undefined && holder !== job.id) throw new ConflictError(`a job named ${job.name} exists already`);
    const next = Object.assign(storedJob(job), {
      createdAt: stored.createdAt,
      runCount: stored.runCount,
      failureCount: stored.failureCount,
      lastRun: stored.lastRun,
      version: stored.version + 1,
    });
    this.#replaceJob(entry, next);
    return copyJob(next);
  }

  /** Deletes a job with its runs and session; audit events stay. */
  async deleteJob(id: string): Promise<boolean> {
    const entry = this.#jobs.get(id);
    if (entry === undefined) return false;
    for (const slot of [...(entry.runtime?.runs ?? [])]) this.#replaceRun(slot, null);
    this.#sessions.delete(id);
    this.#replaceJob(entry, null);
    return true;
  }

  /** A job by id, or null. */
  async getJob(id: string): Promise<CronJobDefinition | null> {
    const entry = this.#jobs.get(id);
    return entry === undefined ? null : copyJob(entry.job);
  }

  /** A job by name, or null. */
  async getJobByName(name: string): Promise<CronJobDefinition | null> {
    const id = this.#jobIdsByName.get(name);
    return id === undefined ? null : this.getJob(id);
  }

  /** Jobs ordered by name, filtered and paged. */
  async listJobs(filter: JobFilter = {}): Promise<CronJobDefinition[]> {
    const offset = checkCount('offset', filter.offset) ?? 0;
    const limit = checkCount('limit', filter.limit) ?? Number.POSITIVE_INFINITY;
    const page: CronJobDefinition[] = [];
    let skipped = 0;
    for (const id of this.#jobIdsByNameOrder()) {
      if (page.length >= limit) break;
      const { job } = this.#jobs.get(id) as JobEntry;
      if (filter.status !== undefined && job.status !== filter.status) continue;
      if (filter.agentId !== undefined && job.agentId !== filter.agentId) continue;
      if (skipped < offset) {
        skipped += 1;
        continue;
      }
      page.push(copyJob(job));
    }
    return page;
  }

  /** How many jobs have each status. */
  async countJobs(): Promise<Record<JobStatus, number>> {
    return { ...this.#statusCounts };
  }

  /**
   * The earliest time something may become claimable: an active job's `nextRun`, an unleased
   * queued run's `dueAt` (a `waitForSlot` run only while its job has a free slot), or a held lease's
   * expiry on a run that is not finished.
   */
  async nextWakeAt(agents?: readonly string[]): Promise<Date | null> {
    // Called as the loop goes to sleep and as runs end: without an agent filter it only peeks.
    const known = agents === undefined ? null : new Set(agents);
    const ofJob = known === null ? undefined : (id: string) => known.has(this.#jobs.get(id)?.job.agentId ?? '');
    const ofRun = known === null ? undefined : (id: string) => known.has(this.#runs.get(id)?.run.agentId ?? '');
    // Leases of runs in flight lapse for every instance to recover, whatever their agent.
    const earliest = Math.min(
      earliestIn(this.#dueJobs, ofJob),
      earliestIn(this.#queue, ofRun),
      earliestIn(this.#jobsWithFreeSlot, ofJob),
      earliestIn(this.#leasedScheduled, ofRun),
      earliestIn(this.#leasedRunning, undefined),
      earliestIn(this.#leasedAwaiting, undefined),
    );
    return earliest === Number.POSITIVE_INFINITY ? null : new Date(earliest);
  }

  /** Plans every due job, then claims queued runs, lowest `dueAt` first (see {@link JobStore.claimDue}). */
  async claimDue(request: ClaimRequest): Promise<ClaimedRun[]> {
    const terms = claimTerms(request);
    const horizon = terms.horizon.getTime();
    const known = terms.agents === null ? null : new Set(terms.agents);
    // Every fire is decided before anything changes, so a plan that throws leaves the store untouched.
    const fires = this.#dueJobs
      .lowestItems(terms.limit, (due) => due.at <= horizon, known === null ? undefined : (entry) => known.has(entry.job.agentId))
      .map((entry) => ({ entry, fire: decideFire(copyJob(entry.job), this.#loadOf(entry.runtime, horizon), request) }));
    // Each fire's job is the job as now stored, built on the copy its plan was given, so nothing
    // stored shares it: the first run claimed of that job hands it out instead of a fresh copy.
    // (A job without runtime has no run to claim.)
    const primed: JobRuntime[] = [];
    for (const { entry, fire } of fires) {
      const held = this.#persistFire(entry, fire);
      if (held === null) continue;
      held.fired = fire.job;
      primed.push(held);
    }
    try {
      return this.#claimQueued(terms, known);
    } finally {
      for (const runtime of primed) runtime.fired = null;
    }
  }

  /** Inserts a run. A taken id or `fireKey` throws `ConflictError`; an unknown job `JobNotFoundError`. */
  async insertRun(run: JobRunRecord): Promise<JobRunRecord> {
    const entry = this.#jobs.get(run.jobId);
    if (entry === undefined) throw new JobNotFoundError(run.jobId);
    if (!this.#isFreeRunId(run.id)) throw new ConflictError(`a run with id ${run.id} exists already`);
    const stored = storedRun(run);
    if (!this.#takeFireKey(stored.fireKey)) throw new ConflictError(`fire ${run.fireKey} has a run already`);
    this.#addRun(stored, entry.runtime ?? this.#newRuntime(entry));
    return copyRun(stored);
  }

  /** Applies `patch` if `guard` holds; null if the run is absent or the guard fails. */
  async updateRun(runId: string, patch: RunPatch, given: RunGuard = {}): Promise<JobRunRecord | null> {
    const slot = this.#runs.get(runId);
    if (slot === undefined) return null;
    const { run } = slot;
    const guard = guardForPatch(patch, given);
    if (guard.owner !== undefined && run.owner !== guard.owner) return null;
    if (guard.statusIn !== undefined && !guard.statusIn.includes(run.status)) return null;
    // Changed in place: nothing but the slot holds the stored run (see `record-copies.ts`).
    const wasInFlight = this.#unsettle(slot);
    patchInto(run, patch);
    this.#settle(slot, wasInFlight);
    return copyRun(run);
  }

  /** Finishes a run and updates its job's counters and status in one step. */
  async finishRun(request: FinishRunRequest): Promise<{ run: JobRunRecord; job: CronJobDefinition | null } | null> {
    const slot = this.#runs.get(request.runId);
    if (slot === undefined || isTerminal(slot.run)) return null;
    const { run } = slot;
    if (request.owner !== undefined && run.owner !== request.owner) return null;
    // Decided on copies before anything changes, so a throwing plan or audit callback leaves the
    // store as it was; the caller gets the copies the (pure) callbacks saw. Then the stored run is
    // finished in place (see `updateRun`).
    const result = copyPatched(run, request.patch);
    const writes = decideFinishOfCopy(copyJob(slot.runtime.entry.job), result, finishRule(request));
    const wasInFlight = this.#unsettle(slot);
    patchInto(run, request.patch);
    this.#settle(slot, wasInFlight);
    this.#persistFinish(writes, slot.runtime);
    if (request.executedAudit === true && run.status === 'succeeded' && run.completedAt !== null) {
      this.#insertAudit(new ExecutedMark(run as ExecutedRunFacts));
    }
    return { run: result, job: writes.job };
  }

  /** Extends the leases `owner` still holds; reports the ones it lost. */
  async renewLeases(owner: string, runIds: string[], until: Date): Promise<LeaseRenewal> {
    const renewal: LeaseRenewal = { renewed: [], cancelRequested: [], lost: [] };
    for (const id of runIds) {
      const slot = this.#runs.get(id);
      if (slot === undefined || slot.run.owner !== owner) {
        renewal.lost.push(id);
        continue;
      }
      const { run } = slot;
      const renewed = runRecord(run);
      renewed.leaseExpiresAt = storedDate(until.getTime());
      this.#replaceRun(slot, renewed);
      renewal.renewed.push(id);
      if (run.cancelRequested) renewal.cancelRequested.push(id);
    }
    return renewal;
  }

  /** Ends `running` runs whose lease lapsed as `interrupted`, counting each as a failure of its job. */
  async recoverExpired(request: RecoverRequest): Promise<JobRunRecord[]> {
    const now = request.now.getTime();
    const limit = checkCount('limit', request.limit) as number;
    const rule = recoveryRule(request);
    const ended: JobRunRecord[] = [];
    const slots: RunSlot[] = [];
    const decided: FinishWrites[] = [];
    // Jobs as the earlier interruptions of this call left them, so two runs of one job count twice.
    const jobs = new Map<string, CronJobDefinition>();
    // Decided first and persisted after every plan answered, so a throwing plan changes nothing.
    for (const id of this.#leasedRunning.lowest(limit, (entry) => entry.at < now)) {
      const slot = this.#runs.get(id) as RunSlot;
      const { run } = slot;
      const interrupted = patched(run, interruption(run, request.now));
      const writes = decideFinishOfCopy(copyJob(jobs.get(run.jobId) ?? slot.runtime.entry.job), copyRun(interrupted), rule);
      if (writes.job !== null) jobs.set(run.jobId, writes.job);
      ended.push(interrupted);
      slots.push(slot);
      decided.push(writes);
    }
    ended.forEach((run, i) => this.#replaceRun(slots[i] as RunSlot, run));
    decided.forEach((writes, i) => this.#persistFinish(writes, (slots[i] as RunSlot).runtime));
    return ended.map(copyRun);
  }

  /** A run by id, or null. */
  async getRun(id: string): Promise<JobRunRecord | null> {
    const slot = this.#runs.get(id);
    return slot === undefined ? null : copyRun(slot.run);
  }

  /** Runs matching the filter, newest first (by `scheduledFor`, then `id`). */
  async listRuns(filter: RunFilter = {}): Promise<JobRunRecord[]> {
    const statuses = filter.status === undefined ? null : Array.isArray(filter.status) ? filter.status : [filter.status];
    const since = filter.since?.getTime();
    const candidates = this.#runCandidates(filter.jobId, statuses);
    const limit = checkCount('limit', filter.limit) ?? DEFAULT_PAGE;
    // Keeps only the newest `limit` matches while scanning, so a page of a long history sorts little.
    const newest = new IndexedHeap();
    for (const { run } of candidates) {
      if (statuses !== null && !statuses.includes(run.status)) continue;
      if (filter.agentId !== undefined && run.agentId !== filter.agentId) continue;
      if (since !== undefined && run.scheduledFor.getTime() < since) continue;
      newest.set(run.id, run.scheduledFor.getTime(), run.id);
      if (newest.size > limit) newest.delete((newest.peek() as { key: string }).key);
    }
    const page: JobRunRecord[] = [];
    for (let top = newest.peek(); top !== undefined; top = newest.peek()) {
      newest.delete(top.key);
      page.push(copyRun((this.#runs.get(top.key) as RunSlot).run));
    }
    return page.reverse();
  }

  /**
   * The runs a listing must look at: a job's runs, or the runs in flight when only non-terminal
   * statuses are asked for (the scheduler asks for `awaiting_approval` every tick, and must not
   * scan the whole history for it), or else every run.
   */
  #runCandidates(jobId: string | undefined, statuses: RunStatus[] | null): Iterable<RunSlot> {
    if (jobId !== undefined) return this.#jobs.get(jobId)?.runtime?.runs ?? [];
    if (statuses === null || statuses.some((status) => TERMINAL_RUN_STATUSES.includes(status))) return this.#runs.values();
    const ids = [...new Set(statuses.map((status) => this.#inFlightSet(status)))].flatMap((set) => [...(set ?? [])]);
    return ids.map((id) => this.#runs.get(id) as RunSlot);
  }

  /** Deletes at most `limit` runs that core's retention rule selects, oldest first (see {@link JobStore.pruneHistory}). */
  async pruneHistory(request: PruneRequest): Promise<number> {
    const { jobs, statuses, limit, dryRun } = checkPruneRequest(request);
    let count = 0;
    for (const terms of jobs) {
      const runs = (this.#jobs.get(terms.jobId)?.runtime?.runs ?? []).map((slot) => slot.run);
      for (const run of prunableRuns(runs, terms, statuses)) {
        if (dryRun) {
          count += 1;
          continue;
        }
        if (count >= limit) return count;
        this.#replaceRun(this.#runs.get(run.id) as RunSlot, null);
        count += 1;
      }
    }
    return count;
  }

  /** Claims finished runs with a pending delivery and no held lease, oldest `completedAt` first. */
  async claimPendingDeliveries(request: { now: Date; owner: string; leaseMs: number; limit: number }): Promise<ClaimedRun[]> {
    const terms = claimTerms(request);
    const now = request.now.getTime();
    this.#releaseLapsedLeases(now);
    const claimed: ClaimedRun[] = [];
    const stillLeased: RunSlot[] = [];
    while (claimed.length < terms.limit) {
      const top = this.#outbox.peek();
      if (top === undefined) break;
      const slot = top.item;
      if (hasLiveLease(slot.run, now)) {
        this.#moveRun(slot, null, 0);
        stillLeased.push(slot);
        continue;
      }
      claimed.push(this.#lease(slot, terms));
    }
    for (const slot of stillLeased) this.#moveRun(slot, this.#outbox, outboxAt(slot.run));
    return claimed;
  }

  /** The stored session of a job, or null. */
  async loadSession(jobId: string): Promise<SessionState | null> {
    const session = this.#sessions.get(jobId);
    return session === undefined ? null : copySession(session);
  }

  /** Stores (replaces) the session of a job; throws `JobNotFoundError` for an unknown job. */
  async saveSession(jobId: string, state: SessionState): Promise<void> {
    if (!this.#jobs.has(jobId)) throw new JobNotFoundError(jobId);
    this.#sessions.set(jobId, storedSession(state));
  }

  /** Appends an audit event. */
  async appendAudit(event: AuditEvent): Promise<void> {
    this.#insertAudit(event);
  }

  /**
   * Inserts an event (a copy of it) or a mark in time order. Equal times keep their append order,
   * except that a mark stays after the events of its time (`mergeAuditPages` orders the stores
   * that keep marks apart from events so).
   */
  #insertAudit(event: AuditEvent | ExecutedMark): void {
    const at = event.at.getTime();
    const isMark = event instanceof ExecutedMark;
    const stored = isMark ? event : storedAudit(event);
    const audit = this.#audit;
    let position = audit.length;
    // Events nearly always arrive in time order, so the walk from the end is short.
    while (position > 0 && goesAfter(audit[position - 1] as AuditEvent | ExecutedMark, at, isMark)) position -= 1;
    if (position === audit.length) audit.push(stored);
    else audit.splice(position, 0, stored);
  }

  /** Audit events matching the filter, newest first. */
  async queryAudit(filter: AuditFilter = {}): Promise<AuditEvent[]> {
    const limit = checkCount('limit', filter.limit) ?? DEFAULT_PAGE;
    const since = filter.since?.getTime();
    const found: AuditEvent[] = [];
    for (let i = this.#audit.length - 1; i >= 0 && found.length < limit; i -= 1) {
      const event = this.#audit[i] as AuditEvent | ExecutedMark;
      if (since !== undefined && event.at.getTime() < since) break;
      if (filter.type !== undefined && event.type !== filter.type) continue;
      if (filter.jobId !== undefined && event.jobId !== filter.jobId) continue;
      found.push(event instanceof ExecutedMark ? executedAuditEvent(event) : copyAudit(event));
    }
    return found;
  }

  /** Calls every listener subscribed to this instance (several schedulers may share it). */
  async notify(change: StoreChange): Promise<void> {
    const failures: unknown[] = [];
    for (const listener of [...this.#listeners]) {
      try {
        listener({ ...change });
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) throw new AggregateError(failures, 'store change listeners failed');
  }

  /** Listens for {@link notify} calls on this instance; returns an unsubscribe function. */
  subscribe(listener: (change: StoreChange) => void): () => void {
    const entry = (change: StoreChange) => listener(change);
    this.#listeners.add(entry);
    return () => this.#listeners.delete(entry);
  }

  /** The bookkeeping of a job that has none yet, made as its first run is stored. */
  #newRuntime(entry: JobEntry): JobRuntime {
    const runtime: JobRuntime = { runs: [], active: 0, waiting: 0, waitingQueue: null, fired: null, entry };
    entry.runtime = runtime;
    return runtime;
  }

  #jobIdsByNameOrder(): string[] {
    if (this.#jobIdsInNameOrder === null) {
      this.#jobIdsInNameOrder = [...this.#jobIdsByName.keys()].sort(compareStrings).map((name) => this.#jobIdsByName.get(name) as string);
    }
    return this.#jobIdsInNameOrder;
  }

  /**
   * The one place a job is added (no `entry` yet), changed or removed (`after` null), so every
   * index follows.
   */
  #replaceJob(entry: JobEntry | null, after: CronJobDefinition | null): void {
    const before = entry?.job ?? null;
    if (before !== null) {
      this.#statusCounts[before.status] -= 1;
      if (after === null || after.name !== before.name) {
        this.#jobIdsByName.delete(before.name);
        this.#jobIdsInNameOrder = null;
      }
    }
    if (after === null) {
      if (entry === null) return;
      this.#jobs.delete(entry.job.id);
      if (entry.due !== null) this.#dueJobs.remove(entry.due);
      this.#jobsWithFreeSlot.delete(entry.job.id);
      return;
    }
    if (before?.name !== after.name) {
      this.#jobIdsByName.set(after.name, after.id);
      this.#jobIdsInNameOrder = null;
    }
    this.#statusCounts[after.status] += 1;
    const held = entry ?? { job: after, due: null, runtime: null };
    if (entry === null) this.#jobs.set(after.id, held);
    held.job = after;
    this.#placeDue(held);
    // Whether a waiting run of the job may be claimed depends on the job only through `maxConcurrent`.
    if (before?.maxConcurrent !== after.maxConcurrent) this.#refreshFreeSlot(held.runtime);
  }

  /** Puts the entry's job where its `nextRun` puts it in the index of due jobs, or takes it out when it is not due. */
  #placeDue(entry: JobEntry): void {
    const { job, due } = entry;
    if (isDue(job)) {
      const at = job.nextRun.getTime();
      if (due === null) {
        entry.due = heapEntry(job.id, entry, at, job.id);
        this.#dueJobs.insert(entry.due);
      } else if (due.at !== at) {
        due.at = at;
        this.#dueJobs.update(due);
      }
    } else if (due !== null) {
      this.#dueJobs.remove(due);
      entry.due = null;
    }
  }

  /**
   * Gives the stored `job` the status, next fire, version and update time of a fire's or finish's
   * `patch` in place, keeping the status counts and the index of due jobs true. A fire or finish
   * changes neither the name nor `maxConcurrent`, the job's other indexed fields, so the job keeps
   * its place in the map: no new version of 32 fields is made for each (see `record-copies.ts`).
   */
  #restate(entry: JobEntry, patch: Pick<CronJobDefinition, 'status' | 'nextRun' | 'version' | 'updatedAt'>): void {
    const { job } = entry;
    this.#statusCounts[job.status] -= 1;
    this.#statusCounts[patch.status] += 1;
    job.status = patch.status;
    job.nextRun = keptOrCopied(job.nextRun, patch.nextRun);
    job.version = patch.version;
    job.updatedAt = keptOrCopied(job.updatedAt, patch.updatedAt);
    this.#placeDue(entry);
  }

  /**
   * Stores a new run, whose id and `fireKey` (see {@link #takeFireKey}) are free, and indexes and
   * counts it in `runtime`, its job's bookkeeping.
   */
  #addRun(run: JobRunRecord, runtime: JobRuntime): void {
    const slot: RunSlot = { run, entry: null, runtime, place: runtime.runs.length };
    // A list of one is made to size, where the first push into an empty list reserves 17 places:
    // most jobs that run once (one-shot jobs) never get a second run.
    if (slot.place === 0) runtime.runs = [slot];
    else runtime.runs.push(slot);
    this.#runs.set(run.id, slot);
    if (run.id > this.#highestRunId) this.#highestRunId = run.id;
    this.#inFlightSet(run.status)?.add(run.id);
    this.#indexRun(slot);
    this.#refreshFreeSlot(runtime);
  }

  /**
   * The one place a stored run is replaced or goes, so every index and load counter follows: `after`
   * (the same run: a run's id, job and `fireKey` never change) takes the place of the slot's run,
   * or the run is deleted when it is null. A run changed in place goes through {@link #unsettle}
   * and {@link #settle} instead.
   */
  #replaceRun(slot: RunSlot, after: JobRunRecord | null): void {
    const wasInFlight = this.#unsettle(slot);
    const { run: before, runtime } = slot;
    if (after === null) {
      wasInFlight?.delete(before.id);
      this.#moveRun(slot, null, 0);
      this.#runs.delete(before.id);
      if (before.fireKey !== null) this.#fireKeys.delete(before.fireKey);
      removeSlot(runtime.runs, slot);
      this.#refreshFreeSlot(runtime);
      return;
    }
    slot.run = after;
    this.#settle(slot, wasInFlight);
  }

  /**
   * Takes the slot's run out of its job's load before it changes (then {@link #settle} counts and
   * indexes it as it is); returns the set of runs in flight it is in.
   */
  #unsettle(slot: RunSlot): Set<string> | null {
    const { run, runtime } = slot;
    this.#uncount(run, runtime);
    return this.#inFlightSet(run.status);
  }

  /** Counts and indexes the slot's run as it now is, after {@link #unsettle} found it in `wasInFlight`. */
  #settle(slot: RunSlot, wasInFlight: Set<string> | null): void {
    const { run, runtime } = slot;
    const inFlight = this.#inFlightSet(run.status);
    if (wasInFlight !== inFlight) {
      wasInFlight?.delete(run.id);
      inFlight?.add(run.id);
    }
    this.#indexRun(slot);
    this.#refreshFreeSlot(runtime);
  }

  /**
   * Whether no stored run has `id`. The ids the scheduler makes rise (they are time-ordered), so a
   * new one is above every id stored and needs no lookup; any other id is looked up.
   */
  #isFreeRunId(id: string): boolean {
    return id > this.#highestRunId || !this.#runs.has(id);
  }

  /** Whether `fireKey` was free (a run without one always is); if so it is now taken, in one lookup. */
  #takeFireKey(fireKey: string | null): boolean {
    if (fireKey === null) return true;
    const before = this.#fireKeys.size;
    return this.#fireKeys.add(fireKey).size > before;
  }

  /** Counts the slot's run in its job's load and puts it in its index. */
  #indexRun(slot: RunSlot): void {
    const { run, runtime } = slot;
    const lease = heldLease(run);
    const share = loadShare(run);
    if (share !== null) runtime[share] += 1;
    switch (run.status) {
      case 'scheduled':
        if (lease !== null && !this.#isReleased(lease)) this.#moveRun(slot, this.#leasedScheduled, lease);
        else this.#enqueue(slot);
        break;
      case 'running':
        this.#moveRun(slot, lease === null ? null : this.#leasedRunning, lease ?? 0);
        break;
      case 'awaiting_approval':
        this.#moveRun(slot, lease === null ? null : this.#leasedAwaiting, lease ?? 0);
        break;
      default:
        if (!hasPendingDelivery(run)) this.#moveRun(slot, null, 0);
        else if (lease !== null && !this.#isReleased(lease)) this.#moveRun(slot, this.#leasedOutbox, lease);
        else this.#moveRun(slot, this.#outbox, outboxAt(run));
    }
  }

  /** A job's load as a fire planned by `horizon` (epoch ms) sees it: its counts, plus its retries due by then (see `isDueRetry`). */
  #loadOf(runtime: JobRuntime | null, horizon: number): JobLoad {
    if (runtime === null) return { active: 0, waiting: 0 };
    const queue = runtime.waitingQueue;
    // The queue's entries stand for the runs' slots: no run is looked up.
    const dueRetries = queue === null ? 0 : queue.countWhile((entry) => entry.at <= horizon, (entry) => isDueRetry(entry.item.run, horizon));
    return { active: runtime.active, waiting: runtime.waiting + dueRetries };
  }

  /** Takes `run` out of its job's load (its index entry moves in {@link #indexRun}). */
  #uncount(run: JobRunRecord, runtime: JobRuntime): void {
    const share = loadShare(run);
    if (share !== null) runtime[share] -= 1;
  }

  /**
   * Puts the slot's run in `index` at `at` (its id breaks ties), or in no index when null, taking it
   * out of the index it was in. The run keeps one entry from index to index, made when it joins the first.
   */
  #moveRun(slot: RunSlot, index: RunIndex | null, at: number): void {
    const { entry } = slot;
    if (entry === null) {
      if (index === null) return;
      const { id } = slot.run;
      slot.entry = heapEntry(id, slot, at, id);
      index.insert(slot.entry);
    } else if (index === null) {
      entry.holder?.remove(entry);
      slot.entry = null;
    } else if (entry.holder === index) {
      if (entry.at === at) return;
      entry.at = at;
      index.update(entry);
    } else {
      entry.holder?.remove(entry);
      entry.at = at;
      index.insert(entry);
    }
  }

  /** The ids of the runs in flight with `status` and others (the caller filters); null for a terminal status. */
  #inFlightSet(status: RunStatus): Set<string> | null {
    if (status === 'awaiting_approval') return this.#runIdsAwaiting;
    return status === 'scheduled' || status === 'running' ? this.#runIdsActive : null;
  }

  /** Puts the slot's unleased `scheduled` run where claims look for it (the caller refreshes the job's free slot). */
  #enqueue(slot: RunSlot): void {
    const { run, runtime } = slot;
    this.#moveRun(slot, run.waitForSlot ? (runtime.waitingQueue ??= new EntryHeap()) : this.#queue, run.dueAt.getTime());
  }

  /** Keeps {@link #jobsWithFreeSlot} true to the waiting runs, load and `maxConcurrent` of the job whose bookkeeping is `runtime`. */
  #refreshFreeSlot(runtime: JobRuntime | null): void {
    // A job joins the index only once it has a waiting queue, which then stays until the job goes
    // (and takes its entry with it): a job without one, as most are, is not in it to take out.
    if (runtime?.waitingQueue == null) return;
    const next = runtime.waitingQueue.peek();
    const { job } = runtime.entry;
    if (next !== undefined && hasFreeSlot(job, runtime)) {
      this.#jobsWithFreeSlot.set(job.id, next.at, next.tie);
    } else {
      this.#jobsWithFreeSlot.delete(job.id);
    }
  }

  /** The wall clock stepped back to `now`: leases treated as lapsed at the later time are live again. */
  #holdLiveLeasesAgain(now: number): void {
    this.#releasedBefore = now;
    for (const slot of this.#runs.values()) {
      const { run } = slot;
      const lease = heldLease(run);
      if (lease === null || this.#isReleased(lease) || (run.status !== 'scheduled' && !hasPendingDelivery(run))) continue;
      this.#replaceRun(slot, run);
    }
  }

  /** Whether the earliest lease in `index` lapsed (most claims find none, and need not look further). */
  #hasLapsed(index: RunIndex): boolean {
    const top = index.peek();
    return top !== undefined && this.#isReleased(top.at);
  }

  #isReleased(leaseExpiresAt: number): boolean {
    return leaseExpiresAt < this.#releasedBefore;
  }

  /** Moves queued and outbox runs whose lease lapsed before `now` to where claims look for them. */
  #releaseLapsedLeases(now: number): void {
    if (now < this.#releasedBefore) this.#holdLiveLeasesAgain(now);
    if (now <= this.#releasedBefore) return;
    this.#releasedBefore = now;
    if (!this.#hasLapsed(this.#leasedScheduled) && !this.#hasLapsed(this.#leasedOutbox)) return;
    const lapsed = (entry: { at: number }) => this.#isReleased(entry.at);
    for (const id of this.#leasedScheduled.lowest(Number.POSITIVE_INFINITY, lapsed)) {
      this.#requeue(this.#runs.get(id) as RunSlot);
    }
    for (const id of this.#leasedOutbox.lowest(Number.POSITIVE_INFINITY, lapsed)) {
      const slot = this.#runs.get(id) as RunSlot;
      this.#moveRun(slot, this.#outbox, outboxAt(slot.run));
    }
  }

  /** Stores what a fire of the entry's job decided. Returns the job's bookkeeping now (none yet: null). */
  #persistFire(entry: JobEntry, fire: FireWrites): JobRuntime | null {
    for (const run of fire.runs) this.#insertUnlessFired(run, entry);
    if (fire.cancelRunning) {
      // Rare (overlap `cancel_other`), so the runs in flight are looked through rather than kept by job.
      for (const id of [...this.#runIdsActive]) {
        const slot = this.#runs.get(id) as RunSlot;
        const { run } = slot;
        if (run.jobId !== entry.job.id || run.status !== 'running') continue;
        const flagged = runRecord(run);
        flagged.cancelRequested = true;
        this.#replaceRun(slot, flagged);
      }
    }
    this.#restate(entry, fire.jobPatch);
    return entry.runtime;
  }

  /** Stores what a finish of a run in `runtime` (its job's bookkeeping) decided. */
  #persistFinish(writes: FinishWrites, runtime: JobRuntime): void {
    const { jobPatch } = writes;
    const { entry } = runtime;
    if (jobPatch !== null) {
      const stored = entry.job;
      stored.runCount = jobPatch.runCount;
      stored.failureCount = jobPatch.failureCount;
      stored.consecutiveFailures = jobPatch.consecutiveFailures;
      stored.lastRun = keptOrCopied(stored.lastRun, jobPatch.lastRun);
      this.#restate(entry, jobPatch);
    }
    this.#insertUnlessFired(writes.retry, entry);
    for (const event of writes.audit) this.#insertAudit(event);
  }

  /** Inserts a run planned by the scheduler for the entry's job unless its fire already has one (exactly-once). */
  #insertUnlessFired(run: JobRunRecord | null, entry: JobEntry): void {
    if (run === null || !this.#isFreeRunId(run.id)) return;
    const stored = storedRun(run);
    if (!this.#takeFireKey(stored.fireKey)) return;
    this.#addRun(stored, entry.runtime ?? this.#newRuntime(entry));
  }

  /** Claims queued runs, lowest `dueAt` first, merging the plain queue with jobs that have a free slot. */
  #claimQueued(terms: ClaimTerms, known: ReadonlySet<string> | null): ClaimedRun[] {
    const now = terms.now.getTime();
    const horizon = terms.horizon.getTime();
    this.#releaseLapsedLeases(now);
    const claimed: ClaimedRun[] = [];
    // Runs passed over: leased still as `now` sees it (released by a claimer whose clock ran ahead),
    // or of an agent this claimer cannot run. They go back to the queue afterwards.
    const passedOver: RunSlot[] = [];
    while (claimed.length < terms.limit) {
      const queued = this.#queue.peek();
      const freeSlot = this.#jobsWithFreeSlot.peek();
      const pick = queued !== undefined && (freeSlot === undefined || isLower(queued, freeSlot)) ? queued : freeSlot;
      if (pick === undefined || pick.at > horizon) break;
      const slot = pick === queued ? queued.item : this.#firstWaiting(pick.key);
      const { run } = slot;
      if (hasLiveLease(run, now) || (known !== null && !known.has(run.agentId))) {
        this.#moveRun(slot, null, 0);
        this.#refreshFreeSlot(slot.runtime);
        passedOver.push(slot);
        continue;
      }
      claimed.push(this.#lease(slot, terms));
    }
    for (const slot of passedOver) this.#requeue(slot);
    return claimed;
  }

  /** The slot of the earliest unleased `waitForSlot` run of a job in {@link #jobsWithFreeSlot} (which has one). */
  #firstWaiting(jobId: string): RunSlot {
    const waiting = ((this.#jobs.get(jobId) as JobEntry).runtime as JobRuntime).waitingQueue as RunIndex;
    return (waiting.peek() as HeapEntry<RunSlot>).item;
  }

  /** Puts the slot's unleased `scheduled` run back where claims look for it, refreshing its job's free slot. */
  #requeue(slot: RunSlot): void {
    this.#enqueue(slot);
    this.#refreshFreeSlot(slot.runtime);
  }

  /**
   * Gives the slot's run to the claimer on the claim's terms, with its job: the one a fire of this claim
   * left, if there is one (taken, so no two claimed runs share a job object), else a copy of the
   * stored job.
   */
  #lease(slot: RunSlot, terms: ClaimTerms): ClaimedRun {
    const { run, runtime } = slot;
    // Leased in place, the runs of one claim sharing one stored Date for their lease (see `storedDate`).
    const wasInFlight = this.#unsettle(slot);
    leaseRun(run, terms.owner, storedDate(terms.leaseExpiresAt.getTime()));
    this.#settle(slot, wasInFlight);
    const job = runtime.fired ?? copyJob(runtime.entry.job);
    runtime.fired = null;
    return { run: copyRun(run), job };
  }
}
