import { beforeAll, expect, it } from 'vitest';
import { csvRecords, describeStores, ensureBuilt, runCli, useStore, useTempDir, writeFile, type CliResult } from './support/cli.js';

/**
 * How the CLI says when an hourly job's next run is, relative to now. Its stored next run stays put
 * while no scheduler runs, so a test near the top of the hour sees it pass: `now`, then `2s ago`.
 */
const NEXT_RUN_RELATIVE = String.raw`(in \d+m(\d+s)?|in \d+s|now|\d+s ago)`;

const AGENTS = `
agent hello {
  command: """echo "hello $SYMBI_INPUT" """
}
agent echoer {
  command: """printf '%s' "$SYMBI_INPUT" """
}
agent broken {
  command: """echo "boom: disk full" >&2; exit 3"""
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
  policy {
    require_approval: true
    approver: "ops"
  }
}
schedule {
  name: "flaky"
  agent: "broken"
  cron: "0 0 0 1 1 *"
  max_retries: 1
}
schedule {
  name: "echo"
  agent: "echoer"
  cron: "0 0 0 1 1 *"
}
`;

beforeAll(() => ensureBuilt(), 300_000);

describeStores('symbi cron and audit on the store', (kind) => {
  const tempDir = useTempDir();
  const newStore = useStore(kind);
  let dir: string;
  let db: string;
  let file: string;
  let symbi: (...args: string[]) => Promise<CliResult>;

  beforeAll(() => {
    dir = tempDir();
    file = writeFile(dir, 'agents.symbi', AGENTS);
    db = newStore(dir);
    symbi = (...args) => runCli(['--db', db, ...args], { cwd: dir });
  });

  const json = async <T>(...args: string[]): Promise<T> => {
    const result = await symbi(...args, '--format', 'json');
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as T;
  };

  it('refuses an SQLite file that does not exist yet, and lists no jobs in a new PostgreSQL schema', async () => {
    const result = await symbi('cron', 'list');
    if (kind === 'sqlite') {
      expect(result).toMatchObject({
        code: 1,
        stderr: `error: no store at ${db} (start one with symbi up or symbi cron add, or point --db or SYMBI_DB at an existing one)\n`,
      });
    } else {
      expect(result).toMatchObject({ code: 0, stdout: 'no jobs\n' });
    }
  });

  it('adds a job from a .symbi file by schedule name', async () => {
    const added = await symbi('cron', 'add', '--file', file, '--schedule', 'hourly-report');
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(new RegExp(String.raw`^created hourly-report [0-9a-f-]{36} \(next run ${NEXT_RUN_RELATIVE}\)\n$`));
  });

  it('refuses an ambiguous or unknown schedule of a file', async () => {
    const ambiguous = await symbi('cron', 'add', '--file', file);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toBe('error: agents.symbi defines 4 schedules; say which with --schedule (one of: hourly-report, gated, flaky, echo)\n'.replace('agents.symbi', file));
    const unknown = await symbi('cron', 'add', '--file', file, '--schedule', 'nope');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(`error: schedule not found in ${file}: nope (it defines: hourly-report, gated, flaky, echo)`);
  });

  it('adds a job from inline JSON and refuses a second of the same name', async () => {
    const body = '{"name":"quick-task","agent_id":"agent-123","cron_expr":"0 0 * * * *"}';
    const added = await symbi('cron', 'add', '--json', body);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/^created quick-task /);
    const again = await symbi('cron', 'add', '--json', body);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe('error: a job named quick-task exists already (see: symbi cron list)\n');
  });

  it('names the field of a bad JSON job and refuses unusable command lines with status 2', async () => {
    const [badField, badCron, notJson, both, neither] = await Promise.all([
      symbi('cron', 'add', '--json', '{"name":"x","agent_id":"a","cron_expr":"0 0 * * * *","cronn":"1"}'),
      symbi('cron', 'add', '--json', '{"name":"x","agent_id":"a","cron_expr":"61 * * * *"}'),
      symbi('cron', 'add', '--json', '{not json'),
      symbi('cron', 'add', '--json', '{}', '--file', file),
      symbi('cron', 'add'),
    ]);
    expect(badField).toMatchObject({ code: 1, stderr: 'error: cronn: is not a known job field\n' });
    expect(badCron.code).toBe(1);
    expect(badCron.stderr).toMatch(/^error: cron_expr: /);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toMatch(/^error: --json is not valid JSON: /);
    expect(both).toMatchObject({ code: 2, stderr: 'error: give either --file (with --schedule) or --json (see: symbi cron add --help)\n' });
    expect(neither.code).toBe(2);
  });

  it('lists jobs as JSON in the wire format, filtered by agent and status', async () => {
    const [jobs, ofAgent, paused, bad] = await Promise.all([
      json<Record<string, unknown>[]>('cron', 'list'),
      json<unknown[]>('cron', 'list', '--agent', 'agent-123'),
      json<unknown[]>('cron', 'list', '--status', 'paused'),
      symbi('cron', 'list', '--status', 'sleeping'),
    ]);
    expect(jobs.map((job) => job.name)).toEqual(['hourly-report', 'quick-task']);
    expect(jobs[0]).toMatchObject({ agent_id: 'hello', cron_expr: '0 0 * * * *', status: 'active', input: 'world', run_count: 0 });
    expect(ofAgent).toHaveLength(1);
    expect(paused).toHaveLength(0);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("argument 'sleeping' is invalid. Allowed choices are active, paused, completed, failed, dead_letter");
  });

  it('prints an aligned table with relative times', async () => {
    const table = await symbi('cron', 'list');
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+AGENT\s+SCHEDULE\s+STATUS\s+NEXT RUN\s+LAST RUN\s+RUNS\s+FAILS\s+ID$/);
    const statusColumn = lines[0]!.indexOf('STATUS');
    for (const line of lines.slice(1)) expect(line.slice(statusColumn, statusColumn + 6)).toBe('active');
    expect(lines[1]).toMatch(new RegExp(String.raw`\s${NEXT_RUN_RELATIVE}\s`));
    expect(table.stdout).not.toContain('\u001b[');
  });

  it('pauses and resumes a job, refusing a transition that does not fit', async () => {
    const paused = await symbi('cron', 'pause', 'quick-task');
    expect(paused).toMatchObject({ code: 0, stdout: 'paused quick-task (paused)\n' });
    expect((await json<{ name: string }[]>('cron', 'list', '--status', 'paused')).map((j) => j.name)).toEqual(['quick-task']);
    const again = await symbi('cron', 'pause', 'quick-task');
    expect(again.code).toBe(1);
    expect(again.stderr).toBe('error: job quick-task is paused; only a job that is active can become paused (see: symbi cron status <job>)\n');
    const resumed = await symbi('cron', 'resume', 'quick-task');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/^resumed quick-task \(active, next run in \d+/);
  });

  it('shows a job by name or id, with its upcoming fires', async () => {
    const [job] = await json<{ id: string }[]>('cron', 'list', '--agent', 'hello');
    for (const status of await Promise.all(['hourly-report', job!.id].map((ref) => symbi('cron', 'status', ref)))) {
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout).toMatch(
        new RegExp(String.raw`^hourly-report\nid\s+[0-9a-f-]{36}\nagent\s+hello\nschedule\s+0 0 \* \* \* \*\nstatus\s+active\nnext run\s+\d{4}-\d\d-\d\d \d\d:00:00 \(${NEXT_RUN_RELATIVE}\)`),
      );
      expect(status.stdout.split('\nupcoming')[1]?.match(/:00:00 \(in /g)).toHaveLength(3);
    }
    const missing = await symbi('cron', 'status', 'daily-report');
    expect(missing).toMatchObject({ code: 1, stdout: '', stderr: 'error: job not found: daily-report (see: symbi cron list)\n' });
  });

  it('runs a job in this process when no server serves the store, printing its output', async () => {
    const run = await symbi('cron', 'run', 'hourly-report', '--file', file, '--input', 'there');
    expect(run.stderr).toContain('no server is running on this store; running hourly-report in this process');
    expect(run.stderr).toMatch(/✓ hourly-report succeeded in \d+/);
    expect(run).toMatchObject({ code: 0, stdout: 'hello there\n' });
  });

  it('exports run history as CSV that parses back, and filters it by status', async () => {
    const [csv, none, table, badStatus, badLimit] = await Promise.all([
      symbi('cron', 'history', 'hourly-report', '--format', 'csv'),
      symbi('cron', 'history', 'hourly-report', '--status', 'failed', '--format', 'csv'),
      symbi('cron', 'history', 'hourly-report'),
      symbi('cron', 'history', 'hourly-report', '--status', 'bogus'),
      symbi('cron', 'history', 'hourly-report', '--limit', '0'),
    ]);
    expect(csv.code).toBe(0);
    const [run, ...rest] = csvRecords(csv.stdout);
    expect(rest).toEqual([]);
    expect(run).toMatchObject({ job_name: 'hourly-report', status: 'succeeded', trigger: 'manual', input: 'there', output: 'hello there', attempt: '1' });
    expect(JSON.parse(run!.deliveries!)).toEqual([]);
    expect(none.stdout.split('\r\n')).toEqual([expect.stringMatching(/^id,job_id,job_name,agent_id,scheduled_for,/), '']);
    expect(table.stdout).toMatch(/^RUN ID\s+STATUS\s+TRIGGER\s+SCHEDULED\s+TOOK\s+ATTEMPT\s+OUTPUT \/ ERROR\n[0-9a-f-]{36}\s+succeeded\s+manual\s+(\d+s ago|now)\s+\d+(ms|\.\ds)\s+1\s+hello there\n$/);
    expect(badStatus).toMatchObject({ code: 2, stderr: expect.stringMatching(/^error: --status "bogus" is not a run status \(one or more of: scheduled, /) });
    expect(badLimit.code).toBe(2);
  });

  it('quotes commas, quotes and line breaks in CSV', async () => {
    expect((await symbi('cron', 'add', '--file', file, '--schedule', 'echo')).code).toBe(0);
    const tricky = 'a, "quoted" value\nsecond line';
    expect((await symbi('cron', 'run', 'echo', '--file', file, '--input', tricky)).stdout).toBe(`${tricky}\n`);
    const records = csvRecords((await symbi('cron', 'history', 'echo', '--format', 'csv')).stdout);
    expect(records.map((r) => [r.input, r.output])).toEqual([[tricky, tricky]]);
  });

  it('dead-letters a job that keeps failing and resets it', async () => {
    expect((await symbi('cron', 'add', '--file', file, '--schedule', 'flaky')).code).toBe(0);
    const run = await symbi('cron', 'run', 'flaky', '--file', file);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/✗ flaky failed: .*exit(ed)? .*3/);
    expect(run.stderr).toContain('boom: disk full');
    expect((await json<{ name: string }[]>('cron', 'list', '--status', 'dead_letter')).map((j) => j.name)).toEqual(['flaky']);
    const failed = await json<{ status: string; error: string }[]>('cron', 'history', 'flaky', '--status', 'failed,timed_out');
    expect(failed).toHaveLength(1);
    const reset = await symbi('cron', 'reset', 'flaky');
    expect(reset.code).toBe(0);
    expect(reset.stdout).toMatch(/^reset flaky \(active, next run in /);
    expect((await symbi('cron', 'reset', 'flaky')).code).toBe(1);
  });

  it('holds a gated run for approval, then denies or approves it', async () => {
    expect((await symbi('cron', 'add', '--file', file, '--schedule', 'gated')).code).toBe(0);
    const first = await symbi('cron', 'run', 'gated', '--file', file);
    expect(first.code).toBe(0);
    const [, firstId] = first.stderr.match(/awaiting_approval by ops: symbi cron approve (\S+)/) ?? [];
    expect(firstId).toBeDefined();
    const denied = await symbi('cron', 'deny', firstId!, '--note', 'change freeze');
    expect(denied).toMatchObject({ code: 0, stdout: `denied run ${firstId} of gated (denied)\n` });

    const second = await symbi('cron', 'run', 'gated', '--file', file);
    const [, secondId] = second.stderr.match(/symbi cron approve (\S+)/) ?? [];
    const approved = await symbi('cron', 'approve', secondId!, '--note', 'window confirmed');
    expect(approved).toMatchObject({ code: 0, stdout: `approved run ${secondId} of gated (scheduled)\n` });
    const twice = await symbi('cron', 'approve', secondId!);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain('not awaiting approval');
    const missing = await symbi('cron', 'approve', '00000000-0000-7000-8000-000000000000');
    expect(missing.stderr).toBe('error: run not found: 00000000-0000-7000-8000-000000000000 (see: symbi cron history <job>)\n');
    const runs = await json<{ status: string; approval: { decision: string; note: string; decided_by: string } }[]>('cron', 'history', 'gated');
    expect(runs.map((r) => [r.status, r.approval.decision, r.approval.note])).toEqual([
      ['scheduled', 'approved', 'window confirmed'],
      ['denied', 'denied', 'change freeze'],
    ]);
    expect(runs[0]!.approval.decided_by).toMatch(/^cli:/);
  });

  it('queries the audit log by type, time and limit, as a table, JSON or CSV', async () => {
    const [failed, created, future, limited, csv, table, badType, badSince] = await Promise.all([
      json<{ type: string; details: { job_name: string } }[]>('audit', 'query', '--type', 'cronjobfailed'),
      json<{ actor: string }[]>('audit', 'query', '--type', 'CronJobCreated', '--since', '1h'),
      json<unknown[]>('audit', 'query', '--since', '2999-01-01'),
      json<unknown[]>('audit', 'query', '--limit', '2'),
      symbi('audit', 'query', '--type', 'CronJobPaused', '--format', 'csv'),
      symbi('audit', 'query', '--type', 'ApprovalDenied'),
      symbi('audit', 'query', '--type', 'Nope'),
      symbi('audit', 'query', '--since', 'yesterday-ish'),
    ]);
    expect(failed.map((e) => [e.type, e.details.job_name])).toEqual([['CronJobFailed', 'flaky']]);
    expect(created).toHaveLength(5);
    expect(created[0]!.actor).toMatch(/^cli:/);
    expect(future).toEqual([]);
    expect(limited).toHaveLength(2);
    expect(csvRecords(csv.stdout).map((e) => [e.type, JSON.parse(e.details!).job_name])).toEqual([['CronJobPaused', 'quick-task']]);
    expect(table.stdout).toMatch(/^TIME\s+WHEN\s+TYPE\s+JOB\s+ACTOR\s+DETAILS\n.*ApprovalDenied\s+gated\s+cli:\S+\s+\{"note":"change freeze"\}\n$/);
    expect(badType.code).toBe(2);
    expect(badType.stderr).toMatch(/^error: --type "Nope" is not an audit event type \(one of: CronJobCreated, /);
    expect(badSince).toMatchObject({ code: 2, stderr: 'error: --since "yesterday-ish" is neither a date nor a duration (e.g. 2026-02-15, 2026-02-15T14:30:00Z, 90m or 1d)\n' });
  });

  it('refuses to remove without a terminal unless forced, and removes by id or name', async () => {
    const refused = await symbi('cron', 'remove', 'hourly-report');
    expect(refused).toMatchObject({
      code: 2,
      stderr: 'error: refusing to remove hourly-report without confirmation: standard input is not a terminal (pass --force)\n',
    });
    expect((await symbi('cron', 'status', 'hourly-report')).code).toBe(0);
    expect((await symbi('cron', 'remove', 'hourly-report', '--name', 'hourly-report')).code).toBe(2);
    const removed = await symbi('cron', 'remove', '--name', 'hourly-report', '--force');
    expect(removed.code).toBe(0);
    expect(removed.stdout).toMatch(/^removed hourly-report [0-9a-f-]{36}\n$/);
    const [quick] = await json<{ id: string }[]>('cron', 'list', '--agent', 'agent-123');
    expect((await symbi('cron', 'remove', quick!.id, '--force')).code).toBe(0);
    expect((await symbi('cron', 'status', 'hourly-report')).stderr).toBe('error: job not found: hourly-report (see: symbi cron list)\n');
    expect((await symbi('cron', 'remove', 'hourly-report', '--force')).code).toBe(1);
  });
});
