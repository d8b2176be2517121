import { newRun, type CronJobDefinition, type FirePlan } from '@symbi/core';
import { makeJob } from '@symbi/core/testing';
import { expect, it } from 'vitest';
import { describePostgres, useSchema } from './support/postgres.js';

/** Runs to push through; raise it (e.g. SYMBI_PG_BENCH_RUNS=50000) for a real measurement. */
const RUNS = Number(process.env.SYMBI_PG_BENCH_RUNS ?? 3000);
const CLAIMERS = Number(process.env.SYMBI_PG_BENCH_CLAIMERS ?? 4);
const BATCH = Number(process.env.SYMBI_PG_BENCH_BATCH ?? 50);
const JOBS = 20;

describePostgres('PostgresJobStore throughput', () => {
  const db = useSchema();

  it(`claims, starts and finishes ${RUNS} runs with ${CLAIMERS} claimers`, async () => {
    const store = await db.open();
    const now = new Date('2026-01-01T00:00:00.000Z');
    const jobs: CronJobDefinition[] = [];
    for (let j = 0; j < JOBS; j++) jobs.push(await store.createJob(makeJob({ nextRun: null, maxConcurrent: RUNS, overlap: 'allow_all' })));
    await Promise.all(
      Array.from({ length: RUNS }, (_, i) => {
        const job = jobs[i % JOBS]!;
        return store.insertRun(newRun(job, { scheduledFor: new Date(now.getTime() - RUNS + i), trigger: 'schedule' }));
      }),
    );
    const never = (): FirePlan => {
      throw new Error('no job is due');
    };

    let finished = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CLAIMERS }, async (_, c) => {
        for (;;) {
          const claimed = await store.claimDue({ now, owner: `claimer-${c}`, leaseMs: 60_000, limit: BATCH, plan: never });
          if (claimed.length === 0) return;
          await Promise.all(
            claimed.map(async ({ run }) => {
              const owner = run.owner as string;
              const running = await store.updateRun(run.id, { status: 'running', startedAt: now }, { owner, statusIn: ['scheduled'] });
              expect(running?.status).toBe('running');
              const done = await store.finishRun({
                runId: run.id,
                owner,
                outcome: 'success',
                patch: { status: 'succeeded', startedAt: now, completedAt: now, output: 'ok', executionTimeMs: 1 },
                plan: () => ({}),
              });
              if (done !== null) finished += 1;
            }),
          );
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    console.info(`[store-postgres] claim+start+finish: ${RUNS} runs in ${seconds.toFixed(2)} s = ${Math.round(RUNS / seconds)} runs/s (${CLAIMERS} claimers, batch ${BATCH})`);
    expect(finished).toBe(RUNS);
    expect(await store.listRuns({ status: 'succeeded', limit: RUNS + 1 })).toHaveLength(RUNS);
  }, 120_000);
});
