/**
 * Structured logger the core writes to. The CLI plugs pino in; the default discards everything.
 * `fields` is a plain object merged into the log line.
 */
export interface Logger {
  /** Verbose diagnostics. */
  debug(fields: Record<string, unknown>, message: string): void;
  /** Normal operation. */
  info(fields: Record<string, unknown>, message: string): void;
  /** Something went wrong but the scheduler carries on. */
  warn(fields: Record<string, unknown>, message: string): void;
  /** Something failed. */
  error(fields: Record<string, unknown>, message: string): void;
}

/** A logger that drops everything. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};
