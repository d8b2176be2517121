import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { ensureBuilt, startUp, useStore, useTempDir, writeFile, type UpProcess } from '../../packages/cli/test/support/cli.js';
import { describePostgres } from '../../packages/store-postgres/test/support/postgres.js';

const TRIALS = 10;
const INSTANCES = 3;

/** What `symbi up` loads: schedules that never fire during the test, so only the start-up is under test. */
const JOBS = `
  agent noop { command: "true" }
  schedule { name: "nightly" agent: "noop" cron: "0 0 2 * * *" }
  schedule { name: "weekly" agent: "noop" cron: "0 0 0 * * 1" }
  schedule { name: "monthly" agent: "noop" cron: "0 0 0 1 * *" }`;

describePostgres('symbi up started three times at once on a fresh PostgreSQL schema', () => {
  const tempDir = useTempDir();
  const newStore = useStore('postgres');
  beforeAll(() => ensureBuilt(), 300_000);

  it(`starts all ${INSTANCES} instances in each of ${TRIALS} trials: none exits, each job is created once`, async () => {
    const exits: string[] = [];
    for (let trial = 1; trial <= TRIALS; trial++) {
      const dir = tempDir();
      const db = newStore(dir);
      const file = writeFile(dir, 'jobs.symbi', JOBS);
      // Each instance in a folder of its own, as replicas on separate hosts.
      const started = await Promise.allSettled(
        Array.from({ length: INSTANCES }, (_, i) => {
          const cwd = join(dir, `replica-${i}`);
          mkdirSync(cwd);
          return startUp(['--db', db, '--file', file], { cwd });
        }),
      );
      const up = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
      for (const result of started) if (result.status === 'rejected') exits.push(`trial ${trial}: ${String(result.reason).slice(0, 400)}`);
      const created = up.map((instance: UpProcess) => (instance.stdout().match(/created\s+\w+/g) ?? []).length);
      if (up.length === INSTANCES) expect(created.reduce((a, b) => a + b, 0), `trial ${trial}: jobs created across instances`).toBe(3);
      const codes = await Promise.all(up.map((instance) => instance.stop('SIGTERM')));
      codes.forEach((code, i) => code !== 0 && exits.push(`trial ${trial}: instance ${i} stopped with ${code}\n${up[i]!.stderr()}`));
    }
    expect(exits).toEqual([]);
  }, 240_000);
});
