/**
 * The soak's scheduler instances: worker processes on one PostgreSQL schema, killed with SIGKILL
 * and started again. Each start is a new incarnation with its own instance id and execution log,
 * as a restarted process would have.
 */
import { join } from 'node:path';
import { startWorker } from '../../tests/processes/worker-control.mjs';

/** @typedef {import('../../tests/processes/worker-control.mjs').WorkerProcess} WorkerProcess */

/**
 * @typedef {object} FleetOptions
 * @property {number} size  instance slots
 * @property {string} url  PostgreSQL connection string
 * @property {string} schema
 * @property {string} dir  folder for the execution logs
 * @property {Record<string, number>} settings  worker flags (see `scheduler-worker.mjs`)
 */

export class Fleet {
  /** @type {FleetOptions} */
  #options;
  /** @type {(WorkerProcess | null)[]} live worker per slot */
  #slots;
  #incarnations = 0;
  /** @type {string[]} */
  #logs = [];
  /** Instance ids killed with SIGKILL. */
  killed = new Set();
  /** @type {string[]} workers that exited without being told to, with their stderr */
  unexpectedExits = [];

  /** @param {FleetOptions} options */
  constructor(options) {
    this.#options = options;
    this.#slots = Array.from({ length: options.size }, () => null);
  }

  /** Starts every empty slot and waits until all are ready. */
  async fillSlots() {
    await Promise.all(this.#slots.map((worker, slot) => (worker ? null : this.#start(slot))));
  }

  /** @returns {number[]} slots with a live worker */
  liveSlots() {
    return this.#slots.flatMap((worker, slot) => (worker ? [slot] : []));
  }

  /** @returns {number[]} slots without one */
  emptySlots() {
    return this.#slots.flatMap((worker, slot) => (worker ? [] : [slot]));
  }

  /** @returns {string[]} every execution log written so far */
  logs() {
    return [...this.#logs];
  }

  /**
   * Kills the worker of `slot` with SIGKILL.
   * @param {number} slot
   */
  async kill(slot) {
    const worker = this.#slots[slot];
    if (!worker) return;
    this.#slots[slot] = null;
    this.killed.add(worker.instance);
    await worker.kill9();
  }

  /**
   * Starts a new incarnation in an empty slot.
   * @param {number} slot
   */
  async restart(slot) {
    if (!this.#slots[slot]) await this.#start(slot);
  }

  /**
   * Stops every worker gracefully.
   * @returns {Promise<import('../../tests/processes/worker-control.mjs').WorkerExit[]>}
   */
  async stopAll() {
    const workers = this.#slots.filter((worker) => worker !== null);
    this.#slots.fill(null);
    return Promise.all(workers.map((worker) => worker.stop()));
  }

  /** @param {number} slot */
  async #start(slot) {
    const instance = `soak-${slot}-${++this.#incarnations}`;
    const log = join(this.#options.dir, `${instance}.jsonl`);
    this.#logs.push(log);
    const { url, schema, settings } = this.#options;
    const worker = startWorker({ instance, log, store: 'postgres', url, schema, settings });
    this.#slots[slot] = worker;
    void worker.exited.then((exit) => {
      if (this.#slots[slot] === worker) {
        this.#slots[slot] = null;
        this.unexpectedExits.push(`${instance} exited by itself (${exit.code ?? exit.signal}): ${exit.stderr.slice(-2000)}`);
      }
    });
    await worker.ready;
  }
}
