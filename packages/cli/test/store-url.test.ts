import { beforeAll, expect, it } from 'vitest';
import { ensureBuilt, runCli, useTempDir } from './support/cli.js';

beforeAll(() => ensureBuilt(), 300_000);

const tempDir = useTempDir();

it('waits for an unreachable PostgreSQL as long as ?startup_wait_seconds= says, then names the failure', async () => {
  const cwd = tempDir();
  const started = Date.now();
  const result = await runCli(['--db', 'postgres://postgres@127.0.0.1:1/test?startup_wait_seconds=1.5', 'cron', 'list'], { cwd });
  const waited = Date.now() - started;
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(/migrate schema failed: the database cannot be reached \(connect ECONNREFUSED 127\.0\.0\.1:1\)/);
  expect(waited).toBeGreaterThanOrEqual(1_400);

  const bad = await runCli(['--db', 'postgres://postgres@127.0.0.1:1/test?startup_wait_seconds=soon', 'cron', 'list'], { cwd });
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('startup_wait_seconds="soon" in the store URL is not a number of seconds');
});
