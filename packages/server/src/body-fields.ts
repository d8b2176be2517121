import { ValidationError } from '@symbi/core';

/**
 * Reads a small request body made only of optional string fields (`{ input }`, `{ approver, note }`):
 * an absent body is `{}`, unknown fields and non-strings are `ValidationError`s naming the field.
 * `null` counts as absent.
 */
export function optionalStringFields<K extends string>(body: unknown, fields: readonly K[], maxLength: number): Partial<Record<K, string>> {
  if (body === undefined) return {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ValidationError('body', 'must be a JSON object', undefined);
  const out: Partial<Record<K, string>> = {};
  for (const [key, value] of Object.entries(body)) {
    if (!(fields as readonly string[]).includes(key)) throw new ValidationError(key, 'is not a known field', undefined);
    if (value === null) continue;
    if (typeof value !== 'string') throw new ValidationError(key, 'must be a string', undefined);
    if (value.length > maxLength) throw new ValidationError(key, `must be at most ${maxLength} characters`, undefined);
    out[key as K] = value;
  }
  return out;
}
