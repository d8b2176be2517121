import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { ensureBuilt, startUp, useTempDir, writeFile } from './support/cli.js';

beforeAll(() => ensureBuilt(), 300_000);

const tempDir = useTempDir();
const SLOW = `
  agent slow { command: "sleep 1.5; echo finished" }
  schedule { name: "slow" agent: "slow" cron: "* * * * * *" }`;

it('takes a Ctrl-C delivered twice at once (the terminal and `pnpm symbi up` both pass it on) as one, and stops cleanly', async () => {
  const dir = tempDir();
  const up = await startUp(['--db', join(dir, 'scheduler.db'), '--file', writeFile(dir, 'slow.symbi', SLOW)], { cwd: dir });
  await up.waitFor(/scheduling 1 active job/);
  up.child.kill('SIGINT');
  up.child.kill('SIGINT');
  expect(await up.stop('SIGINT')).toBe(0);
  expect(up.stdout()).toMatch(/● stopped\n$/);
  expect(up.stdout()).not.toContain('stopping now');
});

it('stops at once, with status 130, on a second Ctrl-C a while after the first', async () => {
  const dir = tempDir();
  const slower = SLOW.replace('sleep 1.5', 'sleep 20');
  const up = await startUp(['--db', join(dir, 'scheduler.db'), '--file', writeFile(dir, 'slow.symbi', slower)], { cwd: dir });
  await up.waitFor(/scheduling 1 active job/);
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  up.child.kill('SIGINT');
  await up.waitFor(/SIGINT: stopping, waiting up to \d+s for 1 run in flight/);
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  up.child.kill('SIGINT');
  expect(await up.stop('SIGINT')).toBe(130);
});
