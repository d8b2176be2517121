import { ExecutionError, SchedulerError, type Clock } from '@symbi/core';

/**
 * Settles like `work`, but rejects with `signal.reason` as soon as `signal` aborts, even when the
 * work ignores the signal. `work` keeps a handler, so its late rejection is never unhandled.
 */
export function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Bounds on one execution of one agent. */
export interface ExecutionLimits {
  /** The agent, for error messages. */
  agentId: string;
  /** The agent's own time limit; null for none (the scheduler's `max_runtime` still applies). */
  timeoutMs: number | null;
  /** Clock that measures the time limit. */
  clock: Clock;
}

/**
 * Runs one execution of an agent under `signal` and the agent's own time limit.
 *
 * `work` gets a signal that aborts with the caller's reason, or with an `ExecutionError` when the
 * agent's time limit passes first. The returned promise rejects with that reason as soon as the
 * signal aborts, so an agent that ignores its signal cannot hold the run. Errors that are not
 * `SchedulerError`s become `ExecutionError`s naming the agent, with the original as `cause`.
 */
export async function runWithinLimits<T>(
  signal: AbortSignal,
  limits: ExecutionLimits,
  work: (signal: AbortSignal) => Promise<T> | T,
): Promise<T> {
  if (signal.aborted) throw signal.reason;
  const controller = new AbortController();
  const forward = () => controller.abort(signal.reason);
  signal.addEventListener('abort', forward, { once: true });
  const { timeoutMs, clock, agentId } = limits;
  const timer =
    timeoutMs === null
      ? null
      : clock.setTimeout(
          () => controller.abort(new ExecutionError(`agent "${agentId}" timed out after ${timeoutMs} ms`, { retryable: true })),
          timeoutMs,
        );
  try {
    // Called synchronously so that a child process or request starts within the caller's turn.
    let started: Promise<T>;
    try {
      started = Promise.resolve(work(controller.signal));
    } catch (error) {
      started = Promise.reject(error);
    }
    return await raceAbort(started, controller.signal);
  } catch (error) {
    if (controller.signal.aborted) throw controller.signal.reason;
    if (error instanceof SchedulerError) throw error;
    throw new ExecutionError(`agent "${agentId}" failed: ${errorMessage(error)}`, { cause: error });
  } finally {
    signal.removeEventListener('abort', forward);
    if (timer !== null) clock.clearTimeout(timer);
  }
}

/** The message of an error-like value, for wrapping it in a message of our own. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
