import { Queue, Worker } from 'bullmq';
import { Logger, makeWorkerUtils, run as runGraphileWorker } from 'graphile-worker';
import { Redis } from 'ioredis';
import PgBoss from 'pg-boss';
import { CompletionCounter, pollUntil, timeLimitMs } from './completion.js';
import pg from 'pg';
import { CpuMeter } from './cpu-meter.js';
import { dropSchema, POSTGRES_SERVER, POSTGRES_URL, REDIS, REDIS_SERVER, uniqueSchema } from './services.js';
import { preciseNow } from './stats.js';
import { throughputSample, type ThroughputSample } from './throughput.js';

/** Jobs enqueued per call while a benchmark fills a peer's queue. */
const ENQUEUE_CHUNK = 1000;

/** Settings of pg-boss tried: jobs fetched per poll, and workers (each its own polling loop). */
export interface PgBossConfig {
  batchSize: number;
  workers: number;
}

/**
 * pg-boss 10: `jobs` jobs inserted into a fresh queue and schema, then `workers` workers with a
 * no-op handler. A worker fetches `batchSize` jobs per poll (at most every 0.5 s, pg-boss's floor)
 * and completes them in one statement; the time runs from `work()` until every job is `completed`
 * in the database.
 */
export async function pgBossThroughput(args: { jobs: number; config: PgBossConfig }): Promise<ThroughputSample> {
  const schema = uniqueSchema('pgboss');
  const boss = new PgBoss({ connectionString: POSTGRES_URL, schema, supervise: false, schedule: false, migrate: true });
  const errors: Error[] = [];
  boss.on('error', (error) => errors.push(error));
  try {
    await boss.start();
    const queue = 'bench';
    await boss.createQueue(queue);
    for (let i = 0; i < args.jobs; i += ENQUEUE_CHUNK) {
      const size = Math.min(ENQUEUE_CHUNK, args.jobs - i);
      await boss.insert(Array.from({ length: size }, (_, k) => ({ name: queue, data: { i: i + k } })));
    }
    const rows = await new RowCounter().open();
    const counter = new CompletionCounter(args.jobs);
    const meter = new CpuMeter(POSTGRES_SERVER);
    meter.start();
    const startedAt = preciseNow();
    for (let w = 0; w < args.config.workers; w++) {
      await boss.work(queue, { batchSize: args.config.batchSize, pollingIntervalSeconds: 0.5 }, async (jobs) => {
        counter.add(jobs.length, preciseNow());
      });
    }
    await counter.wait(timeLimitMs(args.jobs), 'pg-boss');
    // pg-boss completes a batch after its handler returns, without awaiting it: count the rows.
    const completed = `SELECT count(*)::int AS n FROM "${schema}".job WHERE name = $1 AND state = 'completed'`;
    await pollUntil(async () => (await rows.count(completed, [queue])) >= args.jobs, timeLimitMs(args.jobs), 'pg-boss completions', 5);
    const elapsed = preciseNow() - startedAt;
    const cpu = meter.stop();
    await rows.close();
    if (errors.length > 0) throw errors[0];
    return throughputSample(args.jobs, elapsed, { ...args.config }, cpu);
  } finally {
    await boss.stop({ graceful: false, wait: true }).catch(() => undefined);
    await dropSchema(schema);
  }
}

/** Settings of graphile-worker tried: concurrency, local queue size and completion batching. */
export interface GraphileWorkerConfig {
  concurrency: number;
  /** `localQueue.size`; -1 disables the local queue. */
  localQueueSize: number;
  /** `completeJobBatchDelay` in ms; -1 disables batching of completions. */
  completeJobBatchDelay: number;
}

/**
 * graphile-worker 0.17: `jobs` jobs added with `addJobs` to a fresh schema, then one runner with a
 * no-op task; the time runs from `run()` until the jobs table is empty (graphile-worker deletes a
 * job when it completes).
 */
export async function graphileWorkerThroughput(args: { jobs: number; config: GraphileWorkerConfig }): Promise<ThroughputSample> {
  const schema = uniqueSchema('gw');
  const logger = new Logger(() => () => undefined);
  const utils = await makeWorkerUtils({ connectionString: POSTGRES_URL, schema, logger });
  try {
    await utils.migrate();
    for (let i = 0; i < args.jobs; i += ENQUEUE_CHUNK) {
      const size = Math.min(ENQUEUE_CHUNK, args.jobs - i);
      await utils.addJobs(Array.from({ length: size }, (_, k) => ({ identifier: 'bench', payload: { i: i + k } })));
    }
    const rows = await new RowCounter().open();
    const counter = new CompletionCounter(args.jobs);
    const meter = new CpuMeter(POSTGRES_SERVER);
    meter.start();
    const startedAt = preciseNow();
    const runner = await runGraphileWorker({
      connectionString: POSTGRES_URL,
      schema,
      logger,
      concurrency: args.config.concurrency,
      noHandleSignals: true,
      pollInterval: 1000,
      taskList: {
        bench: async () => {
          counter.add(1, preciseNow());
        },
      },
      preset: {
        worker: {
          localQueue: { size: args.config.localQueueSize },
          completeJobBatchDelay: args.config.completeJobBatchDelay,
        },
      },
    });
    try {
      await counter.wait(timeLimitMs(args.jobs), 'graphile-worker');
      const left = `SELECT count(*)::int AS n FROM "${schema}"._private_jobs`;
      await pollUntil(async () => (await rows.count(left, [])) === 0, timeLimitMs(args.jobs), 'graphile-worker completions', 5);
      const elapsed = preciseNow() - startedAt;
      return throughputSample(args.jobs, elapsed, { ...args.config }, meter.stop());
    } finally {
      await rows.close();
      await runner.stop();
    }
  } finally {
    await utils.release();
    await dropSchema(schema);
  }
}

/** Settings of BullMQ tried: worker concurrency, and whether completed jobs are kept. */
export interface BullMqConfig {
  concurrency: number;
  removeOnComplete: boolean;
}

/**
 * BullMQ 6: `jobs` jobs added with `addBulk` to a fresh queue on the local Redis, then one worker
 * with a no-op processor; the time runs from the worker's creation to its last `completed` event
 * (emitted once the job is moved to completed in Redis).
 */
export async function bullMqThroughput(args: { jobs: number; config: BullMqConfig }): Promise<ThroughputSample> {
  const name = uniqueSchema('bullmq');
  const connection = { ...REDIS, maxRetriesPerRequest: null };
  const queue = new Queue(name, { connection });
  try {
    for (let i = 0; i < args.jobs; i += ENQUEUE_CHUNK) {
      const size = Math.min(ENQUEUE_CHUNK, args.jobs - i);
      await queue.addBulk(Array.from({ length: size }, (_, k) => ({ name: 'bench', data: { i: i + k } })));
    }
    const counter = new CompletionCounter(args.jobs);
    const meter = new CpuMeter(REDIS_SERVER);
    meter.start();
    const startedAt = preciseNow();
    const worker = new Worker(name, async () => undefined, {
      connection,
      concurrency: args.config.concurrency,
      ...(args.config.removeOnComplete ? { removeOnComplete: { count: 0 } } : {}),
    });
    worker.on('completed', () => counter.add(1, preciseNow()));
    worker.on('failed', (job, error) => counter.fail(new Error(`BullMQ job ${job?.id} failed: ${error.message}`)));
    try {
      await counter.wait(timeLimitMs(args.jobs), 'BullMQ');
      return throughputSample(args.jobs, counter.lastAt - startedAt, { ...args.config }, meter.stop());
    } finally {
      await worker.close();
    }
  } finally {
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

/** The Redis server's version. */
export async function redisVersion(): Promise<string> {
  const client = new Redis({ ...REDIS, lazyConnect: true });
  try {
    await client.connect();
    const info = await client.info('server');
    return `Redis ${/redis_version:([^\r\n]+)/.exec(info)?.[1] ?? '?'}`;
  } finally {
    client.disconnect();
  }
}

/** A connection opened before the clock starts, to count a peer's finished rows without connecting. */
class RowCounter {
  readonly #client = new pg.Client({ connectionString: POSTGRES_URL });

  async open(): Promise<this> {
    await this.#client.connect();
    return this;
  }

  /** The `n` the query `text` answers. */
  async count(text: string, values: unknown[]): Promise<number> {
    const { rows } = await this.#client.query<{ n: number }>(text, values);
    return rows[0]?.n ?? 0;
  }

  async close(): Promise<void> {
    await this.#client.end();
  }
}
