/**
 * Who this process is, as another process on the same host can check it: the host key, the pid and
 * the start token an instance registers (see `liveness.ts`), and the probe that asks the operating
 * system whether such a process still exists.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import type { InstanceRegistration } from '../ports/job-store.js';
import type { ProcessProbe } from './liveness.js';

/** `read()`, or null when it throws (a file that does not exist on this platform). */
function attempt(read: () => string): string | null {
  try {
    return read().trim();
  } catch {
    return null;
  }
}

/**
 * This host's key: its hostname, and on Linux its boot id and the pid namespace of this process,
 * so two machines or two containers that happen to share a hostname never compare pids.
 */
function hostKey(): string {
  const boot = attempt(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8'));
  const namespace = attempt(() => readlinkSync('/proc/self/ns/pid'));
  return [hostname(), boot, namespace].filter((part) => part !== null).join('/');
}

/** The hostname part of a host key (see {@link thisProcess}), for messages. */
export function hostnameOf(hostKey: string): string {
  return hostKey.split('/')[0] ?? hostKey;
}

/**
 * The fields of Linux `/proc/<pid>/stat` from field 3 (the state) on, or null where there is no such
 * file. The name (field 2) may hold spaces and parentheses, so the fields are counted after its last `)`.
 */
function statFields(pid: number | 'self'): string[] | null {
  const stat = attempt(() => readFileSync(`/proc/${pid}/stat`, 'utf8'));
  return stat === null ? null : stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** When the process `pid` started, in clock ticks since boot (field 22 of Linux `/proc/<pid>/stat`), or null where there is no such file. */
export function processStartToken(pid: number | 'self'): string | null {
  return statFields(pid)?.[19] ?? null;
}

/** This process as scheduler instance `id` registers it. */
export function thisProcess(id: string): InstanceRegistration {
  return { id, host: hostKey(), pid: process.pid, startToken: processStartToken('self') };
}

/**
 * Asks this host whether process `pid` is the one that registered with `startToken`: `gone` when
 * no such pid exists (`kill(pid, 0)` fails with `ESRCH`), it is a zombie (it exited or was killed
 * and runs nothing more, though its parent has not reaped it yet: a `kill -9`ed scheduler until
 * then, or for good under a parent that never reaps) or it started at another time (a reused pid);
 * `alive` otherwise, including a process of another user (`EPERM`).
 */
export const probeProcess: ProcessProbe = (pid, startToken) => {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return 'gone';
  }
  const stat = statFields(pid);
  if (stat === null) return 'alive';
  if (stat[0] === 'Z' || stat[0] === 'X') return 'gone';
  return startToken === null || stat[19] === startToken ? 'alive' : 'gone';
};
