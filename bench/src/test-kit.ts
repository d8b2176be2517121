import { createTestScheduler } from '@symbi/core/testing';
import { median, preciseNow } from './stats.js';

/** What {@link testKitSpeed} measured: real time to skip virtual days of a minutely job. */
export interface TestKitResult {
  /** Virtual days skipped per sample. */
  days: number;
  /** Fires each sample ran (a minutely job: 1,440 a day). */
  fires: number;
  /** Real milliseconds of each sample's `clock.advance`. */
  samplesMs: number[];
  /** Median of the samples (ms). */
  medianMs: number;
}

/**
 * The test kit's speed as a host's unit test sees it: `createTestScheduler` with its defaults, a
 * job firing every minute, and `clock.advance` over `days` virtual days, timed in real time; each
 * sample on a fresh scheduler, after a warm-up day. Checks that every fire ran.
 */
export async function testKitSpeed(args: { days: number; samples: number }): Promise<TestKitResult> {
  const advance = async (days: number) => {
    const { scheduler, clock, executor, stop } = await createTestScheduler({ start: '2026-04-01T00:00:00Z' });
    try {
      await scheduler.add({ name: 'minutely', agentId: 'pinger', cronExpr: '0 * * * * *' });
      const began = preciseNow();
      await clock.advance(`${days}d`);
      const ms = preciseNow() - began;
      const fires = executor?.calls.length ?? 0;
      if (fires !== days * 1440) throw new Error(`${days} virtual days ran ${fires} fires, not ${days * 1440}`);
      return ms;
    } finally {
      await stop();
    }
  };
  await advance(1);
  const samplesMs: number[] = [];
  for (let i = 0; i < args.samples; i++) samplesMs.push(await advance(args.days));
  return { days: args.days, fires: args.days * 1440, samplesMs, medianMs: median(samplesMs) };
}
