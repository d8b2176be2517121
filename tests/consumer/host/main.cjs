// A CommonJS host: require() every package it embeds, register a custom DeliveryRouter and run a job.
const { CronScheduler } = require('@symbi/core');
const { SqliteJobStore } = require('@symbi/store-sqlite');
const { FunctionExecutor } = require('@symbi/executors');
const { ChannelRouter } = require('@symbi/delivery');

/** A custom DeliveryRouter: keeps what it receives. */
class MemoryRouter {
  constructor() {
    this.received = [];
  }
  async route(channel, job, _run, output) {
    this.received.push({ channel, job: job.name, output });
  }
}

async function main() {
  const executor = new FunctionExecutor();
  executor.register('echo-agent', async ({ input }) => `echo ${input}`);
  const memory = new MemoryRouter();
  const router = new ChannelRouter({ custom: { memory } });
  const scheduler = new CronScheduler({ store: new SqliteJobStore({ path: './cjs.db' }), executor, router });
  const delivered = new Promise((resolve) => scheduler.on('delivery:succeeded', resolve));
  await scheduler.start();
  await scheduler.upsert({ name: 'cjs-job', agentId: 'echo-agent', cronExpr: '0 0 9 * * *', delivery: ['memory'] });
  const run = await scheduler.runNow('cjs-job', { input: 'from require', wait: true });
  await delivered;
  await scheduler.stop();
  await scheduler.store.close();
  console.log(`RESULT ${JSON.stringify({ status: run.status, output: run.output, received: memory.received })}`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
