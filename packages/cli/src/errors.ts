import {
  ConflictError,
  InvalidStateError,
  JobNotFoundError,
  RunNotFoundError,
  SchedulerError,
  ValidationError,
} from '@symbi/core';

/** Exit status of a command that did what was asked. */
export const EXIT_OK = 0;
/** Exit status of a command that failed (not found, invalid state, store down, failed run…). */
export const EXIT_ERROR = 1;
/** Exit status of a command line that cannot be carried out as written (bad flag, missing argument). */
export const EXIT_USAGE = 2;

/**
 * The command line itself is wrong: an unknown value, a missing or conflicting flag, or a
 * dangerous action asked for without confirmation. Exits with {@link EXIT_USAGE}.
 */
export class UsageError extends Error {
  /** What to do about it, shown in parentheses after the message. */
  readonly hint: string | null;

  constructor(message: string, hint: string | null = null) {
    super(message);
    this.name = 'UsageError';
    this.hint = hint;
  }
}

/** A failure the CLI explains itself: a clear message and what to run or fix next. */
export class CliError extends Error {
  /** What to do about it, shown in parentheses after the message. */
  readonly hint: string | null;
  /** Exit status (default {@link EXIT_ERROR}). */
  readonly exitCode: number;

  constructor(message: string, hint: string | null = null, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.hint = hint;
    this.exitCode = options.exitCode ?? EXIT_ERROR;
  }
}

/** The line printed for a failure and the exit status it leads to. */
export interface ErrorReport {
  /** `error: …`, possibly followed by a quoted source excerpt (DSL and config errors). */
  message: string;
  /** Process exit status. */
  exitCode: number;
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN']);

function codeOf(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && CONNECTION_CODES.has(code)) return code;
  }
  return undefined;
}

/** What to run next after an error answered by the HTTP API, by its code. */
const API_HINTS: Record<string, string> = {
  JOB_NOT_FOUND: 'see: symbi cron list',
  RUN_NOT_FOUND: 'see: symbi cron history <job>',
  CONFLICT: 'see: symbi cron list',
  INVALID_STATE: 'see: symbi cron status <job>',
};

/** An error of `@symbi/client` (recognised by shape, so the client need not be loaded). */
function apiFailure(error: unknown): { message: string; hint: string | null } | null {
  if (!(error instanceof Error)) return null;
  if (error.name === 'SymbiontNetworkError') return { message: `cannot reach the server: ${error.message}`, hint: 'is symbi up running? check --api or SYMBI_API_URL' };
  const { status, code } = error as { status?: unknown; code?: unknown };
  if (typeof status !== 'number' || typeof code !== 'string') return null;
  if (status === 401) return { message: 'the server refused the API key', hint: 'set --api-key or SYMBI_API_KEY' };
  if (status === 403) return { message: error.message, hint: 'use an API key that may write' };
  return { message: error.message, hint: API_HINTS[code] ?? null };
}

/** What to run next after a core error, by its class. */
function hintFor(error: SchedulerError): string | null {
  if (error instanceof JobNotFoundError) return 'see: symbi cron list';
  if (error instanceof RunNotFoundError) return 'see: symbi cron history <job>';
  if (error instanceof ConflictError) return 'see: symbi cron list';
  if (error instanceof InvalidStateError) return 'see: symbi cron status <job>';
  return null;
}

/**
 * Turns anything thrown by a command into one clear `error: …` line naming what to fix, and its
 * exit status: usage errors 2, everything else 1. Stack traces are left out unless `SYMBI_DEBUG` is set.
 */
export function reportError(error: unknown, env: Record<string, string | undefined> = process.env): ErrorReport {
  const debug = env.SYMBI_DEBUG !== undefined && env.SYMBI_DEBUG !== '' && error instanceof Error ? `\n${error.stack ?? ''}` : '';
  const line = (message: string, hint: string | null) => `error: ${message}${hint ? ` (${hint})` : ''}${debug}`;
  if (error instanceof UsageError) return { message: line(error.message, error.hint), exitCode: EXIT_USAGE };
  if (error instanceof CliError) return { message: line(error.message, error.hint), exitCode: error.exitCode };
  if (error instanceof ValidationError) return { message: line(error.message, null), exitCode: EXIT_ERROR };
  const api = apiFailure(error);
  if (api) return { message: line(api.message, api.hint), exitCode: EXIT_ERROR };
  const unreachable = codeOf(error) ? 'is the database running? check --db or SYMBI_DB' : null;
  const hint = (error instanceof SchedulerError ? hintFor(error) : null) ?? unreachable;
  return { message: line(error instanceof Error ? error.message : String(error), hint), exitCode: EXIT_ERROR };
}
