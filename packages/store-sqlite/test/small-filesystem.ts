import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A tmpfs of a fixed size mounted on a temporary folder: a filesystem that really fills up. */
export interface SmallFilesystem {
  /** Where it is mounted. */
  dir: string;
  /** Gives it room again (remounts it bigger), as freeing disk space would. */
  grow(): void;
  /** Unmounts it and removes the folder. */
  release(): void;
}

/** `mount` as this user may run it: directly as root, else through passwordless sudo (as on CI runners). */
function mountCommand(): string[] | null {
  if (process.getuid?.() === 0) return [];
  try {
    execFileSync('sudo', ['-n', 'true'], { stdio: 'ignore' });
    return ['sudo', '-n'];
  } catch {
    return null;
  }
}

/**
 * Mounts a tmpfs of `kib` KiB, or answers null when this machine does not let the tests mount
 * one (neither root nor passwordless sudo); callers then fill a file with SQLite's
 * `max_page_count` instead.
 */
export function mountSmallFilesystem(kib: number): SmallFilesystem | null {
  const prefix = mountCommand();
  if (prefix === null) return null;
  const run = (args: string[]) => {
    const [command, ...rest] = [...prefix, ...args];
    execFileSync(command as string, rest, { stdio: 'ignore' });
  };
  const dir = mkdtempSync(join(tmpdir(), 'symbi-full-'));
  try {
    run(['mount', '-t', 'tmpfs', '-o', `size=${kib}k`, 'tmpfs', dir]);
  } catch {
    rmdirSync(dir);
    return null;
  }
  return {
    dir,
    grow: () => run(['mount', '-o', `remount,size=${kib * 100}k`, dir]),
    release: () => {
      run(['umount', '-l', dir]);
      rmdirSync(dir);
    },
  };
}
