import type { CronJobDefinition, JobRunRecord, RunStatus, RunTrigger } from '@symbi/core';

/**
 * The JSON document a webhook receives (and the `log_file` channel writes, one per line):
 * the job, the run and the output, in the snake_case of the wire.
 */
export interface DeliveryPayload {
  /** The job that ran. */
  job: {
    /** Job id. */
    id: string;
    /** Job name. */
    name: string;
    /** The agent that ran. */
    agent_id: string;
  };
  /** The run whose output this is. */
  run: {
    /** Run id; stable across delivery retries, so receivers can drop duplicates. */
    id: string;
    /** Run status at delivery time. */
    status: RunStatus;
    /** The fire time (ISO 8601). */
    scheduled_for: string;
    /** When execution started (ISO 8601), if it did. */
    started_at: string | null;
    /** When the run finished (ISO 8601), if it has. */
    completed_at: string | null;
    /** Why the run exists. */
    trigger: RunTrigger;
    /** 1 for the first try of a fire, 2.. for retries. */
    attempt: number;
    /** Execution wall time in milliseconds, if known. */
    execution_time_ms: number | null;
    /** Heartbeat iterations performed (0 for a plain job). */
    iterations: number;
    /** Why the run failed, if it did. */
    error: string | null;
  };
  /** What the agent produced. */
  output: string;
}

/** Builds the {@link DeliveryPayload} of one run; custom channels may send the same document. */
export function deliveryPayload(job: CronJobDefinition, run: JobRunRecord, output: string): DeliveryPayload {
  return {
    job: { id: job.id, name: job.name, agent_id: job.agentId },
    run: {
      id: run.id,
      status: run.status,
      scheduled_for: run.scheduledFor.toISOString(),
      started_at: run.startedAt?.toISOString() ?? null,
      completed_at: run.completedAt?.toISOString() ?? null,
      trigger: run.trigger,
      attempt: run.attempt,
      execution_time_ms: run.executionTimeMs,
      iterations: run.iterations.length,
      error: run.error,
    },
    output,
  };
}

/** Human duration: `850 ms`, `12.3 s`, `4 min 5 s`; an em dash when unknown. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return '—';
  if (Math.round(ms) < 1000) return `${Math.round(ms)} ms`;
  const tenths = Math.round(ms / 100);
  if (tenths < 600) return `${(tenths / 10).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  const minutes = Math.floor(seconds / 60);
  return seconds % 60 === 0 ? `${minutes} min` : `${minutes} min ${seconds % 60} s`;
}

/** Labelled facts about a run, in the order people read them; shared by the text channels. */
export function describeRun(job: CronJobDefinition, run: JobRunRecord): Array<[label: string, value: string]> {
  const lines: Array<[string, string]> = [
    ['Job', job.name],
    ['Agent', job.agentId],
    ['Status', run.status],
    ['Run', `${run.id} (${run.trigger}, attempt ${run.attempt})`],
    ['Scheduled', run.scheduledFor.toISOString()],
    ['Duration', formatDuration(run.executionTimeMs)],
  ];
  if (run.error) lines.push(['Error', run.error]);
  return lines;
}

/** `describeRun` as aligned `Label: value` lines. */
export function describeRunText(job: CronJobDefinition, run: JobRunRecord): string {
  const facts = describeRun(job, run);
  const width = Math.max(...facts.map(([label]) => label.length)) + 1;
  return facts.map(([label, value]) => `${`${label}:`.padEnd(width)} ${value}`).join('\n');
}

/**
 * Cuts `text` to at most `max` characters, keeping the beginning and saying how much was left
 * out, so a reader knows the message is not the whole output.
 */
export function truncateOutput(text: string, max: number): string {
  if (text.length <= max) return text;
  const note = (omitted: number) => `\n… (${omitted} more characters; the full output is on the run record)`;
  // The note's own length depends on the count it states; a digit more or less is within reason.
  const kept = Math.max(0, max - note(text.length).length);
  return text.slice(0, kept) + note(text.length - kept);
}
