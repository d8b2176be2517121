import {
  jobToWire as apiJob,
  runToWire as apiRun,
  type AgentContext,
  type CronJobDefinition,
  type JobRunRecord,
  type WireJob as ApiJob,
  type WireRun as ApiRun,
} from '@symbi/core';

/**
 * The job as an agent outside the process sees it: fields of the API's job (`WireJob` of
 * `@symbi/core`) without secrets or delivery targets (no `agent_pin_jwt`, webhook headers or URL).
 */
export type WireJob = Pick<ApiJob, 'id' | 'name' | 'agent_id' | 'cron_expr' | 'at' | 'timezone' | 'input' | 'session_mode' | 'delivery' | 'heartbeat'>;

/** The run as an agent outside the process sees it: fields of the API's run (`WireRun` of `@symbi/core`). */
export type WireRun = Pick<ApiRun, 'id' | 'job_id' | 'job_name' | 'agent_id' | 'scheduled_for' | 'trigger' | 'attempt' | 'started_at'>;

/** The agent context as an agent outside the process sees it. */
export interface WireContext {
  /** Session mode in effect. */
  mode: string;
  /** Summary carried from the previous run or iteration. */
  previous_summary: string | null;
  /** Shared history (oldest first) for `shared_persistent`. */
  history: { role: string; content: string; at: string }[];
  /** 1-based heartbeat iteration, 1 for a plain run. */
  iteration: number;
  /** Capabilities the agent declares. */
  capabilities: string[];
  /** The scheduler's environment. */
  environment: string;
  /** Scheduler time (ISO 8601). */
  now: string;
}

/** Converts a job for an HTTP or command agent. */
export function jobToWire(job: CronJobDefinition): WireJob {
  const { id, name, agent_id, cron_expr, at, timezone, input, session_mode, delivery, heartbeat } = apiJob(job);
  return { id, name, agent_id, cron_expr, at, timezone, input, session_mode, delivery: [...delivery], heartbeat };
}

/** Converts a run for an HTTP or command agent. */
export function runToWire(run: JobRunRecord): WireRun {
  const { id, job_id, job_name, agent_id, scheduled_for, trigger, attempt, started_at } = apiRun(run);
  return { id, job_id, job_name, agent_id, scheduled_for, trigger, attempt, started_at };
}

/** Converts an agent context for an HTTP or command agent. */
export function contextToWire(context: AgentContext): WireContext {
  return {
    mode: context.mode,
    previous_summary: context.previousSummary,
    history: context.history.map(({ role, content, at }) => ({ role, content, at })),
    iteration: context.iteration,
    capabilities: [...context.capabilities],
    environment: context.environment,
    now: context.now.toISOString(),
  };
}
