/** Opaque handle of a timer set through a {@link Clock}. */
export type ClockTimer = { readonly __clockTimer: true } | object;

/**
 * Time as the scheduler sees it: a wall clock, which says what instant it is and may step (NTP,
 * suspend and resume, a restored VM), and a monotonic clock, which only measures elapsed time and
 * never steps. Instants (fire times, lease expiries stored for other instances) come from `now`;
 * durations (timeouts, intervals, how long a run took) from `monotonic`. The real clock wraps
 * `Date.now`, `performance.now` and `setTimeout`; the `VirtualClock` of `@symbi/core/testing`
 * moves only when a test advances it, and can step its wall time alone.
 */
export interface Clock {
  /** Wall time: milliseconds since the Unix epoch. */
  now(): number;
  /** Monotonic time in milliseconds from an arbitrary origin: only differences mean anything. */
  monotonic(): number;
  /** Calls `fn` once after `ms` milliseconds of monotonic time (a wall step does not move it). */
  setTimeout(fn: () => void, ms: number): ClockTimer;
  /** Cancels a timer; unknown or fired timers are ignored. */
  clearTimeout(timer: ClockTimer): void;
}

/** The system's clocks: `Date.now` for wall time, `performance.now` for monotonic time. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, Math.max(0, ms)),
  clearTimeout: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
};

/** Resolves after `ms` of `clock` time, or rejects with the signal's reason when it aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clock.clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
