import { CronScheduler, InMemoryJobStore, type AgentExecutor, type HeartbeatContextMode } from '@symbi/core';

/** Arguments of {@link heartbeatSoak}. */
export interface SoakArgs {
  /** How the heartbeat carries context between iterations (the job's session mode too). */
  contextMode: HeartbeatContextMode;
  /** Iterations of the one heartbeat run (`max_iterations`); the agent never asks to sleep. */
  iterations: number;
  /** The scheduler's `sessionHistoryLimit`. */
  historyLimit: number;
  /** Heap samples taken during the run, evenly spaced. */
  samples: number;
}

/** Memory of one long heartbeat run. */
export interface SoakResult {
  /** Whether `global.gc` was there (node `--expose-gc`), so each heap figure follows a full collection. */
  gcForced: boolean;
  /** Heap in use before the job was added, with the scheduler running (bytes). */
  heapBefore: number;
  /** Heap in use during the run, after iteration `iteration` (bytes). */
  heapDuring: { iteration: number; heapUsed: number }[];
  /** Heap in use after the run finished (bytes). */
  heapAfter: number;
  /** Resident set size after the run (bytes). */
  rssAfter: number;
  /** Iterations the agent ran. */
  iterations: number;
  /** Iterations kept on the run record. */
  recordedIterations: number;
  /** Longest history handed to the agent in any iteration. */
  maxHistorySeen: number;
  /** History length of the stored session after the run. */
  storedHistory: number;
  /** How long the run took (ms). */
  durationMs: number;
}

/** A heap figure, after a full collection when the process allows one. */
function heapUsed(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

/**
 * One heartbeat job whose agent never says sleep, run to `max_iterations` on the in-memory store:
 * the scheduler's own memory over a long run, and (for `shared_persistent`) the history kept.
 * Each agent answer is about 200 characters, so anything kept per iteration shows in the heap.
 */
export async function heartbeatSoak(args: SoakArgs): Promise<SoakResult> {
  const store = new InMemoryJobStore();
  let calls = 0;
  let maxHistorySeen = 0;
  const executor: AgentExecutor = {
    execute: async (request) => {
      calls++;
      maxHistorySeen = Math.max(maxHistorySeen, request.context.history.length);
      return { output: `iteration ${request.context.iteration}: still working. ${'.'.repeat(180)}`, action: 'continue' };
    },
  };
  const scheduler = new CronScheduler({ store, executor, config: { sessionHistoryLimit: args.historyLimit } });
  await scheduler.start();
  try {
    const heapBefore = heapUsed();
    const every = Math.max(1, Math.floor(args.iterations / args.samples));
    const heapDuring: SoakResult['heapDuring'] = [];
    scheduler.on('run:iteration', ({ iteration }) => {
      if (iteration.index % every === 0) heapDuring.push({ iteration: iteration.index, heapUsed: heapUsed() });
    });
    const finished = new Promise<{ recorded: number; error: string | null }>((resolve, reject) => {
      scheduler.on('run:succeeded', ({ run }) => resolve({ recorded: run.iterations.length, error: run.error }));
      scheduler.on('run:failed', ({ run }) => reject(new Error(`heartbeat run failed: ${run.error}`)));
    });
    const started = Date.now();
    const job = await scheduler.add({
      name: 'soak',
      agentId: 'looper',
      at: new Date().toISOString(),
      sessionMode: args.contextMode,
      heartbeat: { enabled: true, contextMode: args.contextMode, maxIterations: args.iterations },
    });
    const { recorded } = await finished;
    const durationMs = Date.now() - started;
    const session = await store.loadSession(job.id);
    // `run:succeeded` is emitted while the pipeline still unwinds: let it finish before measuring.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const heapAfter = heapUsed();
    return {
      gcForced: typeof (globalThis as { gc?: unknown }).gc === 'function',
      heapBefore,
      heapDuring,
      heapAfter,
      rssAfter: process.memoryUsage().rss,
      iterations: calls,
      recordedIterations: recorded,
      maxHistorySeen,
      storedHistory: session?.history.length ?? 0,
      durationMs,
    };
  } finally {
    await scheduler.stop();
    await store.close();
  }
}
