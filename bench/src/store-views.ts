import type { JobStore } from '@symbi/core';
import { preciseNow } from './stats.js';

/** Wraps one store call: `call` performs it; the wrapper returns (or may inspect) its result. */
export type StoreCallWrapper = (method: string, call: () => Promise<unknown>) => Promise<unknown>;

/**
 * A view of `store` whose every asynchronous method goes through `around` (`subscribe`, which
 * returns at once, and properties pass straight through).
 */
export function interceptStore(store: JobStore, around: StoreCallWrapper): JobStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      if (typeof property !== 'string' || property === 'subscribe') return method.bind(target);
      return (...args: unknown[]) => around(property, () => method.apply(target, args) as Promise<unknown>);
    },
  });
}

/** Calls and time spent in one store method. */
export interface MethodTiming {
  /** Calls. */
  calls: number;
  /** Sum of the calls' durations (concurrent calls overlap, so this can exceed the wall time). */
  totalMs: number;
  /** Mean duration of a call. */
  meanMs: number;
}

/**
 * A view of `store` that times every method call, so a throughput run can say where its time goes
 * per store operation; `timings()` reads the totals so far, largest first.
 */
export function timedStore(store: JobStore): { store: JobStore; timings: () => Record<string, MethodTiming> } {
  const totals = new Map<string, { calls: number; totalMs: number }>();
  const view = interceptStore(store, async (method, call) => {
    const start = preciseNow();
    try {
      return await call();
    } finally {
      const entry = totals.get(method) ?? { calls: 0, totalMs: 0 };
      entry.calls++;
      entry.totalMs += preciseNow() - start;
      totals.set(method, entry);
    }
  });
  const timings = () =>
    Object.fromEntries(
      [...totals.entries()]
        .sort((a, b) => b[1].totalMs - a[1].totalMs)
        .map(([name, { calls, totalMs }]) => [name, { calls, totalMs, meanMs: totalMs / calls }]),
    );
  return { store: view, timings };
}
