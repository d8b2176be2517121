import type { Io } from './io.js';
import { clockTime } from './output/format.js';
import type { Style } from './output/style.js';

const HOME_AND_CLEAR = '\u001b[H\u001b[J';
const CLEAR_SCREEN = '\u001b[2J';
const HIDE_CURSOR = '\u001b[?25l';
const SHOW_CURSOR = '\u001b[?25h';

/**
 * Draws `render()` every `intervalMs` until Ctrl-C (SIGINT or SIGTERM). On a terminal each frame
 * replaces the previous one in place; elsewhere frames follow one another, separated by a blank
 * line. Resolves once stopped.
 */
export async function watch(io: Io, style: Style, intervalMs: number, render: () => Promise<string>): Promise<void> {
  const inPlace = io.stdout.isTTY === true;
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  const onSignal = () => stop();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  if (inPlace) io.stdout.write(HIDE_CURSOR + CLEAR_SCREEN);
  try {
    for (let first = true; ; first = false) {
      const frame = await render();
      const footer = style.dim(`every ${Math.round(intervalMs / 1000)}s · updated ${clockTime(io.now())} · Ctrl-C to stop`);
      io.stdout.write(inPlace ? `${HOME_AND_CLEAR}${style.safe(frame)}\n${footer}\n` : `${first ? '' : '\n'}${style.safe(frame)}`);
      let timer: NodeJS.Timeout | undefined;
      const next = await Promise.race([
        stopped.then(() => 'stop' as const),
        new Promise<'tick'>((resolve) => {
          timer = setTimeout(() => resolve('tick'), intervalMs);
        }),
      ]);
      clearTimeout(timer);
      if (next === 'stop') return;
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (inPlace) io.stdout.write(SHOW_CURSOR);
  }
}
