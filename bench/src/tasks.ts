import { WindowProfiler, type ProfileSummary } from './cpu-profile.js';
import type { PrecisionResult } from './precision.js';
import type { MethodTiming } from './store-views.js';
import type { OurThroughputArgs } from './throughput-ours.js';
import type { MeasuredWindow, ThroughputSample } from './throughput.js';

/** A measured window that samples the CPU, and the summary once it closed. */
function profiledWindow(): { window: MeasuredWindow; summary: () => ProfileSummary } {
  const profiler = new WindowProfiler();
  let summary: ProfileSummary | null = null;
  return {
    window: { start: () => profiler.start(), stop: async () => void (summary = await profiler.stop()) },
    summary: () => {
      if (summary === null) throw new Error('the profiled window never closed');
      return summary;
    },
  };
}

/**
 * Our throughput run with the CPU sampled while it runs and every store call timed: where a run's
 * time goes, by function and by store operation.
 */
export async function profiledThroughput(
  args: Omit<OurThroughputArgs, 'wrapStore' | 'window'>,
): Promise<{ sample: ThroughputSample; storeCalls: Record<string, MethodTiming>; cpu: ProfileSummary }> {
  const { ourThroughput } = await import('./throughput-ours.js');
  const { timedStore } = await import('./store-views.js');
  let read: () => Record<string, MethodTiming> = () => ({});
  const profiled = profiledWindow();
  const sample = await ourThroughput({
    ...args,
    window: profiled.window,
    wrapStore: (store) => {
      const timed = timedStore(store);
      read = timed.timings;
      return timed.store;
    },
  });
  return { sample, storeCalls: read(), cpu: profiled.summary() };
}

/** Our precision run with the CPU sampled over the measured window. */
export async function profiledPrecision(
  args: Omit<Parameters<typeof import('./precision.js').ourPrecision>[0], 'window'>,
): Promise<{ result: PrecisionResult; cpu: ProfileSummary }> {
  const { ourPrecision } = await import('./precision.js');
  const profiled = profiledWindow();
  const result = await ourPrecision({ ...args, window: profiled.window });
  return { result, cpu: profiled.summary() };
}

type Task = (args: never) => Promise<unknown>;

/**
 * Every benchmark task, by name, as a task process runs it: each takes its JSON arguments and
 * returns a JSON result. Each loads only its own modules, so a process measuring its memory holds
 * no peer library it does not use. `entry` is the bundled file of the process itself, for tasks
 * that start processes of their own.
 */
export function taskTable(entry: string): Record<string, Task> {
  const ours = () => import('./throughput-ours.js');
  const peers = () => import('./throughput-peers.js');
  const precision = () => import('./precision.js');
  const scale = () => import('./scale.js');
  return {
    'throughput:ours': async (args: Parameters<Awaited<ReturnType<typeof ours>>['ourThroughput']>[0]) => (await ours()).ourThroughput(args),
    'throughput:ours-multi': async (args: Omit<Parameters<Awaited<ReturnType<typeof ours>>['ourThroughputMulti']>[0], 'entry'>) =>
      (await ours()).ourThroughputMulti({ ...args, entry }),
    instance: async (args: Parameters<Awaited<ReturnType<typeof ours>>['ourInstance']>[0]) => (await ours()).ourInstance(args),
    'throughput:pg-boss': async (args: Parameters<Awaited<ReturnType<typeof peers>>['pgBossThroughput']>[0]) => (await peers()).pgBossThroughput(args),
    'throughput:graphile-worker': async (args: Parameters<Awaited<ReturnType<typeof peers>>['graphileWorkerThroughput']>[0]) =>
      (await peers()).graphileWorkerThroughput(args),
    'throughput:bullmq': async (args: Parameters<Awaited<ReturnType<typeof peers>>['bullMqThroughput']>[0]) => (await peers()).bullMqThroughput(args),
    'profile:ours-throughput': profiledThroughput,
    'profile:ours-precision': profiledPrecision,
    'precision:ours': async (args: Parameters<Awaited<ReturnType<typeof precision>>['ourPrecision']>[0]) => (await precision()).ourPrecision(args),
    'precision:croner': async (args: Parameters<Awaited<ReturnType<typeof precision>>['cronerPrecision']>[0]) => (await precision()).cronerPrecision(args),
    'precision:node-cron': async (args: Parameters<Awaited<ReturnType<typeof precision>>['nodeCronPrecision']>[0]) =>
      (await precision()).nodeCronPrecision(args),
    'scale:load': async (args: Parameters<Awaited<ReturnType<typeof scale>>['scaleLoad']>[0]) => (await scale()).scaleLoad(args),
    'scale:probe': async (args: Parameters<Awaited<ReturnType<typeof scale>>['scaleProbe']>[0]) => (await scale()).scaleProbe(args),
    'writes:ours': async (args: Parameters<typeof import('./writes-per-run.js').writesPerRun>[0]) => (await import('./writes-per-run.js')).writesPerRun(args),
    soak: async (args: Parameters<typeof import('./soak.js').heartbeatSoak>[0]) => (await import('./soak.js')).heartbeatSoak(args),
    'test-kit': async (args: Parameters<typeof import('./test-kit.js').testKitSpeed>[0]) => (await import('./test-kit.js')).testKitSpeed(args),
  };
}
