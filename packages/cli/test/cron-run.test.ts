import { beforeAll, expect, it } from 'vitest';
import { ensureBuilt, runCli, useTempDir, writeFile } from './support/cli.js';

beforeAll(() => ensureBuilt(), 300_000);

const tempDir = useTempDir();

it('prints the output of a job delivered to stdout once when it runs in this process', async () => {
  const dir = tempDir();
  const file = writeFile(
    dir,
    'jobs.symbi',
    `agent hello { command: """echo "hello $SYMBI_INPUT" """ }
     schedule { name: "announce" agent: "hello" cron: "0 0 * * * *" input: "there" delivery: ["stdout"] }`,
  );
  const symbi = (...args: string[]) => runCli(['--db', `${dir}/scheduler.db`, ...args], { cwd: dir });
  expect((await symbi('cron', 'add', '--file', file, '--schedule', 'announce')).code).toBe(0);
  const run = await symbi('cron', 'run', 'announce', '--file', file);
  expect(run).toMatchObject({ code: 0, stdout: 'hello there\n' });
  expect(run.stderr).not.toContain('hello there');
  const history = await symbi('cron', 'history', 'announce', '--format', 'json');
  expect(JSON.parse(history.stdout)[0].deliveries).toEqual([expect.objectContaining({ channel: 'stdout', status: 'delivered' })]);
});
