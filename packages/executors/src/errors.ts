import { ExecutionError } from '@symbi/core';

/**
 * A command agent's process ended unsuccessfully (non-zero exit code or killed by a signal it
 * did not get from us). Carries the captured stderr so the scheduler can keep it on the run.
 */
export class CommandFailedError extends ExecutionError {
  /** Exit code, or null when the process was ended by a signal. */
  readonly exitCode: number | null;
  /** The signal that ended the process, if any (e.g. `SIGKILL`). */
  readonly exitSignal: NodeJS.Signals | null;
  /** Captured stderr (its tail when it exceeded the cap). */
  readonly stderr: string;

  constructor(message: string, details: { exitCode: number | null; exitSignal: NodeJS.Signals | null; stderr: string }) {
    super(message);
    this.exitCode = details.exitCode;
    this.exitSignal = details.exitSignal;
    this.stderr = details.stderr;
  }
}

/**
 * An HTTP or LLM agent endpoint answered with a non-2xx status. Retryable for 408, 409, 429 and
 * 5xx, the statuses providers document as transient.
 */
export class AgentHttpError extends ExecutionError {
  /** The HTTP status code. */
  readonly status: number;

  constructor(message: string, status: number) {
    super(message, { retryable: isTransientStatus(status) });
    this.status = status;
  }
}

function isTransientStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}
