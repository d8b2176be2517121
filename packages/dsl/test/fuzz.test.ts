import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, DslError, parseConfig, parseSymbi, toJobSpecs } from '@symbi/dsl';
import { fixture, fixtureNames } from './fixture-files.js';

const NOW = new Date('2026-01-01T00:00:00Z');
/** Generous bound for one case: a hang or a quadratic blow-up shows up as seconds, not milliseconds. */
const CASE_LIMIT_MS = 250;

const DSL_TOKENS = [
  'schedule', 'agent', 'policy', 'heartbeat', 'allowed_hours', 'webhook_headers', 'env', 'name', 'cron', 'at',
  'timezone', 'delivery', 'max_runtime', 'jitter', 'max_concurrent', '{', '}', '[', ']', ':', ',', '=', '"', '"""',
  '"x"', '"0 0 9 * * *"', '"5m"', '"UTC"', '"${A}"', '\\', '\\u{', '#', '//', '\n', '\r\n', ' ', '\t', '1', '-2.5',
  '1e999', 'true', 'false', '\ufeff', '😀', "'",
  // The Symbiont runtime's forms.
  'metadata', 'function f(x: String) -> T', 'type T =', 'with', '(', ')', '->', '<', '>', 'if', '/*', '*/', 'deliver',
  'one_shot', 'audit', 'require', 'allow', 'channel', '"slack://a"', '"mailto:"', '"2027-03-14T02:30:00"',
];
const TOML_TOKENS = [
  '[scheduler]', '[scheduler.delivery]', '[api]', '[agentpin]', '[[x]]', 'max_jitter_seconds', 'smtp_port', 'listen',
  'store_url', 'required', ' = ', '=', '"', '"""', "'", '"${SMTP_USER}"', '"${UNSET}"', '"127.0.0.1:8080"', '30',
  '-1', '1.5', 'inf', 'true', '1979-05-27', '{ a = 1 }', '[1, 2]', '#', '\n', ' ', '.', '\\',
];

function sourceArbitrary(tokens: string[], fixtures: string[]): fc.Arbitrary<string> {
  const token = fc.oneof(fc.constantFrom(...tokens), fc.string({ maxLength: 3, unit: 'binary' }));
  const mutation = fc.record({ at: fc.nat(), length: fc.nat({ max: 12 }), kind: fc.constantFrom('insert', 'delete', 'replace'), token });
  const mutated = fc.tuple(fc.constantFrom(...fixtures), fc.array(mutation, { minLength: 1, maxLength: 6 })).map(([base, mutations]) =>
    mutations.reduce((text, { at, length, kind, token: inserted }) => {
      const position = text.length === 0 ? 0 : at % (text.length + 1);
      if (kind === 'insert') return text.slice(0, position) + inserted + text.slice(position);
      if (kind === 'delete') return text.slice(0, position) + text.slice(position + length);
      return text.slice(0, position) + inserted + text.slice(position + length);
    }, base),
  );
  return fc.oneof(
    fc.string({ maxLength: 300, unit: 'binary' }),
    fc.array(token, { maxLength: 80 }).map((parts) => parts.join('')),
    mutated,
  );
}

/** Milliseconds that `run` takes. */
function timed(run: () => void): number {
  const started = performance.now();
  run();
  return performance.now() - started;
}

describe('fuzzing parseSymbi', () => {
  const fixtures = [...fixtureNames('.symbi'), 'symbiont/compliance.symbi', 'symbiont/agents.symbi'].map(fixture);

  it('returns a document or throws a positioned DslError, quickly', () => {
    let slowest = 0;
    fc.assert(
      fc.property(sourceArbitrary(DSL_TOKENS, fixtures), (source) => {
        const elapsed = timed(() => {
          try {
            toJobSpecs(parseSymbi(source, { file: 'fuzz.symbi' }), { now: NOW });
          } catch (error) {
            expect(error).toBeInstanceOf(DslError);
            const { line, column, message } = error as DslError;
            expect(line).toBeGreaterThanOrEqual(1);
            expect(column).toBeGreaterThanOrEqual(1);
            expect(message.startsWith(`fuzz.symbi:${line}:${column}: `)).toBe(true);
            expect(message.split('\n').at(-1)).toMatch(/\^$/);
          }
        });
        slowest = Math.max(slowest, elapsed);
        expect(elapsed).toBeLessThan(CASE_LIMIT_MS);
      }),
      { numRuns: 2000 },
    );
    expect(slowest).toBeLessThan(CASE_LIMIT_MS);
  });

  it('stays linear on large and pathological inputs', () => {
    const many = Array.from({ length: 3000 }, (_, i) => `schedule {\n  name: "job-${i}"\n  agent: "a"\n  cron: "0 0 * * * *"\n  policy { max_runtime: "5m" }\n}\n`).join('');
    expect(timed(() => expect(parseSymbi(many).schedules).toHaveLength(3000))).toBeLessThan(2000);
    const pathological = [
      `schedule { delivery: ${'['.repeat(200_000)}`,
      `schedule ${'a {'.repeat(100_000)}`,
      '"'.repeat(200_000),
      `schedule { input: "${'a'.repeat(200_000)}`,
      'function f() {'.repeat(50_000),
      `agent a${'('.repeat(200_000)}`,
      `agent a { ${'with '.repeat(50_000)}`,
      `/*${' '.repeat(200_000)}`,
    ];
    for (const source of pathological) {
      expect(timed(() => expect(() => parseSymbi(source)).toThrow(DslError))).toBeLessThan(1000);
    }
    expect(timed(() => expect(parseSymbi('#'.repeat(200_000)).schedules).toEqual([]))).toBeLessThan(1000);
    expect(timed(() => expect(parseSymbi('type a = Map<b, c>\n'.repeat(50_000)).kept).toHaveLength(50_000))).toBeLessThan(2000);
  });
});

describe('fuzzing parseConfig', () => {
  const fixtures = fixtureNames('.toml').map(fixture);
  const env = { SMTP_USER: 'u', SMTP_PASS: 'p', SLACK_API_TOKEN: 't' };

  it('returns a config or throws a ConfigError with a line, quickly', () => {
    fc.assert(
      fc.property(sourceArbitrary(TOML_TOKENS, fixtures), (source) => {
        const elapsed = timed(() => {
          try {
            parseConfig(source, { env, file: 'fuzz.toml' });
          } catch (error) {
            expect(error).toBeInstanceOf(ConfigError);
            const { line, column, message } = error as ConfigError;
            expect(line).toBeGreaterThanOrEqual(1);
            expect(message.startsWith(`fuzz.toml:${line}:${column}: `)).toBe(true);
          }
        });
        expect(elapsed).toBeLessThan(CASE_LIMIT_MS);
      }),
      { numRuns: 2000 },
    );
  });
});
