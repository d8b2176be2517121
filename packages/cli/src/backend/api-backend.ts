import { createJobDefinition, jobToWire, type JobSpec } from '@symbi/core';
import type { SymbiontClient } from '@symbi/client';
import type { AuditQuery, AuditView, Backend, HistoryFilter, JobListFilter, JobView, RunView } from './backend.js';
import { cliActor } from '../runtime.js';

/**
 * The wire body of a job spec for `POST /api/v1/schedule`: the spec's definition in the wire
 * format, with the secrets `jobToWire` redacts put back as written (usually `${ENV}` references
 * the server resolves at run time) and the fields the server assigns left out.
 */
export function specToWire(spec: JobSpec, now: Date): Record<string, unknown> {
  const { id: _id, status: _status, enabled: _enabled, next_run: _next, last_run: _last, run_count: _runs, failure_count: _failures,
    consecutive_failures: _streak, created_at: _created, updated_at: _updated, ...body } = jobToWire(createJobDefinition(spec, now));
  return {
    ...(spec.id === undefined ? {} : { id: spec.id }),
    ...body,
    webhook_headers: spec.webhookHeaders ?? {},
    agent_pin_jwt: spec.agentPinJwt ?? null,
    ...(spec.paused ? { paused: true } : {}),
  };
}

/** The commands through a running server's HTTP API, with `@symbi/client`. */
export class ApiBackend implements Backend {
  readonly target: string;
  readonly remote = true;
  readonly #url: string;
  readonly #apiKey: string | null;
  #loaded: Promise<SymbiontClient> | null = null;

  /** Commands on the server at `url`, presenting `apiKey` when given. */
  constructor(url: string, apiKey: string | null) {
    this.target = url;
    this.#url = url;
    this.#apiKey = apiKey;
  }

  /** The client, loaded on first use (commands on the store never load it). */
  get #client(): Promise<SymbiontClient> {
    this.#loaded ??= import('@symbi/client').then(({ SymbiontClient }) => new SymbiontClient({ baseUrl: this.#url, ...(this.#apiKey === null ? {} : { apiKey: this.#apiKey }) }));
    return this.#loaded;
  }

  /** Whether the server answers its health route within `timeoutMs`; a refused key still throws. */
  async ping(timeoutMs: number): Promise<boolean> {
    const timeout = new Promise<false>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref());
    const client = await this.#client;
    const answer = client.schedule.health().then(
      () => true,
      (error: unknown) => {
        if ((error as { status?: unknown }).status === 401) throw error;
        return false;
      },
    );
    return Promise.race([answer, timeout]);
  }

  async listJobs(filter: JobListFilter): Promise<JobView[]> {
    return (await (await this.#client).schedule.list({
      ...(filter.status ? { status: filter.status } : {}),
      ...(filter.agentId ? { agent_id: filter.agentId } : {}),
    })) as unknown as JobView[];
  }

  async getJob(ref: string): Promise<JobView> {
    return (await (await this.#client).schedule.get(ref)) as unknown as JobView;
  }

  async createJob(spec: JobSpec): Promise<JobView> {
    return (await (await this.#client).schedule.create(specToWire(spec, new Date()) as never)) as unknown as JobView;
  }

  async removeJob(ref: string): Promise<void> {
    await (await this.#client).schedule.delete(ref);
  }

  async pauseJob(ref: string): Promise<JobView> {
    return (await (await this.#client).schedule.pause(ref)) as unknown as JobView;
  }

  async resumeJob(ref: string): Promise<JobView> {
    return (await (await this.#client).schedule.resume(ref)) as unknown as JobView;
  }

  async resetJob(ref: string): Promise<JobView> {
    return (await (await this.#client).schedule.reset(ref)) as unknown as JobView;
  }

  async runNow(ref: string, input: string | undefined): Promise<RunView> {
    return (await (await this.#client).schedule.runNow(ref, input === undefined ? {} : { input })) as unknown as RunView;
  }

  async history(ref: string, filter: HistoryFilter): Promise<RunView[]> {
    return (await (await this.#client).schedule.getHistory(ref, {
      ...(filter.limit === undefined ? {} : { limit: filter.limit }),
      ...(filter.status ? { status: filter.status.join(',') } : {}),
    } as never)) as unknown as RunView[];
  }

  async getRun(runId: string): Promise<RunView> {
    return (await (await this.#client).schedule.getRun(runId)) as unknown as RunView;
  }

  async approve(runId: string, note: string | null): Promise<RunView> {
    const run = await this.getRun(runId);
    return (await (await this.#client).schedule.approve(run.job_id, runId, { approver: cliActor(), ...(note === null ? {} : { note }) })) as unknown as RunView;
  }

  async deny(runId: string, note: string | null): Promise<RunView> {
    const run = await this.getRun(runId);
    return (await (await this.#client).schedule.deny(run.job_id, runId, { approver: cliActor(), ...(note === null ? {} : { note }) })) as unknown as RunView;
  }

  async audit(query: AuditQuery): Promise<AuditView[]> {
    return (await (await this.#client).schedule.audit({
      ...(query.type ? { type: query.type } : {}),
      ...(query.since ? { since: query.since.toISOString() } : {}),
      ...(query.limit === undefined ? {} : { limit: query.limit }),
    } as never)) as unknown as AuditView[];
  }

  async close(): Promise<void> {}
}
