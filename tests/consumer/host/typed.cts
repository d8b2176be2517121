// The same packages from a CommonJS module under node16: types resolve through the `require`
// condition to the `.d.cts` files.
import { CronScheduler, type DeliveryRouter } from '@symbi/core';
import { InMemoryJobStore, createTestScheduler } from '@symbi/core/testing';
import { SqliteJobStore } from '@symbi/store-sqlite';
import { ChannelRouter } from '@symbi/delivery';
import { FunctionExecutor } from '@symbi/executors';
import { SymbiontClient } from '@symbi/client';

const memory: DeliveryRouter = { route: async () => {} };

export function build(): CronScheduler {
  const scheduler = new CronScheduler({
    store: new SqliteJobStore({ path: ':memory:' }),
    executor: new FunctionExecutor(),
    router: new ChannelRouter({ custom: { memory } }),
  });
  scheduler.on('run:failed', ({ run }) => console.error(run.error));
  return scheduler;
}

export const parts = { InMemoryJobStore, createTestScheduler, SymbiontClient };
