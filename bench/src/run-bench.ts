import { execFileSync, spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { timeLimitMs } from './completion.js';
import type { ProfileSummary } from './cpu-profile.js';
import { describeMachine } from './machine.js';
import { disposeStoreLocation, newStoreLocation, type OurStoreKind } from './our-stores.js';
import type { BenchPlan, ThroughputTarget } from './plan.js';
import type { PrecisionResult } from './precision.js';
import { runTask } from './processes.js';
import type { BenchResults, ProfileReport, ScaleStep, ThroughputOutcome } from './results.js';
import type { ScaleProbeResult } from './scale.js';
import type { SoakResult } from './soak.js';
import { median } from './stats.js';
import type { MethodTiming } from './store-views.js';
import type { TestKitResult } from './test-kit.js';
import type { ThroughputSample } from './throughput.js';
import { BUSY_SUFFIX, evaluateTargets } from './targets.js';
import type { WritesPerRun } from './writes-per-run.js';

/** Options of {@link runBenchmarks}. */
export interface RunOptions {
  /** What to measure. */
  plan: BenchPlan;
  /** The bundled task entry (`bench/dist/task-process.js`). */
  entry: string;
  /** The command that re-runs this, for the report. */
  command: string;
  /** Progress lines. */
  log: (line: string) => void;
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The scheduler settings of the write count (the first of those the throughput benchmark tries). */
const WRITES_CONFIG = { maxConcurrentJobs: 100, claimBatchSize: 256 };

/** Runs `measure` while another node process spins on one core, as a busy machine's neighbour does. */
async function alongsideCpuBurner<T>(measure: () => Promise<T>): Promise<T> {
  const burner = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
  try {
    return await measure();
  } finally {
    burner.kill('SIGKILL');
  }
}

/** Runs every benchmark of `plan`, each measurement in a fresh process, and judges the targets. */
export async function runBenchmarks(options: RunOptions): Promise<BenchResults> {
  const { plan, log } = options;
  const started = Date.now();
  const errors: string[] = [];
  const task = <T>(name: string, args: unknown, timeoutMs: number, execArgv: string[] = []) =>
    runTask<T>(options.entry, name, args, { timeoutMs, execArgv });
  const machine = await describeMachine();
  log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, node ${machine.node}, ${machine.postgres}, ${machine.redis}`);

  const throughput = await measureThroughput(plan, task, log, errors);

  const writes: NonNullable<BenchResults['writes']> = {};
  for (const store of ['sqlite', 'postgres'] as const) {
    const runs = Math.min(plan.throughput.tuneJobs, 2_000);
    log(`writes: ${runs} runs on ${store}, rows and index entries counted`);
    try {
      writes[store] = await task<WritesPerRun>('writes:ours', { store, runs, config: WRITES_CONFIG }, timeLimitMs(runs) + 60_000);
    } catch (error) {
      writes[store] = { error: messageOf(error) };
      errors.push(`writes ${store}: ${messageOf(error)}`);
    }
  }

  const precisionResults: BenchResults['precision']['results'] = {};
  const precisionTasks: [string, string, Record<string, unknown>][] = [
    ['symbi-memory', 'precision:ours', { store: 'memory' }],
    ['symbi-sqlite', 'precision:ours', { store: 'sqlite' }],
    ['croner', 'precision:croner', {}],
    ['node-cron', 'precision:node-cron', {}],
  ];
  // The busy-machine variant: the same, with one CPU-bound process running alongside.
  const busyTasks = precisionTasks.filter(([id]) => id !== 'node-cron').map(([id, name, base]) => [`${id}${BUSY_SUFFIX}`, name, base] as const);
  for (const [id, name, base] of [...precisionTasks, ...busyTasks]) {
    const busy = id.endsWith(BUSY_SUFFIX);
    log(`precision: ${id}, ${plan.precision.jobs} jobs every second for ${plan.precision.seconds} s${busy ? ', one CPU-bound process alongside' : ''}`);
    const measure = () => task<PrecisionResult>(name, { ...base, ...plan.precision }, plan.precision.seconds * 1000 + 120_000);
    try {
      precisionResults[id] = busy ? await alongsideCpuBurner(measure) : await measure();
    } catch (error) {
      precisionResults[id] = { error: messageOf(error) };
      errors.push(`precision ${id}: ${messageOf(error)}`);
    }
  }

  const scaleStores: BenchResults['scale']['stores'] = {};
  for (const kind of ['sqlite', 'postgres'] as const) {
    try {
      scaleStores[kind] = await measureScale(kind, plan, task, log);
    } catch (error) {
      scaleStores[kind] = { error: messageOf(error) };
      errors.push(`scale ${kind}: ${messageOf(error)}`);
    }
  }

  const soakResults: BenchResults['soak']['results'] = {};
  for (const contextMode of ['ephemeral_with_summary', 'shared_persistent'] as const) {
    log(`memory: heartbeat of ${plan.soak.iterations} iterations, ${contextMode}`);
    try {
      soakResults[contextMode] = await task<SoakResult>('soak', { contextMode, ...plan.soak }, 300_000, ['--expose-gc']);
    } catch (error) {
      soakResults[contextMode] = { error: messageOf(error) };
      errors.push(`soak ${contextMode}: ${messageOf(error)}`);
    }
  }

  let testKit: BenchResults['testKit'];
  log(`test kit: createTestScheduler, a minutely job over ${plan.testKit.days} virtual day(s), ${plan.testKit.samples} sample(s)`);
  try {
    testKit = await task<TestKitResult>('test-kit', plan.testKit, 600_000);
  } catch (error) {
    testKit = { error: messageOf(error) };
    errors.push(`test kit: ${messageOf(error)}`);
  }

  const results: BenchResults = {
    mode: plan.mode,
    command: options.command,
    startedAt: new Date(started).toISOString(),
    durationSeconds: 0,
    machine,
    code: codeVersion(),
    throughput: { jobs: plan.throughput.jobs, runs: plan.throughput.runs, tuneJobs: plan.throughput.tuneJobs, tuneRounds: plan.throughput.tuneRounds, outcomes: throughput },
    writes,
    precision: { ...plan.precision, results: precisionResults },
    scale: { sizes: plan.scale.sizes, stores: scaleStores },
    soak: { iterations: plan.soak.iterations, historyLimit: plan.soak.historyLimit, results: soakResults },
    testKit,
    targets: [],
    profiles: [],
    errors,
  };
  results.targets = evaluateTargets(results);
  results.profiles = await profileMisses(results, plan, options.entry, log, errors);
  results.durationSeconds = Math.round((Date.now() - started) / 1000);
  results.machine.load.atEnd = loadavg()[0]!;
  return results;
}

/** The commit measured, read from git (absent outside a git work tree). */
function codeVersion(): BenchResults['code'] {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return { commit: git('rev-parse', 'HEAD'), dirty: git('status', '--porcelain', '--', 'packages').length > 0 };
  } catch {
    return undefined;
  }
}

type TaskRunner = <T>(name: string, args: unknown, timeoutMs: number, execArgv?: string[]) => Promise<T>;

async function measureThroughput(plan: BenchPlan, task: TaskRunner, log: (line: string) => void, errors: string[]): Promise<ThroughputOutcome[]> {
  const { jobs, runs, tuneJobs, tuneRounds, targets } = plan.throughput;
  const outcomes = targets.map(
    (target): ThroughputOutcome => ({ id: target.id, label: target.label, ours: target.ours, tuning: [], best: null, samples: [], median: null }),
  );
  const run = (target: ThroughputTarget, config: ThroughputSample['config'], n: number) =>
    task<ThroughputSample>(target.task, { ...target.base, jobs: n, config }, timeLimitMs(n) + 120_000);
  for (const [i, target] of targets.entries()) {
    const outcome = outcomes[i]!;
    if (target.configs.length === 1) {
      outcome.best = target.configs[0]!;
      continue;
    }
    // Round-robin, as the measured runs are, and ranked by each setting's best run: the machine's
    // noise only ever slows a run down, and a single sample picked the slower setting in earlier runs.
    const tried = target.configs.map((config) => ({ config, rounds: [] as number[], errors: [] as string[] }));
    for (let r = 0; r < tuneRounds; r++) {
      for (const setting of tried) {
        log(`throughput tuning ${r + 1}/${tuneRounds}: ${target.id} ${JSON.stringify(setting.config)} (${tuneJobs} jobs)`);
        try {
          setting.rounds.push((await run(target, setting.config, tuneJobs)).runsPerSecond);
        } catch (error) {
          setting.errors.push(messageOf(error));
        }
      }
    }
    outcome.tuning = tried.map(({ config, rounds, errors }) =>
      errors.length > 0 ? { config, runsPerSecond: null, rounds, error: errors.join('; ') } : { config, runsPerSecond: Math.max(...rounds), rounds },
    );
    const ranked = outcome.tuning.filter((t) => t.runsPerSecond !== null).sort((a, b) => b.runsPerSecond! - a.runsPerSecond!);
    outcome.best = ranked[0]?.config ?? null;
    if (outcome.best === null) {
      outcome.error = `every setting failed: ${outcome.tuning.map((t) => t.error).join('; ')}`;
      errors.push(`throughput ${target.id}: ${outcome.error}`);
    }
  }
  // Round-robin, so a slow drift of the machine touches every contender alike.
  for (let r = 0; r < runs; r++) {
    for (const [i, target] of targets.entries()) {
      const outcome = outcomes[i]!;
      if (outcome.best === null || outcome.error !== undefined) continue;
      log(`throughput run ${r + 1}/${runs}: ${target.id} ${JSON.stringify(outcome.best)} (${jobs} jobs)`);
      try {
        outcome.samples.push(await run(target, outcome.best, jobs));
      } catch (error) {
        outcome.error = messageOf(error);
        errors.push(`throughput ${target.id}: ${outcome.error}`);
      }
    }
  }
  for (const outcome of outcomes) {
    if (outcome.samples.length > 0 && outcome.error === undefined) outcome.median = median(outcome.samples.map((s) => s.runsPerSecond));
  }
  return outcomes;
}

async function measureScale(kind: OurStoreKind, plan: BenchPlan, task: TaskRunner, log: (line: string) => void): Promise<ScaleStep[]> {
  const location = newStoreLocation(kind, 'scale');
  const steps: ScaleStep[] = [];
  try {
    let stored = 0;
    for (const size of plan.scale.sizes) {
      log(`scale: ${kind}, loading jobs ${stored}..${size}`);
      const load = await task<{ loaded: number; ms: number }>('scale:load', { location, from: stored, to: size }, Math.max(300_000, size * 2));
      stored = size;
      log(`scale: ${kind}, probing ${size} jobs`);
      const probe = await task<ScaleProbeResult>('scale:probe', { location, ...plan.scale }, 300_000);
      steps.push({ size, load, probe });
    }
    return steps;
  } finally {
    await disposeStoreLocation(location);
  }
}

/** For each target of ours that was missed, a profile of the run that missed it. */
async function profileMisses(results: BenchResults, plan: BenchPlan, entry: string, log: (line: string) => void, errors: string[]): Promise<ProfileReport[]> {
  const reports: ProfileReport[] = [];
  const missed = (id: string) => results.targets.some((t) => t.id === id && t.met === false);
  const throughputProfile = async (target: string, store: OurStoreKind, id: string) => {
    const outcome = results.throughput.outcomes.find((o) => o.id === id);
    if (!outcome?.best) return;
    log(`profile: ${id}, CPU sampled and store calls timed`);
    const result = await runTask<{ sample: ThroughputSample; storeCalls: Record<string, MethodTiming>; cpu: ProfileSummary }>(
      entry,
      'profile:ours-throughput',
      { store, jobs: plan.throughput.jobs, config: outcome.best },
      { timeoutMs: timeLimitMs(plan.throughput.jobs) + 120_000 },
    );
    reports.push({
      target,
      what: `one ${id} run of ${plan.throughput.jobs} jobs (${Math.round(result.sample.runsPerSecond)} runs/s while profiled), from start to the last success`,
      cpu: result.cpu,
      storeCalls: result.storeCalls,
      notes: [],
    });
  };
  const precisionProfile = async (target: string, store: 'memory' | 'sqlite') => {
    log(`profile: precision on ${store}, CPU sampled`);
    const seconds = Math.min(Math.ceil(plan.precision.seconds / 4), 10);
    const { result, cpu } = await runTask<{ result: PrecisionResult; cpu: ProfileSummary }>(
      entry,
      'profile:ours-precision',
      { store, jobs: plan.precision.jobs, seconds },
      { timeoutMs: seconds * 1000 + 120_000 },
    );
    reports.push({
      target,
      what: `our scheduler on ${store}, ${plan.precision.jobs} jobs every second for ${seconds} s (p99 ${result.lateness.p99} ms while profiled)`,
      cpu,
      notes: [],
    });
  };
  const steps: [string, () => Promise<void>][] = [
    ['postgres-throughput', () => throughputProfile('postgres-throughput', 'postgres', 'symbi-postgres')],
    ['sqlite-throughput', () => throughputProfile('sqlite-throughput', 'sqlite', 'symbi-sqlite')],
    ['memory-throughput', () => throughputProfile('memory-throughput', 'memory', 'symbi-memory')],
    ['precision-memory', () => precisionProfile('precision-memory', 'memory')],
    ['precision-sqlite', () => precisionProfile('precision-sqlite', 'sqlite')],
  ];
  for (const [id, profile] of steps) {
    if (!missed(id)) continue;
    try {
      await profile();
    } catch (error) {
      errors.push(`profile ${id}: ${messageOf(error)}`);
    }
  }
  return reports;
}
