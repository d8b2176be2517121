import type { PrecisionResult } from './precision.js';
import type { BenchResults, ScaleStep, TargetVerdict, ThroughputOutcome } from './results.js';

/** Our PostgreSQL throughput (one process) must reach this fraction of the best PostgreSQL peer's … */
export const POSTGRES_VS_BEST_PEER = 0.5;
/** … and three processes this many times one process's. */
export const POSTGRES_X3_VS_X1 = 1.3;
/** Runs/s our in-memory store must reach … */
export const MEMORY_RUNS_PER_SECOND = 50_000;
/** … and this many times BullMQ's. */
export const MEMORY_VS_BULLMQ = 2;
/** Runs/s our SQLite store must reach. */
export const SQLITE_RUNS_PER_SECOND = 15_000;
/** Id suffix of the precision runs made with one CPU-bound process alongside. */
export const BUSY_SUFFIX = '-busy';
/** Our p99 lateness may be at most this many times croner's … */
export const LATENESS_VS_CRONER = 1.5;
/** … and at most this many ms. */
export const LATENESS_P99_MS = 20;
/** Per-tick cost at 1M jobs may be at most this many times that at 10k. */
export const TICK_GROWTH = 2;
/** RSS with 1M stored jobs must stay under this. */
export const RSS_LIMIT_BYTES = 200 * 2 ** 20;
/** Real time the test kit may take to skip {@link TEST_KIT_DAYS} virtual days of a minutely job. */
export const TEST_KIT_LIMIT_MS = 1_000;
/** The virtual days the test-kit target speaks of. */
export const TEST_KIT_DAYS = 30;
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
  /** `ours` against `base`; `also` is a second base the measured text names (not judged). */
  const ratioVerdict = (id: string, target: string, ours: ThroughputOutcome | undefined, base: ThroughputOutcome | undefined, least: number, also?: ThroughputOutcome) => {
    const ourMedian = ours?.median;
    if (ourMedian == null || base?.median == null) {
      verdicts.push({ id, target, measured: 'not measured (a contender failed)', met: null });
      return;
    }
    const versus = (other: ThroughputOutcome, median: number) => `${other.label} ${fmt(median)} runs/s: ${fmt(ourMedian / median, 2)}×`;
    const second = also?.median == null ? '' : ` (vs ${versus(also, also.median)})`;
    verdicts.push({ id, target, measured: `${fmt(ourMedian)} runs/s vs ${versus(base, base.median)}${second}`, met: ourMedian / base.median >= least });
  };
  const pgPeers = ['pg-boss', 'graphile-worker'].map((id) => outcome(results, id)).filter((o): o is ThroughputOutcome => o?.median != null);
  const bestPeer = pgPeers.sort((a, b) => b.median! - a.median!)[0];
  const pgOne = outcome(results, 'symbi-postgres');
  ratioVerdict('postgres-throughput', `throughput on PostgreSQL (one scheduler) ≥ ${POSTGRES_VS_BEST_PEER}× the best of graphile-worker and pg-boss`, pgOne, bestPeer, POSTGRES_VS_BEST_PEER);
  // Three instance processes against one started the same way (see the plan); the in-process ×1 is named too.
  const x3Target = `throughput on PostgreSQL (three scheduler processes) ≥ ${POSTGRES_X3_VS_X1}× one process started as they are`;
  ratioVerdict('postgres-throughput-x3', x3Target, outcome(results, 'symbi-postgres-x3'), outcome(results, 'symbi-postgres-x1-process'), POSTGRES_X3_VS_X1, pgOne);
  const memory = outcome(results, 'symbi-memory');
  verdicts.push(atLeastVerdict('memory-throughput', 'the in-memory store', memory, MEMORY_RUNS_PER_SECOND));
  ratioVerdict('memory-vs-bullmq', `throughput in memory ≥ ${MEMORY_VS_BULLMQ}× BullMQ's`, memory, outcome(results, 'bullmq'), MEMORY_VS_BULLMQ);
  verdicts.push(atLeastVerdict('sqlite-throughput', 'SQLite', outcome(results, 'symbi-sqlite'), SQLITE_RUNS_PER_SECOND));
  verdicts.push(testKitVerdict(results.testKit));
  for (const suffix of ['', BUSY_SUFFIX]) {
    const croner = precision(results, `croner${suffix}`);
    const busy = suffix === BUSY_SUFFIX;
    for (const store of ['memory', 'sqlite'] as const) {
      const ours = precision(results, `symbi-${store}${suffix}`);
      const where = `${store === 'memory' ? 'in-memory store' : 'SQLite'}${busy ? ', busy machine' : ''}`;
      // On a busy machine only the comparison with croner, measured under the same load, holds.
      const target = `p99 lateness (${where}) ≤ ${LATENESS_VS_CRONER}× croner's${busy ? '' : ` and ≤ ${LATENESS_P99_MS} ms`}`;
      const id = `precision-${store}${suffix}`;
      if (!ours || !croner) {
        verdicts.push({ id, target, measured: 'not measured', met: null });
        continue;
      }
      const limit = busy ? LATENESS_VS_CRONER * croner.lateness.p99 : Math.min(LATENESS_P99_MS, LATENESS_VS_CRONER * croner.lateness.p99);
      verdicts.push({
        id,
        target,
        measured: `p99 ${fmt(ours.lateness.p99)} ms vs croner ${fmt(croner.lateness.p99)} ms (limit ${fmt(limit, 1)} ms)`,
        met: ours.lateness.p99 <= limit,
      });
    }
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

/** The verdict "`ours` reaches at least `least` runs/s" on `where` (e.g. `SQLite`, `the in-memory store`). */
function atLeastVerdict(id: string, where: string, ours: ThroughputOutcome | undefined, least: number): TargetVerdict {
  return {
    id,
    target: `throughput on ${where} ≥ ${fmt(least)} runs/s`,
    measured: ours?.median == null ? 'not measured' : `${fmt(ours.median)} runs/s`,
    met: ours?.median == null ? null : ours.median >= least,
  };
}

/** The verdict on the test kit's speed: {@link TEST_KIT_DAYS} virtual days of a minutely job in under {@link TEST_KIT_LIMIT_MS}. */
function testKitVerdict(result: BenchResults['testKit']): TargetVerdict {
  const target = `test kit: ${TEST_KIT_DAYS} virtual days of a minutely job (${fmt(TEST_KIT_DAYS * 1440)} fires) < ${fmt(TEST_KIT_LIMIT_MS)} ms`;
  if (result === undefined || 'error' in result) return { id: 'test-kit', target, measured: 'not measured', met: null };
  const measured = `median ${fmt(result.medianMs)} ms for ${result.days} days (${fmt(result.fires)} fires, ${fmt((result.medianMs * 1000) / result.fires, 1)} µs a fire)`;
  return { id: 'test-kit', target, measured, met: result.days === TEST_KIT_DAYS ? result.medianMs < TEST_KIT_LIMIT_MS : null };
}
