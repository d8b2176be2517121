/**
 * Stable machine-readable codes carried by every {@link SchedulerError}.
 * The HTTP API maps them to status codes; the CLI prints them.
 */
export type SchedulerErrorCode =
  | 'VALIDATION'
  | 'JOB_NOT_FOUND'
  | 'RUN_NOT_FOUND'
  | 'CONFLICT'
  | 'INVALID_STATE'
  | 'POLICY_DENIED'
  | 'AGENT_PIN'
  | 'DELIVERY'
  | 'EXECUTION'
  | 'TIMEOUT'
  | 'STORE'
  | 'STORE_UNAVAILABLE'
  | 'STORAGE_FULL'
  | 'SHUTDOWN';

const BRAND = Symbol.for('@symbi/core/SchedulerError');

/**
 * Root of every error the scheduler throws on purpose.
 *
 * `instanceof` works across duplicated copies of the package because the check
 * uses a global symbol brand rather than object identity.
 */
export class SchedulerError extends Error {
  /** Stable code for programs to branch on. */
  readonly code: SchedulerErrorCode;
  /** Whether trying the same operation again may succeed (e.g. a lost connection). */
  readonly retryable: boolean;

  constructor(code: SchedulerErrorCode, message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options?.retryable ?? false;
    Object.defineProperty(this, BRAND, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this === SchedulerError) {
      return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
    }
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }
}

/** Input that breaks a rule; `field` names the offending field as the user wrote it (snake_case). */
export class ValidationError extends SchedulerError {
  /** The field that is wrong, e.g. `cron_expr` or `policy.allowed_hours.start`. */
  readonly field: string;
  /** The rejected value, when it is safe to show. */
  readonly value: unknown;

  constructor(field: string, message: string, value?: unknown, options?: { cause?: unknown }) {
    super('VALIDATION', `${field}: ${message}`, options);
    this.field = field;
    this.value = value;
  }
}

/** No job has the given id or name. */
export class JobNotFoundError extends SchedulerError {
  /** The id or name that was looked up. */
  readonly jobId: string;
  constructor(jobId: string) {
    super('JOB_NOT_FOUND', `job not found: ${jobId}`);
    this.jobId = jobId;
  }
}

/** No run has the given id. */
export class RunNotFoundError extends SchedulerError {
  /** The run id that was looked up. */
  readonly runId: string;
  constructor(runId: string) {
    super('RUN_NOT_FOUND', `run not found: ${runId}`);
    this.runId = runId;
  }
}

/** A write would break uniqueness (e.g. a second job with the same name) or lost an optimistic race. */
export class ConflictError extends SchedulerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONFLICT', message, options);
  }
}

/** The operation does not fit the current state (e.g. approving a run that is not awaiting approval). */
export class InvalidStateError extends SchedulerError {
  constructor(message: string) {
    super('INVALID_STATE', message);
  }
}

/** A policy gate refused a run. */
export class PolicyDeniedError extends SchedulerError {
  constructor(reason: string) {
    super('POLICY_DENIED', reason);
  }
}

/** An AgentPin credential failed verification; `reason` is a short stable tag such as `expired`. */
export class AgentPinError extends SchedulerError {
  /** Short, stable reason tag (e.g. `bad_signature`, `expired`, `revoked`). */
  readonly reason: string;
  constructor(reason: string, message: string, options?: { cause?: unknown }) {
    super('AGENT_PIN', message, options);
    this.reason = reason;
  }
}

/** A delivery channel failed; `channel` names it. Never carries secrets in its message. */
export class DeliveryError extends SchedulerError {
  /** The channel that failed, e.g. `webhook`. */
  readonly channel: string;
  /** How many times the channel tried to send before giving up (its own retries included). */
  readonly attempts: number;
  constructor(channel: string, message: string, options?: { cause?: unknown; retryable?: boolean; attempts?: number }) {
    super('DELIVERY', `${channel}: ${message}`, options);
    this.channel = channel;
    this.attempts = options?.attempts ?? 1;
  }
}

/** An agent executor failed to produce output. */
export class ExecutionError extends SchedulerError {
  constructor(message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super('EXECUTION', message, options);
  }
}

/** A run exceeded its `max_runtime` and was aborted. */
export class RunTimeoutError extends SchedulerError {
  constructor(maxRuntimeMs: number) {
    super('TIMEOUT', `run exceeded max_runtime of ${maxRuntimeMs} ms`);
  }
}

/** Codes of {@link StoreError} and its subclasses. */
type StoreErrorCode = Extract<SchedulerErrorCode, 'STORE' | 'STORE_UNAVAILABLE' | 'STORAGE_FULL'>;

/** A store operation failed for a reason other than the caller's input. */
export class StoreError extends SchedulerError {
  constructor(message: string, options?: { cause?: unknown; retryable?: boolean }, code: StoreErrorCode = 'STORE') {
    super(code, message, options);
  }
}

/**
 * The store cannot be reached: its connection was lost, the database is starting up or refuses
 * connections. Always retryable; nothing was written by the failed call unless it says so.
 */
export class StoreUnavailableError extends StoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, retryable: true }, 'STORE_UNAVAILABLE');
  }
}

/**
 * The store's disk (or its size limit) is full: the write did not commit and nothing of it was
 * kept. Retryable: the same write succeeds once space is freed.
 */
export class StorageFullError extends StoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, retryable: true }, 'STORAGE_FULL');
  }
}
