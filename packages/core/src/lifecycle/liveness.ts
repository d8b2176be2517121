/**
 * Liveness: which scheduler instances sharing a store are dead, and what happens to their runs.
 * Leases stay the backstop (a run whose lease lapsed is recovered by `recoverExpired` whatever its
 * owner's state); liveness frees a dead owner's runs as soon as its death is known instead.
 *
 * An instance registers a row (`InstanceRegistration`) when it starts, beats it every
 * {@link HEARTBEAT_INTERVAL_MS}, and deletes it when it stops gracefully. An instance is dead when:
 * - it runs on this host (same machine and pid namespace) with this process's own pid but another
 *   process start: an earlier life of this process (a container restarted as pid 1, say), under
 *   another instance id or under this one (a host that gives its scheduler a fixed `instanceId`:
 *   such a row is judged as this process starts, before it registers). Another scheduler in this
 *   very process (same pid, same start) is alive;
 * - it runs on this host and its process is gone, or its pid now belongs to a process started at
 *   another time (a reused pid);
 * - it runs on another host and its heartbeat has been silent longer than {@link SILENCE_LIMIT_MS},
 *   judged by the store's clock.
 * An instance on this host whose process is alive is alive, however long its heartbeat is silent:
 * a process cut off from its database is not dead, and must not see its runs taken over.
 *
 * A dead instance's runs (see {@link abandonment}): a `running` run ends `interrupted` and is
 * counted and retried by the job's policy, exactly as when its lease lapses; a run it claimed ahead,
 * a run it held for approval and a delivery it took from the outbox go back to the queue.
 */
import type { JobRunRecord } from '../domain/run.js';
import type { InstanceRecord, InstanceRegistration, RunPatch } from '../ports/job-store.js';
import { hostnameOf } from './process-identity.js';
import { interruption } from './transitions.js';

/** How often a registered instance refreshes its heartbeat. */
export const HEARTBEAT_INTERVAL_MS = 1_000;

/**
 * How long an instance on another host may go without a heartbeat before it is judged dead. Longer
 * than a database outage a live instance rides out (reconnecting with back-off), so that a cut
 * connection is not taken for a death; far shorter than a lease.
 */
export const SILENCE_LIMIT_MS = 10_000;

/** What the operating system says of a process on this host: `alive` (same pid, same start) or `gone`. */
export type ProcessProbe = (pid: number, startToken: string | null) => 'alive' | 'gone';

/** An instance judged dead, with what its row held when it was judged and why. */
export interface DeadInstance {
  /** Its instance id: the owner of its runs. */
  id: string;
  /** Its heartbeat count as read: it is forgotten only if it has not beaten since. */
  beats: number;
  /** Why it is judged dead, for the error of its interrupted runs. */
  reason: string;
}

/**
 * The instances of `instances` that are dead, as seen by the live instance `self` (the rule is in
 * this module's comment). `probe` asks this host's operating system about a pid.
 */
export function deadInstances(
  instances: readonly InstanceRecord[],
  self: InstanceRegistration,
  probe: ProcessProbe,
  silenceLimitMs: number = SILENCE_LIMIT_MS,
): DeadInstance[] {
  const dead: DeadInstance[] = [];
  for (const instance of instances) {
    const reason = deathOf(instance, self, probe, silenceLimitMs);
    if (reason !== null) dead.push({ id: instance.id, beats: instance.beats, reason });
  }
  return dead;
}

/** Whether `instance` is the row `self` registered: its id, in this very process. */
function isSelf(instance: InstanceRegistration, self: InstanceRegistration): boolean {
  return instance.id === self.id && instance.host === self.host && instance.pid === self.pid && instance.startToken === self.startToken;
}

function deathOf(instance: InstanceRecord, self: InstanceRegistration, probe: ProcessProbe, silenceLimitMs: number): string | null {
  if (isSelf(instance, self)) return null;
  const who = `instance ${instance.id} (pid ${instance.pid} on ${hostnameOf(instance.host)})`;
  if (instance.host === self.host) {
    if (instance.pid === self.pid) {
      return instance.startToken === self.startToken ? null : `${who} is gone: this process, pid ${self.pid}, is a later one`;
    }
    return probe(instance.pid, instance.startToken) === 'gone' ? `${who} is gone: its process exited` : null;
  }
  return instance.silentMs > silenceLimitMs ? `${who} is gone: no heartbeat for ${Math.round(instance.silentMs)} ms` : null;
}

/** What releasing one run of a dead owner writes: the run's patch, and whether it ended `interrupted` (then finished through `decideFinish`). */
export interface Abandonment {
  /** The run's patch. */
  patch: RunPatch;
  /** The run ended `interrupted`: count it and plan its retry as a lapsed lease's run is. */
  interrupted: boolean;
}

/**
 * What happens to `run`, owned by an instance judged dead for `reason`, at `now`: a `running` run
 * ends `interrupted` (see `interruption`); a `scheduled` or `awaiting_approval` run, or a finished
 * run whose delivery is still pending, loses its owner and lease so the queue or the outbox hands
 * it out again; any other run (history) is left alone (null).
 */
export function abandonment(run: JobRunRecord, now: Date, reason: string): Abandonment | null {
  if (run.owner === null) return null;
  if (run.status === 'running') return { patch: interruption(run, now, `interrupted: ${reason}`), interrupted: true };
  const queued = run.status === 'scheduled' || run.status === 'awaiting_approval';
  if (!queued && !run.deliveries.some((d) => d.status === 'pending')) return null;
  return { patch: { owner: null, leaseExpiresAt: null }, interrupted: false };
}
