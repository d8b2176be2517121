import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, childEnv, describeStores, ensureBuilt, runCli, startUp, storeWithJobs, useStore, useTempDir, writeFile } from './support/cli.js';

const EXAMPLE = ['--config', join(ROOT, 'examples/agents/symbi.toml'), '--file', join(ROOT, 'examples/agents/scheduler.symbi')];

beforeAll(() => ensureBuilt(), 300_000);

/** The JSON lines of a pino log file. */
function logLines(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function until<T>(probe: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('symbi up with the example agents', () => {
  const tempDir = useTempDir();

  it('fires the example schedules within seconds, logs as JSON, and upserts on restart without duplicates', async () => {
    const dir = tempDir();
    const first = await startUp(EXAMPLE, { cwd: dir });
    expect(first.stdout()).toMatch(/created\s+greeting\s+\*\/5 \* \* \* \* \*\s+next run (in \ds|now)/);
    expect(first.stdout()).toMatch(/created\s+system-heartbeat/);
    expect(first.stdout()).toMatch(/created\s+daily-report\s+0 0 9 \* \* \*/);
    expect(first.stdout()).toContain('scheduling 3 active jobs (0 paused)');
    await first.waitFor(/✓ greeting succeeded in \d+/, 10_000);
    await first.waitFor(/hello from greeting: good morning/);
    await first.waitFor(/✓ system-heartbeat succeeded/, 15_000);
    expect(await first.stop('SIGINT')).toBe(0);
    expect(first.stdout()).toMatch(/SIGINT: stopping/);
    expect(first.stdout()).toMatch(/● stopped\n$/);

    const log = logLines(join(dir, '.symbi/symbi.log'));
    expect(log.find((line) => line.msg === 'run succeeded' && line.job === 'greeting')).toMatchObject({ component: 'run', level: 30, status: 'succeeded' });
    expect(log.filter((line) => line.component === 'cli').map((line) => line.msg)).toEqual(
      expect.arrayContaining(['schedule created', 'symbi up', 'stopping', 'stopped']),
    );
    expect(readFileSync(join(dir, '.symbi/logs/greeting.log'), 'utf8')).toContain('hello from greeting: good morning');
    // the log and the store (webhook headers, AgentPin references) are private to their owner
    for (const file of ['.symbi/symbi.log', '.symbi/scheduler.db']) expect((statSync(join(dir, file)).mode & 0o777).toString(8), file).toBe('600');

    const second = await startUp(EXAMPLE, { cwd: dir });
    expect(second.stdout()).toMatch(/unchanged\s+greeting/);
    expect(second.stdout()).toMatch(/unchanged\s+system-heartbeat/);
    expect(second.stdout()).toMatch(/unchanged\s+daily-report/);
    expect(await second.stop('SIGTERM')).toBe(0);

    const list = await runCli(['--config', join(ROOT, 'examples/agents/symbi.toml'), 'cron', 'list', '--format', 'json'], { cwd: dir });
    const jobs = JSON.parse(list.stdout) as { name: string; run_count: number }[];
    expect(jobs.map((job) => job.name)).toEqual(['daily-report', 'greeting', 'system-heartbeat']);
    expect(jobs.find((job) => job.name === 'greeting')!.run_count).toBeGreaterThanOrEqual(1);
  });
});

describeStores('symbi up', (kind) => {
  const tempDir = useTempDir();
  const newStore = useStore(kind);

  it('updates a changed schedule on restart and never duplicates a job', async () => {
    const dir = tempDir();
    const db = newStore(dir);
    const schedule = (cron: string) => `
      agent noop { command: "true" }
      schedule { name: "nightly" agent: "noop" cron: "${cron}" }
      schedule { name: "weekly" agent: "noop" cron: "0 0 0 * * 1" }`;
    const file = writeFile(dir, 'jobs.symbi', schedule('0 0 2 * * *'));
    const args = ['--db', db, '--file', file];
    let up = await startUp(args, { cwd: dir });
    expect(up.stdout()).toMatch(/created\s+nightly/);
    expect(await up.stop()).toBe(0);
    up = await startUp(args, { cwd: dir });
    expect(up.stdout()).toMatch(/unchanged\s+nightly/);
    expect(await up.stop()).toBe(0);
    writeFile(dir, 'jobs.symbi', schedule('0 30 3 * * *'));
    up = await startUp(args, { cwd: dir });
    expect(up.stdout()).toMatch(/updated\s+nightly\s+0 30 3 \* \* \*/);
    expect(up.stdout()).toMatch(/unchanged\s+weekly/);
    expect(await up.stop()).toBe(0);
    const list = await runCli(['--db', db, 'cron', 'list', '--format', 'json'], { cwd: dir });
    expect((JSON.parse(list.stdout) as { name: string; cron_expr: string }[]).map((j) => [j.name, j.cron_expr])).toEqual([
      ['nightly', '0 30 3 * * *'],
      ['weekly', '0 0 0 * * 1'],
    ]);
    const audit = await runCli(['--db', db, 'audit', 'query', '--type', 'CronJobUpdated', '--format', 'json'], { cwd: dir });
    expect(JSON.parse(audit.stdout)).toHaveLength(1);
  });

  it('lets a run in flight finish on SIGTERM before it exits', async () => {
    const dir = tempDir();
    const file = writeFile(dir, 'slow.symbi', `
      agent slow { command: "sleep 1.5; echo finished" }
      schedule { name: "slow" agent: "slow" cron: "* * * * * *" }`);
    const db = newStore(dir);
    const up = await startUp(['--db', db, '--file', file, '--log-level', 'debug'], { cwd: dir });
    const log = join(dir, '.symbi/symbi.log');
    await until(() => existsSync(log) && readFileSync(log, 'utf8').includes('"msg":"run started"'));
    expect(await up.stop('SIGTERM')).toBe(0);
    const out = up.stdout();
    expect(out).toMatch(/SIGTERM: stopping, waiting up to 30s for 1 run in flight/);
    expect(out.indexOf('✓ slow succeeded')).toBeGreaterThan(out.indexOf('SIGTERM: stopping'));
    expect(out.indexOf('● stopped')).toBeGreaterThan(out.indexOf('✓ slow succeeded'));
    const history = await runCli(['--db', db, 'cron', 'history', 'slow', '--format', 'json'], { cwd: dir });
    const runs = JSON.parse(history.stdout) as { status: string; output: string }[];
    expect(runs.filter((run) => run.status === 'succeeded').map((run) => run.output)).toContain('finished');
    expect(runs.filter((run) => run.status === 'running' || run.status === 'interrupted')).toEqual([]);
  });
});

describe('symbi up refuses unsafe or impossible settings', () => {
  const tempDir = useTempDir();

  it('will not serve a non-loopback interface without an API key', async () => {
    const dir = tempDir();
    const result = await runCli(['up', '--host', '0.0.0.0', '--port', '0', '--db', join(dir, 'x.db')], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('error: refusing to serve the API on 0.0.0.0 without an API key (set --api-key, SYMBI_API_KEY, [api] api_key or [[api.keys]], or listen on 127.0.0.1)');
  });

  it('names a port already in use', async () => {
    const dir = tempDir();
    const up = await startUp(['--db', join(dir, 'a.db')], { cwd: dir });
    const port = new URL(up.url).port;
    const second = await runCli(['up', '--port', port, '--db', join(dir, 'b.db')], { cwd: dir });
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`error: 127.0.0.1:${port} is already in use (choose another port with --port or [api] listen)`);
    expect(await up.stop()).toBe(0);
  });

  it('points at the line of a broken .symbi file', async () => {
    const dir = tempDir();
    const file = writeFile(dir, 'bad.symbi', 'schedule {\n  name: "x"\n  agent: "a"\n  crn: "* * * * *"\n}\n');
    const result = await runCli(['up', '--port', '0', '--db', join(dir, 'x.db'), '--file', file], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: .*bad\.symbi:4:3: unknown field `crn` in schedule; did you mean `cron`\?/);
  });
});

describe('symbi logs', () => {
  const tempDir = useTempDir();

  it('filters the JSON log by component and level, and follows it', async () => {
    const dir = tempDir();
    const file = writeFile(dir, 'jobs.symbi', `
      agent ok { command: "echo fine" }
      agent bad { command: "exit 1" }
      schedule { name: "ok" agent: "ok" cron: "* * * * * *" }
      schedule { name: "bad" agent: "bad" cron: "* * * * * *" max_retries: 100 }`);
    const up = await startUp(['--db', join(dir, 's.db'), '--file', file], { cwd: dir });
    await up.waitFor(/✗ bad failed/);
    await up.waitFor(/✓ ok succeeded/);

    const follower = spawn(process.execPath, [BIN, 'logs', '--follow', '--filter', 'run', '--level', 'warn'], { cwd: dir, env: childEnv() });
    let followed = '';
    follower.stdout.on('data', (chunk: Buffer) => (followed += chunk.toString()));
    const before = await runCli(['logs', '--filter', 'run'], { cwd: dir });
    const lines = before.stdout.trim().split('\n').map((line) => JSON.parse(line) as { component: string; level: number; job: string });
    expect(new Set(lines.map((line) => line.component))).toEqual(new Set(['run']));
    expect(lines.some((line) => line.job === 'ok' && line.level === 30)).toBe(true);
    const warnings = await runCli(['logs', '--level', 'warn'], { cwd: dir });
    const levels = warnings.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { level: number }).level);
    expect(Math.min(...levels)).toBeGreaterThanOrEqual(40);
    const count = () => followed.split('\n').filter((line) => line.includes('"job":"bad"')).length;
    const seen = await until(() => count() || undefined);
    await until(() => count() > seen);
    follower.kill('SIGINT');
    expect(await new Promise((resolve) => follower.on('close', resolve))).toBe(0);
    expect(followed.split('\n').filter(Boolean).every((line) => (JSON.parse(line) as { level: number }).level >= 40)).toBe(true);
    expect(await up.stop()).toBe(0);

    const missing = await runCli(['logs', '--file', 'nowhere.log'], { cwd: dir });
    expect(missing).toMatchObject({ code: 1, stderr: 'error: log file not found: nowhere.log (start the scheduler with symbi up, or pass --file)\n' });
  });
});

describe('symbi up with jobs of agents it does not run', () => {
  const tempDir = useTempDir();

  it('runs the jobs of its own file, leaves the jobs of other agents untouched, and says so once', async () => {
    const dir = tempDir();
    const db = await storeWithJobs(dir, ['job-of-alpha'], { agent_id: 'alpha', cron_expr: '* * * * * *' });
    const file = writeFile(dir, 'b.symbi', 'agent beta { command: "true" }\nschedule { name: "job-of-beta" agent: "beta" cron: "* * * * * *" }');
    const up = await startUp(['--db', db, '--file', file], { cwd: dir });
    // Two runs of beta: the job of alpha has been due for more than a second meanwhile.
    await up.waitFor(/✓ job-of-beta succeeded[\s\S]*✓ job-of-beta succeeded/, 15_000);
    expect(await up.stop('SIGINT')).toBe(0);
    expect(up.stderr().match(/left to other instances/g)).toEqual(['left to other instances']);
    expect(up.stderr()).toContain('1 active job left to other instances: their agents (alpha) are not declared here');
    expect(up.stdout()).not.toContain('job-of-alpha');

    const list = await runCli(['--db', db, 'cron', 'list', '--format', 'json'], { cwd: dir });
    const jobs = JSON.parse(list.stdout) as { name: string; status: string; run_count: number; failure_count: number }[];
    expect(jobs.find((job) => job.name === 'job-of-alpha')).toMatchObject({ status: 'active', run_count: 0, failure_count: 0 });
    expect(jobs.find((job) => job.name === 'job-of-beta')!.run_count).toBeGreaterThanOrEqual(2);
    const history = await runCli(['--db', db, 'cron', 'history', 'job-of-alpha', '--format', 'json'], { cwd: dir });
    expect(JSON.parse(history.stdout)).toEqual([]);
  }, 60_000);
});
