import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DeliveryError } from '@symbi/core';
import { StdoutRouter } from '@symbi/delivery';
import { makeJob, makeRun, rejection } from './support/fixtures.js';

describe('StdoutRouter', () => {
  it('writes a readable block with the job, the run and the output', async () => {
    const stream = new PassThrough();
    const chunks: string[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
    const job = makeJob();
    const run = makeRun(job);

    await new StdoutRouter(stream).route('stdout', job, run, 'Revenue up 3%.\nNo incidents.');

    const text = chunks.join('');
    expect(text.split('\n')).toEqual([
      `── daily-report ${'─'.repeat(60 - '── daily-report '.length)}`,
      'Job:       daily-report',
      'Agent:     reporter-agent',
      'Status:    succeeded',
      `Run:       ${run.id} (schedule, attempt 1)`,
      'Scheduled: 2026-03-01T09:00:00.000Z',
      'Duration:  1.2 s',
      '',
      'Revenue up 3%.',
      'No incidents.',
      '─'.repeat(60),
      '',
    ]);
  });

  it('rejects with a DeliveryError when the stream fails', async () => {
    const broken = new Writable({
      write(_chunk, _encoding, callback) {
        callback(new Error('EPIPE'));
      },
    });
    broken.on('error', () => {});
    const job = makeJob();

    const error = await rejection(new StdoutRouter(broken).route('stdout', job, makeRun(job), 'x'));

    expect(error).toBeInstanceOf(DeliveryError);
    expect(error.message).toBe('stdout: write failed: EPIPE');
  });
});
