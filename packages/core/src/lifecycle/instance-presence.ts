import type { CronJobDefinition } from '../domain/job.js';
import type { JobRunRecord } from '../domain/run.js';
import type { Clock, ClockTimer } from '../ports/clock.js';
import type { FinishPlan, InstanceRegistration, JobStore } from '../ports/job-store.js';
import { deadInstances, HEARTBEAT_INTERVAL_MS, type DeadInstance, type ProcessProbe } from './liveness.js';
import { probeProcess, thisProcess } from './process-identity.js';

/** The instance methods of a store that has them all (see `JobStore.registerInstance`). */
type PresenceStore = Required<
  Pick<JobStore, 'registerInstance' | 'beatInstance' | 'listInstances' | 'forgetInstances' | 'deregisterInstance' | 'releaseOwners'>
>;

/** What an {@link InstancePresence} is told, beyond its store and clock. */
export interface PresenceHooks {
  /** A beat or a sweep failed (the store is unreachable, say); presence goes on at the next beat. */
  onError(error: unknown, during: string): void;
  /** This instance's row was gone: another instance declared it dead and took its runs. */
  onDeclaredDead(): void;
}

/**
 * A scheduler instance's presence in a store it shares with others: it registers the instance,
 * beats its heartbeat every {@link HEARTBEAT_INTERVAL_MS} on its own timer, sweeps for dead
 * instances (the rule of `liveness.ts`) and releases their runs, and deregisters on a graceful stop.
 */
export class InstancePresence {
  readonly #store: PresenceStore;
  readonly #clock: Clock;
  readonly #self: InstanceRegistration;
  readonly #hooks: PresenceHooks;
  readonly #probe: ProcessProbe;
  #timer: ClockTimer | null = null;
  #beating = false;
  /** An earlier life of this very instance id found dead at start: its runs go at the first sweep. */
  #earlierLife: DeadInstance | null = null;

  private constructor(store: PresenceStore, clock: Clock, self: InstanceRegistration, hooks: PresenceHooks, probe: ProcessProbe) {
    this.#store = store;
    this.#clock = clock;
    this.#self = self;
    this.#hooks = hooks;
    this.#probe = probe;
  }

  /**
   * The presence of instance `id` of this process in `store`, or null when the store keeps no
   * instances (it lacks one of the instance methods): its dead owners' runs then wait out their leases.
   */
  static of(store: JobStore, clock: Clock, id: string, hooks: PresenceHooks, probe: ProcessProbe = probeProcess): InstancePresence | null {
    const { registerInstance, beatInstance, listInstances, forgetInstances, deregisterInstance, releaseOwners } = store;
    if (!registerInstance || !beatInstance || !listInstances || !forgetInstances || !deregisterInstance || !releaseOwners) return null;
    return new InstancePresence(store as JobStore & PresenceStore, clock, thisProcess(id), hooks, probe);
  }

  /**
   * Registers this instance and starts its heartbeat. A row of this instance id left by a process
   * that is gone (an earlier life) is judged first, since registering replaces it: the runs that
   * life held still carry this id, and the first sweep releases them.
   */
  async start(): Promise<void> {
    const now = new Date(this.#clock.now());
    const earlier = (await this.#store.listInstances(now)).filter((instance) => instance.id === this.#self.id);
    this.#earlierLife = deadInstances(earlier, this.#self, this.#probe)[0] ?? null;
    await this.#store.registerInstance(this.#self, now);
    this.#beating = true;
    this.#scheduleBeat();
  }

  /** Stops the heartbeat and deletes this instance's row: it is gone, and its runs are already handed back. */
  async stop(): Promise<void> {
    this.#beating = false;
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    await this.#store.deregisterInstance(this.#self.id);
  }

  #scheduleBeat(): void {
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = null;
      void this.#beat().finally(() => {
        if (this.#beating && this.#timer === null) this.#scheduleBeat();
      });
    }, HEARTBEAT_INTERVAL_MS);
  }

  async #beat(): Promise<void> {
    try {
      const now = new Date(this.#clock.now());
      if (await this.#store.beatInstance(this.#self.id, now)) return;
      await this.#store.registerInstance(this.#self, now);
      this.#hooks.onDeclaredDead();
    } catch (error) {
      this.#hooks.onError(error, 'instance heartbeat');
    }
  }

  /**
   * Finds the dead instances, forgets them (only the one instance whose delete wins releases a
   * dead one's runs) and releases their runs in batches of `limit`, ending `running` ones through
   * `plan` as a lapsed lease does. Returns the runs released.
   */
  async sweep(now: Date, limit: number, plan: (job: CronJobDefinition, run: JobRunRecord) => FinishPlan): Promise<JobRunRecord[]> {
    const dead = deadInstances(await this.#store.listInstances(now), this.#self, this.#probe);
    const won = new Set(dead.length === 0 ? [] : await this.#store.forgetInstances(dead));
    const owners = dead.filter((instance) => won.has(instance.id));
    // The first sweep precedes the first claim: every run under this id then is the earlier life's.
    if (this.#earlierLife !== null) owners.push(this.#earlierLife);
    const released: JobRunRecord[] = [];
    if (owners.length === 0) return released;
    for (;;) {
      const runs = await this.#store.releaseOwners({ owners, now, limit, plan });
      released.push(...runs);
      if (runs.length < limit || limit === 0) break;
    }
    this.#earlierLife = null;
    return released;
  }
}
