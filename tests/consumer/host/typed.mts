// Type-checked by the consumer test under node16 (ESM) and bundler resolution, with
// skipLibCheck false: every package's public types, as a strict host sees them.
import {
  CronScheduler,
  ValidationError,
  type CronJobDefinition,
  type DeliveryRouter,
  type JobRunRecord,
  type WireJob,
  type WireRun,
} from '@symbi/core';
import { runJobStoreConformance } from '@symbi/core/conformance';
import { InMemoryJobStore, VirtualClock, createTestScheduler, type TestScheduler } from '@symbi/core/testing';
import { SqliteJobStore } from '@symbi/store-sqlite';
import { PostgresJobStore, type PostgresJobStoreOptions } from '@symbi/store-postgres';
import { ChannelRouter } from '@symbi/delivery';
import { FunctionExecutor } from '@symbi/executors';
import { parseSymbi } from '@symbi/dsl';
import { startServer } from '@symbi/server';
import { SymbiontClient, type Job, type Run } from '@symbi/client';
import { createRuntime } from 'symbi';

/** A custom channel: a DeliveryRouter of the host's own. */
class AuditTrailRouter implements DeliveryRouter {
  readonly lines: string[] = [];
  async route(channel: string, job: CronJobDefinition, run: JobRunRecord, output: string): Promise<void> {
    this.lines.push(`${channel} ${job.name} ${run.id} ${output}`);
  }
}

export async function embed(): Promise<void> {
  const executor = new FunctionExecutor();
  executor.register('reporter-agent', async ({ input }) => `report for ${input}`);
  const router = new ChannelRouter({ custom: { audit: new AuditTrailRouter() } });
  const scheduler = new CronScheduler({ store: new SqliteJobStore({ path: './typed.db' }), executor, router });
  scheduler.on('run:succeeded', ({ job, run }) => {
    const line: string = `${job.name}: ${run.output ?? ''}`;
    console.log(line);
  });
  await scheduler.start();
  const { job } = await scheduler.upsert({ name: 'typed', agentId: 'reporter-agent', cronExpr: '0 0 9 * * *' });
  const queued: JobRunRecord = await scheduler.runNow(job.id, { wait: true });
  console.log(queued.status);
  // @ts-expect-error the router option is `router`: `delivery` is a job field
  new CronScheduler({ store: new InMemoryJobStore(), executor, delivery: router });
  const pg: PostgresJobStoreOptions = { connectionString: 'postgres://postgres@127.0.0.1:5432/test' };
  new PostgresJobStore(pg);
  if (!(new ValidationError('name', 'is required', undefined) instanceof Error)) throw new Error('unreachable');
}

export async function test(): Promise<TestScheduler> {
  const clock = new VirtualClock('2026-03-02T00:00:00Z');
  const harness = await createTestScheduler({ clock, agents: { digest: () => 'done' } });
  await harness.clock.advance('1d');
  return harness;
}

export async function remote(): Promise<[Job[], Run[], WireJob | undefined, WireRun | undefined]> {
  const client = new SymbiontClient({ baseUrl: 'http://127.0.0.1:8080' });
  const jobs: Job[] = await client.schedule.list();
  const runs: Run[] = jobs[0] ? await client.schedule.getHistory(jobs[0].id) : [];
  return [jobs, runs, jobs[0], runs[0]];
}

export const parts = { runJobStoreConformance, parseSymbi, startServer, createRuntime };
