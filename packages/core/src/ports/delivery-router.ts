import type { CronJobDefinition, DeliveryChannel } from '../domain/job.js';
import type { JobRunRecord } from '../domain/run.js';

/**
 * Routes a run's output to a channel (the spec's `DeliveryRouter` trait). Rejects with a
 * `DeliveryError` when the channel did not accept it; the scheduler records the outcome per
 * channel and retries pending deliveries after a restart.
 */
export interface DeliveryRouter {
  /** Delivers `output` of `run` of `job` to `channel`. */
  route(channel: DeliveryChannel, job: CronJobDefinition, run: JobRunRecord, output: string): Promise<void>;
  /**
   * Every channel it can deliver to. When a router tells, the scheduler refuses a job naming any
   * other channel when it is created or changed, instead of failing each of its runs.
   */
  channels?(): readonly string[];
}
