import type { PrecisionResult } from './precision.js';
import type { BenchResults, ScaleStep, TargetVerdict, ThroughputOutcome } from './results.js';

/** Runs/s our SQLite store must reach. */
export const SQLITE_RUNS_PER_SECOND = 5000;
/** Our p99 lateness may be at most this many times croner's … */
export const LATENESS_VS_CRONER = 1.5;
/** … and at most this many ms. */
export const LATENESS_P99_MS = 20;
/** Per-tick cost at 1M jobs may be at most this many times that at 10k. */
export const TICK_GROWTH = 2;
/** RSS with 1M stored jobs must stay under this. */
export const RSS_LIMIT_BYTES = 200 * 2 ** 20;
/** The size the scale targets speak of. */
export const TARGET_SIZE = 1_000_000;

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function outcome(results: BenchResults, id: string): ThroughputOutcome | undefined {
  return results.throughput.outcomes.find((o) => o.id === id);
}

function precision(results: BenchResults, id: string): PrecisionResult | null {
  const result = results.precision.results[id];
  return result && 'lateness' in result ? result : null;
}

function steps(results: BenchResults, store: string): ScaleStep[] {
  const found = results.scale.stores[store];
  return Array.isArray(found) ? found : [];
}

/** Judges every target against what `results` measured. */
export function evaluateTargets(results: BenchResults): TargetVerdict[] {
  const verdicts: TargetVerdict[] = [];
  const pgPeers = ['pg-boss', 'graphile-worker'].map((id) => outcome(results, id)).filter((o): o is ThroughputOutcome => o?.median != null);
  const bestPeer = pgPeers.sort((a, b) => b.median! - a.median!)[0];
  for (const [id, ourId, label] of [
    ['postgres-throughput', 'symbi-postgres', 'one scheduler'],
    ['postgres-throughput-x3', 'symbi-postgres-x3', 'three scheduler processes'],
  ] as const) {
    const ours = outcome(results, ourId);
    const target = `throughput on PostgreSQL (${label}) ≥ 1.0× the best of graphile-worker and pg-boss`;
    if (ours?.median == null || !bestPeer) {
      verdicts.push({ id, target, measured: 'not measured (a contender failed)', met: null });
      continue;
    }
    const ratio = ours.median / bestPeer.median!;
    verdicts.push({ id, target, measured: `${fmt(ours.median)} runs/s vs ${bestPeer.label} ${fmt(bestPeer.median!)} runs/s: ${fmt(ratio, 2)}×`, met: ratio >= 1 });
  }
  const sqlite = outcome(results, 'symbi-sqlite');
  verdicts.push({
    id: 'sqlite-throughput',
    target: `throughput on SQLite ≥ ${fmt(SQLITE_RUNS_PER_SECOND)} runs/s`,
    measured: sqlite?.median == null ? 'not measured' : `${fmt(sqlite.median)} runs/s`,
    met: sqlite?.median == null ? null : sqlite.median >= SQLITE_RUNS_PER_SECOND,
  });
  const croner = precision(results, 'croner');
  for (const store of ['memory', 'sqlite'] as const) {
    const ours = precision(results, `symbi-${store}`);
    const target = `p99 lateness (${store === 'memory' ? 'in-memory store' : 'SQLite'}) ≤ ${LATENESS_VS_CRONER}× croner's and ≤ ${LATENESS_P99_MS} ms`;
    if (!ours || !croner) {
      verdicts.push({ id: `precision-${store}`, target, measured: 'not measured', met: null });
      continue;
    }
    const limit = Math.min(LATENESS_P99_MS, LATENESS_VS_CRONER * croner.lateness.p99);
    verdicts.push({
      id: `precision-${store}`,
      target,
      measured: `p99 ${fmt(ours.lateness.p99)} ms vs croner ${fmt(croner.lateness.p99)} ms (limit ${fmt(limit, 1)} ms)`,
      met: ours.lateness.p99 <= limit,
    });
  }
  for (const store of ['sqlite', 'postgres'] as const) {
    const list = steps(results, store);
    const first = list[0];
    const last = list[list.length - 1];
    const name = store === 'sqlite' ? 'SQLite' : 'PostgreSQL';
    const atTarget = last?.size === TARGET_SIZE;
    const tickTarget = `per-tick cost (${name}) at ${fmt(TARGET_SIZE)} jobs ≤ ${TICK_GROWTH}× that at ${fmt(first?.size ?? 10_000)}`;
    const rssTarget = `RSS with ${fmt(TARGET_SIZE)} stored jobs (${name}) < ${fmt(RSS_LIMIT_BYTES / 2 ** 20)} MB`;
    if (!first || !last || list.length < 2) {
      verdicts.push({ id: `tick-${store}`, target: tickTarget, measured: 'not measured', met: null });
      verdicts.push({ id: `rss-${store}`, target: rssTarget, measured: 'not measured', met: null });
      continue;
    }
    const growth = last.probe.tick.p50 / first.probe.tick.p50;
    const suffix = atTarget ? '' : ` (largest size in this mode; ${fmt(TARGET_SIZE)} only in the full run)`;
    verdicts.push({
      id: `tick-${store}`,
      target: tickTarget,
      measured: `p50 ${fmt(last.probe.tick.p50, 3)} ms at ${fmt(last.size)} vs ${fmt(first.probe.tick.p50, 3)} ms at ${fmt(first.size)}: ${fmt(growth, 2)}×${suffix}`,
      met: atTarget ? growth <= TICK_GROWTH : null,
    });
    verdicts.push({
      id: `rss-${store}`,
      target: rssTarget,
      measured: `${fmt(last.probe.rssBytes / 2 ** 20, 1)} MB at ${fmt(last.size)} jobs${suffix}`,
      met: atTarget ? last.probe.rssBytes < RSS_LIMIT_BYTES : null,
    });
  }
  return verdicts;
}
