import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runCli, startUp, useTempDir, writeFile, type UpProcess } from './support/cli.js';

beforeAll(() => ensureBuilt(), 300_000);

const CONFIG = `
[api]
request_timeout_seconds = 20

[[api.keys]]
label = "deployer"
role = "operator"
key = "\${DEPLOYER_KEY}"

[[api.keys]]
label = "grafana"
role = "read-only"
key = "viewer-key-123"
`;

describe('symbi up with [[api.keys]] in symbi.toml', () => {
  const tempDir = useTempDir();
  let dir: string;
  let up: UpProcess;

  beforeAll(async () => {
    dir = tempDir();
    writeFile(dir, 'symbi.toml', CONFIG);
    up = await startUp(['--db', join(dir, 'scheduler.db')], { cwd: dir, env: { DEPLOYER_KEY: 'deployer-key-456' } });
  });
  afterAll(async () => {
    expect(await up.stop()).toBe(0);
  });

  it('requires a key, lets each key do what its role allows and audits its label', async () => {
    expect(up.stdout()).toContain('(API key required)');
    const call = (key: string | null, path: string, init: RequestInit = {}) =>
      fetch(`${up.url}${path}`, { ...init, headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) } });
    expect((await call(null, '/api/v1/schedule')).status).toBe(401);
    const body = JSON.stringify({ name: 'nightly', agent_id: 'a', cron_expr: '@daily' });
    const refused = await call('viewer-key-123', '/api/v1/schedule', { method: 'POST', body });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain('"grafana" has the role read-only');
    expect((await call('deployer-key-456', '/api/v1/schedule', { method: 'POST', body })).status).toBe(201);
    const audit = await runCli(['--api', up.url, '--api-key', 'viewer-key-123', 'audit', 'query', '--format', 'json'], { cwd: dir });
    expect(audit.code, audit.stderr).toBe(0);
    expect((JSON.parse(audit.stdout) as { type: string; actor: string }[]).map((e) => [e.type, e.actor])).toContainEqual(['CronJobCreated', 'deployer']);
  });
});
