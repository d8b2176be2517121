import type { ProfileSummary } from './cpu-profile.js';
import type { MachineInfo } from './machine.js';
import type { BenchMode } from './plan.js';
import type { PrecisionResult } from './precision.js';
import type { ScaleProbeResult } from './scale.js';
import type { SoakResult } from './soak.js';
import type { MethodTiming } from './store-views.js';
import type { ThroughputSample } from './throughput.js';
import type { TestKitResult } from './test-kit.js';
import type { WritesPerRun } from './writes-per-run.js';

/** Throughput of one contender: the tuning pass and the measured runs at its best setting. */
export interface ThroughputOutcome {
  id: string;
  label: string;
  ours: boolean;
  /**
   * Each setting tried, on the tuning size: the best of its runs (`rounds`, runs/s in the order
   * run), or null when any of them failed.
   */
  tuning: { config: ThroughputSample['config']; runsPerSecond: number | null; rounds: number[]; error?: string }[];
  /** The setting measured. */
  best: ThroughputSample['config'] | null;
  /** Measured runs. */
  samples: ThroughputSample[];
  /** Median runs/s of the measured runs (null when it could not run). */
  median: number | null;
  /** Why it could not run. */
  error?: string;
}

/** One store size of the scale benchmark. */
export interface ScaleStep {
  /** Jobs stored. */
  size: number;
  /** How loading the jobs added at this step went. */
  load: { loaded: number; ms: number };
  /** The probe's figures. */
  probe: ScaleProbeResult;
}

/** Whether a target was met. */
export interface TargetVerdict {
  /** Short id. */
  id: string;
  /** The target, in words. */
  target: string;
  /** What was measured, in words. */
  measured: string;
  /** true met, false not met, null not measured in this mode. */
  met: boolean | null;
}

/** Where the time went in a run of ours that missed a target. */
export interface ProfileReport {
  /** Which target it explains. */
  target: string;
  /** What was profiled. */
  what: string;
  /** The CPU profile, summarised. */
  cpu?: ProfileSummary;
  /** Store calls of a profiled throughput run. */
  storeCalls?: Record<string, MethodTiming>;
  /** The reading of it. */
  notes: string[];
}

/** Everything one run of the benchmarks measured (written to `bench/results/latest.json`). */
export interface BenchResults {
  mode: BenchMode;
  command: string;
  startedAt: string;
  durationSeconds: number;
  machine: MachineInfo;
  /** The commit of the work tree measured, and whether `packages/` had uncommitted changes. */
  code?: { commit: string; dirty: boolean };
  throughput: { jobs: number; runs: number; tuneJobs: number; tuneRounds: number; outcomes: ThroughputOutcome[] };
  /** Rows and index entries a run writes, by store (absent in results of older runs). */
  writes?: Record<string, WritesPerRun | { error: string }>;
  precision: { jobs: number; seconds: number; results: Record<string, PrecisionResult | { error: string }> };
  scale: { sizes: number[]; stores: Record<string, ScaleStep[] | { error: string }> };
  soak: { iterations: number; historyLimit: number; results: Record<string, SoakResult | { error: string }> };
  /** Real time the test kit takes to skip virtual days of a minutely job (absent in results of older runs). */
  testKit?: TestKitResult | { error: string };
  targets: TargetVerdict[];
  profiles: ProfileReport[];
  /** Failures of whole parts (a peer that could not run, …). */
  errors: string[];
}
