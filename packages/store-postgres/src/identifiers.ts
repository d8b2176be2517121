import { ValidationError } from '@symbi/core';

/**
 * Longest accepted schema name. PostgreSQL truncates identifiers at 63 bytes; the default notify
 * channel appends `_changes` (8 bytes) to the schema name, so 55 keeps both intact.
 */
const MAX_SCHEMA_LENGTH = 55;
const MAX_IDENTIFIER_LENGTH = 63;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Checks that `value` is a plain SQL identifier (letters, digits, underscores, not starting with a
 * digit, short enough that PostgreSQL keeps it whole) and returns it. Kysely quotes every identifier
 * it writes, so reserved words (`user`, `order`) and upper case stay usable.
 */
export function checkIdentifier(field: string, value: string, maxLength = MAX_IDENTIFIER_LENGTH): string {
  if (typeof value !== 'string' || !IDENTIFIER.test(value)) {
    throw new ValidationError(field, 'must be letters, digits and underscores, not starting with a digit', value);
  }
  if (value.length > maxLength) {
    throw new ValidationError(field, `must be at most ${maxLength} characters`, value);
  }
  return value;
}

/** Checks a schema name (see {@link checkIdentifier}). */
export function checkSchemaName(schema: string): string {
  return checkIdentifier('schema', schema, MAX_SCHEMA_LENGTH);
}

/** The notification channel used when none is configured: one per schema, so schemas never cross-talk. */
export function defaultNotifyChannel(schema: string): string {
  return `${schema}_changes`;
}
