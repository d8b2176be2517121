import type { RunStatus } from '../domain/run.js';
import type { MissedFiresDropped } from '../ports/job-store.js';

/** Upper bounds (seconds) of the execution-time histogram buckets. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/** What is counted of one job's finished runs. */
interface JobCounts {
  /** Finished runs by status, statuses in the order first seen (a plain object is far lighter than a Map). */
  statuses: Partial<Record<RunStatus, number>>;
  /**
   * Timed runs by the first {@link DURATION_BUCKETS} bucket they fall in (not cumulative), as far as
   * the highest bucket used: a job whose runs all took milliseconds keeps one number, not sixteen.
   * Null until a timed run.
   */
  buckets: number[] | null;
  /** Execution time of the timed runs, seconds. */
  sum: number;
  /** Timed runs. */
  count: number;
}

/** The spec's health JSON (`GET /api/v1/health/scheduler`), exactly. */
export interface SchedulerHealth {
  /** `healthy` while the loop runs and the store answers; `degraded` or `stopped` otherwise. */
  status: 'healthy' | 'degraded' | 'stopped';
  /** Why it is `degraded` (the store cannot be reached, its disk is full, the last cycle failed); only then present. */
  reason?: string;
  /** Jobs with status active. */
  active_jobs: number;
  /** Jobs with status paused. */
  paused_jobs: number;
  /** Runs executing in this process. */
  in_flight_jobs: number;
  /** Run counters since this process started. */
  metrics: {
    /** Runs that finished (any outcome but skipped). */
    runs_total: number;
    /** Runs that succeeded. */
    runs_succeeded: number;
    /** Runs that failed, timed out or were interrupted. */
    runs_failed: number;
    /** Mean execution time of finished runs. */
    avg_execution_time_ms: number;
  };
}

/** A point-in-time copy of the counters. */
export interface MetricsSnapshot {
  /** Finished runs by job name and status. */
  runs: { jobName: string; status: RunStatus; count: number }[];
  /** Execution-time histograms by job name (cumulative bucket counts, seconds). */
  durations: { jobName: string; buckets: { le: number; count: number }[]; sum: number; count: number }[];
  /** Dead-letter transitions by job name. */
  deadLetters: { jobName: string; count: number }[];
  /** Runs executing now. */
  inFlight: number;
  /** Wall-clock steps noticed, by direction. */
  clockSteps: { forward: number; backward: number };
  /** Missed fires that got no run, by job name and reason (see `MissedFiresDropped`). */
  catchupDropped: { jobName: string; reason: MissedFiresDropped['reason']; count: number }[];
  /** Finished runs deleted by history pruning. */
  prunedRuns: number;
}

/**
 * In-process counters behind `/metrics` and the health JSON: runs by job and status, an
 * execution-time histogram per job, dead-letter transitions and in-flight runs.
 */
export class SchedulerMetrics {
  /** Finished runs by job name: one entry a job, its status counts and execution-time histogram together. */
  #jobs = new Map<string, JobCounts>();
  #deadLetters = new Map<string, number>();
  #inFlight = 0;
  #clockSteps = { forward: 0, backward: 0 };
  /** Keyed by job name, then reason. */
  #catchupDropped = new Map<string, Map<MissedFiresDropped['reason'], number>>();
  #prunedRuns = 0;
  #totalMs = 0;
  #timed = 0;

  /** Counts a finished run and its execution time. */
  recordRun(jobName: string, status: RunStatus, executionTimeMs: number | null): void {
    let counts = this.#jobs.get(jobName);
    if (counts === undefined) this.#jobs.set(jobName, (counts = { statuses: {}, buckets: null, sum: 0, count: 0 }));
    const { statuses } = counts;
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (executionTimeMs === null) return;
    const seconds = executionTimeMs / 1000;
    let bucket = 0;
    while (bucket < DURATION_BUCKETS.length && !(seconds <= DURATION_BUCKETS[bucket]!)) bucket++;
    if (bucket < DURATION_BUCKETS.length) {
      const buckets = (counts.buckets ??= []);
      while (buckets.length <= bucket) buckets.push(0);
      buckets[bucket]!++;
    } else counts.buckets ??= [];
    counts.sum += seconds;
    counts.count++;
    this.#totalMs += executionTimeMs;
    this.#timed++;
  }

  /** Counts a job moving to dead_letter. */
  recordDeadLetter(jobName: string): void {
    this.#deadLetters.set(jobName, (this.#deadLetters.get(jobName) ?? 0) + 1);
  }

  /** Counts a wall-clock step this process noticed. */
  recordClockStep(direction: 'forward' | 'backward'): void {
    this.#clockSteps[direction]++;
  }

  /** Counts missed fires a plan made no run for. */
  recordCatchupDropped(jobName: string, reason: MissedFiresDropped['reason'], count: number): void {
    let reasons = this.#catchupDropped.get(jobName);
    if (reasons === undefined) this.#catchupDropped.set(jobName, (reasons = new Map()));
    reasons.set(reason, (reasons.get(reason) ?? 0) + count);
  }

  /** Counts finished runs deleted by history pruning. */
  recordPruned(count: number): void {
    this.#prunedRuns += count;
  }

  /** Marks a run as started (+1) or ended (−1). */
  adjustInFlight(delta: 1 | -1): void {
    this.#inFlight += delta;
  }

  /** Runs executing now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** The totals of the health JSON's `metrics` object. */
  totals(): SchedulerHealth['metrics'] {
    let total = 0;
    let succeeded = 0;
    let failed = 0;
    for (const { statuses } of this.#jobs.values()) {
      for (const [status, count] of statusCounts(statuses)) {
        if (status === 'skipped') continue;
        total += count;
        if (status === 'succeeded') succeeded += count;
        if (status === 'failed' || status === 'timed_out' || status === 'interrupted') failed += count;
      }
    }
    return {
      runs_total: total,
      runs_succeeded: succeeded,
      runs_failed: failed,
      avg_execution_time_ms: this.#timed === 0 ? 0 : Math.round(this.#totalMs / this.#timed),
    };
  }

  /** A copy of every counter. */
  snapshot(): MetricsSnapshot {
    return {
      runs: [...this.#jobs].flatMap(([jobName, { statuses }]) => statusCounts(statuses).map(([status, count]) => ({ jobName, status, count }))),
      durations: [...this.#jobs].flatMap(([jobName, counts]) => (counts.buckets === null ? [] : [histogramOf(jobName, counts, counts.buckets)])),
      deadLetters: [...this.#deadLetters].map(([jobName, count]) => ({ jobName, count })),
      inFlight: this.#inFlight,
      clockSteps: { ...this.#clockSteps },
      catchupDropped: [...this.#catchupDropped].flatMap(([jobName, reasons]) => [...reasons].map(([reason, count]) => ({ jobName, reason, count }))),
      prunedRuns: this.#prunedRuns,
    };
  }

  /** The counters in Prometheus text exposition format, with the spec's metric names. */
  toPrometheus(): string {
    const snap = this.snapshot();
    const lines = [
      '# HELP symbiont_cron_runs_total Finished cron runs by job and status.',
      '# TYPE symbiont_cron_runs_total counter',
      ...snap.runs.map((r) => `symbiont_cron_runs_total{job_name="${label(r.jobName)}",status="${r.status}"} ${r.count}`),
      '# HELP symbiont_cron_execution_duration_seconds Execution time of cron runs.',
      '# TYPE symbiont_cron_execution_duration_seconds histogram',
      ...snap.durations.flatMap((d) => [
        ...d.buckets.map((b) => `symbiont_cron_execution_duration_seconds_bucket{job_name="${label(d.jobName)}",le="${b.le}"} ${b.count}`),
        `symbiont_cron_execution_duration_seconds_bucket{job_name="${label(d.jobName)}",le="+Inf"} ${d.count}`,
        `symbiont_cron_execution_duration_seconds_sum{job_name="${label(d.jobName)}"} ${d.sum}`,
        `symbiont_cron_execution_duration_seconds_count{job_name="${label(d.jobName)}"} ${d.count}`,
      ]),
      '# HELP symbiont_cron_in_flight_jobs Runs executing now.',
      '# TYPE symbiont_cron_in_flight_jobs gauge',
      `symbiont_cron_in_flight_jobs ${snap.inFlight}`,
      '# HELP symbiont_cron_dead_letter_total Jobs moved to dead-letter.',
      '# TYPE symbiont_cron_dead_letter_total counter',
      ...snap.deadLetters.map((d) => `symbiont_cron_dead_letter_total{job_name="${label(d.jobName)}"} ${d.count}`),
      '# HELP symbiont_cron_clock_steps_total Wall-clock steps noticed, by direction.',
      '# TYPE symbiont_cron_clock_steps_total counter',
      `symbiont_cron_clock_steps_total{direction="forward"} ${snap.clockSteps.forward}`,
      `symbiont_cron_clock_steps_total{direction="backward"} ${snap.clockSteps.backward}`,
      '# HELP symbiont_cron_catchup_dropped_total Missed fires that got no run, by reason: the job\'s catchup policy (skip, once), the window or cap of catchup all, or a fire due when its job was rescheduled or paused.',
      '# TYPE symbiont_cron_catchup_dropped_total counter',
      ...snap.catchupDropped.map((d) => `symbiont_cron_catchup_dropped_total{job_name="${label(d.jobName)}",reason="${d.reason}"} ${d.count}`),
      '# HELP symbiont_cron_runs_pruned_total Finished runs deleted from the history by retention.',
      '# TYPE symbiont_cron_runs_pruned_total counter',
      `symbiont_cron_runs_pruned_total ${snap.prunedRuns}`,
    ];
    return `${lines.join('\n')}\n`;
  }
}

/** A job's execution-time histogram as a snapshot gives it: cumulative counts for every bucket. */
function histogramOf(jobName: string, counts: JobCounts, buckets: readonly number[]): MetricsSnapshot['durations'][number] {
  let below = 0;
  return {
    jobName,
    buckets: DURATION_BUCKETS.map((le, i) => ({ le, count: (below += buckets[i] ?? 0) })),
    sum: counts.sum,
    count: counts.count,
  };
}

/** A job's run counts as `[status, count]` pairs, in the order the statuses were first counted. */
function statusCounts(byStatus: Partial<Record<RunStatus, number>>): [RunStatus, number][] {
  return Object.entries(byStatus) as [RunStatus, number][];
}

function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
