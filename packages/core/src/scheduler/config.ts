import { randomUUID } from 'node:crypto';
import { ValidationError } from '../errors.js';
import { MAX_RETENTION_DAYS, MAX_RETENTION_RUNS } from '../lifecycle/retention.js';

/**
 * Settings of a {@link CronScheduler}. Names follow the spec's `CronSchedulerConfig` and
 * `[scheduler]` TOML keys (camelCase here); every field has a default.
 */
export interface CronSchedulerConfig {
  /** Upper bound on how long the loop sleeps without checking the store (default 1000 ms). */
  tickIntervalMs: number;
  /** Global random start delay of 0..N seconds for jobs without their own `jitter` (default 0). */
  maxJitterSeconds: number;
  /** Global limit of runs executing at once in this process (default 100). */
  maxConcurrentJobs: number;
  /**
   * Limit of deliveries being sent at once in this process (default 10). Deliveries have their own
   * queue: a slow or failing channel never holds one of the `maxConcurrentJobs` execution slots.
   */
  maxConcurrentDeliveries: number;
  /** Consecutive failures before dead-letter for jobs without `max_retries` (default 3). */
  defaultMaxRetries: number;
  /** How long `stop()` waits for in-flight runs before aborting them (default 30 000 ms). */
  shutdownTimeoutMs: number;
  /** Run missed fires on start per each job's `catchup` policy; false skips them all (default true). */
  enableMissedRunCatchup: boolean;
  /** Oldest missed fire that catch-up still runs (default 24 h). */
  catchupWindowMs: number;
  /**
   * The grace for timer lateness (default 5000 ms): a fire found due at most this late runs as
   * scheduled; a later one was missed (the scheduler was down, stopped, or too busy to claim it)
   * and follows its job's `catchup` policy (trigger `catchup`; nothing under `skip`). Keep it a
   * few seconds: every fire missed while no scheduler ran for longer must follow the policy.
   */
  misfireThresholdMs: number;
  /** Lease on claimed runs; renewed every third of it while running (default 30 000 ms). */
  leaseMs: number;
  /** Most runs claimed per store round trip (default 256). */
  claimBatchSize: number;
  /**
   * Runs claimed beyond the free execution slots, waiting in this process for a slot (default 0).
   * Raising it (to about `claimBatchSize`) overlaps claims with running work and raises the
   * throughput of many short runs; with several instances, prefetched runs wait here for a slot
   * even while another instance is idle.
   */
  prefetch: number;
  /**
   * How early fires are claimed (default 250 ms): the loop wakes this long before the next due
   * fire, claims it, and holds the claimed runs until they are due, so the claim's own cost never
   * makes a fire late. Must be shorter than `leaseMs`; 0 claims fires only once they are due.
   */
  claimAheadMs: number;
  /** First retry delay after a failure; doubles per consecutive failure (default 1000 ms). */
  retryBaseDelayMs: number;
  /** Longest retry delay (default 5 min). */
  retryMaxDelayMs: number;
  /** How long an approval request waits before the run ends `denied` (default 24 h). */
  approvalTimeoutMs: number;
  /** Messages kept in a `shared_persistent` session's history (default 200). */
  sessionHistoryLimit: number;
  /** The scheduler's environment, checked by `allowed_environments` (default `SYMBI_ENV` or `development`). */
  environment: string;
  /** Id of this scheduler instance, used as the lease owner (default a random UUID). */
  instanceId: string;
  /** Keep per-job metrics (default true). */
  enableMetrics: boolean;
  /**
   * Days finished runs are kept, for jobs without their own `history_retention_days`; null keeps
   * them whatever their age (default null).
   */
  historyRetentionDays: number | null;
  /**
   * Most finished runs kept per job (the newest), for jobs without their own
   * `history_retention_runs`; null keeps any number (default null).
   */
  historyRetentionRuns: number | null;
  /** How often the loop prunes run history by the retention policies (default 600 000 ms: ten minutes). */
  historyPruneIntervalMs: number;
  /** Most runs one pruning transaction deletes, so claims never wait long behind it (default 500). */
  historyPruneBatchSize: number;
}

/** The defaults of {@link CronSchedulerConfig}. */
export function defaultSchedulerConfig(env: Record<string, string | undefined> = process.env): CronSchedulerConfig {
  return {
    tickIntervalMs: 1000,
    maxJitterSeconds: 0,
    maxConcurrentJobs: 100,
    maxConcurrentDeliveries: 10,
    defaultMaxRetries: 3,
    shutdownTimeoutMs: 30_000,
    enableMissedRunCatchup: true,
    catchupWindowMs: 86_400_000,
    misfireThresholdMs: 5_000,
    leaseMs: 30_000,
    claimBatchSize: 256,
    claimAheadMs: 250,
    prefetch: 0,
    retryBaseDelayMs: 1000,
    retryMaxDelayMs: 300_000,
    approvalTimeoutMs: 86_400_000,
    sessionHistoryLimit: 200,
    environment: env.SYMBI_ENV ?? 'development',
    instanceId: randomUUID(),
    enableMetrics: true,
    historyRetentionDays: null,
    historyRetentionRuns: null,
    historyPruneIntervalMs: 600_000,
    historyPruneBatchSize: 500,
  };
}

const POSITIVE: (keyof CronSchedulerConfig)[] = [
  'tickIntervalMs',
  'maxConcurrentJobs',
  'maxConcurrentDeliveries',
  'leaseMs',
  'claimBatchSize',
  'retryBaseDelayMs',
  'retryMaxDelayMs',
  'approvalTimeoutMs',
  'sessionHistoryLimit',
  'historyPruneIntervalMs',
  'historyPruneBatchSize',
];
const NON_NEGATIVE: (keyof CronSchedulerConfig)[] = [
  'maxJitterSeconds',
  'defaultMaxRetries',
  'shutdownTimeoutMs',
  'catchupWindowMs',
  'misfireThresholdMs',
  'claimAheadMs',
  'prefetch',
];

/** Merges `partial` over the defaults and validates every number, naming the bad field. */
export function resolveSchedulerConfig(partial: Partial<CronSchedulerConfig> = {}): CronSchedulerConfig {
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
  const config = { ...defaultSchedulerConfig(), ...defined } as CronSchedulerConfig;
  for (const key of [...POSITIVE, ...NON_NEGATIVE]) {
    const value = config[key];
    const min = POSITIVE.includes(key) ? 1 : 0;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
      throw new ValidationError(key, `must be a number >= ${min}`, value);
    }
  }
  checkRetention(config, 'historyRetentionDays', MAX_RETENTION_DAYS);
  checkRetention(config, 'historyRetentionRuns', MAX_RETENTION_RUNS);
  if (config.claimAheadMs >= config.leaseMs) {
    throw new ValidationError('claimAheadMs', `must be shorter than leaseMs (${config.leaseMs})`, config.claimAheadMs);
  }
  return config;
}

/** A retention limit is null (no limit) or a whole number from 1 to `max`. */
function checkRetention(config: CronSchedulerConfig, key: 'historyRetentionDays' | 'historyRetentionRuns', max: number): void {
  const value = config[key];
  if (value !== null && (!Number.isInteger(value) || value < 1 || value > max)) {
    throw new ValidationError(key, `must be null or a whole number from 1 to ${max}`, value);
  }
}
