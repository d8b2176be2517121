// The smallest embedding of the scheduler: an in-memory store, an agent that is a plain
// function, and one job that fires every second and prints to stdout. Ctrl-C stops it gracefully.
import { CronScheduler, InMemoryJobStore } from '@symbi/core';

const executor = {
  async execute({ run, input }) {
    return { output: `hello from ${run.agentId} at ${new Date().toISOString()} (input: ${input})` };
  },
};

const scheduler = new CronScheduler({ store: new InMemoryJobStore(), executor });
scheduler.on('run:succeeded', ({ job, run }) => {
  const lateMs = run.startedAt.getTime() - run.scheduledFor.getTime();
  console.log(`[${job.name}] ${run.output} (started ${lateMs} ms after its fire time)`);
});

await scheduler.start();
await scheduler.add({ name: 'every-second', agentId: 'greeter', cronExpr: '* * * * * *', input: 'tick' });
console.log('examples/basic: a job fires every second; press Ctrl-C to stop.');

const seconds = Number(process.env.RUN_SECONDS ?? 0);
const stop = async () => {
  await scheduler.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
if (seconds > 0) setTimeout(stop, seconds * 1000);
