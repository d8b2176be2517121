// Appended to the README's "Embed it" snippet (embed.mjs): run the job once, then stop.
const run = await scheduler.runNow('daily-report', { input: 'Monday', wait: true });
await new Promise((resolve) => setTimeout(resolve, 200));
await scheduler.stop();
await scheduler.store.close();
console.log(`RESULT ${JSON.stringify({ status: run.status, output: run.output })}`);
