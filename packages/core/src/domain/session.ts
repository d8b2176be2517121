import type { SessionIsolationMode } from './job.js';

/** One entry of a shared conversation history. */
export interface ContextMessage {
  /** Who said it. */
  role: 'user' | 'assistant' | 'system';
  /** What was said. */
  content: string;
  /** When (ISO 8601). */
  at: string;
}

/** What a job keeps between runs, persisted by the store. */
export interface SessionState {
  /** Summary of the latest run (for `ephemeral_with_summary`). */
  summary: string | null;
  /** Conversation history (for `shared_persistent`), oldest first, bounded by retention. */
  history: ContextMessage[];
  /** Last change. */
  updatedAt: Date;
}

/**
 * The context an agent runs in: what it is told about earlier runs and about where it runs.
 * Built fresh for each run (and heartbeat iteration) from the session mode.
 */
export interface AgentContext {
  /** The job's session mode (or heartbeat context mode within a heartbeat run). */
  mode: SessionIsolationMode;
  /** Summary carried from the previous run or iteration, if the mode carries one. */
  previousSummary: string | null;
  /** Shared history, if the mode is `shared_persistent`. */
  history: ContextMessage[];
  /** 1-based heartbeat iteration, or 1 for a plain run. */
  iteration: number;
  /** Capabilities the agent declares (from its definition). */
  capabilities: string[];
  /** The scheduler's environment (config `environment` / `SYMBI_ENV`). */
  environment: string;
  /** Current time of the scheduler's clock. */
  now: Date;
}
