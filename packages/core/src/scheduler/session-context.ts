import type { CronJobDefinition, SessionIsolationMode } from '../domain/job.js';
import type { ContextMessage, SessionState } from '../domain/session.js';
import type { AgentExecutionResult } from '../ports/agent-executor.js';
import type { JobStore } from '../ports/job-store.js';

/** Longest summary derived from an agent's output when it gives none. */
const DERIVED_SUMMARY_CHARS = 1000;

/** What a session mode carries into the next run or iteration. */
export interface Carryover {
  /** Previous summary (`ephemeral_with_summary`). */
  summary: string | null;
  /** History (`shared_persistent`). */
  history: ContextMessage[];
}

/** Nothing carried. */
export const EMPTY_CARRYOVER: Carryover = { summary: null, history: [] };

/** The summary of one result: the agent's own, or the start of its output. */
export function summaryOf(result: AgentExecutionResult): string | null {
  if (result.summary != null) return result.summary;
  const output = result.output.trim();
  if (output === '') return null;
  return output.length > DERIVED_SUMMARY_CHARS ? `${output.slice(0, DERIVED_SUMMARY_CHARS)}…` : output;
}

/**
 * Folds one result into the carryover per `mode`: a fresh summary for `ephemeral_with_summary`,
 * history grown (and trimmed to `historyLimit`, oldest dropped) for `shared_persistent`, its
 * messages dated `nowMs` (epoch ms), nothing for `fully_ephemeral`.
 */
export function carryForward(
  mode: SessionIsolationMode,
  carry: Carryover,
  input: string | null,
  result: AgentExecutionResult,
  nowMs: number,
  historyLimit: number,
): Carryover {
  if (mode === 'fully_ephemeral') return EMPTY_CARRYOVER;
  if (mode === 'ephemeral_with_summary') return { summary: summaryOf(result), history: [] };
  const at = new Date(nowMs).toISOString();
  const messages = result.messages ?? [
    ...(input ? [{ role: 'user' as const, content: input, at }] : []),
    { role: 'assistant' as const, content: result.output, at },
  ];
  return { summary: summaryOf(result), history: [...carry.history, ...messages].slice(-historyLimit) };
}

/**
 * Loads and saves a job's session across runs (steps 2 and 6 of the spec's session life cycle).
 * `fully_ephemeral` jobs never touch the store.
 */
export class SessionKeeper {
  constructor(
    private readonly store: JobStore,
    private readonly historyLimit: number,
  ) {}

  /** Whether the job keeps a session across runs (a `fully_ephemeral` one does not: it starts from {@link EMPTY_CARRYOVER}). */
  keeps(job: CronJobDefinition): boolean {
    return job.sessionMode !== 'fully_ephemeral';
  }

  /** What a job's stored session (as `JobStore.loadSession` read it) carries into its next run. */
  carryOf(job: CronJobDefinition, state: SessionState | null): Carryover {
    if (!state) return EMPTY_CARRYOVER;
    return {
      summary: state.summary,
      history: job.sessionMode === 'shared_persistent' ? state.history.slice(-this.historyLimit) : [],
    };
  }

  /** Persists what this run leaves for the next one (the store's own promise: no frame more per run). */
  save(job: CronJobDefinition, carry: Carryover, now: Date): Promise<void> {
    if (job.sessionMode === 'fully_ephemeral') return Promise.resolve();
    const state: SessionState = { summary: carry.summary, history: carry.history.slice(-this.historyLimit), updatedAt: now };
    return this.store.saveSession(job.id, state);
  }
}
