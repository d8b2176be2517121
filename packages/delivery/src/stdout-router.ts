import type { Writable } from 'node:stream';
import { DeliveryError } from '@symbi/core';
import type { CronJobDefinition, DeliveryChannel, DeliveryRouter, JobRunRecord } from '@symbi/core';
import { describeRunText } from './run-summary.js';

const RULE_WIDTH = 60;

/**
 * The `stdout` channel: writes a readable block per run (the facts of the run, then the output)
 * to a stream, `process.stdout` unless another is given.
 */
export class StdoutRouter implements DeliveryRouter {
  readonly #stream: Writable;

  /** @param stream where blocks are written (default `process.stdout`). */
  constructor(stream: Writable = process.stdout) {
    this.#stream = stream;
  }

  /** Writes the block and resolves once the stream has taken it. */
  async route(channel: DeliveryChannel, job: CronJobDefinition, run: JobRunRecord, output: string): Promise<void> {
    const block = formatStdoutBlock(job, run, output);
    await new Promise<void>((resolve, reject) => {
      this.#stream.write(block, (error) => (error ? reject(new DeliveryError(channel, `write failed: ${error.message}`, { retryable: true })) : resolve()));
    });
  }
}

/** The block written for one run. */
export function formatStdoutBlock(job: CronJobDefinition, run: JobRunRecord, output: string): string {
  const title = `── ${job.name} `;
  const body = output.endsWith('\n') || output === '' ? output : `${output}\n`;
  return `${title.padEnd(RULE_WIDTH, '─')}\n${describeRunText(job, run)}\n\n${body}${'─'.repeat(RULE_WIDTH)}\n`;
}
