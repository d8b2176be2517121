import { createInterface } from 'node:readline/promises';
import type { Io } from './io.js';

/** Asks a yes/no question on the terminal; anything but `y` or `yes` is no. */
export async function confirm(io: Io, question: string): Promise<boolean> {
  const rl = createInterface({ input: io.stdin, output: io.stderr as NodeJS.WritableStream, terminal: io.stdin.isTTY === true });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^(y|yes)$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/** Whether a person can be asked: standard input is a terminal. */
export function canAsk(io: Io): boolean {
  return io.stdin.isTTY === true;
}
