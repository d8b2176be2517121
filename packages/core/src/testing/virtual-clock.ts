import type { Clock, ClockTimer } from '../ports/clock.js';
import { SlottedHeap } from '../store/slotted-heap.js';
import { parseDuration } from '../time/index.js';

interface PendingTimer {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
  /** Tells when the work this timer starts is done (see {@link VirtualClock.settledBy}); null: an event-loop turn tells. */
  readonly settled: (() => Promise<void>) | null;
  /** Where the timer sits in the clock's heap; -1 once it fired or was cleared. */
  slot: number;
}

/** Most event-loop turns {@link flushAsync} waits by default. */
const DEFAULT_MAX_TURNS = 20;

/**
 * Whether a `setImmediate` callback is waiting to run, so work that hops through `setImmediate`
 * is still under way. Where Node cannot tell (`process.getActiveResourcesInfo` is missing), always.
 */
const immediatePending: () => boolean =
  typeof process.getActiveResourcesInfo === 'function' ? () => process.getActiveResourcesInfo().includes('Immediate') : () => true;

const nextTurn = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The waits told at the next event-loop turn (see {@link settle}), all on one `setImmediate`. A wait
 * that ends first leaves the set: a whole `advance` may run within one turn, and a wait left behind
 * by each of its fires (as a race against one shared promise of the turn leaves its reaction on it)
 * would hold memory for every fire until the turn comes.
 */
const turnWaiters = new Set<() => void>();

/** Whether a `setImmediate` of {@link turnCame} is pending. */
let turnAwaited = false;

/** Calls every wait in {@link turnWaiters}, at the event-loop turn. */
function turnCame(): void {
  turnAwaited = false;
  const waiters = [...turnWaiters];
  turnWaiters.clear();
  for (const waiter of waiters) waiter();
}

/** Calls `waiter` at the next event-loop turn, when every promise chain pending now has run, unless it leaves {@link turnWaiters} first. */
function atNextTurn(waiter: () => void): void {
  if (!turnAwaited) {
    turnAwaited = true;
    setImmediate(turnCame);
  }
  turnWaiters.add(waiter);
}

/**
 * Waits for the work a timer started: until `settled` answers (true), or, if it has not by then,
 * until the event loop turns (false; the work waits on something else, e.g. I/O).
 */
function settle(settled: () => Promise<void>): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    const turned = () => resolve(false);
    settled().then(
      () => {
        turnWaiters.delete(turned);
        resolve(true);
      },
      (error: unknown) => {
        turnWaiters.delete(turned);
        reject(error);
      },
    );
    atNextTurn(turned);
  });
}

/**
 * Lets pending work run to completion: one event-loop turn, which runs every pending promise
 * chain to its end, then further turns while work that hops through `setImmediate` is still
 * waiting for one, at most `maxTurns` in all. Work waiting on I/O or on real timers is not waited for.
 */
export async function flushAsync(maxTurns = DEFAULT_MAX_TURNS): Promise<void> {
  for (let turn = 0; turn < maxTurns; turn++) {
    await nextTurn();
    if (!immediatePending()) return;
  }
}

const isEarlier = (a: PendingTimer, b: PendingTimer): boolean => a.at < b.at || (a.at === b.at && a.id < b.id);

/**
 * A clock that only moves when told to, so tests of schedules, jitter, retries, timeouts and
 * approvals run instantly and deterministically. `advance` moves wall and monotonic time together;
 * `stepWall` steps the wall clock alone, as NTP or a resumed VM does.
 *
 * @example
 * ```ts
 * const clock = new VirtualClock('2026-03-01T08:59:59Z');
 * await clock.advance('2s'); // fires every timer due in those two seconds, in order
 * await clock.stepWall('-1h'); // the wall clock reads an hour earlier; no timer fires
 * ```
 */
export class VirtualClock implements Clock {
  /** Monotonic time; timers are set on it. */
  #mono = 0;
  /** Wall time minus monotonic time: changed only by {@link VirtualClock.stepWall}. */
  #wallOffset: number;
  #nextId = 1;
  /** Pending timers by due time, then creation order. */
  readonly #timers = new SlottedHeap<PendingTimer>(isEarlier);

  /** Starts at `start` (a Date, epoch milliseconds or ISO string); default 2026-01-01T00:00:00Z. */
  constructor(start: Date | number | string = '2026-01-01T00:00:00Z') {
    this.#wallOffset = new Date(start).getTime();
  }

  /** Current virtual wall time in epoch milliseconds. */
  now(): number {
    return this.#mono + this.#wallOffset;
  }

  /** Current virtual monotonic time in milliseconds (0 at construction). */
  monotonic(): number {
    return this.#mono;
  }

  /** Current virtual wall time as a Date. */
  date(): Date {
    return new Date(this.now());
  }

  /** Registers a timer on virtual monotonic time. */
  setTimeout(fn: () => void, ms: number): ClockTimer {
    return this.#setTimer(fn, ms, null);
  }

  #setTimer(fn: () => void, ms: number, settled: PendingTimer['settled']): ClockTimer {
    const timer: PendingTimer = { id: this.#nextId++, at: this.#mono + Math.max(0, ms), fn, settled, slot: -1 };
    this.#timers.push(timer);
    return timer;
  }

  /**
   * This clock as seen by one component that can tell when it is done (e.g. a scheduler's `idle()`):
   * the same time, and timers whose work {@link VirtualClock.advance} waits for by awaiting
   * `settled` rather than a whole event-loop turn, which is what makes thousands of fires a second
   * of real time possible. When `settled` has not answered by the next turn (the work waits on
   * I/O, or on a later timer), `advance` settles that timer as it does any other.
   */
  settledBy(settled: () => Promise<void>): Clock {
    return {
      now: () => this.now(),
      monotonic: () => this.monotonic(),
      setTimeout: (fn, ms) => this.#setTimer(fn, ms, settled),
      clearTimeout: (timer) => this.clearTimeout(timer),
    };
  }

  /** Cancels a timer; a timer that fired or was cleared already is ignored. */
  clearTimeout(timer: ClockTimer): void {
    const pending = timer as PendingTimer;
    if (typeof pending.slot === 'number' && this.#timers.holds(pending)) this.#timers.remove(pending);
  }

  /** Number of timers waiting. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /**
   * Moves time forward by `by` (milliseconds, or a duration such as `500ms`, `2s`, `1m30s`, `1h`),
   * firing every timer that falls due on the way in time order and letting the work each one
   * starts settle before moving on (see {@link flushAsync}).
   */
  async advance(by: number | string): Promise<void> {
    const target = this.#mono + toMs(by);
    await flushAsync();
    for (;;) {
      const next = this.#timers.peek();
      if (next === undefined || next.at > target) break;
      this.#timers.remove(next);
      this.#mono = Math.max(this.#mono, next.at);
      next.fn();
      if (next.settled === null || !(await settle(next.settled))) await flushAsync();
    }
    this.#mono = target;
    await flushAsync();
  }

  /** Moves wall time to `when` (which must not be in the past), firing timers on the way. */
  async advanceTo(when: Date | number | string): Promise<void> {
    const target = new Date(when).getTime();
    if (target < this.now()) throw new RangeError(`cannot move a VirtualClock backwards to ${new Date(target).toISOString()}`);
    await this.advance(target - this.now());
  }

  /**
   * Steps the wall clock by `by` (a signed duration: `'1h'`, `'-3s'`, or milliseconds) without
   * moving monotonic time, so no timer fires: what an NTP step or a resumed VM does to a process.
   * Then lets pending work settle.
   */
  async stepWall(by: number | string): Promise<void> {
    this.#wallOffset += typeof by === 'string' && by.startsWith('-') ? -toMs(by.slice(1)) : toMs(by);
    await flushAsync();
  }
}

function toMs(by: number | string): number {
  return typeof by === 'number' ? by : parseDuration(by, 'advance');
}
