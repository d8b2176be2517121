import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** How often the worker copies the WAL into the database file (ten times as often while its file grows past {@link WAL_LIMIT_FRAMES} pages). */
export const CHECKPOINT_INTERVAL_MS = 1000;

/**
 * WAL length (frames of a page each, about 40 MB) past which the store's own connection checkpoints
 * too, between two of its writes (see {@link WalCheckpointer}).
 */
export const WAL_LIMIT_FRAMES = 10_000;

/** What the worker is given. */
interface WorkerData {
  /** better-sqlite3's entry point, resolved from this package: an eval worker resolves from the working directory. */
  driver: string;
  path: string;
  busyTimeoutMs: number;
  intervalMs: number;
  limitFrames: number;
  /** Where the worker leaves the WAL's length in frames after each round, for the store to read. */
  walFrames: SharedArrayBuffer;
}

/**
 * The worker, as CommonJS source: run with `eval`, it needs no file of its own, so the ESM and
 * CommonJS builds and the TypeScript sources start it alike.
 *
 * A passive checkpoint copies the frames every reader is done with and waits for no one. It is
 * complete only when no frame was appended while it copied, and only a complete one lets the next
 * write start the WAL again from its beginning, so a round tries again while each attempt leaves
 * frames (each copies only what the writer appended meanwhile). The WAL's length after a round
 * is left in shared memory for the store's commits to read: a message or a timer would wait for
 * the store's event loop, which a loop of awaited writes (each a chain of promise reactions) keeps
 * from turning for as long as it runs.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
// better-sqlite3's errors reach the store as plain objects without their message: rethrown as Error.
const guard = (work) => {
  try {
    return work();
  } catch (error) {
    throw new Error(String(error && error.message) + (error && error.code ? ' (' + error.code + ')' : ''));
  }
};
const db = guard(() => new (require(workerData.driver))(workerData.path, { fileMustExist: true, timeout: workerData.busyTimeoutMs }));
const checkpoint = () => guard(() => db.pragma('wal_checkpoint(PASSIVE)')[0]);
const walFrames = new Int32Array(workerData.walFrames);
const { statSync } = require('node:fs');
const walSize = () => statSync(workerData.path + '-wal', { throwIfNoEntry: false })?.size ?? 0;
let lastRound = Date.now();
let lastSize = walSize();
// A round every interval; sooner while the WAL file grows past the limit (a stream of writes can
// add hundreds of MB a second), so that the store catches up before it grows much longer.
const timer = setInterval(() => {
  const size = walSize();
  const growing = size > lastSize && size > workerData.limitFrames * 4096;
  lastSize = size;
  if (!growing && Date.now() - lastRound < workerData.intervalMs) return;
  lastRound = Date.now();
  let result = checkpoint();
  for (let i = 0; i < 3 && result.busy === 0 && result.checkpointed < result.log; i++) result = checkpoint();
  Atomics.store(walFrames, 0, result.log);
}, workerData.intervalMs / 10);
parentPort.on('message', () => {
  clearInterval(timer);
  try {
    checkpoint();
  } finally {
    db.close();
    parentPort.close();
  }
});
`;

/** Settings of a {@link WalCheckpointer}. */
export interface WalCheckpointerOptions {
  /** The database file (absolute path). */
  path: string;
  /** The worker connection's busy timeout (it waits only to open the file). */
  busyTimeoutMs: number;
  /** Called when the worker cannot checkpoint (it failed or could not start); it is not tried again. */
  onFailure: (error: Error) => void;
  /**
   * Called by {@link catchUp} when the WAL was longer than {@link WAL_LIMIT_FRAMES} after the worker's
   * last round; answers false to be called again at the next one (e.g. the worker was checkpointing).
   */
  onBehind: () => boolean;
  /** Overrides {@link CHECKPOINT_INTERVAL_MS}. */
  intervalMs?: number;
}

/**
 * Checkpoints a WAL database from a second connection in a worker thread, so that copying the WAL
 * into the database file, and its two fsyncs, never block the event loop of the connection that
 * writes (whose automatic checkpoints are turned off). The worker never keeps the process alive.
 *
 * What bounds the WAL: a worker round every {@link CHECKPOINT_INTERVAL_MS}, and past
 * {@link WAL_LIMIT_FRAMES} a passive checkpoint on the writing connection after its next commit
 * ({@link catchUp}), which copies
 * only what the worker left, and after which that connection's next write starts the WAL afresh
 * (under a steady stream of writes a frame is appended during nearly every worker checkpoint, so
 * none of them completes in time for a write to start the WAL again).
 * A reader of another connection that keeps one snapshot open stops every checkpoint (of any mode)
 * at the frames it still reads: the WAL then grows until it lets go, as it would without the worker.
 */
export class WalCheckpointer {
  readonly #worker: Worker | null = null;
  readonly #exited: Promise<void> = Promise.resolve();
  readonly #walFrames = new Int32Array(new SharedArrayBuffer(4));
  readonly #onBehind: () => boolean;

  /** Starts the worker; a failure to start is reported to `onFailure` too. */
  constructor(options: WalCheckpointerOptions) {
    this.#onBehind = options.onBehind;
    const workerData: WorkerData = {
      driver: createRequire(import.meta.url).resolve('better-sqlite3'),
      path: options.path,
      busyTimeoutMs: options.busyTimeoutMs,
      intervalMs: options.intervalMs ?? CHECKPOINT_INTERVAL_MS,
      limitFrames: WAL_LIMIT_FRAMES,
      walFrames: this.#walFrames.buffer as SharedArrayBuffer,
    };
    let worker: Worker;
    try {
      worker = new Worker(WORKER_SOURCE, { eval: true, workerData });
    } catch (error) {
      options.onFailure(error as Error);
      return;
    }
    worker.on('error', (error) => options.onFailure(error instanceof Error ? error : new Error(String(error))));
    worker.unref();
    this.#exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    this.#worker = worker;
  }

  /**
   * Called by the store after each commit (outside any transaction): calls `onBehind` when the
   * worker's last round left the WAL longer than {@link WAL_LIMIT_FRAMES}, until it succeeds (a
   * checkpoint that found the worker checkpointing gives way at once). One atomic read otherwise.
   */
  catchUp(): void {
    if (Atomics.load(this.#walFrames, 0) > WAL_LIMIT_FRAMES && this.#onBehind()) Atomics.store(this.#walFrames, 0, 0);
  }

  /** Stops the worker after a last passive checkpoint and closes its connection; resolves once it exited. */
  async stop(): Promise<void> {
    // Held by the process while it stops, or a process with nothing else to do would exit before `close()` resolved.
    this.#worker?.ref();
    this.#worker?.postMessage('stop');
    await this.#exited;
  }
}
