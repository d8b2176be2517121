import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runCli, startUp, storeWithJobs, useTempDir, writeFile, type UpProcess } from './support/cli.js';
import { describeInTerminal, useTerminal } from './support/terminal.js';

beforeAll(() => ensureBuilt(), 300_000);

const JOB = { agent_id: 'reporter', cron_expr: '0 0 3 * * *' };

describe('symbi shell reading commands from standard input', () => {
  const tempDir = useTempDir();
  let dir: string;
  let db: string;
  const shell = (input: string) => runCli(['shell', '--db', db], { cwd: dir, input });
  const symbi = (...args: string[]) => runCli(['--db', db, ...args], { cwd: dir });

  beforeAll(async () => {
    dir = tempDir();
    db = await storeWithJobs(dir, ['nightly-report', 'disk-check'], JOB);
  });

  it("prints the audit events, then the jobs: one result per command, as the spec's `/audit CronJobCreated` shows them", async () => {
    const result = await shell('/audit CronJobCreated\n/cron list\n');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^TIME\s+WHEN\s+TYPE\s+JOB\s+ACTOR\s+DETAILS\n.*CronJobCreated\s+disk-check\s.*\n.*CronJobCreated\s+nightly-report\s.*\nNAME\s+AGENT\s+SCHEDULE.*\ndisk-check\s+reporter\s+0 0 3 \* \* \*\s+active.*\nnightly-report\s+reporter\s+0 0 3 \* \* \*\s+active.*\n$/,
    );
  });

  it('prints exactly what the symbi commands it stands for print', async () => {
    const result = await shell('/audit CronJobCreated --format csv\n/cron list --format csv\n/health --format json\n/cron history disk-check --format json\n');
    expect(result.code, result.stderr).toBe(0);
    const direct = [
      await symbi('audit', 'query', '--type', 'CronJobCreated', '--format', 'csv'),
      await symbi('cron', 'list', '--format', 'csv'),
      await symbi('health', '--format', 'json'),
      await symbi('cron', 'history', 'disk-check', '--format', 'json'),
    ];
    expect(result.stdout).toBe(direct.map((r) => r.stdout).join(''));
    expect(JSON.parse(direct[2]!.stdout)).toMatchObject({ status: 'stopped', active_jobs: 2, paused_jobs: 0 });
  });

  it('stops at the first command that fails, with its exit status and error, and runs nothing after it', async () => {
    const result = await shell('/cron pause disk-check\n/cron pause no-such-job\n/cron pause nightly-report\n');
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^paused disk-check \(paused\)\n$/);
    expect(result.stderr).toBe('error: job not found: no-such-job (see: symbi cron list)\n');
    const paused = JSON.parse((await symbi('cron', 'list', '--status', 'paused', '--format', 'json')).stdout) as { name: string }[];
    expect(paused.map((job) => job.name)).toEqual(['disk-check']);
    expect((await symbi('cron', 'resume', 'disk-check')).code).toBe(0);
  });

  it('refuses a line it cannot read with a usage error (exit 2) that names it', async () => {
    expect(await shell('/cron frobnicate disk-check\n')).toMatchObject({
      code: 2,
      stdout: '',
      stderr: 'error: /cron frobnicate needs one of: list, status, history, run, pause, resume, reset, approve, deny, prune (e.g. /cron list)\n',
    });
    expect(await shell('cron list\n')).toMatchObject({ code: 2, stderr: 'error: unknown command: cron (commands start with /: /audit, /cron, /health, /help, /quit)\n' });
    expect(await shell("/cron status 'disk-check\n")).toMatchObject({ code: 2, stderr: "error: unclosed ' in: /cron status 'disk-check (close it, or escape it as \\')\n" });
    expect((await shell('/cron status disk-check --watch\n')).stderr).toMatch(/^error: --watch redraws until Ctrl-C, which would end the shell/);
    expect((await shell('/audit CronJobExploded\n')).stderr).toMatch(/^error: --type "CronJobExploded" is not an audit event type/);
  });

  it('skips blank lines and # comments, reads quoted arguments, and ends at /quit without running later lines', async () => {
    const result = await shell('# nightly check\n\n/cron status "nightly-report"\n/quit\n/cron pause nightly-report\n');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^nightly-report\nid\s+[0-9a-f-]{36}\nagent\s+reporter\n/);
    expect((await symbi('cron', 'status', 'nightly-report')).stdout).toMatch(/status\s+active/);
  });

  it('lists its commands with /help, and shows a command\'s own help with /help cron history', async () => {
    const result = await shell('/help\n/help cron history\n');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Commands:\n {2}\/audit \[EventType\] \[--since 1d\].*\n {2}\/cron list\|status\|history\|run\|pause\|resume\|reset\|approve\|deny\|prune …\s+jobs and runs/);
    expect(result.stdout).toContain('Usage: symbi cron history [options] <job>');
  });

  it('says so when the store does not exist, creating nothing', async () => {
    const result = await runCli(['shell', '--db', `${dir}/typo.db`], { cwd: dir, input: '/cron list\n' });
    expect(result).toMatchObject({ code: 1, stdout: '', stderr: `error: no store at ${dir}/typo.db (start one with symbi up or symbi cron add, or point --db or SYMBI_DB at an existing one)\n` });
  });
});

describe('symbi shell through a running server', () => {
  const KEY = 'shell-test-key-0123456789';
  const tempDir = useTempDir();
  let dir: string;
  let up: UpProcess;

  beforeAll(async () => {
    dir = tempDir();
    const file = writeFile(dir, 'agents.symbi', 'agent hello {\n  command: "echo hello"\n}\nschedule {\n  name: "hourly-report"\n  agent: "hello"\n  cron: "0 0 * * * *"\n}\n');
    up = await startUp(['--db', `${dir}/scheduler.db`, '--file', file, '--api-key', KEY], { cwd: dir });
  });
  afterAll(async () => {
    expect(await up.stop()).toBe(0);
  });

  it("shows the server's health and jobs, with the API key given to the shell", async () => {
    const result = await runCli(['--api', up.url, '--api-key', KEY, 'shell'], { cwd: dir, input: '/health\n/cron list\n' });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^server\\s+${up.url.replace(/[.]/g, '\\.')}\\nstatus\\s+healthy\\njobs\\s+1 active, 0 paused\\nin flight\\s+0\\nruns\\s+\\d+ `));
    expect(result.stdout).toMatch(/\nNAME\s+AGENT.*\nhourly-report\s+hello\s+0 0 \* \* \* \*\s+active/);
  });

  it('stops at the first command when the server refuses the key', async () => {
    const result = await runCli(['--api', up.url, '--api-key', 'wrong-key-0123456789', 'shell'], { cwd: dir, input: '/cron list\n/health\n' });
    expect(result).toMatchObject({ code: 1, stdout: '', stderr: 'error: the server refused the API key (set --api-key or SYMBI_API_KEY)\n' });
  });
});

describeInTerminal('symbi shell on a terminal', () => {
  const tempDir = useTempDir();
  const terminal = useTerminal();
  let dir: string;
  let db: string;

  beforeAll(async () => {
    dir = tempDir();
    db = await storeWithJobs(dir, ['nightly-report', 'disk-check'], JOB);
  });

  it('prompts, completes commands, job names, event types and option values with Tab, recalls history, and keeps going after an error', async () => {
    const window = terminal.run(['--db', db, 'shell'], { cwd: dir, env: { SYMBI_HISTORY: '' } });
    const line = (text: string) => new RegExp(`^symbi> ${text.replace(/[|\\/.*+?()[\]{}^$]/g, '\\$&')}\\s*$`);
    // The prompt being edited is the screen's last line; an earlier line may read the same (the up
    // arrow recalls a command still shown above), and matching it would send the next keys too soon.
    const lastLine = (screen: string) => screen.trimEnd().split('\n').at(-1) ?? '';
    // Keys go in one at a time, each Tab last: a Tab followed by more input reads as pasted text, which readline does not complete.
    const typeAndWait = async (keys: string[], text: string) => {
      window.keys(...keys);
      return window.waitFor((screen) => line(text).test(lastLine(screen)));
    };

    const welcome = await window.waitFor((screen) => /^symbi>\s*$/m.test(screen));
    expect(welcome).toContain(`symbi shell on sqlite:${db} · /help lists the commands · Tab completes · /quit leaves`);

    await typeAndWait(['/cr', 'Tab'], '/cron');
    await typeAndWait(['st', 'Tab'], '/cron status');
    await typeAndWait(['ni', 'Tab'], '/cron status nightly-report');
    window.keys('Enter');
    const status = await window.waitFor((screen) => /upcoming/.test(screen) && /^symbi>\s*$/m.test(screen));
    expect(status).toMatch(/^nightly-report\nid\s+[0-9a-f-]{36}\nagent\s+reporter\nschedule\s+0 0 3 \* \* \*\nstatus\s+active$/m);

    // Two Tabs on an ambiguous word list what may follow.
    await typeAndWait(['/audit CronJob', 'Tab'], '/audit CronJob');
    window.keys('Tab');
    const listed = await window.waitFor((screen) => /CronJobDeadLettered/.test(screen));
    expect(listed).toMatch(/CronJobCreated\s+CronJobUpdated\s+CronJobDeleted/);
    await typeAndWait(['Cr', 'Tab'], '/audit CronJobCreated');
    window.keys('Enter');
    // The fresh prompt last: the shell is reading again, so the up arrow recalls into an empty line.
    const events = await window.waitFor(
      (screen) => (screen.match(/CronJobCreated\s+(disk-check|nightly-report)\s/g) ?? []).length === 2 && /^symbi>$/.test(lastLine(screen)),
    );
    expect(events).toMatch(/TIME\s+WHEN\s+TYPE\s+JOB\s+ACTOR\s+DETAILS/);

    // The up arrow brings the last command back; Ctrl-U clears it.
    await typeAndWait(['Up'], '/audit CronJobCreated');
    window.keys('C-u');
    await typeAndWait(['/cron list --format ', 'Tab'], '/cron list --format');
    window.keys('Tab');
    await window.waitFor((screen) => /^table\s+json\s+csv\s*$/m.test(screen));
    window.keys('C-u');

    // A failing command is reported and the prompt comes back.
    window.keys('/cron status no-such-job', 'Enter');
    await window.waitFor((screen) => /error: job not found: no-such-job \(see: symbi cron list\)\nsymbi>\s*$/m.test(screen));

    // A job added meanwhile is completed once a command has run.
    expect((await runCli(['--db', db, 'cron', 'add', '--json', JSON.stringify({ name: 'late-arrival', agent_id: 'reporter', cron_expr: '0 0 4 * * *' })], { cwd: dir })).code).toBe(0);
    window.keys('/health', 'Enter');
    await window.waitFor((screen) => /jobs\s+3 active, 0 paused\nsymbi>\s*$/m.test(screen));
    await typeAndWait(['/cron pause la', 'Tab'], '/cron pause late-arrival');
    window.keys('Enter');
    await window.waitFor((screen) => /paused late-arrival \(paused\)/.test(screen));

    window.keys('/quit', 'Enter');
    expect(await window.exited()).toBe(0);
  });

  it('keeps its history between sessions in a file only its owner reads; leaves on Ctrl-D, and Ctrl-C drops the line being typed first', async () => {
    const env = { SYMBI_HISTORY: join(dir, 'history') };
    const first = terminal.run(['--db', db, 'shell'], { cwd: dir, env });
    await first.waitFor((screen) => /^symbi>\s*$/m.test(screen));
    first.keys('/cron status disk-check', 'Enter');
    await first.waitFor((screen) => /upcoming/.test(screen));
    first.keys('/quit', 'Enter');
    expect(await first.exited()).toBe(0);
    expect(readFileSync(env.SYMBI_HISTORY, 'utf8')).toBe('/cron status disk-check\n/quit\n');
    expect(statSync(env.SYMBI_HISTORY).mode & 0o777).toBe(0o600);

    const second = terminal.run(['--db', db, 'shell'], { cwd: dir, env });
    await second.waitFor((screen) => /^symbi>\s*$/m.test(screen));
    second.keys('Up');
    await second.waitFor((screen) => /^symbi> \/quit$/m.test(screen));
    second.keys('Up');
    await second.waitFor((screen) => /^symbi> \/cron status disk-check$/m.test(screen));
    second.keys('C-c');
    await second.waitFor((screen) => /\^C\nsymbi>\s*$/m.test(screen));
    second.keys('C-d');
    expect(await second.exited()).toBe(0);
  });
});
