/**
 * The soak's jobs and its API-like traffic: what users do through the `CronScheduler` API (add,
 * update, pause, resume, run now, remove) from a process that runs no agents itself, while the
 * instances run the jobs. Every call is written to the {@link JobLedger}.
 */

/** @typedef {import('./job-ledger.mjs').JobLedger} JobLedger */

/** Most consecutive failures before dead-letter: high, so interruptions never dead-letter a job. */
const MAX_RETRIES = 20;

/**
 * A cron expression firing every `step` seconds (`step` divides 60).
 * @param {number} step
 */
export const everySeconds = (step) => (step === 1 ? '* * * * * *' : `*/${step} * * * * *`);

/**
 * What a job's agent does (see `scheduler-worker.mjs`).
 * @param {number} ms
 * @param {number} [failAttempts]
 */
const agent = (ms, failAttempts = 0) => JSON.stringify(failAttempts > 0 ? { ms, failAttempts } : { ms });

/**
 * @typedef {object} SeedCounts
 * @property {number} fast  every-second jobs with quick agents
 * @property {number} slow  every-2-seconds jobs whose agents take 0.5–2.5 s (a third with overlap `skip`)
 * @property {number} failing  every-5-seconds jobs whose agent fails its first attempt, so each fire is retried
 * @property {number} traffic  jobs the traffic changes, every 1, 2, 3 or 5 seconds
 */

export class Traffic {
  /** @type {import('@symbi/core').CronScheduler} */
  #scheduler;
  /** @type {JobLedger} */
  #ledger;
  /** @type {() => number} */
  #random;
  /** @type {string[]} ids of the jobs the traffic may change */
  #targets = [];
  #created = 0;
  /** API calls made, and how many the scheduler refused or that failed. */
  calls = 0;
  rejected = 0;
  /** @type {{ runId: string, jobId: string }[]} manual runs asked for */
  manualRuns = [];

  /**
   * @param {{ scheduler: import('@symbi/core').CronScheduler, ledger: JobLedger, random: () => number }} options
   */
  constructor({ scheduler, ledger, random }) {
    this.#scheduler = scheduler;
    this.#ledger = ledger;
    this.#random = random;
  }

  /**
   * Creates the initial jobs.
   * @param {SeedCounts} counts
   */
  async seed(counts) {
    for (let i = 0; i < counts.fast; i++) await this.#add('steady', `fast-${i}`, 1, { input: agent(20), overlap: 'allow_all' });
    for (let i = 0; i < counts.slow; i++) {
      await this.#add('steady', `slow-${i}`, 2, { input: agent(500 + Math.floor(this.#random() * 2000)), overlap: i % 3 === 0 ? 'skip' : 'allow_all' });
    }
    for (let i = 0; i < counts.failing; i++) {
      await this.#add('steady', `failing-${i}`, 5, { input: agent(50, 1), overlap: 'allow_all' });
    }
    for (let i = 0; i < counts.traffic; i++) this.#targets.push(await this.#addTrafficJob());
  }

  /** One random API call. */
  async step() {
    const roll = this.#random();
    if (roll < 0.08 || this.#targets.length < 10) return void this.#targets.push(await this.#addTrafficJob());
    if (roll < 0.18) return this.#addOneShot();
    const id = /** @type {string} */ (this.#targets[Math.floor(this.#random() * this.#targets.length)]);
    if (roll < 0.33) return this.#change(id, 'reschedule');
    if (roll < 0.43) return this.#change(id, 'retune');
    if (roll < 0.73) return this.#change(id, 'toggle');
    if (roll < 0.9) return this.#runNow(id);
    return this.#remove(id);
  }

  /**
   * @param {string} kind
   * @param {string} name
   * @param {number} step
   * @param {{ input: string, overlap: import('@symbi/core').OverlapPolicy }} spec
   */
  async #add(kind, name, step, spec) {
    this.calls++;
    const job = await this.#scheduler.add({ name, agentId: kind, cronExpr: everySeconds(step), maxRetries: MAX_RETRIES, ...spec });
    this.#ledger.created(job, { t1: Date.now(), kind, step });
    return job.id;
  }

  async #addTrafficJob() {
    const step = this.#pick([1, 2, 3, 5]);
    const input = agent(50 + Math.floor(this.#random() * 250));
    return this.#add('traffic', `traffic-${++this.#created}`, step, { input, overlap: 'allow_all' });
  }

  async #addOneShot() {
    const oneShotAt = Date.now() + 2_000 + Math.floor(this.#random() * 8_000);
    this.calls++;
    const job = await this.#scheduler.add({
      name: `one-shot-${++this.#created}`,
      agentId: 'one-shot',
      at: new Date(oneShotAt).toISOString(),
      input: agent(100),
      maxRetries: MAX_RETRIES,
    });
    this.#ledger.created(job, { t1: Date.now(), kind: 'one-shot', oneShotAt });
  }

  /**
   * @param {string} id
   * @param {'reschedule' | 'retune' | 'toggle'} how
   */
  async #change(id, how) {
    const entry = /** @type {import('./job-ledger.mjs').LedgerEntry} */ (this.#ledger.get(id));
    await this.#call(id, async (t0) => {
      if (how === 'reschedule') {
        const step = this.#pick([1, 2, 3, 5]);
        await this.#scheduler.update(id, { cronExpr: everySeconds(step) });
        this.#ledger.changed(id, { t0, t1: Date.now(), step });
      } else if (how === 'retune') {
        await this.#scheduler.update(id, { input: agent(50 + Math.floor(this.#random() * 250)) });
        this.#ledger.changed(id, { t0, t1: Date.now() });
      } else if (entry.active) {
        await this.#scheduler.pause(id);
        this.#ledger.changed(id, { t0, t1: Date.now(), active: false });
      } else {
        await this.#scheduler.resume(id);
        this.#ledger.changed(id, { t0, t1: Date.now(), active: true });
      }
    });
  }

  /** @param {string} id */
  async #runNow(id) {
    await this.#call(id, async () => {
      const run = await this.#scheduler.runNow(id);
      this.manualRuns.push({ runId: run.id, jobId: id });
    });
  }

  /** @param {string} id */
  async #remove(id) {
    await this.#call(id, async (t0) => {
      await this.#scheduler.remove(id);
      this.#ledger.removed(id, t0);
      this.#targets = this.#targets.filter((target) => target !== id);
    });
  }

  /**
   * Makes one call about job `id`. A call that throws leaves the job's state unknown to the
   * ledger, which then leaves the job out of the checks.
   * @param {string} id
   * @param {(t0: number) => Promise<void>} body
   */
  async #call(id, body) {
    this.calls++;
    try {
      await body(Date.now());
    } catch (error) {
      this.rejected++;
      this.#ledger.uncertain(id);
      this.#targets = this.#targets.filter((target) => target !== id);
      process.stderr.write(`soak: API call about job ${id} failed: ${error instanceof Error ? error.message : String(error)}\n`);
    }
  }

  /**
   * @template T
   * @param {T[]} items
   * @returns {T}
   */
  #pick(items) {
    return /** @type {T} */ (items[Math.floor(this.#random() * items.length)]);
  }
}
