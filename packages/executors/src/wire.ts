import type { AgentContext, CronJobDefinition, JobRunRecord } from '@symbi/core';

/**
 * The job as an agent outside the process sees it: snake_case like the API, and without secrets
 * (no `agent_pin_jwt`, no webhook headers or URL, no delivery targets).
 */
export interface WireJob {
  /** Job id. */
  id: string;
  /** Job name. */
  name: string;
  /** The agent the job runs. */
  agent_id: string;
  /** Cron expression; null for a one-shot job. */
  cron_expr: string | null;
  /** ISO 8601 instant of a one-shot job; null for a cron job. */
  at: string | null;
  /** IANA time zone of `cron_expr`. */
  timezone: string;
  /** The job's configured input. */
  input: string | null;
  /** How context carries across runs. */
  session_mode: string;
  /** Channel names the output goes to. */
  delivery: string[];
  /** Heartbeat settings; null for a plain job. */
  heartbeat: { enabled: boolean; context_mode: string; max_iterations: number } | null;
}

/** The run as an agent outside the process sees it. */
export interface WireRun {
  /** Run id. */
  id: string;
  /** Job id. */
  job_id: string;
  /** The job's name when the run was created. */
  job_name: string;
  /** The agent that runs. */
  agent_id: string;
  /** Fire time the run belongs to (ISO 8601). */
  scheduled_for: string;
  /** Why the run exists: `schedule`, `manual`, `catchup` or `retry`. */
  trigger: string;
  /** 1 for the first try of a fire, 2.. for retries. */
  attempt: number;
  /** When execution started (ISO 8601). */
  started_at: string | null;
}

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
  return {
    id: job.id,
    name: job.name,
    agent_id: job.agentId,
    cron_expr: job.cronExpr,
    at: job.at,
    timezone: job.timezone,
    input: job.input,
    session_mode: job.sessionMode,
    delivery: [...job.delivery],
    heartbeat: job.heartbeat
      ? { enabled: job.heartbeat.enabled, context_mode: job.heartbeat.contextMode, max_iterations: job.heartbeat.maxIterations }
      : null,
  };
}

/** Converts a run for an HTTP or command agent. */
export function runToWire(run: JobRunRecord): WireRun {
  return {
    id: run.id,
    job_id: run.jobId,
    job_name: run.jobName,
    agent_id: run.agentId,
    scheduled_for: run.scheduledFor.toISOString(),
    trigger: run.trigger,
    attempt: run.attempt,
    started_at: run.startedAt ? run.startedAt.toISOString() : null,
  };
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
