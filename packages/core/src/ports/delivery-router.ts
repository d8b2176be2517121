import type { CronJobDefinition, DeliveryChannel } from '../domain/job.js';
import type { JobRunRecord } from '../domain/run.js';

/**
 * Routes a run's output to a channel (the spec's `DeliveryRouter` trait). Rejects with a
 * `DeliveryError` when the channel did not accept it; the scheduler records the outcome per
 * channel and retries pending deliveries after a restart.
 */
export interface DeliveryRouter {
  /** Delivers `output` of `run` of `job` to `channel`. */
  route(channel: DeliveryChannel, job: CronJobDefinition, run: JobRunRecord, output: string, context?: DeliveryContext): Promise<void>;
  /**
   * Every channel it can deliver to. When a router tells, the scheduler refuses a job naming any
   * other channel when it is created or changed, instead of failing each of its runs.
   */
  channels?(): readonly string[];
}

/** What a delivery is part of, for routers that pass it on. */
export interface DeliveryContext {
  /** W3C trace context of this delivery when the run is traced (null otherwise); HTTP channels send it as the `traceparent` header. */
  traceparent: string | null;
}
