import type {
  AuditEvent,
  AuditFilter,
  ClaimedRun,
  ClaimRequest,
  CronJobDefinition,
  FinishRunRequest,
  JobFilter,
  JobRunRecord,
  JobStatus,
  JobStore,
  LeaseRenewal,
  RecoverRequest,
  RunFilter,
  RunGuard,
  RunPatch,
  SessionState,
  StoreChange,
} from '@symbi/core';

/**
 * A view of a store through which a scheduler claims one run and nothing else: no due fires of
 * other jobs, no recovery of other processes' runs, no outbox. It lets a command execute one
 * manual run with the full run pipeline (gates, session, max_runtime, delivery, audit) without
 * becoming a scheduler of the whole store. Everything else passes through.
 *
 * The run is inserted already leased to this process (see {@link SingleRunStore.enqueue}), so a
 * scheduler sharing the store never claims it as well.
 */
export class SingleRunStore implements JobStore {
  readonly #inner: JobStore;
  #pending: ClaimedRun | null = null;

  /** A view of `inner`. */
  constructor(inner: JobStore) {
    this.#inner = inner;
  }

  get capabilities() {
    return this.#inner.capabilities;
  }

  /**
   * Inserts `run` leased to `owner` for `leaseMs` and makes it the one run the next `claimDue`
   * hands out.
   */
  async enqueue(job: CronJobDefinition, run: JobRunRecord, owner: string, leaseMs: number): Promise<JobRunRecord> {
    const leased = await this.#inner.insertRun({ ...run, owner, leaseExpiresAt: new Date(Date.now() + leaseMs) });
    this.#pending = { run: leased, job };
    return leased;
  }

  async claimDue(_request: ClaimRequest): Promise<ClaimedRun[]> {
    const pending = this.#pending;
    this.#pending = null;
    return pending ? [pending] : [];
  }

  async recoverExpired(_request: RecoverRequest): Promise<JobRunRecord[]> {
    return [];
  }

  async claimPendingDeliveries(): Promise<ClaimedRun[]> {
    return [];
  }

  async nextWakeAt(): Promise<Date | null> {
    return this.#pending ? new Date() : null;
  }

  init(): Promise<void> {
    return this.#inner.init();
  }
  close(): Promise<void> {
    return this.#inner.close();
  }
  createJob(job: CronJobDefinition): Promise<CronJobDefinition> {
    return this.#inner.createJob(job);
  }
  createJobIfAbsent(job: CronJobDefinition): Promise<{ job: CronJobDefinition; created: boolean }> {
    return this.#inner.createJobIfAbsent(job);
  }
  saveJob(job: CronJobDefinition, options?: { expectedVersion?: number }): Promise<CronJobDefinition> {
    return this.#inner.saveJob(job, options);
  }
  deleteJob(id: string): Promise<boolean> {
    return this.#inner.deleteJob(id);
  }
  getJob(id: string): Promise<CronJobDefinition | null> {
    return this.#inner.getJob(id);
  }
  getJobByName(name: string): Promise<CronJobDefinition | null> {
    return this.#inner.getJobByName(name);
  }
  listJobs(filter?: JobFilter): Promise<CronJobDefinition[]> {
    return this.#inner.listJobs(filter);
  }
  countJobs(): Promise<Record<JobStatus, number>> {
    return this.#inner.countJobs();
  }
  insertRun(run: JobRunRecord): Promise<JobRunRecord> {
    return this.#inner.insertRun(run);
  }
  updateRun(runId: string, patch: RunPatch, guard?: RunGuard): Promise<JobRunRecord | null> {
    return this.#inner.updateRun(runId, patch, guard);
  }
  finishRun(request: FinishRunRequest): Promise<{ run: JobRunRecord; job: CronJobDefinition | null } | null> {
    return this.#inner.finishRun(request);
  }
  renewLeases(owner: string, runIds: string[], until: Date): Promise<LeaseRenewal> {
    return this.#inner.renewLeases(owner, runIds, until);
  }
  getRun(id: string): Promise<JobRunRecord | null> {
    return this.#inner.getRun(id);
  }
  listRuns(filter?: RunFilter): Promise<JobRunRecord[]> {
    return this.#inner.listRuns(filter);
  }
  loadSession(jobId: string): Promise<SessionState | null> {
    return this.#inner.loadSession(jobId);
  }
  saveSession(jobId: string, state: SessionState): Promise<void> {
    return this.#inner.saveSession(jobId, state);
  }
  appendAudit(event: AuditEvent): Promise<void> {
    return this.#inner.appendAudit(event);
  }
  queryAudit(filter?: AuditFilter): Promise<AuditEvent[]> {
    return this.#inner.queryAudit(filter);
  }
  async notify(change: StoreChange): Promise<void> {
    await this.#inner.notify?.(change);
  }
}
