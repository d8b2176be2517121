import { ConflictError, SchedulerError, StorageFullError, StoreError } from '@symbi/core';

/**
 * Errors to raise instead of a constraint failure, keyed by the constraint SQLite names:
 * `table.column` for UNIQUE and PRIMARY KEY (e.g. `jobs.name`), `foreign_key` for FOREIGN KEY.
 */
export type ConstraintErrors = Record<string, () => SchedulerError>;

interface SqliteErrorLike {
  code: string;
  message: string;
}

function isSqliteError(error: unknown): error is SqliteErrorLike {
  const code = error instanceof Error ? (error as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('SQLITE_');
}

/** The constraint a better-sqlite3 constraint error names, e.g. `jobs.name` or `foreign_key`. */
function violatedConstraint(error: SqliteErrorLike): string | null {
  if (error.code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return 'foreign_key';
  if (error.code !== 'SQLITE_CONSTRAINT_UNIQUE' && error.code !== 'SQLITE_CONSTRAINT_PRIMARYKEY') return null;
  const match = /constraint failed: ([\w.]+)/.exec(error.message);
  return match?.[1] ?? null;
}

/**
 * Maps a better-sqlite3 error to the core's taxonomy: a known constraint to the caller's error
 * (usually `ConflictError`), any other uniqueness failure to `ConflictError`, a busy or locked database
 * to a retryable `StoreError`, a full disk (or a file at its `max_page_count`) to `StorageFullError`, and
 * the rest to `StoreError`. Errors that are not SQLite's (for
 * example one thrown by a `plan` callback) pass through untouched.
 */
export function mapSqliteError(error: unknown, constraints: ConstraintErrors = {}): unknown {
  if (error instanceof SchedulerError || !isSqliteError(error)) return error;
  const constraint = violatedConstraint(error);
  if (constraint !== null) {
    const known = constraints[constraint];
    if (known !== undefined) {
      const mapped = known();
      Object.defineProperty(mapped, 'cause', { value: error, configurable: true, writable: true });
      return mapped;
    }
    if (constraint !== 'foreign_key') return new ConflictError(`duplicate ${constraint}`, { cause: error });
  }
  if (error.code.startsWith('SQLITE_BUSY') || error.code.startsWith('SQLITE_LOCKED')) {
    return new StoreError(`sqlite database is busy: ${error.message}`, { cause: error, retryable: true });
  }
  if (error.code === 'SQLITE_FULL') {
    return new StorageFullError(`sqlite database is full, nothing was written: ${error.message}`, { cause: error });
  }
  return new StoreError(`sqlite error ${error.code}: ${error.message}`, { cause: error });
}
