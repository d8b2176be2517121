import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeliveryError } from '@symbi/core';
import { LogFileRouter } from '@symbi/delivery';
import type { DeliveryPayload } from '@symbi/delivery';
import { instantClock, makeJob, makeRun, rejection } from './support/fixtures.js';

let root: string;
let logDir: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'symbi-log-'));
  logDir = path.join(root, 'logs');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function lines(file: string): Promise<Array<DeliveryPayload & { delivered_at: string }>> {
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as DeliveryPayload & { delivered_at: string });
}

describe('LogFileRouter', () => {
  it('appends one JSON line per run to <logDir>/<job>.log', async () => {
    const router = new LogFileRouter({ config: { logDir }, clock: instantClock(new Date('2026-03-01T09:00:05Z')) });
    const job = makeJob();
    const first = makeRun(job);
    const second = makeRun(job, { status: 'failed', error: 'boom' });

    await router.route('log_file', job, first, 'line one\nline two');
    await router.route('log_file', job, second, '');

    const written = await lines(path.join(logDir, 'daily-report.log'));
    expect(written).toHaveLength(2);
    expect(written[0]).toMatchObject({
      delivered_at: '2026-03-01T09:00:05.000Z',
      job: { name: 'daily-report' },
      run: { id: first.id, status: 'succeeded' },
      output: 'line one\nline two',
    });
    expect(written[1]).toMatchObject({ run: { id: second.id, status: 'failed', error: 'boom' }, output: '' });
    expect((await stat(path.join(logDir, 'daily-report.log'))).mode & 0o777).toBe(0o600);
  });

  it('turns unusual characters of a job name into underscores', async () => {
    const router = new LogFileRouter({ config: { logDir } });
    const job = makeJob({ name: '.hidden report: v2' });

    await router.route('log_file', job, makeRun(job), 'x');

    expect(await readdir(logDir)).toEqual(['_hidden_report__v2.log']);
  });

  it.each([
    ['../escape', 'path separator'],
    ['../../etc/cron.d/x', 'path separator'],
    ['/etc/passwd', 'absolute path'],
    ['C:\\Windows\\x', 'absolute path'],
    ['reports/daily', 'path separator'],
    ['..', 'relative path'],
  ])('refuses the job name %s', async (name, why) => {
    const router = new LogFileRouter({ config: { logDir } });
    const job = makeJob({ name });

    const error = await rejection(router.route('log_file', job, makeRun(job), 'x'));

    expect(error).toBeInstanceOf(DeliveryError);
    expect(error.message).toContain(why);
    expect(await readdir(root)).toEqual([]);
  });

  it('refuses to write through a symlink', async () => {
    const outside = path.join(root, 'outside.txt');
    await writeFile(outside, 'precious\n');
    const router = new LogFileRouter({ config: { logDir } });
    const job = makeJob();
    await router.route('log_file', job, makeRun(job), 'creates the directory');
    await rm(path.join(logDir, 'daily-report.log'));
    await symlink(outside, path.join(logDir, 'daily-report.log'));

    const error = await rejection(router.route('log_file', job, makeRun(job), 'x'));

    expect(error.message).toBe('log_file: refusing to write daily-report.log: it is a symbolic link');
    expect(await readFile(outside, 'utf8')).toBe('precious\n');
  });

  it('refuses a dangling symlink rather than creating its target', async () => {
    const target = path.join(root, 'created-by-attacker.txt');
    const router = new LogFileRouter({ config: { logDir } });
    const job = makeJob();
    await router.route('log_file', job, makeRun(job), 'creates the directory');
    await rm(path.join(logDir, 'daily-report.log'));
    await symlink(target, path.join(logDir, 'daily-report.log'));

    await rejection(router.route('log_file', job, makeRun(job), 'x'));

    expect(existsSync(target)).toBe(false);
  });

  it('refuses a log file that is not a regular file', async () => {
    const router = new LogFileRouter({ config: { logDir } });
    const job = makeJob();
    await router.route('log_file', job, makeRun(job), 'creates the directory');
    await rm(path.join(logDir, 'daily-report.log'));
    execFileSync('mkfifo', [path.join(logDir, 'daily-report.log')]);

    const error = await rejection(router.route('log_file', job, makeRun(job), 'x'));

    expect(error.message).toContain('it is not a regular file');
  });

  it('rotates by size and keeps logMaxFiles old files', async () => {
    const router = new LogFileRouter({ config: { logDir, logMaxBytes: 1000, logMaxFiles: 2 } });
    const job = makeJob();
    for (let index = 0; index < 12; index++) await router.route('log_file', job, makeRun(job), `run-${index} ${'.'.repeat(100)}`);

    expect((await readdir(logDir)).sort()).toEqual(['daily-report.log', 'daily-report.log.1', 'daily-report.log.2']);
    const current = await lines(path.join(logDir, 'daily-report.log'));
    const older = await lines(path.join(logDir, 'daily-report.log.1'));
    const oldest = await lines(path.join(logDir, 'daily-report.log.2'));
    for (const name of ['daily-report.log', 'daily-report.log.1', 'daily-report.log.2']) {
      expect((await stat(path.join(logDir, name))).size).toBeLessThanOrEqual(1000);
    }
    const order = [...oldest, ...older, ...current].map((line) => Number(/^run-(\d+)/.exec(line.output)![1]));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(order.at(-1)).toBe(11);
    expect(order.length).toBeLessThan(12);
  });

  it('with logMaxFiles 0 starts the file afresh instead of keeping old ones', async () => {
    const router = new LogFileRouter({ config: { logDir, logMaxBytes: 600, logMaxFiles: 0 } });
    const job = makeJob();
    for (let index = 0; index < 6; index++) await router.route('log_file', job, makeRun(job), `run-${index} ${'.'.repeat(100)}`);

    expect(await readdir(logDir)).toEqual(['daily-report.log']);
    expect((await stat(path.join(logDir, 'daily-report.log'))).size).toBeLessThanOrEqual(600);
  });

  it('keeps every line when runs of one job deliver at once', async () => {
    const router = new LogFileRouter({ config: { logDir, logMaxBytes: 4000, logMaxFiles: 10 } });
    const job = makeJob();

    await Promise.all(Array.from({ length: 30 }, (_, index) => router.route('log_file', job, makeRun(job), `run-${index}`)));

    const files = await readdir(logDir);
    const all = (await Promise.all(files.map((file) => lines(path.join(logDir, file))))).flat();
    expect(all.map((line) => line.output).sort()).toEqual(Array.from({ length: 30 }, (_, index) => `run-${index}`).sort());
  });

  it('defaults to ./.symbi/logs under the working directory', () => {
    expect(new LogFileRouter().logDir).toBe(path.resolve('.symbi/logs'));
  });
});
