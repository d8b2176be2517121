import { join } from 'node:path';
import { newRun } from '@symbi/core';
import { makeJob } from '@symbi/core/testing';
import { SqliteJobStore } from '@symbi/store-sqlite';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runCli, useTempDir } from './support/cli.js';

beforeAll(() => ensureBuilt(), 300_000);

/** Terminal controls a stored row could carry from before identifiers were validated, or in free text. */
const TITLE = '\u001b]0;pwn\u0007';
const CLEAR = '\u001b[2J';
const CSI8 = '\u009b31m';
const BIDI = '\u202e';

/** Any character a terminal would act on rather than show, but line feeds, tabs and the CR of CRLF. */
const RAW_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|\r(?!\n)/;

describe('the CLI never prints raw control characters from stored data', () => {
  const tempDir = useTempDir();
  let dir: string;
  let db: string;
  let jobId: string;

  beforeAll(async () => {
    dir = tempDir();
    db = join(dir, 'scheduler.db');
    const store = new SqliteJobStore({ path: db });
    await store.init();
    const job = await store.createJob(makeJob({ name: `evil${CLEAR}`, agentId: TITLE, input: `in${CSI8}put`, policy: { ...makeJob().policy, approver: `ops${BIDI}` } }));
    jobId = job.id;
    await store.insertRun({ ...newRun(job, { scheduledFor: new Date('2026-01-01T00:00:00Z'), trigger: 'manual' }), status: 'failed', error: `boom${TITLE}\rspoof` });
    await store.close();
  });

  it.each([
    ['cron', 'list'],
    ['cron', 'list', '--format', 'csv'],
    ['cron', 'list', '--format', 'json'],
    ['cron', 'status', 'JOB'],
    ['cron', 'history', 'JOB'],
    ['cron', 'history', 'JOB', '--format', 'json'],
    ['audit', 'query'],
  ])('symbi %s %s …', async (...args) => {
    const result = await runCli(['--db', db, ...args.map((arg) => (arg === 'JOB' ? jobId : arg))], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).not.toMatch(RAW_CONTROL);
    expect(result.stderr).not.toMatch(RAW_CONTROL);
    if (args[0] === 'cron' && args[1] === 'list') expect(result.stdout).toContain('\\u001b]0;pwn\\u0007');
  });

  it('keeps JSON output meaning the same data', async () => {
    const result = await runCli(['--db', db, 'cron', 'list', '--format', 'json'], { cwd: dir });
    const [job] = JSON.parse(result.stdout) as { agent_id: string; input: string; name: string }[];
    expect(job).toMatchObject({ agent_id: TITLE, input: `in${CSI8}put`, name: `evil${CLEAR}` });
  });

  it('escapes stored names echoed in errors', async () => {
    const result = await runCli(['--db', db, 'cron', 'resume', jobId], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('evil\\u001b[2J');
    expect(result.stderr).not.toMatch(RAW_CONTROL);
  });
});
