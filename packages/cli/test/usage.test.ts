import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runCli, useTempDir, writeFile } from './support/cli.js';

beforeAll(() => ensureBuilt(), 300_000);

const COMMANDS = [
  ['up'],
  ['cron'],
  ['cron', 'list'],
  ['cron', 'add'],
  ['cron', 'remove'],
  ['cron', 'pause'],
  ['cron', 'resume'],
  ['cron', 'status'],
  ['cron', 'run'],
  ['cron', 'history'],
  ['cron', 'reset'],
  ['cron', 'approve'],
  ['cron', 'deny'],
  ['audit'],
  ['audit', 'query'],
  ['run'],
  ['logs'],
];

describe('symbi usage', () => {
  const tempDir = useTempDir();

  it('has --help with examples on every command', async () => {
    const dir = tempDir();
    const results = await Promise.all(COMMANDS.map((command) => runCli([...command, '--help'], { cwd: dir })));
    results.forEach((help, i) => {
      const command = COMMANDS[i]!.join(' ');
      expect(help.code, command).toBe(0);
      expect(help.stdout, command).toContain(`Usage: symbi ${command}`);
      expect(help.stdout, command).toMatch(/\nExamples:\n {2}\$ symbi /);
      expect(help.stdout, command).toContain('Global Options:');
    });
    const root = await runCli(['--help'], { cwd: dir });
    expect(root.stdout).toMatch(/Commands:\n\s+up \[options\]/);
    expect((await runCli(['--version'], { cwd: dir })).stdout).toBe('0.1.0\n');
  });

  it('exits 2 on a command line it cannot carry out, 1 on a failure, naming what to fix', async () => {
    const dir = tempDir();
    const symbi = (...args: string[]) => runCli(['--db', `${dir}/s.db`, ...args], { cwd: dir });
    const [noCommand, unknownCommand, unknownOption, missingArgument, badChoice, badNumber, badDb, missingStore, badConfig, databaseDown] = await Promise.all([
      symbi(),
      symbi('cron', 'lst'),
      symbi('cron', 'list', '--colour'),
      symbi('cron', 'status'),
      symbi('cron', 'list', '--format', 'xml'),
      symbi('cron', 'status', 'x', '--history', 'many'),
      runCli(['--db', 'mysql://x', 'cron', 'list'], { cwd: dir }),
      symbi('cron', 'pause', 'daily-report'),
      runCli(['--config', writeFile(dir, 'bad.toml', '[scheduler]\nmax_jitter_secs = 3\n'), 'cron', 'list'], { cwd: dir }),
      // Told not to wait for it (the default waits 30 s for a database that is starting up).
      runCli(['--db', 'postgres://postgres@127.0.0.1:1/test?startup_wait_seconds=0', 'cron', 'list'], { cwd: dir }),
    ]);
    expect(noCommand.code).toBe(2);
    expect(noCommand.stderr).toContain('Usage: symbi');
    expect(unknownCommand).toMatchObject({ code: 2, stderr: expect.stringContaining("error: unknown command 'lst'") });
    expect(unknownOption).toMatchObject({ code: 2, stderr: expect.stringContaining("error: unknown option '--colour'") });
    expect(missingArgument).toMatchObject({ code: 2, stderr: expect.stringContaining("error: missing required argument 'job'") });
    expect(badChoice).toMatchObject({ code: 2, stderr: expect.stringContaining('Allowed choices are table, json, csv') });
    expect(badNumber).toMatchObject({ code: 2, stderr: expect.stringContaining('must be a whole number of at least 1') });
    expect(badDb).toMatchObject({ code: 2, stderr: 'error: --db "mysql://x" is not a store (give an SQLite path, sqlite:PATH or a postgres:// URL)\n' });
    expect(missingStore).toMatchObject({ code: 1, stderr: expect.stringMatching(/^error: no store at .*s\.db \(start one with symbi up or symbi cron add/) });
    expect(databaseDown.code).toBe(1);
    expect(databaseDown.stderr).toMatch(/^error: .*the database cannot be reached \(connect ECONNREFUSED 127\.0\.0\.1:1\) \(is the database running\? check --db or SYMBI_DB\)\n$/);
    expect(badConfig.code).toBe(1);
    expect(badConfig.stderr).toMatch(/^error: .*bad\.toml:2:1: unknown key `max_jitter_secs` in \[scheduler\]; did you mean `max_jitter_seconds`\?/);
  });
});
