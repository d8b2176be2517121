import { newRun, type CronJobDefinition, type FirePlan } from '@symbi/core';
import { describe, expect, it } from 'vitest';
import { FIXTURE_EPOCH, makeJob } from '@symbi/core/testing';
import { openStore } from './temp-files.js';

/** Runs every job once a second from its `nextRun`. */
const everySecond = (job: CronJobDefinition): FirePlan => {
  const at = job.nextRun as Date;
  return { runs: [newRun(job, { scheduledFor: at, trigger: 'schedule' })], nextRun: new Date(at.getTime() + 1000) };
};

/**
 * The store's share of a scheduler's work per run, on a real file: plan and claim in batches of
 * 200, mark each run running, finish it with success, and check every run and counter is exact.
 * It prints runs per second of wall and CPU time; speed itself is measured and judged by the
 * benchmarks in bench/, not asserted here.
 */
describe('a long claim loop', () => {
  it('claims, starts and finishes 10,000 runs with exact counts', async () => {
    const store = await openStore();
    const jobs = 200;
    const total = 10_000;
    for (let i = 0; i < jobs; i += 1) await store.createJob(makeJob({ maxConcurrent: 1000 }));
    // Far enough ahead that every job stays due for the whole loop.
    const now = new Date(FIXTURE_EPOCH.getTime() + 3_600_000);

    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    let done = 0;
    while (done < total) {
      const claimed = await store.claimDue({ now, owner: 'bench', leaseMs: 60_000, limit: 200, plan: everySecond });
      expect(claimed.length).toBeGreaterThan(0);
      for (const { run } of claimed) {
        await store.updateRun(run.id, { status: 'running', startedAt: now }, { owner: 'bench', statusIn: ['scheduled'] });
        const finished = await store.finishRun({
          runId: run.id,
          owner: 'bench',
          outcome: 'success',
          patch: { status: 'succeeded', completedAt: now, output: 'ok', executionTimeMs: 1 },
          plan: () => ({}),
        });
        expect(finished?.run.status).toBe('succeeded');
        done += 1;
      }
    }
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const perSecond = Math.round(done / seconds);
    const perCpuSecond = Math.round(done / cpuSeconds);
    console.log(`sqlite store: ${done} runs planned, claimed, started and finished in ${seconds.toFixed(2)} s (${cpuSeconds.toFixed(2)} s CPU): ${perSecond} runs/s, ${perCpuSecond} runs per CPU second`);

    expect(await store.listRuns({ status: 'succeeded', limit: total + 1 })).toHaveLength(done);
    const counts = (await store.listJobs()).reduce((sum, job) => sum + job.runCount, 0);
    expect(counts).toBe(done);
  });
});
