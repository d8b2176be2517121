import { constants } from 'node:fs';
import { lstat, mkdir, open, rename, rm } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { DeliveryError } from '@symbi/core';
import type { CronJobDefinition, DeliveryChannel, DeliveryRouter, JobRunRecord } from '@symbi/core';
import { routerContext } from './router-options.js';
import type { RouterContext, RouterOptions } from './router-options.js';
import { deliveryPayload } from './run-summary.js';

/** Longest file name stem, well inside every file system's limit once `.log.N` is added. */
const MAX_STEM_LENGTH = 200;
// O_NOFOLLOW makes open() fail on a symlink, closing the gap between our lstat and the open.
const OPEN_FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | (constants.O_NOFOLLOW ?? 0);
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

/**
 * The `log_file` channel: appends one JSON line per run ({@link deliveryPayload} plus
 * `delivered_at`) to `<logDir>/<job-name>.log`, rotating it to `.log.1 … .log.N` when it would
 * pass `logMaxBytes`.
 *
 * The file always stays inside `logDir`: a job name that is a path (`../x`, `/etc/x`, `a/b`) is
 * refused, other unusual characters become `_`, and a log file that is a symlink or not a regular
 * file is never written. Appends to one file are serialised within this process.
 */
export class LogFileRouter implements DeliveryRouter {
  /** Absolute directory of the log files. */
  readonly logDir: string;
  readonly #context: RouterContext;
  readonly #queues = new Map<string, Promise<void>>();

  constructor(options: RouterOptions = {}) {
    this.#context = routerContext(options);
    this.logDir = path.resolve(this.#context.config.logDir);
  }

  /** The log file of `job`; throws a `DeliveryError` when its name cannot be a file name. */
  pathFor(job: CronJobDefinition, channel: DeliveryChannel = 'log_file'): string {
    const file = path.resolve(this.logDir, `${logFileStem(job.name, channel)}.log`);
    const relative = path.relative(this.logDir, file);
    if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative) || relative.includes(path.sep)) {
      throw new DeliveryError(channel, `job name ${JSON.stringify(job.name)} would place its log outside the log directory`);
    }
    return file;
  }

  /** Appends the run's line; rejects with a `DeliveryError` when the file cannot be written safely. */
  async route(channel: DeliveryChannel, job: CronJobDefinition, run: JobRunRecord, output: string): Promise<void> {
    const file = this.pathFor(job, channel);
    const delivered_at = new Date(this.#context.clock.now()).toISOString();
    const line = `${JSON.stringify({ delivered_at, ...deliveryPayload(job, run, output) })}\n`;
    const previous = this.#queues.get(file) ?? Promise.resolve();
    const next = previous.then(() => this.#append(channel, file, Buffer.from(line, 'utf8')));
    const settled = next.catch(() => undefined);
    this.#queues.set(file, settled);
    void settled.then(() => {
      if (this.#queues.get(file) === settled) this.#queues.delete(file);
    });
    await next;
  }

  async #append(channel: string, file: string, line: Buffer): Promise<void> {
    const name = path.basename(file);
    try {
      await mkdir(this.logDir, { recursive: true, mode: DIR_MODE });
      const existing = await lstatOrNull(file);
      if (existing) {
        assertRegularFile(channel, name, existing);
        const { logMaxBytes } = this.#context.config;
        if (existing.size > 0 && existing.size + line.length > logMaxBytes) await this.#rotate(file);
      }
      const handle = await open(file, OPEN_FLAGS, FILE_MODE);
      try {
        // A FIFO or device swapped in after the lstat is caught here, before anything is written.
        assertRegularFile(channel, name, await handle.stat());
        await handle.write(line);
      } finally {
        await handle.close();
      }
    } catch (error) {
      if (error instanceof DeliveryError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') throw refusedLink(channel, name);
      throw new DeliveryError(channel, `cannot write ${name} in the log directory (${code ?? 'error'})`, { retryable: true });
    }
  }

  /** `name.log.N` is dropped, each `.log.i` becomes `.log.i+1`, and `name.log` becomes `.log.1`. */
  async #rotate(file: string): Promise<void> {
    const { logMaxFiles } = this.#context.config;
    await rm(logMaxFiles === 0 ? file : `${file}.${logMaxFiles}`, { force: true });
    for (let index = logMaxFiles - 1; index >= 0; index--) {
      const from = index === 0 ? file : `${file}.${index}`;
      // rename moves a symlink itself, never its target, so a planted link cannot redirect this.
      await rename(from, `${file}.${index + 1}`).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    }
  }
}

/**
 * The file name stem for a job name: characters outside `A-Z a-z 0-9 . _ -` become `_`, and a
 * leading dot too (no hidden files). Names that are paths are refused rather than rewritten.
 */
export function logFileStem(jobName: string, channel: string = 'log_file'): string {
  const refuse = (why: string) => new DeliveryError(channel, `job name ${JSON.stringify(jobName)} cannot name a log file: ${why}`);
  if (jobName.trim() === '') throw refuse('it is empty');
  if (path.isAbsolute(jobName) || path.win32.isAbsolute(jobName)) throw refuse('it is an absolute path');
  if (/[/\\]/.test(jobName)) throw refuse('it contains a path separator');
  if (jobName === '.' || jobName === '..') throw refuse('it is a relative path');
  return jobName.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\./, '_').slice(0, MAX_STEM_LENGTH);
}

async function lstatOrNull(file: string): Promise<Stats | null> {
  try {
    return await lstat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

function assertRegularFile(channel: string, name: string, stats: Stats): void {
  if (stats.isSymbolicLink()) throw refusedLink(channel, name);
  if (!stats.isFile()) throw new DeliveryError(channel, `refusing to write ${name}: it is not a regular file`);
}

function refusedLink(channel: string, name: string): DeliveryError {
  return new DeliveryError(channel, `refusing to write ${name}: it is a symbolic link`);
}
