import { ValidationError } from '@symbi/core';

/** A query parameter a route accepts; the same declaration validates requests and documents the route. */
export type QueryParam =
  | { name: string; description: string; kind: 'integer'; minimum: number; maximum: number }
  | { name: string; description: string; kind: 'enum'; values: readonly string[]; multiple?: boolean }
  | { name: string; description: string; kind: 'string' }
  | { name: string; description: string; kind: 'date-time' };

/** Parsed query values by parameter name: numbers, strings, string lists (`multiple`) and Dates. */
export type QueryValues = Record<string, number | string | string[] | Date | undefined>;

const MAX_STRING = 1000;

/**
 * Validates a query string against a route's parameters. Unknown, repeated, empty and malformed
 * parameters are `ValidationError`s naming the parameter, so a typo (`?statuss=failed`) is
 * reported instead of silently returning everything.
 */
export function parseQuery(search: URLSearchParams, params: readonly QueryParam[]): QueryValues {
  const values: QueryValues = {};
  const seen = new Set<string>();
  for (const [name, raw] of search) {
    const param = params.find((p) => p.name === name);
    if (!param) throw new ValidationError(name, 'is not a known query parameter', undefined);
    if (seen.has(name)) throw new ValidationError(name, 'may be given only once', undefined);
    seen.add(name);
    values[name] = parseValue(param, raw);
  }
  return values;
}

/** The JSON Schema of a parameter, for the OpenAPI document. */
export function queryParamSchema(param: QueryParam): Record<string, unknown> {
  switch (param.kind) {
    case 'integer':
      return { type: 'integer', minimum: param.minimum, maximum: param.maximum };
    case 'enum':
      return param.multiple
        ? { type: 'string', pattern: `^(${param.values.join('|')})(,(${param.values.join('|')}))*$` }
        : { type: 'string', enum: [...param.values] };
    case 'string':
      return { type: 'string', minLength: 1, maxLength: MAX_STRING };
    case 'date-time':
      return { type: 'string', format: 'date-time' };
  }
}

function parseValue(param: QueryParam, raw: string): number | string | string[] | Date {
  if (raw === '') throw new ValidationError(param.name, 'must not be empty', raw);
  switch (param.kind) {
    case 'integer': {
      if (!/^-?\d{1,16}$/.test(raw)) throw new ValidationError(param.name, 'must be a whole number', undefined);
      const value = Number(raw);
      if (value < param.minimum || value > param.maximum) {
        throw new ValidationError(param.name, `must be between ${param.minimum} and ${param.maximum}`, value);
      }
      return value;
    }
    case 'enum': {
      const items = param.multiple ? raw.split(',') : [raw];
      for (const item of items) {
        if (!param.values.includes(item)) throw new ValidationError(param.name, `must be one of ${param.values.join(', ')}`, undefined);
      }
      return param.multiple ? items : raw;
    }
    case 'string':
      if (raw.length > MAX_STRING || /[\u0000-\u001f\u007f]/.test(raw)) {
        throw new ValidationError(param.name, `must be at most ${MAX_STRING} printable characters`, undefined);
      }
      return raw;
    case 'date-time': {
      const date = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/.test(raw) ? new Date(raw) : null;
      if (date === null || Number.isNaN(date.getTime())) throw new ValidationError(param.name, 'must be an ISO 8601 date-time', undefined);
      return date;
    }
  }
}
