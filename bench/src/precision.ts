import { Cron } from 'croner';
import cron from 'node-cron';
import { CronScheduler, type ClaimedRun, type JobStore } from '@symbi/core';
import { createJobs, disposeStoreLocation, jobDefinition, newStoreLocation, noopExecutor, openStore } from './our-stores.js';
import { distribution, preciseNow, type Distribution } from './stats.js';
import { interceptStore } from './store-views.js';
import type { MeasuredWindow } from './throughput.js';

/** Every second, in the 6-field (seconds first) syntax all three schedulers read. */
export const EVERY_SECOND = '* * * * * *';

/** Fires scheduled before the window opens are warm-up and not counted. */
const WARM_UP_MS = 2000;

/** Arguments of the precision benchmarks. */
export interface PrecisionArgs {
  /** Jobs (callbacks) firing every second. */
  jobs: number;
  /** Length of the measured window. */
  seconds: number;
}

/** Lateness of the fires in the measured window of one target. */
export interface PrecisionResult {
  /** Start − scheduled time, in ms (both read from `Date.now()`, 1 ms resolution). */
  lateness: Distribution;
  /** Fires the window should hold (`jobs × seconds`). */
  expected: number;
  /** Fires that started in it. */
  observed: number;
  /**
   * Where the lateness of our scheduler goes, per run (ms): `lead` how long before its scheduled
   * time the claim that took the run ended (the scheduler claims `claimAheadMs` early; negative
   * means the claim itself was late), `claim` the claim itself, `start` from the later of the
   * scheduled time and the end of the claim to the `run:started` event (the run recorded `running`).
   */
  phases?: { lead: Distribution; claim: Distribution; start: Distribution };
}

/** The measured window: from the first whole second after the warm-up, `seconds` long. */
function windowFrom(now: number, seconds: number): { start: number; end: number } {
  const start = Math.ceil((now + WARM_UP_MS) / 1000) * 1000;
  return { start, end: start + seconds * 1000 };
}

function sleepUntil(at: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
}

/**
 * Our scheduler with `jobs` cron jobs firing every second on the in-memory or SQLite store, for
 * `seconds` seconds after a warm-up. Settings: every due job claimed in one batch
 * (`claimBatchSize` = jobs) with room to run them all at once (`maxConcurrentJobs` = 2 × jobs),
 * no session state (`fully_ephemeral`), a no-op agent.
 */
export async function ourPrecision(args: PrecisionArgs & { store: 'memory' | 'sqlite'; window?: MeasuredWindow }): Promise<PrecisionResult> {
  const location = newStoreLocation(args.store, 'precision');
  const store = openStore(location);
  try {
    await store.init();
    const now = new Date();
    const jobs = Array.from({ length: args.jobs }, (_, i) =>
      jobDefinition({ name: `every-second-${i}`, agentId: 'noop', cronExpr: EVERY_SECOND, sessionMode: 'fully_ephemeral' }, now),
    );
    await createJobs(store, jobs, 1);
    const claims = new Map<string, { start: number; end: number }>();
    const scheduler = new CronScheduler({
      store: recordingClaims(store, claims),
      executor: noopExecutor,
      config: { claimBatchSize: args.jobs, maxConcurrentJobs: args.jobs * 2 },
    });
    const window = windowFrom(Date.now(), args.seconds);
    const lateness: number[] = [];
    const lead: number[] = [];
    const claim: number[] = [];
    const start: number[] = [];
    scheduler.on('run:started', ({ run }) => {
      const startedEvent = preciseNow();
      const scheduled = run.scheduledFor.getTime();
      if (scheduled < window.start || scheduled >= window.end || run.startedAt === null) return;
      lateness.push(run.startedAt.getTime() - scheduled);
      const claimed = claims.get(run.id);
      if (claimed) {
        lead.push(scheduled - claimed.end);
        claim.push(claimed.end - claimed.start);
        start.push(startedEvent - Math.max(scheduled, claimed.end));
      }
      claims.delete(run.id);
    });
    await scheduler.start();
    await sleepUntil(window.start);
    await args.window?.start();
    await sleepUntil(window.end + 1000);
    await args.window?.stop();
    await scheduler.stop();
    return {
      lateness: distribution(lateness),
      expected: args.jobs * args.seconds,
      observed: lateness.length,
      phases: { lead: distribution(lead), claim: distribution(claim), start: distribution(start) },
    };
  } finally {
    await store.close();
    await disposeStoreLocation(location);
  }
}

/** A view of `store` that notes when each claimed run's claim began and ended. */
function recordingClaims(store: JobStore, claims: Map<string, { start: number; end: number }>): JobStore {
  return interceptStore(store, async (method, call) => {
    if (method !== 'claimDue') return call();
    const start = preciseNow();
    const claimed = (await call()) as ClaimedRun[];
    const end = preciseNow();
    for (const { run } of claimed) claims.set(run.id, { start, end });
    return claimed;
  });
}

/**
 * Records the lateness of callbacks that a library calls every second. The library does not say
 * which fire a call belongs to, so the scheduled time is the nearest whole second (lateness well
 * under half a second, as the fire counts confirm).
 */
async function callbackPrecision(args: PrecisionArgs, schedule: (callback: () => void) => () => void): Promise<PrecisionResult> {
  const window = windowFrom(Date.now(), args.seconds);
  const lateness: number[] = [];
  const callback = () => {
    const now = Date.now();
    const scheduled = Math.round(now / 1000) * 1000;
    if (scheduled >= window.start && scheduled < window.end) lateness.push(now - scheduled);
  };
  const stops = Array.from({ length: args.jobs }, () => schedule(callback));
  await sleepUntil(window.end + 1000);
  for (const stop of stops) stop();
  return { lateness: distribution(lateness), expected: args.jobs * args.seconds, observed: lateness.length };
}

/** croner: `jobs` `Cron` instances firing every second in this process. */
export function cronerPrecision(args: PrecisionArgs): Promise<PrecisionResult> {
  return callbackPrecision(args, (callback) => {
    const job = new Cron(EVERY_SECOND, callback);
    return () => job.stop();
  });
}

/** node-cron: `jobs` tasks firing every second in this process. */
export function nodeCronPrecision(args: PrecisionArgs): Promise<PrecisionResult> {
  return callbackPrecision(args, (callback) => {
    const task = cron.schedule(EVERY_SECOND, callback);
    return () => void task.destroy();
  });
}
