import type { CronSchedulerConfig } from '@symbi/core';
import type { SymbiConfig } from './config-types.js';

const ms = (seconds: number): number => Math.round(seconds * 1000);

/**
 * The `CronScheduler` settings that a {@link SymbiConfig} determines (seconds become
 * milliseconds), to pass as `new CronScheduler({ …, config: toSchedulerConfig(config) })`.
 * Settings the file cannot express keep the scheduler's own defaults.
 */
export function toSchedulerConfig(config: SymbiConfig): Partial<CronSchedulerConfig> {
  const { scheduler } = config;
  return {
    tickIntervalMs: ms(scheduler.tickIntervalSeconds),
    maxJitterSeconds: scheduler.maxJitterSeconds,
    maxConcurrentJobs: scheduler.maxConcurrentJobs,
    maxConcurrentDeliveries: scheduler.maxConcurrentDeliveries,
    claimBatchSize: scheduler.claimBatchSize,
    claimAheadMs: ms(scheduler.claimAheadSeconds),
    prefetch: scheduler.prefetch,
    defaultMaxRetries: scheduler.defaultMaxRetries,
    shutdownTimeoutMs: ms(scheduler.shutdownTimeoutSeconds),
    enableMissedRunCatchup: scheduler.enableMissedRunCatchup,
    catchupWindowMs: ms(scheduler.catchupWindowSeconds),
    misfireThresholdMs: ms(scheduler.misfireGraceSeconds),
    approvalTimeoutMs: ms(scheduler.approvalTimeoutSeconds),
    environment: scheduler.environment,
    enableMetrics: scheduler.enableMetrics,
    historyRetentionDays: scheduler.historyRetentionDays,
    historyRetentionRuns: scheduler.historyRetentionRuns,
    historyPruneIntervalMs: ms(scheduler.historyPruneIntervalSeconds),
  };
}
