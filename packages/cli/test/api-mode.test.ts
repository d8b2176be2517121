import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvRecords, describeStores, ensureBuilt, runCli, startUp, useStore, useTempDir, writeFile, type CliResult, type UpProcess } from './support/cli.js';

const KEY = 'test-key-0123456789';

const AGENTS = `
agent hello {
  command: """echo "hello $SYMBI_INPUT" """
}
agent slowpoke {
  command: "sleep 0.3; echo slept"
}
schedule {
  name: "hourly-report"
  agent: "hello"
  cron: "0 0 * * * *"
  input: "world"
}
schedule {
  name: "gated"
  agent: "hello"
  cron: "0 0 0 1 1 *"
  input: "approved world"
  policy { require_approval: true  approver: "ops" }
}
`;

beforeAll(() => ensureBuilt(), 300_000);

// The server is the same whatever its store; the store-specific paths are covered below and in store-commands.
describe('symbi cron and audit through a running server', () => {
  const tempDir = useTempDir();
  const newStore = useStore('sqlite');
  let dir: string;
  let db: string;
  let up: UpProcess;
  let api: (...args: string[]) => Promise<CliResult>;

  beforeAll(async () => {
    dir = tempDir();
    db = newStore(dir);
    const file = writeFile(dir, 'agents.symbi', AGENTS);
    up = await startUp(['--db', db, '--file', file, '--api-key', KEY], { cwd: dir });
    api = (...args) => runCli(['--api', up.url, '--api-key', KEY, ...args], { cwd: dir });
  });
  afterAll(async () => {
    expect(await up.stop()).toBe(0);
  });

  it('lists, filters and shows jobs from the server', async () => {
    const table = await api('cron', 'list');
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^NAME\s+AGENT\s+SCHEDULE.*\ngated\s+hello\s+0 0 0 1 1 \*\s+active\s+in \d+[dh].*\nhourly-report\s+hello\s+0 0 \* \* \* \*\s+active\s+in \d+[ms]/);
    const jobs = JSON.parse((await api('cron', 'list', '--agent', 'hello', '--status', 'active', '--format', 'json')).stdout) as { name: string }[];
    expect(jobs.map((job) => job.name)).toEqual(['gated', 'hourly-report']);
    expect(csvRecords((await api('cron', 'list', '--format', 'csv')).stdout).map((row) => row.name)).toEqual(['gated', 'hourly-report']);
    const status = await api('cron', 'status', 'hourly-report', '--history', '5');
    expect(status.stdout).toMatch(/^hourly-report\nid\s+[0-9a-f-]{36}\nagent\s+hello\n/);
    expect(status.stdout).toContain('Last 5 runs\nno runs\n');
  });

  it('adds jobs from JSON and from a file, and reports a taken name', async () => {
    const added = await api('cron', 'add', '--json', '{"name":"quick-task","agent_id":"hello","cron_expr":"0 0 * * * *","input":"quick"}');
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/^created quick-task [0-9a-f-]{36} \(next run in /);
    const file = writeFile(dir, 'more.symbi', `
      schedule {
        name: "secret-hook"
        agent: "hello"
        cron: "0 0 12 * * *"
        delivery: ["webhook"]
        webhook_url: "https://hooks.example.com/x"
        webhook_headers: { "Authorization": "Bearer \${HOOK_TOKEN}" }
        policy { max_runtime: "90s" }
      }`);
    const fromFile = await api('cron', 'add', '--file', file);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    const [job] = JSON.parse((await api('cron', 'list', '--format', 'json')).stdout).filter((j: { name: string }) => j.name === 'secret-hook');
    expect(job).toMatchObject({ webhook_headers: { Authorization: '[redacted]' }, policy: { max_runtime: '1m30s' }, delivery: ['webhook'] });
    const taken = await api('cron', 'add', '--json', '{"name":"quick-task","agent_id":"hello","cron_expr":"0 0 * * * *"}');
    expect(taken).toMatchObject({ code: 1, stderr: 'error: a job named quick-task exists already (see: symbi cron list)\n' });
  });

  it('pauses, resumes and explains a transition that does not fit', async () => {
    expect((await api('cron', 'pause', 'quick-task')).stdout).toBe('paused quick-task (paused)\n');
    expect(JSON.parse((await api('cron', 'list', '--status', 'paused', '--format', 'json')).stdout)).toHaveLength(1);
    expect((await api('cron', 'resume', 'quick-task')).stdout).toMatch(/^resumed quick-task \(active, next run in /);
    const reset = await api('cron', 'reset', 'quick-task');
    expect(reset.code).toBe(1);
    expect(reset.stderr).toMatch(/^error: job quick-task is active; only a job that is dead_letter or failed can become active \(see: symbi cron status <job>\)\n$/);
  });

  it('runs a job through the server named by --api or found from symbi up, and waits for its output', async () => {
    const explicit = await api('cron', 'run', 'quick-task', '--input', 'over http');
    expect(explicit.stderr).toContain(`running quick-task through the server at ${up.url}\n`);
    expect(explicit).toMatchObject({ code: 0, stdout: 'hello over http\n' });
    await up.waitFor(/✓ quick-task succeeded/);

    const found = await runCli(['--db', db, '--api-key', KEY, 'cron', 'run', 'hourly-report'], { cwd: dir });
    expect(found.stderr).toContain(`running hourly-report through the server at ${up.url} (symbi up, pid ${up.child.pid})`);
    expect(found).toMatchObject({ code: 0, stdout: 'hello world\n' });

    const queued = await api('cron', 'run', 'hourly-report', '--no-wait');
    expect(queued.code).toBe(0);
    expect(queued.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
    await up.waitFor(new RegExp(`run ${queued.stdout.trim()}`));
  });

  it('exports the server\'s run history as CSV', async () => {
    const records = csvRecords((await api('cron', 'history', 'hourly-report', '--format', 'csv', '--limit', '10')).stdout);
    expect(records.length).toBeGreaterThanOrEqual(1);
    expect(records.every((record) => record.job_name === 'hourly-report' && record.trigger === 'manual')).toBe(true);
    expect(records.some((record) => record.output === 'hello world')).toBe(true);
    expect(JSON.parse((await api('cron', 'history', 'hourly-report', '--status', 'failed', '--format', 'json')).stdout)).toEqual([]);
  });

  it('sets a job\'s retention and prunes the server\'s history on demand, audited with the key\'s label', async () => {
    expect((await api('cron', 'update', 'hourly-report', '--history-retention-runs', '1')).stdout).toMatch(/^updated hourly-report /);
    const finished = async () =>
      (JSON.parse((await api('cron', 'history', 'hourly-report', '--format', 'json')).stdout) as { status: string }[]).filter((run) => run.status === 'succeeded');
    const before = (await finished()).length;
    expect(before).toBeGreaterThanOrEqual(2);
    expect(await api('cron', 'prune', '--dry-run')).toMatchObject({ code: 0, stdout: `would delete ${before - 1} finished run(s)\n` });
    expect(await api('cron', 'prune')).toMatchObject({ code: 0, stdout: `deleted ${before - 1} finished run(s)\n` });
    expect(await finished()).toHaveLength(1);
    const [event] = JSON.parse((await api('audit', 'query', '--type', 'HistoryPruned', '--format', 'json')).stdout) as { actor: string }[];
    expect(event?.actor).toBe('api');
  });

  it('approves a gated run, which the server then executes, and denies another', async () => {
    const first = await api('cron', 'run', 'gated', '--no-wait');
    const runId = first.stdout.trim();
    await up.waitFor(new RegExp(`\\? gated awaiting_approval by ops \\(symbi cron approve ${runId}\\)`));
    const approved = await api('cron', 'approve', runId, '--note', 'looks fine');
    expect(approved).toMatchObject({ code: 0, stdout: `approved run ${runId} of gated (scheduled)\n` });
    await up.waitFor(new RegExp(`✓ gated succeeded in \\S+  run ${runId}`));

    const second = await api('cron', 'run', 'gated');
    expect(second.code).toBe(0);
    const [, secondId] = second.stderr.match(/symbi cron approve (\S+)/) ?? [];
    expect((await api('cron', 'deny', secondId!, '--note', 'not today')).stdout).toBe(`denied run ${secondId} of gated (denied)\n`);
    const runs = JSON.parse((await api('cron', 'history', 'gated', '--format', 'json')).stdout) as { status: string; output: string | null; approval: { note: string; decided_by: string } }[];
    expect(runs.map((run) => [run.status, run.output, run.approval.note])).toEqual([
      ['denied', null, 'not today'],
      ['succeeded', 'hello approved world', 'looks fine'],
    ]);
    // Through a server the approver is the API key's identity (the single key is `api`), not the local user.
    expect(runs.map((run) => run.approval.decided_by)).toEqual(['api', 'api']);
  });

  it('queries the server\'s audit log', async () => {
    const events = JSON.parse((await api('audit', 'query', '--type', 'ApprovalGranted', '--since', '10m', '--format', 'json')).stdout) as { details: { note: string } }[];
    expect(events.map((event) => event.details.note)).toEqual(['looks fine']);
    expect(JSON.parse((await api('audit', 'query', '--limit', '3', '--format', 'json')).stdout)).toHaveLength(3);
  });

  it('removes only with --force when no one can confirm, then reports the job gone', async () => {
    expect((await api('cron', 'remove', 'quick-task')).code).toBe(2);
    expect((await api('cron', 'remove', '--name', 'quick-task', '--force')).stdout).toMatch(/^removed quick-task /);
    expect(await api('cron', 'status', 'quick-task')).toMatchObject({ code: 1, stderr: 'error: job not found: quick-task (see: symbi cron list)\n' });
  });

  it('takes the server from SYMBI_API_URL and refuses a wrong key or an absent server clearly', async () => {
    const viaEnv = await runCli(['cron', 'list', '--format', 'json'], { cwd: dir, env: { SYMBI_API_URL: up.url, SYMBI_API_KEY: KEY } });
    expect(viaEnv.code, viaEnv.stderr).toBe(0);
    const wrong = await runCli(['--api', up.url, '--api-key', 'nope', 'cron', 'list'], { cwd: dir });
    expect(wrong).toMatchObject({ code: 1, stderr: 'error: the server refused the API key (set --api-key or SYMBI_API_KEY)\n' });
    const absent = await runCli(['--api', 'http://127.0.0.1:9', 'cron', 'list'], { cwd: dir });
    expect(absent.code).toBe(1);
    expect(absent.stderr).toMatch(/^error: cannot reach the server: .* \(is symbi up running\? check --api or SYMBI_API_URL\)\n$/);
  });
});

describeStores('symbi up on a store shared with the CLI', (kind) => {
  const tempDir = useTempDir();
  const newStore = useStore(kind);

  it('runs in-process once symbi up has stopped, with the agents it loaded', async () => {
    const dir = tempDir();
    const db = newStore(dir);
    const file = writeFile(dir, 'agents.symbi', AGENTS);
    const up = await startUp(['--db', db, '--file', file], { cwd: dir });
    expect(await up.stop()).toBe(0);
    const run = await runCli(['--db', db, 'cron', 'run', 'hourly-report', '--input', 'again'], { cwd: dir });
    expect(run.stderr).toContain('no server is running on this store; running hourly-report in this process');
    expect(run).toMatchObject({ code: 0, stdout: 'hello again\n' });
    expect(await runCli(['--db', db, 'run', 'hello', '--input', 'direct'], { cwd: dir })).toMatchObject({ code: 0, stdout: 'hello direct\n' });
    const unknown = await runCli(['run', 'hello', '--file', join(dir, 'missing.symbi')], { cwd: dir });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error: .*missing\.symbi.*cannot read/);
  });

  it('picks up, in a running scheduler, a job added directly to the store', async () => {
    const dir = tempDir();
    const db = newStore(dir);
    const up = await startUp(['--db', db, '--file', writeFile(dir, 'agents.symbi', AGENTS)], { cwd: dir });
    const added = await runCli(['--db', db, 'cron', 'add', '--json', '{"name":"every-second","agent_id":"slowpoke","cron_expr":"* * * * * *"}'], { cwd: dir });
    expect(added.code, added.stderr).toBe(0);
    await up.waitFor(/✓ every-second succeeded/, 15_000);
    expect(await up.stop()).toBe(0);
  });
});
