import { CronScheduler, type CronSchedulerConfig, type JobStore } from '@symbi/core';
import { CompletionCounter, timeLimitMs } from './completion.js';
import {
  createJobs,
  disposeStoreLocation,
  dueOneShot,
  loadConcurrency,
  newStoreLocation,
  noopExecutor,
  openStore,
  type OurStoreKind,
  type StoreLocation,
} from './our-stores.js';
import { CpuMeter, type CpuSpent, type ServerKind } from './cpu-meter.js';
import { sendEvent, startTask, type TaskHandle } from './processes.js';
import { POSTGRES_SERVER } from './services.js';
import { preciseNow } from './stats.js';
import { throughputSample, type MeasuredWindow, type ThroughputSample } from './throughput.js';

/** Settings of our scheduler tried in the throughput benchmark. */
export type OurThroughputConfig = Pick<CronSchedulerConfig, 'maxConcurrentJobs' | 'claimBatchSize'> & Partial<Pick<CronSchedulerConfig, 'prefetch'>>;

/** Arguments of {@link ourThroughput}. */
export interface OurThroughputArgs {
  /** The store. */
  store: OurStoreKind;
  /** Due one-shot jobs to run. */
  jobs: number;
  /** Scheduler settings. */
  config: OurThroughputConfig;
  /** Wrap the store before the scheduler uses it (e.g. to time its calls). */
  wrapStore?: (store: JobStore) => JobStore;
  /** Told when the measured part begins and ends (e.g. to profile just that). */
  window?: MeasuredWindow;
}

/**
 * Runs `jobs` due one-shot jobs with a no-op agent through one scheduler on a fresh store and
 * measures from `start()` until the last run's success is recorded (the store committed its finish).
 */
export async function ourThroughput(args: OurThroughputArgs): Promise<ThroughputSample> {
  const location = newStoreLocation(args.store, 'tp');
  const store = openStore(location);
  try {
    await store.init();
    await loadDueJobs(store, args.store, args.jobs);
    const { startedAt, lastAt, cpu } = await runAllDue(args.wrapStore ? args.wrapStore(store) : store, args.jobs, args.config, `our scheduler on ${args.store}`, {
      server: args.store === 'postgres' ? POSTGRES_SERVER : null,
      ...(args.window ? { window: args.window } : {}),
    });
    return throughputSample(args.jobs, lastAt - startedAt, { ...args.config }, cpu);
  } finally {
    await store.close();
    await disposeStoreLocation(location);
  }
}

/**
 * Starts a scheduler with a no-op agent on `store`, which holds `jobs` due one-shot jobs, and stops
 * it once every run succeeded; `startedAt` is `preciseNow()` at the start, `lastAt` at the last
 * success, `cpu` what this process and the `server`'s processes spent in between. `window` is told
 * when that part begins and ends (outside the CPU measured).
 */
export async function runAllDue(
  store: JobStore,
  jobs: number,
  config: OurThroughputConfig,
  what: string,
  options: { server?: ServerKind; window?: MeasuredWindow } = {},
): Promise<{ startedAt: number; lastAt: number; cpu: CpuSpent }> {
  const { window } = options;
  const scheduler = new CronScheduler({ store, executor: noopExecutor, config });
  const counter = new CompletionCounter(jobs);
  scheduler.on('run:succeeded', () => counter.add(1, preciseNow()));
  scheduler.on('run:failed', ({ run }) => counter.fail(new Error(`run ${run.id} failed: ${run.error}`)));
  const meter = new CpuMeter(options.server ?? null);
  await window?.start();
  meter.start();
  const startedAt = preciseNow();
  await scheduler.start();
  let cpu: CpuSpent;
  try {
    await counter.wait(timeLimitMs(jobs), what);
  } finally {
    cpu = meter.stop();
    await window?.stop();
    await scheduler.stop();
  }
  return { startedAt, lastAt: counter.lastAt, cpu };
}

/** Creates `jobs` one-shot jobs due now in `store`. */
export async function loadDueJobs(store: JobStore, kind: OurStoreKind, jobs: number): Promise<void> {
  const now = new Date();
  await createJobs(store, Array.from({ length: jobs }, (_, i) => dueOneShot(i, now)), loadConcurrency(kind));
}

/** Arguments of {@link ourThroughputMulti}. */
export interface OurMultiThroughputArgs {
  /** Scheduler processes sharing one PostgreSQL schema. */
  instances: number;
  /** Due one-shot jobs to run. */
  jobs: number;
  /** Scheduler settings of each instance. */
  config: OurThroughputConfig;
  /** The bundled task entry the instances run in. */
  entry: string;
}

/** What an instance process reports while it runs and when it stops. */
interface InstanceReport {
  kind: 'ready' | 'progress';
  /** Runs succeeded so far. */
  done: number;
  /** Runs failed so far (any is an error of the benchmark). */
  failed: number;
  /** `preciseNow()` of the latest success. */
  lastAt: number;
}

/**
 * Like {@link ourThroughput} on PostgreSQL, with `instances` schedulers in as many processes on one
 * schema. All start at one signal; the time runs from that signal to the last success any of them
 * recorded.
 */
export async function ourThroughputMulti(args: OurMultiThroughputArgs): Promise<ThroughputSample> {
  const location = newStoreLocation('postgres', 'tpmulti');
  const store = openStore(location);
  const handles: TaskHandle[] = [];
  try {
    await store.init();
    await loadDueJobs(store, 'postgres', args.jobs);
    await store.close();
    const counter = new CompletionCounter(args.jobs);
    const reports = new Map<number, InstanceReport>();
    let ready = 0;
    let startedAt = 0;
    const allReady = new Promise<void>((resolve) => {
      for (let i = 0; i < args.instances; i++) {
        const handle = startTask(args.entry, 'instance', { location, config: args.config }, {
          timeoutMs: timeLimitMs(args.jobs) + 60_000,
          onEvent: (value) => {
            const report = value as InstanceReport;
            if (report.kind === 'ready' && ++ready === args.instances) resolve();
            if (report.kind !== 'progress') return;
            if (report.failed > 0) counter.fail(new Error(`instance ${i} had ${report.failed} failed runs`));
            const before = reports.get(i)?.done ?? 0;
            reports.set(i, report);
            counter.add(report.done - before, report.lastAt);
          },
        });
        handle.result.catch((error: Error) => counter.fail(error));
        handles.push(handle);
      }
    });
    await allReady;
    // The instances' CPU and the server's; this process only relays their progress meanwhile.
    const meter = new CpuMeter(POSTGRES_SERVER, () => handles.map((handle) => handle.child.pid ?? 0));
    meter.start();
    startedAt = preciseNow();
    for (const handle of handles) handle.child.send({ type: 'go' });
    await counter.wait(timeLimitMs(args.jobs), `${args.instances} schedulers on PostgreSQL`);
    const cpu = meter.stop();
    for (const handle of handles) handle.child.send({ type: 'stop' });
    await Promise.all(handles.map((handle) => handle.result));
    return throughputSample(args.jobs, counter.lastAt - startedAt, { ...args.config, instances: args.instances }, cpu);
  } finally {
    for (const handle of handles) if (handle.child.exitCode === null) handle.child.kill('SIGKILL');
    await store.close();
    await disposeStoreLocation(location);
  }
}

/**
 * One scheduler instance of {@link ourThroughputMulti}, run inside its own process: opens the
 * store, reports ready, starts on `go`, reports progress every 20 ms and stops on `stop`.
 */
export async function ourInstance(args: { location: StoreLocation; config: OurThroughputConfig }): Promise<{ done: number; failed: number }> {
  const store = openStore(args.location);
  await store.init();
  const scheduler = new CronScheduler({ store, executor: noopExecutor, config: args.config });
  let done = 0;
  let failed = 0;
  let lastAt = 0;
  let reported = 0;
  scheduler.on('run:succeeded', () => {
    done++;
    lastAt = preciseNow();
  });
  scheduler.on('run:failed', () => {
    failed++;
  });
  const report = setInterval(() => {
    if (done + failed === reported) return;
    reported = done + failed;
    sendEvent({ kind: 'progress', done, failed, lastAt } satisfies InstanceReport);
  }, 20);
  const command = (type: string) =>
    new Promise<void>((resolve) => {
      const listener = (message: { type?: string }) => {
        if (message?.type !== type) return;
        process.off('message', listener);
        resolve();
      };
      process.on('message', listener);
    });
  const go = command('go');
  const stop = command('stop');
  sendEvent({ kind: 'ready', done: 0, failed: 0, lastAt: 0 } satisfies InstanceReport);
  await go;
  await scheduler.start();
  await stop;
  await scheduler.stop();
  clearInterval(report);
  await store.close();
  return { done, failed };
}

