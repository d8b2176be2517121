/** Root of every error the client throws. */
export class SymbiontError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The server could not be reached, or did not answer in time. */
export class SymbiontNetworkError extends SymbiontError {}

/** The server answered with an error: `{ "error": { code, message, field? } }`. */
export class SymbiontApiError extends SymbiontError {
  /** HTTP status. */
  readonly status: number;
  /** Stable code, e.g. `JOB_NOT_FOUND`, `VALIDATION`, `INVALID_STATE`. */
  readonly code: string;
  /** The offending field for validation errors (snake_case), else undefined. */
  readonly field: string | undefined;

  constructor(status: number, code: string, message: string, field?: string) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

/** 404: no such job, run or route. */
export class NotFoundError extends SymbiontApiError {}

/** 401 or 403: the API key is missing, wrong, or may not do this. */
export class UnauthorizedError extends SymbiontApiError {}

/** 400 or 422: the request was malformed or a field is invalid (`field` names it). */
export class ValidationFailedError extends SymbiontApiError {}

/** 409: a name is taken, or the job or run is not in a state that allows this. */
export class ConflictError extends SymbiontApiError {}

/** The error class for an HTTP error status. */
export function apiErrorFor(status: number, code: string, message: string, field?: string): SymbiontApiError {
  const ErrorClass =
    status === 404
      ? NotFoundError
      : status === 401 || status === 403
        ? UnauthorizedError
        : status === 400 || status === 422
          ? ValidationFailedError
          : status === 409
            ? ConflictError
            : SymbiontApiError;
  return new ErrorClass(status, code, message, field);
}
