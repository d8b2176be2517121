import type { HttpTransport } from './http-transport.js';
import { toWireJob, type CreateJobInput, type UpdateJobInput } from './job-input.js';
import type { AuditEvent, Job, JobStatus, NextRun, PruneResult, Run, RunStatus, SchedulerHealth, SecurityEventType } from './wire-types.js';

/** Filters of `schedule.list`. */
export interface ListJobsOptions {
  /** Only jobs with this status. */
  status?: JobStatus;
  /** Only jobs of this agent. */
  agentId?: string;
  /** Same as `agentId`, in the API's spelling. */
  agent_id?: string;
  /** Most jobs to return. */
  limit?: number;
  /** Jobs to skip. */
  offset?: number;
}

/** Filters of `schedule.getHistory`. */
export interface HistoryOptions {
  /** Most runs to return (server default 100). */
  limit?: number;
  /** Only runs with this status or these statuses. */
  status?: RunStatus | RunStatus[];
  /** Only runs scheduled at or after this time. */
  since?: Date | string;
}

/** Filters of `schedule.listRuns`. */
export interface ListRunsOptions extends HistoryOptions {
  /** Only runs of this job (id or name). */
  jobId?: string;
  /** Only runs of this agent. */
  agentId?: string;
}

/** Filters of `schedule.audit`. */
export interface AuditOptions {
  /** Only events of this type, e.g. `CronJobFailed`. */
  type?: SecurityEventType;
  /** Only events about this job (id or name). */
  jobId?: string;
  /** Only events at or after this time. */
  since?: Date | string;
  /** Most events to return. */
  limit?: number;
}

/** Filters of `schedule.approvals`. */
export interface ApprovalsOptions {
  /** Only runs of this job (id or name). */
  jobId?: string;
  /** Most runs to return. */
  limit?: number;
}

/** An approval decision. */
export interface DecisionOptions {
  /**
   * Who decides. The server always records the label of the API key; a different name is refused
   * with 403, so leave it out unless you want that checked.
   */
  approver?: string;
  /** Why. */
  note?: string;
}

const enc = encodeURIComponent;
const jobPath = (jobId: string, suffix = '') => `/api/v1/schedule/${enc(jobId)}${suffix}`;
const time = (value: Date | string | undefined) => (value instanceof Date ? value.toISOString() : value);
const runQuery = (options: HistoryOptions) => ({
  limit: options.limit,
  status: Array.isArray(options.status) ? options.status.join(',') : options.status,
  since: time(options.since),
});

/**
 * The schedule API: job life cycle, runs, approvals, audit and health. Job ids may also be job
 * names. Results are the API's snake_case objects.
 */
export class ScheduleApi {
  readonly #http: HttpTransport;

  /** Built by {@link SymbiontClient}. */
  constructor(http: HttpTransport) {
    this.#http = http;
  }

  /** Creates a job from camelCase (`agentId`, `cronExpr`, …) or snake_case fields. */
  create(job: CreateJobInput): Promise<Job> {
    return this.#http.request('POST', '/api/v1/schedule', { body: toWireJob(job) });
  }

  /** Lists jobs, ordered by name. */
  list(options: ListJobsOptions = {}): Promise<Job[]> {
    const { status, limit, offset } = options;
    return this.#http.request('GET', '/api/v1/schedule', { query: { status, agent_id: options.agentId ?? options.agent_id, limit, offset } });
  }

  /** A job by id or name. */
  get(jobId: string): Promise<Job> {
    return this.#http.request('GET', jobPath(jobId));
  }

  /** A job with its status and `next_run` (the spec's name for {@link ScheduleApi.get}). */
  getStatus(jobId: string): Promise<Job> {
    return this.get(jobId);
  }

  /** Changes some fields of a job (camelCase or snake_case). */
  update(jobId: string, changes: UpdateJobInput): Promise<Job> {
    return this.#http.request('PUT', jobPath(jobId), { body: toWireJob(changes) });
  }

  /** Deletes a job with its history; resolves to the deleted job. */
  delete(jobId: string): Promise<Job> {
    return this.#http.request('DELETE', jobPath(jobId));
  }

  /** Queues a run now (policy gates still apply); resolves to the queued run. */
  runNow(jobId: string, options: { input?: string } = {}): Promise<Run> {
    return this.#http.request('POST', jobPath(jobId, '/run'), { body: { input: options.input } });
  }

  /** Pauses an active job. */
  pause(jobId: string): Promise<Job> {
    return this.#http.request('POST', jobPath(jobId, '/pause'));
  }

  /** Resumes a paused job. */
  resume(jobId: string): Promise<Job> {
    return this.#http.request('POST', jobPath(jobId, '/resume'));
  }

  /** Reactivates a dead-lettered or failed job. */
  reset(jobId: string): Promise<Job> {
    return this.#http.request('POST', jobPath(jobId, '/reset'));
  }

  /** A job's runs, newest first. */
  getHistory(jobId: string, options: HistoryOptions = {}): Promise<Run[]> {
    return this.#http.request('GET', jobPath(jobId, '/history'), { query: runQuery(options) });
  }

  /** Runs of every job, newest first, optionally filtered by job, agent, status and time. */
  listRuns(options: ListRunsOptions = {}): Promise<Run[]> {
    return this.#http.request('GET', '/api/v1/runs', { query: { job_id: options.jobId, agent_id: options.agentId, ...runQuery(options) } });
  }

  /** A job's next fire time. */
  nextRun(jobId: string): Promise<NextRun> {
    return this.#http.request('GET', jobPath(jobId, '/next_run'));
  }

  /**
   * Deletes finished runs now by the retention policies (`history_retention_days` /
   * `history_retention_runs`, each job's own first); needs an operator key. With `dryRun`, only
   * counts what would go.
   */
  pruneRuns(options: { dryRun?: boolean } = {}): Promise<PruneResult> {
    return this.#http.request('POST', '/api/v1/runs/prune', { body: { dry_run: options.dryRun ?? false } });
  }

  /** A run by id. */
  getRun(runId: string): Promise<Run> {
    return this.#http.request('GET', `/api/v1/runs/${enc(runId)}`);
  }

  /** Runs waiting for approval, oldest first. */
  approvals(options: ApprovalsOptions = {}): Promise<Run[]> {
    return this.#http.request('GET', '/api/v1/approvals', { query: { job_id: options.jobId, limit: options.limit } });
  }

  /** Approves a run waiting for approval; it is queued again. */
  approve(jobId: string, runId: string, decision: DecisionOptions = {}): Promise<Run> {
    return this.#http.request('POST', jobPath(jobId, `/runs/${enc(runId)}/approve`), { body: decision });
  }

  /** Denies a run waiting for approval; it ends `denied`. */
  deny(jobId: string, runId: string, decision: DecisionOptions = {}): Promise<Run> {
    return this.#http.request('POST', jobPath(jobId, `/runs/${enc(runId)}/deny`), { body: decision });
  }

  /** Audit events, newest first. */
  audit(options: AuditOptions = {}): Promise<AuditEvent[]> {
    return this.#http.request('GET', '/api/v1/audit', {
      query: { type: options.type, job_id: options.jobId, since: time(options.since), limit: options.limit },
    });
  }

  /** The scheduler's health JSON. */
  health(): Promise<SchedulerHealth> {
    return this.#http.request('GET', '/api/v1/health/scheduler');
  }
}
