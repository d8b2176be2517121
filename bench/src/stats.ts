/** Order statistics of a sample of numbers. */
export interface Distribution {
  /** How many values. */
  count: number;
  /** Median. */
  p50: number;
  /** 99th percentile (nearest rank). */
  p99: number;
  /** Largest value. */
  max: number;
  /** Arithmetic mean. */
  mean: number;
}

/** The value at quantile `q` (0..1) of an ascending array, by nearest rank; NaN when empty. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/** The median of `values` (the mean of the two middle ones for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** p50, p99, max and mean of `values`. */
export function distribution(values: readonly number[]): Distribution {
  const sorted = Float64Array.from(values).sort();
  const list = Array.from(sorted);
  const sum = list.reduce((acc, value) => acc + value, 0);
  return {
    count: list.length,
    p50: quantile(list, 0.5),
    p99: quantile(list, 0.99),
    max: list.length === 0 ? Number.NaN : list[list.length - 1]!,
    mean: list.length === 0 ? Number.NaN : sum / list.length,
  };
}

/** Milliseconds since an arbitrary origin, with sub-millisecond resolution, comparable across processes. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}
