import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ensureBuilt, runCli, startUp, useTempDir, writeFile } from './support/cli.js';

/** The corpus written in the Symbiont runtime's grammar. */
const CORPUS = join(ROOT, 'packages/dsl/test/fixtures/symbiont');
const COMPLIANCE = join(CORPUS, 'compliance.symbi');
const AGENTS = join(CORPUS, 'agents.symbi');
const SCHEDULES = ['morning_report', 'quarterly_check', 'dst_gap_check', 'evidence_export', 'access_review', 'ledger_digest', 'security_notice'];

beforeAll(() => ensureBuilt(), 300_000);

interface Job {
  name: string;
  at: string | null;
  delivery: string[];
  slack_channel: string | null;
  webhook_url: string | null;
  policy: { audit: string; require_capabilities: string[]; require_approval: boolean; max_runtime: string | null };
}

describe('Symbiont runtime files in the command line', () => {
  const tempDir = useTempDir();

  it('symbi up loads the corpus as it is, notes the kept items, and upserts every labelled schedule', async () => {
    const dir = tempDir();
    const db = join(dir, 's.db');
    const up = await startUp(['--db', db, '--file', COMPLIANCE, '--file', AGENTS], { cwd: dir });
    for (const name of SCHEDULES) expect(up.stdout()).toMatch(new RegExp(`created\\s+${name}\\s`));
    expect(up.stdout()).toContain('scheduling 7 active jobs (0 paused)');
    expect(up.stderr()).toContain(`note: ${COMPLIANCE}:25: function \`summarize\` kept, not run`);
    expect(up.stderr()).toContain(`note: ${AGENTS}:11: function \`build_report\` of agent \`compliance_reporter\` kept, not run`);
    expect(up.stderr()).toContain(`note: ${COMPLIANCE}:20: type \`Finding\` kept, not run`);
    expect(await up.stop()).toBe(0);

    const jobs = JSON.parse((await runCli(['--db', db, 'cron', 'list', '--format', 'json'], { cwd: dir })).stdout) as Job[];
    const job = (name: string) => jobs.find((candidate) => candidate.name === name)!;
    expect(job('morning_report')).toMatchObject({
      delivery: ['slack'],
      slack_channel: '#compliance-alerts',
      policy: { audit: 'all_operations', require_capabilities: ['phi_access', 'audit_trail', 'report'], max_runtime: '10m' },
    });
    expect(job('dst_gap_check').at).toBe('2027-03-14T07:00:00.000Z');
    expect(job('evidence_export')).toMatchObject({ webhook_url: 'https://hooks.example.com/evidence', policy: { require_approval: true, audit: 'errors_only' } });
    expect(job('access_review').policy.audit).toBe('none');
    const status = await runCli(['--db', db, 'cron', 'status', 'access_review'], { cwd: dir });
    expect(status.stdout).toMatch(/\npolicy\s+max runtime 10m; capabilities report; audit none\n/);

    const again = await startUp(['--db', db, '--file', COMPLIANCE, '--file', AGENTS], { cwd: dir });
    for (const name of SCHEDULES) expect(again.stdout()).toMatch(new RegExp(`unchanged\\s+${name}\\s`));
    expect(await again.stop()).toBe(0);
  });

  it('symbi cron add --file --schedule adds one labelled schedule, with policies from the other file', async () => {
    const dir = tempDir();
    const db = join(dir, 's.db');
    const added = await runCli(['--db', db, 'cron', 'add', '--file', COMPLIANCE, '--file', AGENTS, '--schedule', 'morning_report'], { cwd: dir });
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/^created morning_report [0-9a-f-]{36} \(next run in /);
    const [job] = JSON.parse((await runCli(['--db', db, 'cron', 'list', '--format', 'json'], { cwd: dir })).stdout) as Job[];
    expect(job!.policy.require_capabilities).toEqual(['phi_access', 'audit_trail', 'report']);

    const alone = await runCli(['--db', db, 'cron', 'add', '--file', COMPLIANCE, '--schedule', 'quarterly_check'], { cwd: dir });
    expect(alone.code, alone.stderr).toBe(0);
    expect(alone.stdout).toMatch(/^created quarterly_check [0-9a-f-]{36} \(next run in /);
  });

  it('refuses a schedule with neither cron nor at, or with both, naming `cron` and `at`', async () => {
    const dir = tempDir();
    const db = join(dir, 's.db');
    const neither = await runCli(['--db', db, 'cron', 'add', '--file', join(CORPUS, 'invalid-neither.symbi')], { cwd: dir });
    expect(neither.code).not.toBe(0);
    expect(neither.stderr).toContain('invalid-neither.symbi:2:1: `cron`: one of cron or at is required');
    const both = await runCli(['--db', db, 'cron', 'add', '--file', join(CORPUS, 'invalid-both.symbi')], { cwd: dir });
    expect(both.code).not.toBe(0);
    expect(both.stderr).toContain('invalid-both.symbi:3:11: `cron`: give one of cron or at, not both');
    const up = await runCli(['up', '--port', '0', '--db', db, '--file', COMPLIANCE, '--file', join(CORPUS, 'invalid-both.symbi')], { cwd: dir });
    expect(up.code).not.toBe(0);
    expect(up.stderr).toContain('give one of cron or at, not both');
  });

  it('resolves a named policy from any loaded file, and names one that none defines', async () => {
    const dir = tempDir();
    const db = join(dir, 's.db');
    const file = writeFile(dir, 'extra.symbi', 'schedule weekly_scan {\n  cron: "0 5 * * 0",\n  agent: "compliance_reporter",\n  policy: "hipaa_guard"\n}\n');
    const missing = await runCli(['--db', db, 'cron', 'add', '--file', file], { cwd: dir });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('extra.symbi:4:11: `policy`: policy "hipaa_guard" is not defined in the loaded files; no loaded file defines a `policy NAME { … }` block');
    const found = await runCli(['--db', db, 'cron', 'add', '--file', file, '--file', COMPLIANCE, '--schedule', 'weekly_scan'], { cwd: dir });
    expect(found.code, found.stderr).toBe(0);
  });

  it('runs a Symbiont agent with the command [agents.NAME] of symbi.toml gives it', async () => {
    const dir = tempDir();
    const db = join(dir, 's.db');
    const config = writeFile(dir, 'runners.toml', '[agents.compliance_reporter]\ncommand = "echo reviewed access for $SYMBI_JOB_NAME"\n');
    const files = ['--file', COMPLIANCE, '--file', AGENTS];
    expect((await runCli(['--config', config, '--db', db, 'cron', 'add', ...files, '--schedule', 'access_review'], { cwd: dir })).code).toBe(0);
    const run = await runCli(['--config', config, '--db', db, 'cron', 'run', 'access_review', ...files], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('reviewed access for access_review');
    const unconfigured = await runCli(['--db', db, 'cron', 'run', 'access_review', ...files], { cwd: dir });
    expect(unconfigured.code).not.toBe(0);
    expect(unconfigured.stderr).toContain('agent "compliance_reporter" has no command, url or model, and no function is registered under its name');
  });

  it('adds a Symbiont schedule through a running server, audit level included', async () => {
    const dir = tempDir();
    const up = await startUp(['--db', join(dir, 's.db')], { cwd: dir });
    try {
      const api = (...args: string[]) => runCli(['--api', up.url, ...args], { cwd: dir });
      const added = await api('cron', 'add', '--file', COMPLIANCE, '--file', AGENTS, '--schedule', 'access_review');
      expect(added.code, added.stderr).toBe(0);
      const [job] = JSON.parse((await api('cron', 'list', '--format', 'json')).stdout) as Job[];
      expect(job).toMatchObject({ name: 'access_review', delivery: ['log_file'], policy: { audit: 'none', require_capabilities: ['report'], max_runtime: '10m' } });
    } finally {
      expect(await up.stop()).toBe(0);
    }
  });
});
