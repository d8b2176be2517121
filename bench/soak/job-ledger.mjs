/**
 * What the soak did to each job and when, kept by the process that did it: the basis of the "no
 * lost fire" check. A change is known only to have happened between the moment its call started
 * and the moment it returned, so the fires around every change are left out of the expectations.
 */
import { firesEvery } from '../../tests/processes/fire-audit.mjs';

/**
 * @typedef {object} Segment  a stretch of time in which a job was active with one schedule
 * @property {number} step  seconds between fires
 * @property {number} from  epoch ms, when the change that started it had returned
 * @property {number} to  epoch ms, when the change that ended it started
 */

/**
 * @typedef {object} LedgerEntry
 * @property {string} id
 * @property {string} name
 * @property {string} kind  the soak's category of the job (`steady`, `failing`, `traffic`, `one-shot`…)
 * @property {number | null} step  seconds between fires of a cron job, null for a one-shot
 * @property {number | null} oneShotAt  epoch ms of a one-shot's instant
 * @property {boolean} active  whether it is active now
 * @property {number} since  when the current state began (epoch ms)
 * @property {Segment[]} segments  closed stretches of activity
 * @property {boolean} removed  deleted: its runs went with it, so its fires cannot be checked
 * @property {boolean} uncertain  a call about it failed in a way that leaves its state unknown
 */

/** Expected fires of the jobs the soak created and changed. */
export class JobLedger {
  /** @type {Map<string, LedgerEntry>} */
  #jobs = new Map();

  /**
   * Records a job created by a call that returned at `t1`.
   * @param {{ id: string, name: string, status: string }} job
   * @param {{ t1: number, kind: string, step?: number, oneShotAt?: number }} facts
   */
  created(job, { t1, kind, step, oneShotAt }) {
    this.#jobs.set(job.id, {
      id: job.id,
      name: job.name,
      kind,
      step: step ?? null,
      oneShotAt: oneShotAt ?? null,
      active: job.status === 'active',
      since: t1,
      segments: [],
      removed: false,
      uncertain: false,
    });
  }

  /**
   * Records a change made by a call between `t0` and `t1`: the job's activity up to `t0` ends, and
   * from `t1` it is active (or not) with schedule `step`.
   * @param {string} id
   * @param {{ t0: number, t1: number, active?: boolean, step?: number }} change
   */
  changed(id, { t0, t1, active, step }) {
    const entry = this.#entry(id);
    this.#close(entry, t0);
    if (active !== undefined) entry.active = active;
    if (step !== undefined) entry.step = step;
    entry.since = t1;
  }

  /**
   * Records a job deleted by a call that started at `t0`.
   * @param {string} id
   * @param {number} t0
   */
  removed(id, t0) {
    const entry = this.#entry(id);
    this.#close(entry, t0);
    entry.removed = true;
    entry.active = false;
  }

  /**
   * Marks a job whose state a failed call left unknown; it is left out of the checks.
   * @param {string} id
   */
  uncertain(id) {
    this.#entry(id).uncertain = true;
  }

  /**
   * @param {string} id
   * @returns {LedgerEntry | undefined}
   */
  get(id) {
    return this.#jobs.get(id);
  }

  /** @returns {LedgerEntry[]} every job recorded */
  entries() {
    return [...this.#jobs.values()];
  }

  /**
   * What the ledger knows of a job's activity, for a violation's details: each closed stretch and
   * the current state, times as ISO strings.
   * @param {string} id
   * @returns {string}
   */
  history(id) {
    const entry = this.#entry(id);
    const iso = (/** @type {number} */ t) => new Date(t).toISOString();
    const stretches = entry.segments.map((segment) => `every ${segment.step} s ${iso(segment.from)}–${iso(segment.to)}`);
    const schedule = entry.oneShotAt === null ? `every ${entry.step} s` : `one-shot at ${iso(entry.oneShotAt)}`;
    const now = entry.active ? `${schedule} since ${iso(entry.since)}` : `inactive since ${iso(entry.since)}`;
    return [...stretches, now].join(', ');
  }

  /**
   * The fires each checkable job must have made up to `until`, leaving out `marginMs` on each side
   * of every change: a cron job's fires in each stretch of activity, a one-shot's instant.
   * @param {number} until  epoch ms
   * @param {number} marginMs
   * @returns {{ id: string, name: string, fires: number[] }[]}
   */
  expectations(until, marginMs) {
    return this.entries()
      .filter((entry) => !entry.removed && !entry.uncertain)
      .map((entry) => {
        if (entry.oneShotAt !== null) {
          const due = entry.oneShotAt <= until - marginMs && entry.oneShotAt >= entry.since + marginMs;
          return { id: entry.id, name: entry.name, fires: due ? [entry.oneShotAt] : [] };
        }
        const segments = [...entry.segments];
        if (entry.active && entry.step !== null) segments.push({ step: entry.step, from: entry.since, to: until });
        const fires = segments.flatMap((segment) => firesEvery(segment.step, segment.from + marginMs, Math.min(segment.to, until) - marginMs));
        return { id: entry.id, name: entry.name, fires };
      });
  }

  /**
   * @param {string} id
   * @returns {LedgerEntry}
   */
  #entry(id) {
    const entry = this.#jobs.get(id);
    if (!entry) throw new Error(`the ledger has no job ${id}`);
    return entry;
  }

  /**
   * @param {LedgerEntry} entry
   * @param {number} at
   */
  #close(entry, at) {
    if (entry.active && entry.step !== null && at > entry.since) entry.segments.push({ step: entry.step, from: entry.since, to: at });
  }
}
