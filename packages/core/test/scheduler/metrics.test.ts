import { describe, expect, it } from 'vitest';
import { DURATION_BUCKETS, SchedulerMetrics } from '../../src/scheduler/metrics.js';

describe('SchedulerMetrics', () => {
  it('keeps cumulative execution-time buckets per job, leaving out untimed runs', () => {
    const metrics = new SchedulerMetrics();
    metrics.recordRun('a', 'succeeded', 0);
    metrics.recordRun('a', 'failed', 30);
    metrics.recordRun('a', 'succeeded', 5_000);
    metrics.recordRun('a', 'skipped', null);
    metrics.recordRun('b', 'skipped', null);
    metrics.recordRun('c', 'succeeded', 7_200_000);
    const { runs, durations } = metrics.snapshot();
    expect(runs).toEqual([
      { jobName: 'a', status: 'succeeded', count: 2 },
      { jobName: 'a', status: 'failed', count: 1 },
      { jobName: 'a', status: 'skipped', count: 1 },
      { jobName: 'b', status: 'skipped', count: 1 },
      { jobName: 'c', status: 'succeeded', count: 1 },
    ]);
    // Each bucket counts the runs that took at most its bound: 0 s, 0.03 s and 5 s for job a.
    const expected = DURATION_BUCKETS.map((le) => ({ le, count: [0, 0.03, 5].filter((seconds) => seconds <= le).length }));
    expect(durations).toEqual([
      { jobName: 'a', buckets: expected, sum: 5.03, count: 3 },
      { jobName: 'c', buckets: DURATION_BUCKETS.map((le) => ({ le, count: 0 })), sum: 7_200, count: 1 },
    ]);
    expect(metrics.totals()).toEqual({ runs_total: 4, runs_succeeded: 3, runs_failed: 1, avg_execution_time_ms: Math.round(7_205_030 / 4) });
  });
});
