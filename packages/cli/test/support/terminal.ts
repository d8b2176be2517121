import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, describe } from 'vitest';
import { BIN, childEnv } from './cli.js';

const tmuxInstalled = spawnSync('tmux', ['-V']).status === 0;

/**
 * `describe` for tests in a real terminal. Without tmux they are skipped, with the reason in their
 * name, except under CI (`CI` set), where they run and fail: `.ci/run` installs tmux.
 */
export function describeInTerminal(name: string, body: () => void): void {
  if (tmuxInstalled || process.env.CI) describe(name, body);
  else describe.skip(`${name} (skipped: tmux is not installed; apt-get install tmux)`, body);
}

/** A command line running in a real terminal: a window of a private tmux server. */
export interface TerminalWindow {
  /**
   * What the program printed, as text: the visible screen and the lines scrolled above it
   * (`escapes` keeps colours and styles as ANSI sequences). {@link TerminalWindow.visible} is the screen alone.
   */
  screen(escapes?: boolean): string;
  /** The visible screen alone, as a person sees it now. */
  visible(): string;
  /** Types keys (`send-keys` syntax: `y`, `Enter`, `C-c`). */
  keys(...keys: string[]): void;
  /** Resolves once the visible screen satisfies `test`. */
  waitFor(test: (screen: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit status once the program ended. */
  exited(timeoutMs?: number): Promise<number>;
}

const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/**
 * A private tmux server (its own socket, no user configuration) for the calling test file,
 * killed after its tests. `run` opens a 150×50 window running `symbi …args` in `cwd`; the window
 * stays after the program ends so that its last screen and exit status can be read.
 */
export function useTerminal(): {
  run(args: readonly string[], options: { cwd: string; env?: Record<string, string> }): TerminalWindow;
  /** Like `run`, for a whole shell command line (as a person types it, e.g. from the README). */
  runLine(line: string, options: { cwd: string }): TerminalWindow;
} {
  const socket = `symbi-cli-test-${randomBytes(4).toString('hex')}`;
  const tmux = (...args: string[]) => {
    const result = spawnSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8', env: childEnv({ TERM: 'xterm-256color' }) });
    if (result.error) throw new Error(`tmux cannot be run (${result.error.message}): install it (apt-get install tmux; .ci/run does under CI)`);
    if (result.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  let started = false;
  let windows = 0;
  afterAll(() => {
    if (started) spawnSync('tmux', ['-L', socket, 'kill-server']);
  });
  const runLine = (line: string, options: { cwd: string }): TerminalWindow => {
    if (!started) {
      tmux('new-session', '-d', '-s', 'main', '-x', '150', '-y', '50', 'sleep 600');
      tmux('set-option', '-g', 'remain-on-exit', 'on');
      started = true;
    }
    const name = `w${++windows}`;
    // The shell prints the exit status itself: tmux does not always learn it from a pane that died.
    tmux('new-window', '-d', '-t', 'main', '-n', name, '-c', options.cwd, `${line}; printf '\\n[exit %d]\\n' $?`);
    const target = `main:${name}`;
    const screen = (escapes = false) => tmux('capture-pane', '-p', '-S', '-', ...(escapes ? ['-e'] : []), '-t', target);
    const visible = () => tmux('capture-pane', '-p', '-t', target);
    const poll = async <T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = probe();
        if (value !== undefined) return value;
        if (Date.now() > deadline) throw new Error(`terminal: ${what} within ${timeoutMs} ms; screen:\n${screen()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    return {
      screen,
      visible,
      keys: (...keys) => void tmux('send-keys', '-t', target, ...keys),
      waitFor: (test, timeoutMs = 15_000) =>
        poll(() => {
          const text = visible();
          return test(text) ? text : undefined;
        }, timeoutMs, 'the screen did not show what was expected'),
      exited: (timeoutMs = 15_000) =>
        poll(() => {
          const status = /\n\[exit (\d+)\]\n/.exec(screen())?.[1];
          return status === undefined ? undefined : Number(status);
        }, timeoutMs, 'the program did not end'),
    };
  };
  return {
    run(args, options) {
      const env = Object.entries(options.env ?? {}).map(([key, value]) => `${key}=${shellQuote(value)}`);
      return runLine(['env', ...env, shellQuote(process.execPath), shellQuote(BIN), ...args.map(shellQuote)].join(' '), options);
    },
    runLine,
  };
}
