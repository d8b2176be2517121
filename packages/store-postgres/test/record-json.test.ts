import { expect, it } from 'vitest';
import { recordJson, recordsJson } from '../src/row-mapping.js';

it('leaves null columns out of record JSON, but not nulls inside a column', () => {
  expect(recordJson({ a: 1, b: null, c: { d: null }, e: [null] })).toBe('{"a":1,"c":{"d":null},"e":[null]}');
  expect(recordsJson([{ a: null }, { a: 'x' }])).toBe('[{},{"a":"x"}]');
});
