import type { ProfileSummary } from './cpu-profile.js';
import { benchPlan, type BenchPlan } from './plan.js';
import type { PrecisionResult } from './precision.js';
import type { BenchResults, ProfileReport, ScaleStep } from './results.js';
import type { SoakResult } from './soak.js';
import { median, type Distribution } from './stats.js';
import { BUSY_SUFFIX } from './targets.js';
import type { ThroughputSample } from './throughput.js';

const num = (n: number, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '–';
const ms = (n: number) => (n < 1 ? num(n, 3) : n < 10 ? num(n, 2) : num(n, 1));
const mib = (bytes: number) => `${num(bytes / 2 ** 20, 1)} MB`;
const settings = (config: ThroughputSample['config'] | null) =>
  config === null ? '–' : Object.entries(config).map(([k, v]) => `${k}=${String(v)}`).join(', ');
const verdict = (met: boolean | null) => (met === null ? 'not measured in this mode' : met ? '**met**' : '**not met**');

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/**
 * The median CPU µs per run of measured runs, the contender's processes and its server's:
 * `151 + 142`, `20` with no server, `–` for results of older runs.
 */
function cpuPerRun(samples: ThroughputSample[]): string {
  const measured = samples.filter((s) => s.cpu !== undefined);
  if (measured.length === 0) return '–';
  const per = (us: number, s: ThroughputSample) => us / s.jobs;
  const process = num(median(measured.map((s) => per(s.cpu!.processUs, s))));
  const served = measured.filter((s) => s.cpu!.serverUs !== null);
  return served.length === 0 ? process : `${process} + ${num(median(served.map((s) => per(s.cpu!.serverUs!, s))))}`;
}

function throughputSection(results: BenchResults): string {
  const { outcomes } = results.throughput;
  const peers = outcomes.filter((o) => !o.ours);
  const rows = outcomes.map((o) => [
    o.ours ? `**${o.label}**` : o.label,
    o.median === null ? `failed: ${o.error ?? ''}` : `**${num(o.median)}**`,
    o.samples.map((s) => num(s.runsPerSecond)).join(', '),
    cpuPerRun(o.samples),
    settings(o.best),
    ...peers.map((p) => (o.ours && o.median !== null && p.median !== null ? `${num(o.median / p.median, 2)}×` : '')),
  ]);
  const tuning = outcomes.flatMap((o) =>
    o.tuning.map((t) => [
      o.label,
      settings(t.config),
      t.runsPerSecond === null ? `failed: ${t.error ?? ''}` : num(t.runsPerSecond),
      t.rounds.map((r) => num(r)).join(', '),
    ]),
  );
  return [
    '## Throughput',
    '',
    `${num(results.throughput.jobs)} jobs that are all due when the clock starts, each run once by a no-op agent (a handler`,
    'that returns at once); runs/s from the start of processing until the last completion is durable',
    '(our `run:succeeded`, emitted after the finish transaction and audit row commit; pg-boss: every row',
    '`completed`; graphile-worker: the jobs table empty; BullMQ: the worker\'s last `completed` event). Ours',
    'runs one-shot jobs (`at` = now, `session_mode: fully_ephemeral`, so no session state, as a queue job has',
    'none). Each measurement runs in a fresh process on a fresh schema, database queue or file. Every',
    `contender first runs ${tuneRuns(results.throughput.tuneRounds)} per setting on ${num(results.throughput.tuneJobs)} jobs (round-robin across its settings);`,
    `the setting with the fastest run is then measured ${results.throughput.runs} times (round-robin across contenders) and the`,
    'median reported. CPU per run is the CPU time the contender\'s processes and its database server\'s',
    'processes (read from `/proc`, on this machine) spent over the measured part, divided by the jobs, median',
    'of the measured runs: the machine has as many µs of CPU per second as cores times 10⁶, so this bounds',
    'what any setting can reach here.',
    '',
    table(['Contender', 'Median runs/s', 'Runs (runs/s)', 'CPU per run, µs (process + server)', 'Setting (best of tuning)', ...peers.map((p) => `vs ${p.id}`)], rows),
    '',
    `Tuning pass (${tuneRuns(results.throughput.tuneRounds)} per setting; the best ranks it):`,
    '',
    tuning.length > 0 ? table(['Contender', 'Setting', 'Best runs/s', 'Runs (runs/s)'], tuning) : '(one setting per contender in this mode: no tuning pass)',
  ].join('\n');
}

/** "once", "2 times", … */
function tuneRuns(rounds: number): string {
  return rounds === 1 ? 'once' : `${rounds} times`;
}

function distributionCells(d: Distribution): string[] {
  return [ms(d.p50), ms(d.p99), ms(d.max)];
}

function writesSection(results: BenchResults): string {
  if (!results.writes) return '';
  const parts = [
    '## Writes per run',
    '',
    'Rows and index entries one no-op one-shot run writes, counted while a scheduler runs a batch of due',
    'jobs (loading them not counted): on PostgreSQL from `pg_stat_user_tables` of the store\'s schema, on',
    'SQLite by counting triggers the benchmark adds to every table. Index entries: on PostgreSQL every',
    'index of the table for each insert and each update that is not HOT (an upper bound: a partial index',
    'takes only the rows meeting its condition); on SQLite counted per index, for each insert and each',
    'update that sets a column the index names, when the new row meets its condition.',
    '',
  ];
  for (const [store, w] of Object.entries(results.writes)) {
    const name = store === 'sqlite' ? 'SQLite' : 'PostgreSQL';
    if ('error' in w) {
      parts.push(`### ${name}`, '', `failed: ${w.error}`, '');
      continue;
    }
    const per = (n: number) => num(n / w.runs, 2);
    parts.push(
      `### ${name}: ${num(w.rowsPerRun, 2)} row writes and ${num(w.indexEntriesPerRun, 2)} index entries per run (${num(w.runs)} runs)`,
      '',
      table(
        ['Table', 'Indexes', 'Inserts / run', 'Updates / run', 'of them HOT', 'Deletes / run', 'Index entries / run'],
        w.tables.map((t) => [
          t.table,
          num(t.indexes),
          per(t.inserted),
          per(t.updated),
          store === 'postgres' ? per(t.hotUpdated) : '–',
          per(t.deleted),
          per(t.indexEntries),
        ]),
      ),
      '',
    );
  }
  return parts.join('\n');
}

function precisionSection(results: BenchResults): string {
  const { jobs, seconds } = results.precision;
  const labels: Record<string, string> = {
    'symbi-memory': 'symbi, in-memory store',
    'symbi-sqlite': 'symbi, SQLite file',
    croner: 'croner 11.0.1',
    'node-cron': 'node-cron 4.6.0',
  };
  for (const [id, label] of Object.entries(labels)) labels[`${id}${BUSY_SUFFIX}`] = `${label}, busy machine`;
  const rows = Object.entries(results.precision.results).map(([id, r]) =>
    'error' in r ? [labels[id] ?? id, `failed: ${r.error}`, '', '', ''] : [labels[id] ?? id, ...distributionCells(r.lateness), `${num(r.observed)} / ${num(r.expected)}`],
  );
  const phases = Object.entries(results.precision.results).flatMap(([id, r]) =>
    'phases' in r && r.phases
      ? (['lead', 'claim', 'start'] as const).map((phase) => [labels[id] ?? id, phase, ...distributionCells((r as Required<PrecisionResult>).phases[phase])])
      : [],
  );
  return [
    '## Precision',
    '',
    `${num(jobs)} jobs firing every second (\`* * * * * *\`) for ${seconds} s after a 2 s warm-up, all in one process.`,
    'Lateness = start − scheduled time in ms, both read from `Date.now()` (1 ms resolution): for ours the',
    "run's `startedAt − scheduledFor`; croner and node-cron do not say which fire a callback belongs to, so",
    'theirs is the callback time minus the nearest whole second. Ours claims every due fire in one batch',
    `(\`claimBatchSize\` = ${num(jobs)}, \`maxConcurrentJobs\` = ${num(jobs * 2)}) with a no-op agent.`,
    'The *busy machine* rows measure the same with one CPU-bound node process (`for (;;) {}`) running',
    'alongside, each contender in its own run.',
    '',
    table(['Scheduler', 'p50 ms', 'p99 ms', 'max ms', 'fires seen / expected'], rows),
    '',
    'Where our lateness goes, per run: `lead` how long before its scheduled time the claim that took the run',
    'ended (the scheduler claims `claimAheadMs`, 250 ms, early and holds the runs until due), `claim` the store',
    'call itself, `start` from the later of the scheduled time and the end of the claim to `run:started`.',
    '',
    table(['Scheduler', 'Phase', 'p50 ms', 'p99 ms', 'max ms'], phases),
  ].join('\n');
}

function scaleRows(steps: ScaleStep[]): string[][] {
  return steps.map((s) => [
    num(s.probe.jobs),
    `${ms(s.probe.tick.p50)} / ${ms(s.probe.tick.p99)}`,
    ms(s.probe.nextWakeAt.p50),
    ms(s.probe.emptyClaim.p50),
    `${ms(s.probe.batchClaim.p50)} / ${ms(s.probe.batchClaim.p99)}`,
    ms(s.probe.idleCycle.p50),
    mib(s.probe.rssBytes),
    mib(s.probe.heapUsedBytes),
    `${num(s.load.loaded / (s.load.ms / 1000))} jobs/s`,
  ]);
}

function scaleSection(results: BenchResults): string {
  const parts = ['## Scale', ''];
  parts.push(
    'Stores holding many jobs (daily cron jobs whose next fires are spread over the next day, so none is',
    'due), opened by a fresh process that times what the scheduler asks on every tick, through the store',
    'API: an idle tick is `nextWakeAt()` then a `claimDue` that finds nothing due; a batch claim claims',
    'a few newly due one-shot jobs among them; the idle cycle adds `recoverExpired` and the',
    '`awaiting_approval` listing, as `CronScheduler` does. RSS and heap are those of the probing process',
    'with the store open (PostgreSQL keeps the jobs in the server, not in this process). Jobs are loaded',
    'through `createJob`: on SQLite 50,000 per transaction on the store\'s own connection; on PostgreSQL',
    'by 8 connections side by side with `synchronous_commit = off` (loading only), then `ANALYZE`.',
    '',
  );
  for (const [store, steps] of Object.entries(results.scale.stores)) {
    parts.push(`### ${store === 'sqlite' ? 'SQLite' : 'PostgreSQL'}`, '');
    if (!Array.isArray(steps)) {
      parts.push(`failed: ${steps.error}`, '');
      continue;
    }
    const batch = steps[0]?.probe.batch ?? 0;
    parts.push(
      table(
        ['Jobs', 'idle tick p50 / p99 ms', 'nextWakeAt p50', 'empty claimDue p50', `claim ${batch} due p50 / p99`, 'idle cycle p50', 'RSS', 'heap', 'load rate'],
        scaleRows(steps),
      ),
      '',
    );
  }
  return parts.join('\n');
}

function soakSection(results: BenchResults): string {
  const rows = Object.entries(results.soak.results).map(([mode, r]) => {
    if ('error' in r) return [mode, `failed: ${r.error}`, '', '', '', '', '', ''];
    const s = r as SoakResult;
    const during = s.heapDuring.map((h) => h.heapUsed);
    return [
      `\`${mode}\``,
      mib(s.heapBefore),
      during.length ? `${mib(Math.min(...during))} … ${mib(Math.max(...during))}` : '–',
      mib(s.heapAfter),
      `${num(s.iterations)} (${num(s.recordedIterations)} kept on the run)`,
      num(s.maxHistorySeen),
      num(s.storedHistory),
      `${num(s.durationMs)} ms`,
    ];
  });
  const first = Object.values(results.soak.results).find((r): r is SoakResult => !('error' in r));
  return [
    '## Memory',
    '',
    `One heartbeat job (\`max_iterations: ${num(results.soak.iterations)}\`) whose agent never says sleep and answers about`,
    `200 characters each time, on the in-memory store, \`sessionHistoryLimit\` = ${results.soak.historyLimit}. Heap in use`,
    `${first?.gcForced ? 'after a full `global.gc()` (node `--expose-gc`)' : 'without a forced collection (no `--expose-gc`)'} before the job is added, at evenly spaced iterations during the`,
    'run, and after it.',
    '',
    table(['Context mode', 'heap before', 'heap during (min … max)', 'heap after', 'iterations', 'longest history handed to the agent', 'stored history', 'run time'], rows),
    '',
    'Heap during the run, by iteration:',
    '',
    table(
      ['Context mode', ...((first?.heapDuring ?? []).map((h) => `#${num(h.iteration)}`))],
      Object.entries(results.soak.results)
        .filter((entry): entry is [string, SoakResult] => !('error' in entry[1]))
        .map(([mode, r]) => [`\`${mode}\``, ...r.heapDuring.map((h) => mib(h.heapUsed))]),
    ),
  ].join('\n');
}

function cpuTables(cpu: ProfileSummary): string {
  const share = (s: number) => `${num(s * 100, 1)} %`;
  return [
    `Sampled ${num(cpu.totalMs)} ms of CPU time. By area (self time):`,
    '',
    table(['Area', 'self ms', 'share'], cpu.areas.slice(0, 10).map((a) => [a.name, num(a.selfMs), share(a.share)])),
    '',
    'Top functions by self time:',
    '',
    table(['Function', 'self ms', 'share'], cpu.topFunctions.map((f) => [`\`${f.name}\``, num(f.selfMs), share(f.share)])),
  ].join('\n');
}

function profileSection(profiles: ProfileReport[]): string {
  if (profiles.length === 0) return '';
  const parts = ['## Profiles of missed targets', ''];
  for (const p of profiles) {
    parts.push(`### ${p.target}`, '', `Profiled: ${p.what}.`, '');
    if (p.storeCalls) {
      parts.push(
        'Store calls (durations overlap, since runs proceed concurrently):',
        '',
        table(
          ['Method', 'calls', 'total ms', 'mean ms'],
          Object.entries(p.storeCalls).map(([name, t]) => [`\`${name}\``, num(t.calls), num(t.totalMs), ms(t.meanMs)]),
        ),
        '',
      );
    }
    if (p.cpu) parts.push(cpuTables(p.cpu), '');
    for (const note of p.notes) parts.push(note, '');
  }
  return parts.join('\n');
}

/** The sizes of a plan, in words. */
function testKitSection(results: BenchResults): string {
  const result = results.testKit;
  if (result === undefined) return '';
  const intro = [
    '## Test kit',
    '',
    'How fast a host\'s unit test skips virtual time: `createTestScheduler()` of `@symbi/core/testing` with its',
    'defaults (in-memory store, fake agents, recording router), one job firing every minute, and',
    '`clock.advance()` over the days below, in real time; each sample on a fresh scheduler after a',
    'warm-up day. Every fire runs the whole pipeline (claim, gates, agent, finish, audit, events).',
    '',
  ];
  if ('error' in result) return [...intro, `failed: ${result.error}`, ''].join('\n');
  return [
    ...intro,
    table(
      ['Virtual days', 'fires', 'real time (median)', 'per fire', 'samples'],
      [[num(result.days), num(result.fires), `${num(result.medianMs)} ms`, `${num((result.medianMs * 1000) / result.fires, 1)} µs`, result.samplesMs.map((ms) => `${num(ms)} ms`).join(', ')]],
    ),
    '',
  ].join('\n');
}

function sizes(plan: BenchPlan): string {
  const n = (x: number) => x.toLocaleString('en-US');
  return `${n(plan.throughput.jobs)}-job throughput, ${plan.precision.seconds} s precision, up to ${n(plan.scale.sizes[plan.scale.sizes.length - 1]!)} stored jobs`;
}

/** Renders `BENCHMARKS.md` from a run's results; `findings` is prose about misses (may be empty). */
export function renderReport(results: BenchResults, findings: string): string {
  const m = results.machine;
  return [
    '# Benchmarks',
    '',
    `Figures of a ${results.mode} run of \`${results.command}\` on ${results.startedAt.slice(0, 10)} (${num(results.durationSeconds / 60, 1)} min),`,
    'written by `bench/run.mjs` from `bench/results/latest.json`. Every load stays on this machine (loopback',
    'PostgreSQL and Redis) and is bounded in count and time.',
    '',
    '## Re-run',
    '',
    '```sh',
    'pnpm install',
    `pnpm bench          # full: ${sizes(benchPlan('full'))}`,
    `pnpm bench:quick    # under 5 minutes: ${sizes(benchPlan('quick'))}`,
    '```',
    '',
    '`bench/run.mjs` builds the workspace packages when a `dist` is missing (`pnpm build`), bundles',
    '`bench/src` with esbuild together with the built `@symbi/*` packages (their `dist`, as an application',
    'imports them; a rebuild during the run cannot change what is measured; peers and drivers load from',
    '`node_modules`), and runs each measurement in a fresh node process. PostgreSQL is expected at',
    '`127.0.0.1:5432` (user `postgres`, database `test`; `BENCH_POSTGRES_URL` overrides) and Redis at',
    '`127.0.0.1:6379`.',
    '',
    '## Machine',
    '',
    table(
      ['', ''],
      [
        ['CPU', m.cpu],
        ['Cores', String(m.cores)],
        ['Memory', `${m.memoryGiB} GiB`],
        ['Kernel', m.kernel],
        ['Node.js', m.node],
        ['Code measured', results.code ? `${results.code.commit.slice(0, 12)}${results.code.dirty ? ' with uncommitted changes in packages/' : ''}` : '–'],
        ['PostgreSQL', `${m.postgres} (same machine, loopback)`],
        ['Redis', `${m.redis} (same machine, loopback)`],
        ['Load average (1 min)', `${num(m.load.atStart, 1)} at the start, ${m.load.atEnd === null ? '–' : num(m.load.atEnd, 1)} at the end`],
      ],
    ),
    '',
    m.load.atStart > m.cores || (m.load.atEnd ?? 0) > m.cores
      ? `**The machine was shared during this run** (load above its ${m.cores} cores): other work competed for the CPU, so every figure is lower and noisier than on a quiet machine.`
      : 'The machine was otherwise idle during this run.',
    '',
    '## Targets',
    '',
    table(['Target', 'Measured', 'Verdict'], results.targets.map((t) => [t.target, t.measured, verdict(t.met)])),
    '',
    findings,
    throughputSection(results),
    '',
    writesSection(results),
    precisionSection(results),
    '',
    scaleSection(results),
    soakSection(results),
    '',
    testKitSection(results),
    profileSection(results.profiles),
    results.errors.length > 0 ? ['## Errors', '', ...results.errors.map((e) => `- ${e}`), ''].join('\n') : '',
  ].join('\n');
}
