import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Logger, Redactor } from '@symbi/core';
import type pino from 'pino';

/** The structured log `symbi up` writes unless `--log-file` says otherwise. */
export const DEFAULT_LOG_FILE = './.symbi/symbi.log';

/** Log levels from most to least verbose, as pino names them. */
export const LOG_LEVELS: readonly pino.Level[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

/** Parts of the system that write to the log, the values of its `component` field. */
export type LogComponent = 'cli' | 'scheduler' | 'run' | 'delivery' | 'server';

/** A JSON-lines log file written with pino, one logger per component. */
export interface FileLog {
  /** Absolute path of the file. */
  readonly file: string;
  /** The logger of one component; its lines carry `component`. */
  for(component: LogComponent): Logger;
  /** Writes what is buffered. */
  flush(): void;
}

/** Fields that may hold secrets; pino replaces their values wherever they appear one level down. */
const REDACT = ['api_key', 'apiKey', '*.api_key', '*.apiKey', '*.agent_pin_jwt', '*.agentPinJwt', '*.authorization', '*.password'];

/**
 * Opens (creating its folder) the structured log at `file`, at `level` and above. Writes are
 * synchronous, so the last lines before a crash or a signal are never lost. A new file is
 * readable by its owner only (0600), and every line passes through `redactor` before it is written.
 */
export async function openFileLog(file: string, level: pino.Level = 'info', redactor?: Redactor): Promise<FileLog> {
  const { default: createLogger } = await import('pino');
  const path = resolve(file);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const destination = createLogger.destination({ dest: path, sync: true, mkdir: true, mode: 0o600 });
  const root: pino.Logger = createLogger(
    {
      level,
      base: { pid: process.pid },
      timestamp: createLogger.stdTimeFunctions.isoTime,
      redact: { paths: REDACT, censor: '[redacted]' },
      ...(redactor && { hooks: { streamWrite: (line: string) => redactor.text(line) } }),
    },
    destination,
  );
  const children = new Map<LogComponent, Logger>();
  return {
    file: path,
    for(component) {
      let child = children.get(component);
      if (!child) {
        child = root.child({ component });
        children.set(component, child);
      }
      return child;
    },
    flush() {
      root.flush();
    },
  };
}
