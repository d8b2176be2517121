import { ValidationError } from '../errors.js';

/**
 * A `limit` or `offset` given to a store query, checked alike by every store: undefined stays
 * undefined (the query's default applies), anything but a non-negative integer throws
 * `ValidationError` naming the field, so `listJobs({ limit: -1 })` fails the same way everywhere.
 */
export function checkCount(field: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 0) throw new ValidationError(field, `must be a non-negative integer, not ${String(value)}`, value);
  return value;
}
