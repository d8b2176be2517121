import { fork, type ChildProcess } from 'node:child_process';

/** A message a task process sends its parent. */
export type TaskMessage =
  | { type: 'result'; value: unknown }
  | { type: 'error'; message: string; stack?: string }
  | { type: 'event'; value: unknown };

/** Options of {@link startTask}. */
export interface TaskOptions {
  /** Extra flags for node (e.g. `--expose-gc`, `--cpu-prof`). */
  execArgv?: string[];
  /** The process is killed, and the task fails, after this long. */
  timeoutMs: number;
  /** Called with each `event` message, with the process (to answer it). */
  onEvent?: (value: unknown, child: ChildProcess) => void;
}

/** A task running in its own process. */
export interface TaskHandle {
  /** The process. */
  child: ChildProcess;
  /** Its result; rejects when it reports an error, exits without a result or times out. */
  result: Promise<unknown>;
}

/**
 * Runs task `task` of the bundled task entry `entry` in a fresh node process, so every measurement
 * starts from a clean heap, its own event loop and its own RSS. Arguments and the result travel as
 * JSON over the IPC channel.
 */
export function startTask(entry: string, task: string, args: unknown, options: TaskOptions): TaskHandle {
  const child = fork(entry, [task, JSON.stringify(args)], {
    execArgv: options.execArgv ?? [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const result = new Promise<unknown>((resolve, reject) => {
    let settled: { ok: true; value: unknown } | { ok: false; error: Error } | null = null;
    const timer = setTimeout(() => {
      settled ??= { ok: false, error: new Error(`task ${task} took longer than ${options.timeoutMs} ms`) };
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.on('message', (message: TaskMessage) => {
      if (message.type === 'event') options.onEvent?.(message.value, child);
      else if (message.type === 'result') settled ??= { ok: true, value: message.value };
      else {
        const error = new Error(`task ${task} failed: ${message.message}`);
        if (message.stack) error.stack = message.stack;
        settled ??= { ok: false, error };
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (settled === null) reject(new Error(`task ${task} exited (${signal ?? `code ${code}`}) without a result`));
      else if (settled.ok) resolve(settled.value);
      else reject(settled.error);
    });
  });
  return { child, result };
}

/** Runs a task in its own process and returns its result (see {@link startTask}). */
export function runTask<T>(entry: string, task: string, args: unknown, options: TaskOptions): Promise<T> {
  return startTask(entry, task, args, options).result as Promise<T>;
}

/** Sends an event to the parent process (inside a task process). */
export function sendEvent(value: unknown): void {
  process.send?.({ type: 'event', value } satisfies TaskMessage);
}
