import type { CpuSpent } from './cpu-meter.js';

/** One timed throughput run of one target. */
export interface ThroughputSample {
  /** Jobs run. */
  jobs: number;
  /** From the start of processing to the last recorded completion. */
  elapsedMs: number;
  /** `jobs` per second over `elapsedMs`. */
  runsPerSecond: number;
  /** The settings the target ran with. */
  config: Record<string, number | string | boolean>;
  /** CPU spent over the measured part (absent in results of older runs). */
  cpu?: CpuSpent;
}

/** A sample of `jobs` done in `elapsedMs`, spending `cpu`. */
export function throughputSample(jobs: number, elapsedMs: number, config: ThroughputSample['config'], cpu: CpuSpent): ThroughputSample {
  return { jobs, elapsedMs, runsPerSecond: (jobs / elapsedMs) * 1000, config, cpu };
}

/** Hooks around the measured part of a benchmark, after its setup and before its teardown. */
export interface MeasuredWindow {
  /** The measured part begins. */
  start(): Promise<void>;
  /** The measured part ended. */
  stop(): Promise<void>;
}
