import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeliveryError } from '@symbi/core';
import type { DeliveryPayload } from '@symbi/delivery';
import { demoJob, demoRun } from '../demo.mjs';
import { createRouter } from '../jsonl-channel.mjs';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'symbi-example-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('custom-delivery example', () => {
  it('delivers each run to stdout and appends it to the jsonl file', async () => {
    const file = path.join(dir, 'out', 'deliveries.jsonl');
    const stdout = new PassThrough();
    let printed = '';
    stdout.on('data', (chunk: Buffer) => (printed += chunk.toString('utf8')));
    const router = createRouter({ file, stdout });
    const job = demoJob();
    const first = demoRun(job);
    const second = demoRun(job, new Date('2026-03-03T06:00:00Z'));

    for (const run of [first, second]) {
      for (const channel of job.delivery) await router.route(channel, job, run, `digest of ${run.scheduledFor.toISOString().slice(0, 10)}`);
    }

    const lines = (await readFile(file, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as DeliveryPayload & { channel: string });
    expect(lines.map((line) => [line.channel, line.job.name, line.run.id, line.output])).toEqual([
      ['jsonl', 'nightly-digest', first.id, 'digest of 2026-03-02'],
      ['jsonl', 'nightly-digest', second.id, 'digest of 2026-03-03'],
    ]);
    expect(printed).toContain('digest of 2026-03-02');
    expect(printed).toContain('Job:       nightly-digest');
    expect(router.channels()).toContain('jsonl');
  });

  it('still refuses channels nobody registered', async () => {
    const router = createRouter({ file: path.join(dir, 'x.jsonl') });
    const job = demoJob();

    await expect(router.route('sms', job, demoRun(job), 'x')).rejects.toThrow(DeliveryError);
  });
});
