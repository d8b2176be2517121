import {
  CronScheduler,
  InMemoryJobStore,
  type CronSchedulerConfig,
  type CronSchedulerOptions,
  type JobStore,
  type Logger,
  type PolicyGate,
} from '@symbi/core';
import { FakeExecutor, RecordingRouter, VirtualClock, type FakeAgent } from '@symbi/core/testing';

/** Everything a scheduler test needs, on a virtual clock starting at a round minute. */
export interface Harness {
  clock: VirtualClock;
  store: JobStore;
  executor: FakeExecutor;
  router: RecordingRouter;
  scheduler: CronScheduler;
}

export async function startHarness(
  options: {
    agents?: Record<string, FakeAgent>;
    durationMs?: number | ((req: Parameters<FakeAgent>[0]) => number);
    config?: Partial<CronSchedulerConfig>;
    gates?: PolicyGate[];
    agentPin?: CronSchedulerOptions['agentPin'];
    store?: JobStore;
    clock?: VirtualClock;
    random?: () => number;
    redactor?: CronSchedulerOptions['redactor'];
    logger?: Logger;
    start?: boolean;
  } = {},
): Promise<Harness> {
  const clock = options.clock ?? new VirtualClock('2026-03-02T09:00:00Z');
  const store = options.store ?? new InMemoryJobStore();
  const executor = new FakeExecutor(clock, options.agents ?? {}, { durationMs: options.durationMs });
  const router = new RecordingRouter();
  const scheduler = new CronScheduler({
    store,
    executor,
    router,
    clock,
    gates: options.gates,
    agentPin: options.agentPin,
    random: options.random ?? (() => 0),
    redactor: options.redactor,
    logger: options.logger,
    // A long tick keeps virtual hours cheap; the loop still wakes at every due time and change.
    config: { retryBaseDelayMs: 1000, tickIntervalMs: 60_000, shutdownTimeoutMs: 0, ...options.config },
  });
  if (options.start !== false) await scheduler.start();
  return { clock, store, executor, router, scheduler };
}

/** ISO strings of a list of dates, for readable assertions. */
export function isoList(dates: (Date | null)[]): (string | null)[] {
  return dates.map((d) => (d ? d.toISOString() : null));
}
