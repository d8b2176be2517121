import { beforeAll, expect, it } from 'vitest';
import { describeStores, ensureBuilt, runCli, useStore, useTempDir, writeFile, type CliResult } from './support/cli.js';

const AGENTS = `
agent echoer {
  command: """printf '%s' "$SYMBI_INPUT" """
}
schedule {
  name: "chatty"
  agent: "echoer"
  cron: "0 0 0 1 1 *"
  history_retention_runs: 3
}
`;

beforeAll(() => ensureBuilt(), 300_000);

describeStores('symbi cron history retention', (kind) => {
  const tempDir = useTempDir();
  const newStore = useStore(kind);
  let dir: string;
  let file: string;
  let symbi: (...args: string[]) => Promise<CliResult>;

  beforeAll(() => {
    dir = tempDir();
    file = writeFile(dir, 'agents.symbi', AGENTS);
    const db = newStore(dir);
    symbi = (...args) => runCli(['--db', db, ...args], { cwd: dir });
  });

  const job = async (): Promise<{ history_retention_days: number | null; history_retention_runs: number | null }> => {
    const shown = await symbi('cron', 'list', '--format', 'json');
    expect(shown.code, shown.stderr).toBe(0);
    return (JSON.parse(shown.stdout) as { name: string; history_retention_days: number | null; history_retention_runs: number | null }[])[0]!;
  };
  const inputs = async (): Promise<string[]> =>
    (JSON.parse((await symbi('cron', 'history', 'chatty', '--format', 'json')).stdout) as { input: string }[]).map((run) => run.input);

  it('takes a job\'s retention from its schedule block, and a flag of add over it', async () => {
    const added = await symbi('cron', 'add', '--file', file, '--history-retention-runs', '2');
    expect(added.code, added.stderr).toBe(0);
    expect(await job()).toMatchObject({ history_retention_days: null, history_retention_runs: 2 });
  });

  it('changes it with update, `default` handing it back to the scheduler, and refuses zero', async () => {
    const updated = await symbi('cron', 'update', 'chatty', '--history-retention-days', '30');
    expect(updated.code, updated.stderr).toBe(0);
    expect(updated.stdout).toMatch(/^updated chatty [0-9a-f-]{36}\n$/);
    expect(await job()).toMatchObject({ history_retention_days: 30, history_retention_runs: 2 });
    expect((await symbi('cron', 'status', 'chatty')).stdout).toMatch(/\nhistory\s+finished runs kept 30 days, at most the newest 2 runs\n/);
    await symbi('cron', 'update', 'chatty', '--history-retention-days', 'default');
    expect(await job()).toMatchObject({ history_retention_days: null, history_retention_runs: 2 });
    const zero = await symbi('cron', 'update', 'chatty', '--history-retention-runs', '0');
    expect(zero.code).toBe(2);
    expect(zero.stderr).toMatch(/--history-retention-runs.*must be a whole number of at least 1/);
    expect((await symbi('cron', 'update', 'chatty')).code).toBe(2);
  });

  it('prunes finished runs beyond the job\'s limit on demand, a dry run deleting none, and audits it', async () => {
    for (const input of ['one', 'two', 'three', 'four']) {
      const run = await symbi('cron', 'run', 'chatty', '--file', file, '--input', input);
      expect(run.code, run.stderr).toBe(0);
    }
    const dry = await symbi('cron', 'prune', '--dry-run');
    expect(dry).toMatchObject({ code: 0, stdout: 'would delete 2 finished run(s)\n' });
    expect(await inputs()).toEqual(['four', 'three', 'two', 'one']);
    const real = await symbi('cron', 'prune');
    expect(real).toMatchObject({ code: 0, stdout: 'deleted 2 finished run(s)\n' });
    expect(await inputs()).toEqual(['four', 'three']);
    const audit = JSON.parse((await symbi('audit', 'query', '--type', 'HistoryPruned', '--format', 'json')).stdout) as { actor: string; details: unknown }[];
    expect(audit).toEqual([expect.objectContaining({ actor: expect.stringMatching(/^cli:/), details: { deleted: 2 } })]);
  });
});
