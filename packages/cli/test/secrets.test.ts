import { beforeAll, expect, it } from 'vitest';
import { ensureBuilt, runCli, useTempDir, writeFile } from './support/cli.js';

beforeAll(() => ensureBuilt(), 300_000);

const tempDir = useTempDir();

it('runs commands that deliver nothing without the delivery secrets symbi.toml references', async () => {
  const dir = tempDir();
  writeFile(dir, 'symbi.toml', '[scheduler.delivery]\nslack_api_token = "${SLACK_API_TOKEN}"\nsmtp_password = "${SMTP_PASSWORD}"\n');
  const symbi = (...args: string[]) => runCli(args, { cwd: dir });
  const added = await symbi('cron', 'add', '--json', '{"name":"g1","agent_id":"a","cron_expr":"0 0 * * * *"}');
  expect(added.code, added.stderr).toBe(0);
  for (const args of [['cron', 'list'], ['cron', 'history', 'g1'], ['cron', 'status', 'g1'], ['cron', 'pause', 'g1'], ['audit', 'query']]) {
    const result = await symbi(...args);
    expect(result.stderr, args.join(' ')).not.toMatch(/SLACK_API_TOKEN|SMTP_PASSWORD/);
    expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
  }
  // A command that delivers still needs them, and says which.
  const run = await symbi('cron', 'run', 'g1');
  expect(run.stderr).toMatch(/SLACK_API_TOKEN is not set/);
});
