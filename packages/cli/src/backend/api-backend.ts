import { createJobDefinition, jobToWire, type JobSpec, type WireJob } from '@symbi/core';
import type { JobStatus, RunStatus, SecurityEventType, SymbiontClient } from '@symbi/client';
import type { AuditQuery, AuditView, Backend, HealthView, HistoryFilter, JobListFilter, JobView, PruneView, RunView } from './backend.js';

/** Fields of `jobToWire` the server assigns; a create request leaves them out. */
const ASSIGNED: (keyof WireJob)[] = ['id', 'status', 'enabled', 'next_run', 'last_run', 'run_count', 'failure_count', 'consecutive_failures', 'created_at', 'updated_at'];

/**
 * The wire body of a job spec for `POST /api/v1/schedule`: the spec's definition in the wire
 * format (`jobToWire`), with the secrets it redacts put back as written (usually `${ENV}`
 * references the server resolves at run time) and the fields the server assigns left out.
 */
export function specToWire(spec: JobSpec, now: Date): Record<string, unknown> {
  const wire: Partial<WireJob> = jobToWire(createJobDefinition(spec, now));
  for (const field of ASSIGNED) delete wire[field];
  return {
    ...wire,
    webhook_headers: spec.webhookHeaders ?? {},
    agent_pin_jwt: spec.agentPinJwt ?? null,
    ...(spec.paused ? { paused: true } : {}),
  };
}

/**
 * The commands through a running server's HTTP API, with `@symbi/client`. The client's results
 * are the same wire records the store backend renders with `jobToWire` and friends.
 */
export class ApiBackend implements Backend {
  readonly target: string;
  readonly remote = true;
  readonly #apiKey: string | null;
  #loaded: Promise<SymbiontClient> | null = null;

  /** Commands on the server at `url`, presenting `apiKey` when given. */
  constructor(url: string, apiKey: string | null) {
    this.target = url;
    this.#apiKey = apiKey;
  }

  /** The client, loaded on first use (commands on the store never load it). */
  async #schedule(timeoutMs?: number) {
    this.#loaded ??= import('@symbi/client').then(
      ({ SymbiontClient }) =>
        new SymbiontClient({ baseUrl: this.target, ...(this.#apiKey === null ? {} : { apiKey: this.#apiKey }), ...(timeoutMs ? { timeoutMs } : {}) }),
    );
    return (await this.#loaded).schedule;
  }

  /**
   * Whether a server answers at the URL within `timeoutMs` (this backend then keeps that
   * timeout). A refused API key is not "unreachable": it throws, to be reported.
   */
  async ping(timeoutMs: number): Promise<boolean> {
    try {
      await (await this.#schedule(timeoutMs)).health();
      return true;
    } catch (error) {
      if ((error as { status?: unknown }).status === 401 || (error as { status?: unknown }).status === 403) throw error;
      return false;
    }
  }

  async listJobs(filter: JobListFilter): Promise<JobView[]> {
    const schedule = await this.#schedule();
    return (await schedule.list({
      ...(filter.status ? { status: filter.status as JobStatus } : {}),
      ...(filter.agentId ? { agentId: filter.agentId } : {}),
    }));
  }

  async getJob(ref: string): Promise<JobView> {
    return (await (await this.#schedule()).get(ref));
  }

  async createJob(spec: JobSpec): Promise<JobView> {
    const body = specToWire(spec, new Date()) as { name: string; agent_id: string };
    return (await (await this.#schedule()).create(body));
  }

  async updateJob(ref: string, changes: Record<string, unknown>): Promise<JobView> {
    return (await this.#schedule()).update(ref, changes);
  }

  async removeJob(ref: string): Promise<void> {
    await (await this.#schedule()).delete(ref);
  }

  async pauseJob(ref: string): Promise<JobView> {
    return (await (await this.#schedule()).pause(ref));
  }

  async resumeJob(ref: string): Promise<JobView> {
    return (await (await this.#schedule()).resume(ref));
  }

  async resetJob(ref: string): Promise<JobView> {
    return (await (await this.#schedule()).reset(ref));
  }

  async runNow(ref: string, input: string | undefined): Promise<RunView> {
    return (await (await this.#schedule()).runNow(ref, input === undefined ? {} : { input }));
  }

  async history(ref: string, filter: HistoryFilter): Promise<RunView[]> {
    const schedule = await this.#schedule();
    return (await schedule.getHistory(ref, {
      ...(filter.limit === undefined ? {} : { limit: filter.limit }),
      ...(filter.status ? { status: filter.status as RunStatus[] } : {}),
    }));
  }

  async getRun(runId: string): Promise<RunView> {
    return (await (await this.#schedule()).getRun(runId));
  }

  async approve(runId: string, note: string | null): Promise<RunView> {
    return this.#decide('approve', runId, note);
  }

  async deny(runId: string, note: string | null): Promise<RunView> {
    return this.#decide('deny', runId, note);
  }

  /**
   * The API names a decision by job and run; the CLI only by run, so the run's job is looked up.
   * The server records the API key's identity as the approver.
   */
  async #decide(decision: 'approve' | 'deny', runId: string, note: string | null): Promise<RunView> {
    const schedule = await this.#schedule();
    const run = await schedule.getRun(runId);
    const options = note === null ? {} : { note };
    const decided = decision === 'approve' ? await schedule.approve(run.job_id, runId, options) : await schedule.deny(run.job_id, runId, options);
    return decided;
  }

  async audit(query: AuditQuery): Promise<AuditView[]> {
    return (await (await this.#schedule()).audit({
      ...(query.type ? { type: query.type as SecurityEventType } : {}),
      ...(query.since ? { since: query.since } : {}),
      ...(query.limit === undefined ? {} : { limit: query.limit }),
    }));
  }

  async pruneRuns(dryRun: boolean): Promise<PruneView> {
    return (await this.#schedule()).pruneRuns({ dryRun });
  }

  async health(): Promise<HealthView> {
    return (await (await this.#schedule()).health()) as HealthView;
  }

  /** Nothing to release: every request is its own `fetch`. */
  async close(): Promise<void> {}
}
