import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runCli, useTempDir, writeFile } from './support/cli.js';

beforeAll(() => ensureBuilt(), 300_000);

const FILE = `
agent trusted { command: "echo ran" }
schedule {
  name: "secure-task"
  agent: "trusted"
  cron: "0 0 * * * *"
  agent_pin_jwt: "\${AGENT_PIN_JWT}"
  policy { require_agent_pin: true }
}`;

describe('AgentPin from the configuration', () => {
  const tempDir = useTempDir();

  it('denies a job that requires AgentPin when no verifier is configured, and verifies with the configured one', async () => {
    const dir = tempDir();
    const file = writeFile(dir, 'secure.symbi', FILE);
    const db = join(dir, 's.db');
    expect((await runCli(['--db', db, 'cron', 'add', '--file', file], { cwd: dir })).code).toBe(0);

    const unconfigured = await runCli(['--db', db, 'cron', 'run', 'secure-task', '--file', file], { cwd: dir });
    expect(unconfigured.code).toBe(1);
    expect(unconfigured.stdout).toBe('');
    expect(unconfigured.stderr).toMatch(/✗ secure-task denied: AgentPin verification failed \(not_configured\)/);

    mkdirSync(join(dir, 'discovery'));
    const config = writeFile(dir, 'symbi.toml', '[agentpin]\ndomain = "agents.example.com"\ndiscovery_dir = "./discovery"\n');
    const malformed = await runCli(['--config', config, '--db', db, 'cron', 'run', 'secure-task', '--file', file], { cwd: dir, env: { AGENT_PIN_JWT: 'not-a-jwt' } });
    expect(malformed.stderr).toMatch(/✗ secure-task denied: AgentPin verification failed \(malformed\)/);
    const missing = await runCli(['--config', config, '--db', db, 'cron', 'run', 'secure-task', '--file', file], { cwd: dir });
    expect(missing.stderr).toMatch(/✗ secure-task denied: AgentPin verification failed \(missing\)/);

    const audit = await runCli(['--db', db, 'audit', 'query', '--type', 'AgentPinVerificationFailed', '--format', 'json'], { cwd: dir });
    expect((JSON.parse(audit.stdout) as { details: { reason: string } }[]).map((event) => event.details.reason)).toEqual(['missing', 'malformed', 'not_configured']);
  });

  it('refuses `required` without a domain anchor', async () => {
    const dir = tempDir();
    const config = writeFile(dir, 'symbi.toml', '[agentpin]\nrequired = true\n');
    const result = await runCli(['--config', config, '--db', join(dir, 's.db'), 'up', '--port', '0'], { cwd: dir });
    expect(result).toMatchObject({ code: 1, stderr: 'error: agentpin.required is set but no domain anchor is configured (set [agentpin] domain or SYMBI_AGENTPIN_DOMAIN)\n' });
  });
});
