/** Counts completions and resolves once a target is reached, or fails after a time limit. */
export class CompletionCounter {
  /** Completions so far. */
  count = 0;
  /** `preciseNow()` of the latest completion. */
  lastAt = 0;
  readonly #target: number;
  readonly #done: Promise<void>;
  #resolve!: () => void;
  #reject!: (error: Error) => void;
  #timer: NodeJS.Timeout | null = null;

  constructor(target: number) {
    this.#target = target;
    this.#done = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    if (target <= 0) this.#resolve();
  }

  /** Records `n` completions at time `at`. */
  add(n: number, at: number): void {
    this.count += n;
    this.lastAt = Math.max(this.lastAt, at);
    if (this.count >= this.#target) this.#settle();
  }

  /** Fails the wait with `error` (e.g. a run failed). */
  fail(error: Error): void {
    this.#settle();
    this.#reject(error);
  }

  /** Resolves when the target is reached; rejects after `timeoutMs` with how far it got. */
  wait(timeoutMs: number, what: string): Promise<void> {
    this.#timer = setTimeout(() => {
      this.#reject(new Error(`${what}: only ${this.count} of ${this.#target} done after ${timeoutMs} ms`));
    }, timeoutMs);
    return this.#done;
  }

  #settle(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#resolve();
  }
}

/** Polls `check` every `everyMs` until it returns true or `timeoutMs` passes (then throws). */
export async function pollUntil(check: () => Promise<boolean>, timeoutMs: number, what: string, everyMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** A generous time limit for processing `jobs` items at no less than `minRate` a second. */
export function timeLimitMs(jobs: number, minRate = 100): number {
  return Math.max(60_000, Math.ceil((jobs / minRate) * 1000));
}
