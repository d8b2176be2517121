// Delivers one run of a demo job to stdout and to a custom `jsonl` channel, then shows the file.
// Usage: node main.mjs [file]   (default: a fresh file in the system temp directory)
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { demoJob, demoRun } from './demo.mjs';
import { createRouter } from './jsonl-channel.mjs';

const file = process.argv[2] ?? path.join(await mkdtemp(path.join(tmpdir(), 'symbi-custom-delivery-')), 'deliveries.jsonl');
const router = createRouter({ file });
const job = demoJob();
const run = demoRun(job);
const output = 'Digest: 14 new tickets, 3 closed, no incidents.';

for (const channel of job.delivery) await router.route(channel, job, run, output);

console.log(`\nThe jsonl channel appended to ${file}:`);
process.stdout.write(await readFile(file, 'utf8'));
