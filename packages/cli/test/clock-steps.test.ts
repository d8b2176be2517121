import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SqliteJobStore } from '@symbi/store-sqlite';
import type { JobRunRecord } from '@symbi/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, startUp, useTempDir, writeFile } from './support/cli.js';

/** libfaketime (Debian's `faketime` package; `.ci/run` installs it), or `FAKETIME_LIB`. */
const FAKETIME_LIB = [process.env.FAKETIME_LIB, '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/faketime/libfaketime.so.1'].find(
  (path): path is string => path !== undefined && existsSync(path),
);
if (!FAKETIME_LIB && !process.env.CI) {
  console.warn('SKIPPED: the clock-step test of `symbi up` needs libfaketime (apt-get install faketime); it fails instead under CI');
}

const JOBS = `
  agent noop { command: "true" }
  agent slow { command: "sleep 6" }
  schedule { name: "second" agent: "noop" cron: "* * * * * *" catchup: "skip" }
  schedule { name: "second-once" agent: "noop" cron: "* * * * * *" catchup: "once" }
  schedule { name: "ten" agent: "slow" cron: "*/10 * * * * *" catchup: "skip" }`;

describe.skipIf(!FAKETIME_LIB && !process.env.CI)('symbi up while the wall clock steps (libfaketime, real monotonic clock)', () => {
  const tempDir = useTempDir();
  beforeAll(() => ensureBuilt(), 300_000);

  it('keeps firing through +50 s, +1 h, -3 s and -1 h steps: no duplicate fire, no interrupted run, catch-up by policy, a warn line per step', async () => {
    expect(FAKETIME_LIB, 'libfaketime must be installed under CI').toBeDefined();
    const dir = tempDir();
    const db = join(dir, 'scheduler.db');
    const offset = join(dir, 'faketime-offset');
    writeFileSync(offset, '+0\n');
    const file = writeFile(dir, 'jobs.symbi', JOBS);
    const up = await startUp(['--db', db, '--file', file], {
      cwd: dir,
      env: { LD_PRELOAD: FAKETIME_LIB as string, FAKETIME_TIMESTAMP_FILE: offset, FAKETIME_NO_CACHE: '1', DONT_FAKE_MONOTONIC: '1' },
    });
    const store = new SqliteJobStore({ path: db });
    await store.init();
    const runsOf = async (name: string): Promise<JobRunRecord[]> => {
      const job = await store.getJobByName(name);
      return job ? store.listRuns({ jobId: job.id, limit: 100_000 }) : [];
    };
    /** Real milliseconds until `second` has a run it did not have before, or Infinity after 6 s. */
    const nextFireWithin = async (before: number): Promise<number> => {
      const start = Date.now();
      while (Date.now() - start < 6_000) {
        if ((await runsOf('second')).length > before) return Date.now() - start;
        await sleep(100);
      }
      return Infinity;
    };
    /** Waits until a `ten` run (6 s long) has run for about 2 s. */
    const runningTen = async (): Promise<void> => {
      while (!(await runsOf('ten')).some((r) => r.status === 'running')) await sleep(100);
      await sleep(2_000);
    };
    try {
      await sleep(3_000);
      const gaps: Record<string, number> = {};
      // Offsets are from the real clock: +50 s, then +1 h more (during a `ten` run), then -3 s, then -1 h.
      for (const [label, value, settle] of [
        ['+50s', '+50', 5_000],
        ['+1h', '+3650', 9_000],
        ['-3s', '+3647', 5_000],
        ['-1h', '+47', 5_000],
      ] as const) {
        if (label === '+1h') await runningTen();
        const before = (await runsOf('second')).length;
        writeFileSync(offset, `${value}\n`);
        gaps[label] = await nextFireWithin(before);
        await sleep(settle);
      }
      expect(await up.stop('SIGINT')).toBe(0);

      // Firing goes on within 2 s of each step; after -3 s the three wall seconds already fired are not fired again.
      expect(gaps['+50s']).toBeLessThanOrEqual(2_000);
      expect(gaps['+1h']).toBeLessThanOrEqual(2_000);
      expect(gaps['-3s']).toBeLessThanOrEqual(4_500);
      expect(gaps['-1h']).toBeLessThanOrEqual(2_000);

      const all = [...(await runsOf('second')), ...(await runsOf('second-once')), ...(await runsOf('ten'))];
      const fires = all.filter((r) => r.attempt === 1).map((r) => `${r.jobId}@${r.scheduledFor.toISOString()}`);
      expect(fires.length - new Set(fires).size).toBe(0);
      expect(all.filter((r) => r.status === 'interrupted' || r.attempt > 1)).toEqual([]);
      // catchup skip never runs a jumped-over fire; catchup once runs one per forward step.
      expect((await runsOf('second')).filter((r) => r.trigger === 'catchup')).toEqual([]);
      expect((await runsOf('second-once')).filter((r) => r.trigger === 'catchup')).toHaveLength(2);

      const warns = readFileSync(join(dir, '.symbi/symbi.log'), 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { level: number; msg: string; step_ms?: number })
        .filter((line) => line.level === 40 && /^wall clock stepped/.test(line.msg));
      expect(warns.map((w) => Math.round((w.step_ms ?? 0) / 1000))).toEqual([50, 3600, -3, -3600]);
    } finally {
      await up.stop('SIGKILL');
      await store.close();
    }
  }, 120_000);
});
