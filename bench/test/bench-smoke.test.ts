import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summariseCpuProfile, WindowProfiler } from '../src/cpu-profile.js';
import { disposeStoreLocation, newStoreLocation } from '../src/our-stores.js';
import { writesPerRun } from '../src/writes-per-run.js';
import { cronerPrecision, nodeCronPrecision, ourPrecision, type PrecisionResult } from '../src/precision.js';
import type { BenchResults } from '../src/results.js';
import { scaleLoad, scaleProbe } from '../src/scale.js';
import { heartbeatSoak } from '../src/soak.js';
import { distribution, median, quantile } from '../src/stats.js';
import { ourThroughput } from '../src/throughput-ours.js';
import { bullMqThroughput, graphileWorkerThroughput, pgBossThroughput } from '../src/throughput-peers.js';
import type { ThroughputSample } from '../src/throughput.js';
import { describeWithPostgres, describeWithServices } from './services.js';

// Proves the benchmark code still runs, on tiny sizes. Timings are never asserted: only that each
// harness completes its work and reports it whole.

const benchDir = fileURLToPath(new URL('..', import.meta.url));
const OUR_CONFIG = { maxConcurrentJobs: 100, claimBatchSize: 256 };

/** A whole sample; on Linux its CPU is read too, the server's where `server` says it has one. */
function expectSample(sample: ThroughputSample, jobs: number, server: boolean): void {
  expect(sample.jobs).toBe(jobs);
  expect(sample.elapsedMs).toBeGreaterThan(0);
  expect(Number.isFinite(sample.runsPerSecond)).toBe(true);
  expect(sample.cpu!.processUs).toBeGreaterThan(0);
  if (process.platform === 'linux') expect(sample.cpu!.serverUs === null).toBe(!server);
}

function expectAllFires(result: PrecisionResult): void {
  expect(result.observed).toBe(result.expected);
  expect(result.lateness.count).toBe(result.expected);
  expect(Number.isFinite(result.lateness.p99)).toBe(true);
}

describe('statistics', () => {
  it('takes medians, nearest-rank quantiles and distributions', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.99)).toBe(10);
    expect(distribution([5, 1, 3])).toMatchObject({ count: 3, p50: 3, max: 5, mean: 3 });
  });

  it('sums a CPU profile by function and area', () => {
    const summary = summariseCpuProfile({
      nodes: [
        { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 }, children: [2, 3, 4] },
        { id: 2, callFrame: { functionName: 'claimDue', url: 'file:///x/packages/store-sqlite/dist/index.js', lineNumber: 9 } },
        { id: 3, callFrame: { functionName: 'parse', url: 'file:///x/node_modules/.pnpm/kysely@0.28.8/node_modules/kysely/a.js', lineNumber: 0 } },
        { id: 4, callFrame: { functionName: '', url: '', lineNumber: -1 } },
      ],
      samples: [2, 2, 3, 4],
      timeDeltas: [1000, 1000, 2000, 500],
    });
    expect(summary.totalMs).toBe(4.5);
    expect(summary.areas.map((a) => a.name).sort()).toEqual(['(native)', '@symbi/store-sqlite', 'kysely']);
    expect(summary.topFunctions[0]).toMatchObject({ name: 'claimDue store-sqlite/dist/index.js:10', selfMs: 2 });
    // Native code V8 gives no name is named as such, not left blank in the report.
    expect(summary.topFunctions.find((f) => f.selfMs === 0.5)?.name).toBe('(unnamed native code)');
  });

  it('profiles a window of this process', async () => {
    const profiler = new WindowProfiler();
    await profiler.start();
    let x = 0;
    for (let i = 0; i < 1e6; i++) x += Math.sqrt(i);
    const summary = await profiler.stop();
    expect(x).toBeGreaterThan(0);
    expect(summary.areas.length).toBeGreaterThan(0);
  });
});

const ourStoreThroughput = async (store: 'memory' | 'sqlite' | 'postgres') => {
  expectSample(await ourThroughput({ store, jobs: 200, config: OUR_CONFIG }), 200, store === 'postgres');
};

describe('throughput harness', () => {
  it.each(['memory', 'sqlite'] as const)('runs due one-shot jobs through our scheduler on %s', ourStoreThroughput, 60_000);
});

describeWithPostgres('throughput harness on PostgreSQL', () => {
  it('runs due one-shot jobs through our scheduler on postgres', () => ourStoreThroughput('postgres'), 60_000);
});

describeWithServices('throughput harness of the peers', () => {
  it('runs the same jobs through pg-boss, graphile-worker and BullMQ', async () => {
    expectSample(await pgBossThroughput({ jobs: 200, config: { batchSize: 50, workers: 2 } }), 200, true);
    expectSample(await graphileWorkerThroughput({ jobs: 200, config: { concurrency: 10, localQueueSize: 50, completeJobBatchDelay: 0 } }), 200, true);
    expectSample(await bullMqThroughput({ jobs: 200, config: { concurrency: 50, removeOnComplete: true } }), 200, true);
  }, 90_000);
});

describe('precision harness', () => {
  it('sees every fire of ours, croner and node-cron', async () => {
    const args = { jobs: 10, seconds: 2 };
    const results = await Promise.all([
      ourPrecision({ ...args, store: 'memory' }),
      ourPrecision({ ...args, store: 'sqlite' }),
      cronerPrecision(args),
      nodeCronPrecision(args),
    ]);
    for (const result of results) expectAllFires(result);
    expect(results[0]!.phases?.claim.count).toBe(20);
  }, 60_000);
});

/** Counts the writes of 40 runs on `store`: one finished run row inserted per one-shot job. */
const countWrites = async (store: 'sqlite' | 'postgres') => {
    const writes = await writesPerRun({ store, runs: 40, config: { maxConcurrentJobs: 10, claimBatchSize: 10 } });
    const runs = writes.tables.find((t) => t.table === 'runs');
    expect(runs).toMatchObject({ inserted: 40 });
    // Each run is claimed, started and finished: written more than once, in `runs` or, where a store
    // keeps runs in flight apart (`live_runs`), there.
    const runWrites = writes.tables.filter((t) => t.table.endsWith('runs')).reduce((n, t) => n + t.inserted + t.updated + t.deleted, 0);
    expect(runWrites).toBeGreaterThanOrEqual(3 * 40);
    expect(runs!.indexes).toBeGreaterThan(0);
    expect(writes.tables.find((t) => t.table === 'jobs')?.updated).toBeGreaterThanOrEqual(40);
    expect(writes.rowsPerRun).toBeGreaterThanOrEqual(3);
    expect(writes.indexEntriesPerRun).toBeGreaterThan(runs!.indexes);
};

describe('writes harness', () => {
  it('counts the rows a run writes on sqlite: one finished run row inserted per one-shot job', () => countWrites('sqlite'), 60_000);
});

describeWithPostgres('writes harness on PostgreSQL', () => {
  it('counts the rows a run writes on postgres: one finished run row inserted per one-shot job', () => countWrites('postgres'), 60_000);
});

/** Loads jobs into a fresh store of `kind` in two steps and probes its ticks. */
const loadAndProbe = async (kind: 'sqlite' | 'postgres') => {
    const location = newStoreLocation(kind, 'smoke');
    try {
      expect(await scaleLoad({ location, from: 0, to: 150 })).toMatchObject({ loaded: 150 });
      expect(await scaleLoad({ location, from: 150, to: 300 })).toMatchObject({ loaded: 150 });
      const probe = await scaleProbe({ location, samples: 3, batchSamples: 2, batch: 3 });
      expect(probe.jobs).toBe(300);
      expect(probe.tick.count).toBe(3);
      expect(probe.batchClaim.count).toBe(2);
      expect(probe.rssBytes).toBeGreaterThan(probe.heapUsedBytes);
    } finally {
      await disposeStoreLocation(location);
    }
};

describe('scale harness', () => {
  it('loads jobs and probes ticks on sqlite', () => loadAndProbe('sqlite'), 60_000);
});

describeWithPostgres('scale harness on PostgreSQL', () => {
  it('loads jobs and probes ticks on postgres', () => loadAndProbe('postgres'), 60_000);
});

describe('memory harness', () => {
  it('runs a heartbeat to max_iterations and keeps shared history bounded', async () => {
    const summary = await heartbeatSoak({ contextMode: 'ephemeral_with_summary', iterations: 300, historyLimit: 10, samples: 3 });
    expect(summary).toMatchObject({ iterations: 300, recordedIterations: 300, storedHistory: 0 });
    expect(summary.heapDuring.map((h) => h.iteration)).toEqual([100, 200, 300]);
    const shared = await heartbeatSoak({ contextMode: 'shared_persistent', iterations: 300, historyLimit: 10, samples: 3 });
    expect(shared).toMatchObject({ iterations: 300, maxHistorySeen: 10, storedHistory: 10 });
  }, 60_000);
});

describeWithServices('bench/run.mjs --smoke', () => {
  let out = '';
  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'symbi-bench-smoke-'));
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('runs every part in its own processes and writes the results and the report', async () => {
    await promisify(execFile)(process.execPath, [join(benchDir, 'run.mjs'), '--smoke', '--out', out], { timeout: 240_000 });
    const results = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as BenchResults;
    expect(results.errors).toEqual([]);
    expect(results.throughput.outcomes.map((o) => [o.id, o.samples.length])).toEqual([
      ['symbi-memory', 1],
      ['symbi-sqlite', 1],
      ['symbi-postgres', 1],
      ['symbi-postgres-x1-process', 1],
      ['symbi-postgres-x3', 1],
      ['pg-boss', 1],
      ['graphile-worker', 1],
      ['bullmq', 1],
    ]);
    expect(Object.keys(results.precision.results)).toEqual(['symbi-memory', 'symbi-sqlite', 'croner', 'node-cron', 'symbi-memory-busy', 'symbi-sqlite-busy', 'croner-busy']);
    expect(Object.keys(results.writes ?? {})).toEqual(['sqlite', 'postgres']);
    expect(Object.values(results.scale.stores).every(Array.isArray)).toBe(true);
    expect(Object.keys(results.soak.results)).toEqual(['ephemeral_with_summary', 'shared_persistent']);
    expect(results.testKit).toMatchObject({ days: 1, fires: 1440 });
    expect(results.targets.map((t) => t.id)).toEqual(
      expect.arrayContaining(['postgres-throughput', 'postgres-throughput-x3', 'memory-throughput', 'memory-vs-bullmq', 'sqlite-throughput', 'precision-sqlite-busy', 'test-kit']),
    );
    const report = readFileSync(join(out, 'BENCHMARKS.md'), 'utf8');
    expect(report).toContain('CPU per run, µs (process + server)');
    for (const heading of ['## Machine', '## Targets', '## Throughput', '## Writes per run', '## Precision', '## Scale', '## Memory', '## Test kit']) expect(report).toContain(heading);
  }, 300_000);
});
