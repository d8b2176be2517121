/** What an executor is handed beside its request: the run's abort signal. */
export interface ExecutionOptions {
  /** Aborts when the run is interrupted, cancelled or times out. */
  readonly signal: AbortSignal;
}

/**
 * Execution options whose `signal` is a getter on the prototype: an object literal with a getter
 * costs a new closure and a slow object per run, a class instance does not.
 */
class LazyOptions implements ExecutionOptions {
  readonly #owner: RunSignal;

  constructor(owner: RunSignal) {
    this.#owner = owner;
  }

  get signal(): AbortSignal {
    return this.#owner.signal;
  }
}

/**
 * How a run in flight is aborted from outside (a shutdown, a lost lease, a newer fire's cancel,
 * `max_runtime`), at the cost of a plain object until someone looks at its `AbortSignal`: the
 * signal (an `EventTarget`, dear to make) is made the first time it is read, already aborted when
 * the run was, and the pipeline itself listens through {@link onAbort}, a plain callback list.
 */
export class RunSignal {
  #aborted = false;
  #reason: unknown = undefined;
  #controller: AbortController | null = null;
  /** The {@link onAbort} listeners: none, one (most runs: no list), or several in order. */
  #listeners: Listener | Listener[] | null = null;
  #options: ExecutionOptions | null = null;

  /** Whether the run was aborted. */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** Why the run was aborted; undefined until it is. */
  get reason(): unknown {
    return this.#reason;
  }

  /** The run's `AbortSignal`, made on first use (the same one every time). */
  get signal(): AbortSignal {
    if (this.#controller === null) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /**
   * The options an executor is given: their `signal` is {@link signal}, made only when the
   * executor reads it (one that never looks at it costs no `AbortSignal`).
   */
  get options(): ExecutionOptions {
    this.#options ??= new LazyOptions(this);
    return this.#options;
  }

  /**
   * Aborts the run with `reason` (once: later calls change nothing): its `AbortSignal` aborts, if
   * made, then each {@link onAbort} listener is called, in the order they were added.
   */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason;
    this.#controller?.abort(this.#reason);
    const listeners = this.#listeners;
    this.#listeners = null;
    if (typeof listeners === 'function') listeners(this.#reason);
    else if (listeners !== null) for (const listener of listeners) listener(this.#reason);
  }

  /** Throws the reason of an aborted run. */
  throwIfAborted(): void {
    if (this.#aborted) throw this.#reason;
  }

  /** Calls `listener` with the reason when the run aborts (never when it was aborted already). */
  onAbort(listener: Listener): void {
    if (this.#aborted) return;
    // Most runs have one listener at a time: kept as it is, not in a list.
    const listeners = this.#listeners;
    if (listeners === null) this.#listeners = listener;
    else if (typeof listeners === 'function') this.#listeners = [listeners, listener];
    else listeners.push(listener);
  }

  /**
   * Settles as `work` does, its value passed through `map` (which may throw, rejecting), or rejects
   * with the reason once the run aborts first (a rejection of `work` after that is handled, and
   * ignored): an executor that ignores its signal must not hold the run past `max_runtime` or
   * shutdown. One promise, and a listener removed as `work` settles (a heartbeat races each
   * iteration on the same signal: listeners must not pile up).
   */
  race<T, R = T>(work: PromiseLike<T>, map: (value: T) => R = identity as (value: T) => R): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.onAbort(reject);
      work.then(
        (value) => {
          this.offAbort(reject);
          try {
            resolve(map(value));
          } catch (error) {
            reject(error);
          }
        },
        (error: unknown) => {
          this.offAbort(reject);
          reject(error);
        },
      );
    });
  }

  /** Removes a listener {@link onAbort} added. */
  offAbort(listener: Listener): void {
    const listeners = this.#listeners;
    if (listeners === listener) this.#listeners = null;
    else if (Array.isArray(listeners)) {
      const at = listeners.indexOf(listener);
      if (at >= 0) listeners.splice(at, 1);
    }
  }
}

/** A callback {@link RunSignal.onAbort} takes: called with the abort's reason. */
type Listener = (reason: unknown) => void;

/** The value itself: {@link RunSignal.race} without a `map`. */
function identity<T>(value: T): T {
  return value;
}
