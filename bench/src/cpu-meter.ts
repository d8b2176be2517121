import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** The database server a contender works against, whose processes' CPU is read: none for in-process stores. */
export type ServerKind = 'postgres' | 'redis' | null;

/** CPU time spent during a measured part, in µs. */
export interface CpuSpent {
  /** The contender's own processes: the measuring process and the child processes it was given. */
  processUs: number;
  /** The server's processes (null: no server, or its processes could not be read on this machine). */
  serverUs: number | null;
}

/** The process name (`/proc/<pid>/comm`) of each kind of server. */
const SERVER_COMM = { postgres: 'postgres', redis: 'redis-server' } as const;

let tickUs: number | null = null;

/** µs per clock tick of `/proc/<pid>/stat` (`getconf CLK_TCK`, 100 on Linux). */
function microsPerTick(): number {
  tickUs ??= 1e6 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  return tickUs;
}

/** The fields of `/proc/<pid>/stat` after the command name (field 3 on), or null when the process is gone. */
function statOf(pid: number | string): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** CPU ticks of a process's own threads (utime + stime), from its stat fields. */
const ownTicks = (fields: string[]) => Number(fields[11]) + Number(fields[12]);

/** CPU ticks of a process's waited-for children (cutime + cstime), from its stat fields. */
const reapedTicks = (fields: string[]) => Number(fields[13]) + Number(fields[14]);

/** The command name of a process, or null when it is gone. */
function commOf(pid: number | string): string | null {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return null;
  }
}

/**
 * CPU µs the server's processes have used so far, or null when none can be read (no `/proc`, or the
 * server runs elsewhere). For PostgreSQL, backends that exited are in the postmaster's reaped
 * children's time, so connections closed during the measured part still count.
 */
export function serverCpuUs(kind: Exclude<ServerKind, null>): number | null {
  const comm = SERVER_COMM[kind];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  let ticks = 0;
  let found = false;
  for (const pid of entries) {
    if (!/^\d+$/.test(pid) || commOf(pid) !== comm) continue;
    const fields = statOf(pid);
    if (fields === null) continue;
    found = true;
    ticks += ownTicks(fields);
    // The postmaster (the one whose parent is not a server process) holds its reaped backends' time.
    if (commOf(fields[1]!) !== comm) ticks += reapedTicks(fields);
  }
  return found ? ticks * microsPerTick() : null;
}

/** CPU µs the given processes have used so far (a process already gone counts 0). */
function processesCpuUs(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const fields = statOf(pid);
    if (fields !== null) ticks += ownTicks(fields);
  }
  // No tick, no question of their length (getconf), as for a contender with no child processes.
  return ticks === 0 ? 0 : ticks * microsPerTick();
}

/** This process's CPU µs so far. */
function ownCpuUs(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/**
 * Measures the CPU a contender spends between {@link start} and {@link stop}: this process, the
 * child processes `children` names (read at both ends, so they must outlive the measured part), and
 * the server's processes (on the same machine). A server is shared by nothing else during a
 * benchmark, so its time is the contender's work.
 */
export class CpuMeter {
  readonly #server: ServerKind;
  readonly #children: () => number[];
  #at: { own: number; children: number; server: number | null } | null = null;

  constructor(server: ServerKind, children: () => number[] = () => []) {
    this.#server = server;
    this.#children = children;
  }

  /** The measured part begins. */
  start(): void {
    this.#at = { own: ownCpuUs(), children: processesCpuUs(this.#children()), server: this.#server === null ? null : serverCpuUs(this.#server) };
  }

  /** The measured part ended: the CPU spent since {@link start}. */
  stop(): CpuSpent {
    const at = this.#at;
    if (at === null) throw new Error('CpuMeter.stop() before start()');
    const processUs = ownCpuUs() - at.own + processesCpuUs(this.#children()) - at.children;
    const server = this.#server === null || at.server === null ? null : serverCpuUs(this.#server);
    return { processUs, serverUs: server === null || at.server === null ? null : server - at.server };
  }
}
