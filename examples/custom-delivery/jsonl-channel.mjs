import { mkdir, appendFile } from 'node:fs/promises';
import path from 'node:path';
import { ChannelRouter, deliveryPayload } from '@symbi/delivery';

/**
 * A custom delivery channel: appends each run as one JSON line to `file`. Anything with a
 * `route(channel, job, run, output)` method is a channel; a plain async function works too.
 */
export function jsonLinesChannel(file) {
  return {
    async route(channel, job, run, output) {
      await mkdir(path.dirname(file), { recursive: true });
      await appendFile(file, `${JSON.stringify({ channel, ...deliveryPayload(job, run, output) })}\n`);
    },
  };
}

/**
 * The router a host hands to the scheduler: the built-in channels, plus `jsonl` writing to
 * `file`. A job opts in with `delivery: ["stdout", "jsonl"]`.
 */
export function createRouter({ file, stdout }) {
  return new ChannelRouter({ stdout }).register('jsonl', jsonLinesChannel(file));
}
