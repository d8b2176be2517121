import type { OurThroughputConfig } from './throughput-ours.js';
import type { BullMqConfig, GraphileWorkerConfig, PgBossConfig } from './throughput-peers.js';

/** How much a run measures: `full` (the published figures), `quick` (under 5 minutes), `smoke` (CI). */
export type BenchMode = 'full' | 'quick' | 'smoke';

/** One contender of the throughput benchmark and the settings tried for it. */
export interface ThroughputTarget {
  /** Short id, e.g. `symbi-postgres-x3`. */
  id: string;
  /** What the report calls it. */
  label: string;
  /** Ours, or a peer. */
  ours: boolean;
  /** Task that runs it. */
  task: string;
  /** Arguments every run gets besides `jobs` and `config`. */
  base: Record<string, unknown>;
  /** Settings tried; the fastest in the tuning pass is measured. */
  configs: Record<string, number | boolean>[];
}

/** What one run of `bench/run.mjs` measures, and how much. */
export interface BenchPlan {
  mode: BenchMode;
  throughput: {
    /** Due jobs per measured run. */
    jobs: number;
    /** Measured runs per target (the median is reported). */
    runs: number;
    /** Due jobs per tuning run. */
    tuneJobs: number;
    /** Tuning runs per setting (round-robin across the settings; the best of each setting's runs ranks it). */
    tuneRounds: number;
    targets: ThroughputTarget[];
  };
  precision: { jobs: number; seconds: number };
  scale: { sizes: number[]; samples: number; batchSamples: number; batch: number };
  soak: { iterations: number; historyLimit: number; samples: number };
  /** The test kit: virtual days of a minutely job skipped per sample, and samples. */
  testKit: { days: number; samples: number };
}

const OUR_CONFIGS: OurThroughputConfig[] = [
  { maxConcurrentJobs: 100, claimBatchSize: 256 },
  { maxConcurrentJobs: 500, claimBatchSize: 500 },
  { maxConcurrentJobs: 500, claimBatchSize: 500, prefetch: 500 },
  { maxConcurrentJobs: 1000, claimBatchSize: 1000, prefetch: 1000 },
];

const PG_BOSS_CONFIGS: PgBossConfig[] = [
  { batchSize: 100, workers: 10 },
  { batchSize: 500, workers: 4 },
  { batchSize: 2000, workers: 2 },
];

const GRAPHILE_WORKER_CONFIGS: GraphileWorkerConfig[] = [
  { concurrency: 10, localQueueSize: -1, completeJobBatchDelay: -1 },
  { concurrency: 24, localQueueSize: 500, completeJobBatchDelay: 0 },
  { concurrency: 50, localQueueSize: 1000, completeJobBatchDelay: 5 },
];

const BULLMQ_CONFIGS: BullMqConfig[] = [
  { concurrency: 50, removeOnComplete: false },
  { concurrency: 200, removeOnComplete: false },
  { concurrency: 200, removeOnComplete: true },
];

/** The contenders, ours first. */
export function throughputTargets(): ThroughputTarget[] {
  const ours = (id: string, label: string, base: Record<string, unknown>, task = 'throughput:ours'): ThroughputTarget => ({
    id,
    label,
    ours: true,
    task,
    base,
    configs: OUR_CONFIGS.map((c) => ({ ...c })),
  });
  return [
    ours('symbi-memory', 'symbi, in-memory store', { store: 'memory' }),
    ours('symbi-sqlite', 'symbi, SQLite file', { store: 'sqlite' }),
    ours('symbi-postgres', 'symbi, PostgreSQL ×1', { store: 'postgres' }),
    // One scheduler process started exactly as each of the three above: the base of their ratio.
    // `symbi-postgres` drains in the process that loaded the jobs, with its pool's connections open
    // and its code compiled by the load; the instances start cold.
    ours('symbi-postgres-x1-process', 'symbi, PostgreSQL ×1 process', { instances: 1 }, 'throughput:ours-multi'),
    ours('symbi-postgres-x3', 'symbi, PostgreSQL ×3 processes', { instances: 3 }, 'throughput:ours-multi'),
    { id: 'pg-boss', label: 'pg-boss 10.4.2 (PostgreSQL)', ours: false, task: 'throughput:pg-boss', base: {}, configs: PG_BOSS_CONFIGS.map((c) => ({ ...c })) },
    {
      id: 'graphile-worker',
      label: 'graphile-worker 0.17.3 (PostgreSQL)',
      ours: false,
      task: 'throughput:graphile-worker',
      base: {},
      configs: GRAPHILE_WORKER_CONFIGS.map((c) => ({ ...c })),
    },
    { id: 'bullmq', label: 'BullMQ 6.7.0 (Redis)', ours: false, task: 'throughput:bullmq', base: {}, configs: BULLMQ_CONFIGS.map((c) => ({ ...c })) },
  ];
}

/** The plan of a mode. */
export function benchPlan(mode: BenchMode): BenchPlan {
  const targets = throughputTargets();
  switch (mode) {
    case 'full':
      return {
        mode,
        throughput: { jobs: 20_000, runs: 5, tuneJobs: 20_000, tuneRounds: 2, targets },
        precision: { jobs: 1000, seconds: 60 },
        scale: { sizes: [10_000, 100_000, 1_000_000], samples: 200, batchSamples: 30, batch: 10 },
        soak: { iterations: 10_000, historyLimit: 50, samples: 10 },
        testKit: { days: 30, samples: 5 },
      };
    case 'quick':
      return {
        mode,
        throughput: { jobs: 3_000, runs: 3, tuneJobs: 3_000, tuneRounds: 1, targets },
        precision: { jobs: 1000, seconds: 20 },
        scale: { sizes: [10_000, 100_000], samples: 100, batchSamples: 20, batch: 10 },
        soak: { iterations: 10_000, historyLimit: 50, samples: 10 },
        testKit: { days: 30, samples: 3 },
      };
    case 'smoke':
      return {
        mode,
        throughput: { jobs: 200, runs: 1, tuneJobs: 100, tuneRounds: 1, targets: targets.map((t) => ({ ...t, configs: t.configs.slice(0, 1) })) },
        precision: { jobs: 20, seconds: 2 },
        scale: { sizes: [200, 400], samples: 5, batchSamples: 2, batch: 3 },
        soak: { iterations: 200, historyLimit: 10, samples: 4 },
        testKit: { days: 1, samples: 1 },
      };
  }
}
