import { CronScheduler, InMemoryJobStore, systemClock, TERMINAL_RUN_STATUSES } from '@symbi/core';
import { FakeExecutor, RecordingRouter, type FakeAgent } from '@symbi/core/testing';
import { startServer, type RunningServer } from '@symbi/server';

/** A real scheduler on the system clock behind a real API server on a random loopback port. */
export interface LiveApi {
  scheduler: CronScheduler;
  router: RecordingRouter;
  server: RunningServer;
  url: string;
  /** Resolves once every run of the job has reached a terminal status (or waits for approval). */
  settled(jobRef: string): Promise<void>;
  close(): Promise<void>;
}

export async function startLiveApi(options: { apiKey?: string; agents?: Record<string, FakeAgent> } = {}): Promise<LiveApi> {
  const router = new RecordingRouter();
  const scheduler = new CronScheduler({
    store: new InMemoryJobStore(),
    executor: new FakeExecutor(systemClock, options.agents ?? {}),
    router,
    config: { shutdownTimeoutMs: 0 },
  });
  await scheduler.start();
  const server = await startServer({ scheduler, port: 0, apiKey: options.apiKey });
  return {
    scheduler,
    router,
    server,
    url: server.url,
    settled: async (jobRef) => {
      const deadline = Date.now() + 5000;
      const done = (status: string) => (TERMINAL_RUN_STATUSES as readonly string[]).includes(status) || status === 'awaiting_approval';
      while (!(await scheduler.history(jobRef)).every((run) => done(run.status))) {
        if (Date.now() > deadline) throw new Error(`runs of ${jobRef} did not settle`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    close: async () => {
      await server.close();
      await scheduler.stop();
    },
  };
}
