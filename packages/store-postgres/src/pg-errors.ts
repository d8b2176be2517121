import { ConflictError, SchedulerError, StoreError, StoreUnavailableError } from '@symbi/core';

/** SQLSTATE codes after which running the same transaction again may succeed. */
const RETRYABLE_SQLSTATES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available
]);

/** SQLSTATE codes of a server that cannot be reached for now: the connection was cut or refused. */
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01', // admin_shutdown (e.g. pg_terminate_backend)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up or shutting down)
  '53300', // too_many_connections
]);

/** SQLSTATE codes that roll back a transaction but leave nothing half done: safe to replay at once. */
const REPLAYABLE_SQLSTATES = new Set(['40001', '40P01']);

/** Socket-level failures of the driver; the database may be fine a moment later. */
const RETRYABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);

interface DriverError {
  code?: unknown;
  constraint?: unknown;
  message?: unknown;
}

/** The SQLSTATE of an error the server sent; undefined for failures of the client or the network. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as DriverError | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Whether a (mapped or raw) error is a deadlock or serialization failure, after which a replay is safe. */
export function isReplayable(error: unknown): boolean {
  const state = sqlState(error instanceof StoreError ? error.cause : error);
  return state !== undefined && REPLAYABLE_SQLSTATES.has(state);
}

function isConnectionFailure(error: unknown): boolean {
  const { code, message } = (error ?? {}) as DriverError;
  if (typeof code === 'string' && UNAVAILABLE_SQLSTATES.has(code)) return true;
  if (typeof code === 'string' && RETRYABLE_NODE_CODES.has(code)) return true;
  if (typeof code === 'string' && code.startsWith('08')) return true;
  // node-postgres reports a dropped socket with a bare Error and no code.
  return (
    typeof message === 'string' &&
    /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable/i.test(message)
  );
}

/**
 * Maps a node-postgres error to the core's taxonomy: a unique violation becomes `ConflictError`
 * (naming what was taken), a lost or refused connection `StoreUnavailableError`, deadlocks and
 * serialization failures a retryable `StoreError`, anything else a plain `StoreError`. Errors that already belong to the taxonomy pass
 * through, so mapping twice is harmless.
 *
 * @param what - the operation, for the message (e.g. `create job`).
 */
export function mapPgError(error: unknown, what: string): SchedulerError {
  if (error instanceof SchedulerError) return error;
  const state = sqlState(error);
  const detail = error instanceof Error ? error.message : String(error);
  if (state === '23505') {
    return new ConflictError(`${what}: ${conflictSubject((error as DriverError).constraint)} is already taken`, { cause: error });
  }
  if (isConnectionFailure(error)) return new StoreUnavailableError(`${what} failed: the database cannot be reached (${detail})`, { cause: error });
  if (state !== undefined && RETRYABLE_SQLSTATES.has(state)) {
    return new StoreError(`${what} failed: ${detail}`, { cause: error, retryable: true });
  }
  return new StoreError(`${what} failed: ${detail}`, { cause: error });
}

function conflictSubject(constraint: unknown): string {
  switch (constraint) {
    case 'jobs_name_key':
      return 'job name';
    case 'jobs_pkey':
      return 'job id';
    case 'runs_pkey':
      return 'run id';
    case 'runs_fire_key_key':
      return 'fire key';
    case 'audit_events_pkey':
      return 'audit event id';
    default:
      return typeof constraint === 'string' ? `value of ${constraint}` : 'value';
  }
}
