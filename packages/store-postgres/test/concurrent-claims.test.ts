import { newRun, type CronJobDefinition, type FirePlan } from '@symbi/core';
import { beforeAll, expect, it } from 'vitest';
import type { PostgresJobStore } from '@symbi/store-postgres';
import { makeJob } from '@symbi/core/testing';
import { describePostgres, useSchema } from './support/postgres.js';

const T0 = new Date('2026-01-01T00:00:00.000Z');
const JOBS = 25;
const FIRES_PER_JOB = 12;
const INSTANCES = 4;
const LOOPS_PER_INSTANCE = 3;

/** Every job fires each second; each fire is one run keyed by (job, time). */
function fireEverySecond(job: CronJobDefinition): FirePlan {
  const at = job.nextRun as Date;
  return { runs: [newRun(job, { scheduledFor: at, trigger: 'schedule' })], nextRun: new Date(at.getTime() + 1000) };
}

describePostgres('PostgresJobStore concurrent claims', () => {
  const db = useSchema();
  const instances: PostgresJobStore[] = [];
  beforeAll(async () => {
    for (let i = 0; i < INSTANCES; i++) instances.push(await db.open());
  });

  it(`${INSTANCES} instances × ${LOOPS_PER_INSTANCE} claim loops run every fire exactly once`, async () => {
    const jobs = [];
    for (let j = 0; j < JOBS; j++) jobs.push(await instances[0]!.createJob(makeJob({ nextRun: T0, maxConcurrent: 100, overlap: 'allow_all' })));
    const now = new Date(T0.getTime() + (FIRES_PER_JOB - 1) * 1000);
    const expected = JOBS * FIRES_PER_JOB;
    const claimedBy = new Map<string, string>();
    const duplicates: string[] = [];
    let finished = 0;

    // A bound, so that a broken claim (two owners finishing one run) fails the assertions below
    // instead of looping until the test times out.
    const deadline = Date.now() + 20_000;
    const loop = async (store: PostgresJobStore, owner: string) => {
      while (finished < expected && Date.now() < deadline) {
        const claimed = await store.claimDue({ now, owner, leaseMs: 60_000, limit: 7, plan: fireEverySecond });
        for (const { run } of claimed) {
          if (claimedBy.has(run.id)) duplicates.push(run.id);
          claimedBy.set(run.id, owner);
        }
        await Promise.all(
          claimed.map(async ({ run }) => {
            const done = await store.finishRun({
              runId: run.id,
              owner,
              outcome: 'success',
              patch: { status: 'succeeded', startedAt: now, completedAt: now },
              plan: () => ({}),
            });
            if (done !== null) finished += 1;
          }),
        );
        if (claimed.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    await Promise.all(
      instances.flatMap((store, i) => Array.from({ length: LOOPS_PER_INSTANCE }, (_, l) => loop(store, `instance-${i}-loop-${l}`))),
    );

    expect(duplicates).toEqual([]);
    expect(claimedBy.size).toBe(expected);
    expect(new Set(claimedBy.values()).size).toBeGreaterThan(1);
    for (const job of jobs) {
      const runs = await instances[1]!.listRuns({ jobId: job.id, limit: 1000 });
      expect(runs).toHaveLength(FIRES_PER_JOB);
      expect(new Set(runs.map((run) => run.fireKey)).size).toBe(FIRES_PER_JOB);
      expect(runs.every((run) => run.status === 'succeeded' && claimedBy.get(run.id) === run.owner)).toBe(true);
      expect(await instances[2]!.getJob(job.id)).toMatchObject({
        runCount: FIRES_PER_JOB,
        nextRun: new Date(T0.getTime() + FIRES_PER_JOB * 1000),
      });
    }
  });
});
