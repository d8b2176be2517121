import { SchedulerError, ValidationError } from '@symbi/core';

/** Machine-readable codes of errors raised by the HTTP layer itself (the scheduler's codes pass through). */
export type HttpErrorCode =
  | 'BAD_REQUEST'
  | 'BAD_JSON'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'ROUTE_NOT_FOUND'
  | 'ASSET_NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'URI_TOO_LONG'
  | 'HEADERS_TOO_LARGE'
  | 'REQUEST_TIMEOUT'
  | 'INTERNAL';

/** The body of every error response: `{ "error": { code, message, field? } }`. */
export interface ErrorBody {
  /** The error. */
  error: {
    /** Stable code: an {@link HttpErrorCode} or a scheduler code such as `JOB_NOT_FOUND`. */
    code: string;
    /** Human-readable explanation; never holds secrets. */
    message: string;
    /** The offending field (snake_case, as the user wrote it), for validation errors. */
    field?: string;
  };
}

/** Longest message or field name echoed back; longer ones are cut so a huge input is not mirrored. */
const MAX_ECHO = 300;

/** An error the API answers with a given status; everything thrown by route handlers becomes one. */
export class ApiError extends Error {
  /** HTTP status code. */
  readonly status: number;
  /** Stable code for programs. */
  readonly code: string;
  /** The offending field, when there is one. */
  readonly field: string | undefined;
  /** Extra response headers (e.g. `Allow`, `WWW-Authenticate`). */
  readonly headers: Record<string, string>;

  constructor(status: number, code: string, message: string, options: { field?: string; headers?: Record<string, string> } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = options.field;
    this.headers = options.headers ?? {};
  }

  /** The JSON body sent to the client. */
  toBody(): ErrorBody {
    const error: ErrorBody['error'] = { code: this.code, message: clip(this.message) };
    if (this.field !== undefined) error.field = clip(this.field);
    return { error };
  }
}

/** HTTP status of each scheduler error code; codes absent here are server-side failures. */
const STATUS_OF_CODE: Record<string, number> = {
  VALIDATION: 422,
  JOB_NOT_FOUND: 404,
  RUN_NOT_FOUND: 404,
  CONFLICT: 409,
  INVALID_STATE: 409,
  POLICY_DENIED: 409,
  AGENT_PIN: 422,
};

/**
 * Turns anything a handler threw into an {@link ApiError}. Scheduler errors caused by the request
 * keep their code and message; a full store is a 507 and an unreachable one a 503, each saying
 * that nothing was saved; anything else is a 500 (503 when retryable or shutting down) whose message
 * is generic, so internals never leak.
 */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof SchedulerError) {
    const status = STATUS_OF_CODE[error.code];
    if (status !== undefined) {
      const field = error instanceof ValidationError ? error.field : undefined;
      return new ApiError(status, error.code, error.message, { field });
    }
    if (error.code === 'STORAGE_FULL') {
      return new ApiError(507, error.code, 'the scheduler cannot save this: its storage is full; nothing was saved', { headers: { 'retry-after': '30' } });
    }
    if (error.code === 'STORE_UNAVAILABLE') {
      return new ApiError(503, error.code, 'the scheduler cannot reach its database right now; try again', { headers: { 'retry-after': '5' } });
    }
    if (error.retryable || error.code === 'SHUTDOWN') {
      return new ApiError(503, error.code, 'the scheduler is temporarily unavailable; try again', { headers: { 'retry-after': '1' } });
    }
  }
  return new ApiError(500, 'INTERNAL', 'internal error; see the server log');
}

function clip(text: string): string {
  return text.length > MAX_ECHO ? `${text.slice(0, MAX_ECHO)}…` : text;
}
