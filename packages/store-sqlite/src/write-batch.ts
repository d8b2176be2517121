import type { SqliteRunner } from './sqlite-runner.js';

/** Most writes a batch holds before it is committed at once, without waiting for the end of the turn. */
export const MAX_BATCHED_WRITES = 1000;

/** A queued write: its work, how its errors are reported, and its caller's promise. */
interface QueuedWrite {
  work: () => unknown;
  mapError: (error: unknown) => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** How a queued write ended inside its batch, reported to its caller once the batch is over. */
type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** A write of a batch's first attempt threw, with the transaction still open: `error` is its own. */
class WriteFailed extends Error {
  constructor(readonly error: unknown) {
    super('a write of the batch failed');
  }
}

/**
 * Group commit: writes asked for in the same event-loop turn are applied together at the end of the
 * turn (`setImmediate`), in ONE `BEGIN IMMEDIATE … COMMIT`, instead of a commit each. A commit is
 * most of a small write's cost in SQLite, so a scheduler finishing hundreds of runs at once pays for
 * one instead of hundreds.
 *
 * Each write still stands alone:
 * - One that throws (a constraint, a throwing callback) undoes only its own changes and rejects
 *   only its own promise, with its own error mapping; the others commit. A batch first runs its
 *   writes one after another, with nothing between them: a savepoint per write costs more than a
 *   small write itself. Should one throw, that attempt is rolled back and the batch runs again in a
 *   new transaction, each write in a `SAVEPOINT` of its own. A write must therefore be safe to run
 *   twice: a function of the database and its arguments only (its callbacks too), as every store
 *   write is. A batch of one write needs no second attempt: its transaction is its savepoint.
 * - Its promise settles only after the batch's transaction ended, with the write's result once it
 *   is committed, or with the error that kept it from committing.
 * - If the transaction as a whole fails (the write lock is not free within the busy timeout,
 *   `COMMIT` fails, or SQLite aborts the transaction itself, e.g. on a full disk), no write of the
 *   batch is kept and every one is rejected with that failure.
 *
 * Program order is the caller's to keep: whoever reads or writes outside the batch calls
 * {@link flush} first, so nothing is read older than a write already asked for. A batch also
 * commits as soon as it holds {@link MAX_BATCHED_WRITES} writes (or the configured bound).
 */
export class WriteBatch {
  readonly #runner: SqliteRunner;
  readonly #maxSize: number;
  #queue: QueuedWrite[] = [];
  #timer: NodeJS.Immediate | null = null;
  #flushing = false;

  /** Batches writes on `runner`'s connection; `maxSize` bounds a batch (default {@link MAX_BATCHED_WRITES}). */
  constructor(runner: SqliteRunner, maxSize = MAX_BATCHED_WRITES) {
    if (!Number.isInteger(maxSize) || maxSize < 1) throw new RangeError(`a write batch holds at least one write, not ${maxSize}`);
    this.#runner = runner;
    this.#maxSize = maxSize;
  }

  /** Writes queued and not yet applied. */
  get size(): number {
    return this.#queue.length;
  }

  /**
   * Queues `work` (synchronous; it runs inside the batch's transaction, possibly twice: see the
   * class) and answers its result once committed. A throw rejects the promise with `mapError(error)`.
   */
  enqueue<T>(work: () => T, mapError: (error: unknown) => unknown): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, mapError, resolve: resolve as (value: unknown) => void, reject });
      if (this.#queue.length >= this.#maxSize) this.flush();
      else this.#timer ??= setImmediate(() => this.flush());
    });
  }

  /**
   * Applies every queued write now, in one transaction, and settles their promises (callbacks run
   * later, as promise reactions do). Never throws: each failure goes to its write's promise. Called
   * from inside a batch (a write's callback reading the store) it does nothing: the batch is
   * already running, and that read sees its writes so far.
   */
  flush(): void {
    if (this.#timer !== null) {
      clearImmediate(this.#timer);
      this.#timer = null;
    }
    if (this.#flushing || this.#queue.length === 0) return;
    const writes = this.#queue;
    this.#queue = [];
    this.#flushing = true;
    let outcomes: Outcome[];
    try {
      outcomes = this.#attempt(writes);
    } finally {
      this.#flushing = false;
    }
    writes.forEach((write, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) write.resolve(outcome.value);
      else write.reject(write.mapError(outcome.error));
    });
    // Writes queued by a callback during this batch wait for a batch of their own.
    if (this.#queue.length > 0) this.#timer ??= setImmediate(() => this.flush());
  }

  /**
   * Runs the batch's writes back to back in one transaction. If one throws, the attempt is rolled
   * back and, for a batch of several writes, made again with a savepoint per write (see the class).
   */
  #attempt(writes: QueuedWrite[]): Outcome[] {
    let failed: WriteFailed;
    try {
      return this.#runner.immediate(() => writes.map((write) => this.#applyPlain(write)));
    } catch (error) {
      if (!(error instanceof WriteFailed)) return writes.map(() => ({ ok: false, error }));
      failed = error;
    }
    if (writes.length === 1) return [{ ok: false, error: failed.error }];
    try {
      return this.#runner.immediate(() => writes.map((write) => this.#apply(write)));
    } catch (error) {
      return writes.map(() => ({ ok: false, error }));
    }
  }

  /** Runs one write with no savepoint: a throw ends the attempt (see {@link WriteFailed}). */
  #applyPlain(write: QueuedWrite): Outcome {
    try {
      return { ok: true, value: write.work() };
    } catch (error) {
      // A throw that ended the whole transaction fails the batch; any other, only its write.
      throw this.#runner.inTransaction ? new WriteFailed(error) : error;
    }
  }

  /** Runs one write in its savepoint; a throw that ended the whole transaction fails the batch. */
  #apply(write: QueuedWrite): Outcome {
    try {
      return { ok: true, value: this.#runner.savepoint(write.work) };
    } catch (error) {
      if (!this.#runner.inTransaction) throw error;
      return { ok: false, error };
    }
  }
}
