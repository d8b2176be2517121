#!/usr/bin/env node
import { main } from './program.js';

// `symbi cron list | head` closes the pipe early: end quietly, as a Unix tool killed by SIGPIPE would.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
