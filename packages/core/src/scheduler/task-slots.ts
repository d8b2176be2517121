/** Settled once for all: each task starts from it, a microtask after it was given, at the cost of one promise. */
const RESOLVED = Promise.resolve();

/**
 * Runs tasks at most `concurrency` at once, in the order they were given, each started a microtask
 * after it was given (never within the caller's turn): the scheduler's execution slots, which
 * every run passes through. A task that starts at once costs a promise or two, not the half dozen
 * of p-limit, which the delivery queue (a few deliveries per run at most, each network-bound) uses.
 */
export class TaskSlots {
  readonly #concurrency: number;
  #active = 0;
  /** Tasks waiting for a slot, oldest at `#head`. */
  #waiting: (() => void)[] = [];
  #head = 0;

  /** Throws a `TypeError` unless `concurrency` is a whole number from 1 up (or `Infinity`). */
  constructor(concurrency: number) {
    if (!((Number.isInteger(concurrency) || concurrency === Number.POSITIVE_INFINITY) && concurrency > 0)) {
      throw new TypeError('Expected `concurrency` to be a number from 1 and up');
    }
    this.#concurrency = concurrency;
  }

  /** Runs `task` once a slot is free; settles as its promise does (a synchronous throw rejects). */
  run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#active < this.#concurrency) {
      this.#active += 1;
      return this.#start(task);
    }
    return new Promise<T>((resolve, reject) => {
      this.#waiting.push(() => void this.#start(task).then(resolve, reject));
    });
  }

  #start<T>(task: () => Promise<T>): Promise<T> {
    const result = RESOLVED.then(task);
    result.then(this.#release, this.#release);
    return result;
  }

  /** A task ended: its slot goes to the oldest waiting task. */
  readonly #release = (): void => {
    this.#active -= 1;
    if (this.#head === this.#waiting.length) return;
    const next = this.#waiting[this.#head] as () => void;
    this.#head += 1;
    if (this.#head === this.#waiting.length) {
      this.#waiting = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#waiting.length) {
      this.#waiting = this.#waiting.slice(this.#head);
      this.#head = 0;
    }
    this.#active += 1;
    next();
  };
}
