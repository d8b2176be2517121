import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { redisVersion } from './throughput-peers.js';
import { postgresVersion } from './services.js';

/** The machine and services a run measured. */
export interface MachineInfo {
  /** CPU model, from /proc/cpuinfo. */
  cpu: string;
  /** Logical cores. */
  cores: number;
  /** Memory in GiB. */
  memoryGiB: number;
  /** Node.js version. */
  node: string;
  /** PostgreSQL server version. */
  postgres: string;
  /** Redis server version. */
  redis: string;
  /** Kernel, from /proc/version. */
  kernel: string;
  /**
   * One-minute load average when the run began and when it ended: well above the core count
   * means other work shared the machine and the figures are pessimistic.
   */
  load: { atStart: number; atEnd: number | null };
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) return line.split(':')[1]!.trim();
  } catch {
    // not Linux: os.cpus() still names the model
  }
  return cpus()[0]?.model ?? 'unknown';
}

function kernel(): string {
  try {
    return readFileSync('/proc/version', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return process.platform;
  }
}

/** Describes this machine and asks the services for their versions. */
export async function describeMachine(): Promise<MachineInfo> {
  return {
    cpu: cpuModel(),
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    postgres: await postgresVersion(),
    redis: await redisVersion(),
    kernel: kernel(),
    load: { atStart: loadavg()[0]!, atEnd: null },
  };
}
