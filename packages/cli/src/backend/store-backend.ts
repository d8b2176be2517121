import { auditToWire, jobToWire, jobUpdateFromWire, runToWire, type JobSpec, type JobStatus, type RunStatus, type SecurityEventType } from '@symbi/core';
import { describeStore } from '../store-location.js';
import type { SymbiRuntime } from '../runtime.js';
import type { AuditQuery, AuditView, Backend, HealthView, HistoryFilter, JobListFilter, JobView, PruneView, RunView } from './backend.js';

const asJob = (job: Parameters<typeof jobToWire>[0]) => jobToWire(job);
const asRun = (run: Parameters<typeof runToWire>[0]) => runToWire(run);

/** The commands on a store opened in this process, through the scheduler's life-cycle API. */
export class StoreBackend implements Backend {
  readonly target: string;
  readonly remote = false;
  readonly #runtime: SymbiRuntime;
  readonly #actor: string;

  /** Commands on `runtime`'s store, audited as done by `actor`. */
  constructor(runtime: SymbiRuntime, actor: string) {
    this.#runtime = runtime;
    this.#actor = actor;
    this.target = describeStore(runtime.location);
  }

  async #scheduler() {
    await this.#runtime.init();
    return this.#runtime.scheduler;
  }

  async listJobs(filter: JobListFilter): Promise<JobView[]> {
    const scheduler = await this.#scheduler();
    const jobs = await scheduler.list({
      ...(filter.status ? { status: filter.status as JobStatus } : {}),
      ...(filter.agentId ? { agentId: filter.agentId } : {}),
    });
    return jobs.map(asJob);
  }

  async getJob(ref: string): Promise<JobView> {
    return asJob(await (await this.#scheduler()).getJob(ref));
  }

  async createJob(spec: JobSpec): Promise<JobView> {
    return asJob(await (await this.#scheduler()).add(spec, { actor: this.#actor }));
  }

  async updateJob(ref: string, changes: Record<string, unknown>): Promise<JobView> {
    const scheduler = await this.#scheduler();
    // The operator typed this on their own command line: their `${VAR}` references stay references.
    const update = jobUpdateFromWire(changes, await scheduler.getJob(ref), { envReferences: 'all' });
    return asJob(await scheduler.update(ref, update, { actor: this.#actor }));
  }

  async removeJob(ref: string): Promise<void> {
    await (await this.#scheduler()).remove(ref, { actor: this.#actor });
  }

  async pauseJob(ref: string): Promise<JobView> {
    return asJob(await (await this.#scheduler()).pause(ref, { actor: this.#actor }));
  }

  async resumeJob(ref: string): Promise<JobView> {
    return asJob(await (await this.#scheduler()).resume(ref, { actor: this.#actor }));
  }

  async resetJob(ref: string): Promise<JobView> {
    return asJob(await (await this.#scheduler()).reset(ref, { actor: this.#actor }));
  }

  async runNow(ref: string, input: string | undefined): Promise<RunView> {
    return asRun(await (await this.#scheduler()).runNow(ref, { actor: this.#actor, ...(input === undefined ? {} : { input }) }));
  }

  async history(ref: string, filter: HistoryFilter): Promise<RunView[]> {
    const runs = await (await this.#scheduler()).history(ref, {
      ...(filter.limit === undefined ? {} : { limit: filter.limit }),
      ...(filter.status ? { status: filter.status as RunStatus[] } : {}),
    });
    return runs.map(asRun);
  }

  async getRun(runId: string): Promise<RunView> {
    return asRun(await (await this.#scheduler()).getRun(runId));
  }

  async approve(runId: string, note: string | null): Promise<RunView> {
    return asRun(await (await this.#scheduler()).approve(runId, { approver: this.#actor, note }));
  }

  async deny(runId: string, note: string | null): Promise<RunView> {
    return asRun(await (await this.#scheduler()).deny(runId, { approver: this.#actor, note }));
  }

  async audit(query: AuditQuery): Promise<AuditView[]> {
    const events = await (await this.#scheduler()).auditLog({
      ...(query.type ? { type: query.type as SecurityEventType } : {}),
      ...(query.since ? { since: query.since } : {}),
      ...(query.limit === undefined ? {} : { limit: query.limit }),
    });
    return events.map((event) => auditToWire(event));
  }

  async pruneRuns(dryRun: boolean): Promise<PruneView> {
    const { deleted, supported } = await (await this.#scheduler()).pruneHistory({ dryRun, actor: this.#actor });
    return { deleted, dry_run: dryRun, supported };
  }

  async health(): Promise<HealthView> {
    return { ...(await (await this.#scheduler()).health()) };
  }

  close(): Promise<void> {
    return this.#runtime.close();
  }
}
