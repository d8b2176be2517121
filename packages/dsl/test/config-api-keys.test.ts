import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '@symbi/dsl';

function problem(source: string, env: Record<string, string> = {}): ConfigError {
  try {
    parseConfig(source, { env, file: 'symbi.toml' });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('[api] keys, roles and connection limits', () => {
  it('reads labelled keys with roles, expanding ${VAR} in the key, next to the single api_key', () => {
    const config = parseConfig(
      `[api]
api_key = "owner-key"
headers_timeout_seconds = 5
request_timeout_seconds = 20
max_connections = 64

[[api.keys]]
label = "alice"
role = "approver"
key = "\${ALICE_KEY}"

[[api.keys]]
label = "grafana"
role = "read-only"
key = "viewer-key"
`,
      { env: { ALICE_KEY: 'alice-secret' } },
    );
    expect(config.api).toMatchObject({
      apiKey: 'owner-key',
      headersTimeoutSeconds: 5,
      requestTimeoutSeconds: 20,
      maxConnections: 64,
      keys: [
        { label: 'alice', role: 'approver', key: 'alice-secret' },
        { label: 'grafana', role: 'read-only', key: 'viewer-key' },
      ],
    });
  });

  it('defaults to no labelled keys and limits of seconds', () => {
    expect(parseConfig('', { env: {} }).api).toMatchObject({ keys: [], headersTimeoutSeconds: 10, requestTimeoutSeconds: 30, maxConnections: 256 });
  });

  it.each([
    ['[[api.keys]]\nlabel = "a"\nrole = "admin"\nkey = "k"\n', 'api.keys.role', '`api.keys[0].role` must be one of read-only, approver, operator, found "admin"'],
    ['[[api.keys]]\nlabel = "a\\u001b[2J"\nrole = "operator"\nkey = "k"\n', 'api.keys.label', '`api.keys[0].label` must not contain control'],
    ['[[api.keys]]\nlabel = "a"\nrole = "operator"\nkey = ""\n', 'api.keys.key', '`api.keys[0].key` must not be empty'],
    ['[[api.keys]]\nlabel = "a"\nrole = "operator"\nkey = "k"\nrole_name = "x"\n', 'api.keys.role_name', 'unknown key `role_name` in [[api.keys]]'],
    ['[[api.keys]]\nlabel = "a"\nrole = "operator"\nkey = "k1"\n[[api.keys]]\nlabel = "a"\nrole = "read-only"\nkey = "k2"\n', 'api.keys.label', '`api.keys[1].label` "a" is already the label of another key'],
    ['[api]\napi_key = "k0"\n[[api.keys]]\nlabel = "api"\nrole = "read-only"\nkey = "k1"\n', 'api.keys', 'the label "api" belongs to the single `api_key`'],
    ['[api]\nheaders_timeout_seconds = 60\nrequest_timeout_seconds = 30\n', 'api.request_timeout_seconds', 'must be at least `api.headers_timeout_seconds`'],
    ['[api]\nkeys = "k"\n', 'api.keys', '`api.keys` must be an array of tables'],
  ])('refuses %j naming the field', (source, field, message) => {
    const error = problem(source);
    expect(error.field).toBe(field);
    expect(error.detail).toContain(message);
  });

  it('never quotes a key in an error', () => {
    const error = problem('[[api.keys]]\nlabel = "a"\nrole = "boss"\nkey = "super-secret-value"\n');
    expect(error.message).not.toContain('super-secret-value');
  });
});
