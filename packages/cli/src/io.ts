import { Style, colourEnabled, type OutputStream } from './output/style.js';

/** The process the CLI talks to: streams, environment, working directory, clock. */
export interface Io {
  stdout: OutputStream;
  stderr: OutputStream;
  /** Standard input; `isTTY` tells whether a person can answer a question. */
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: Record<string, string | undefined>;
  cwd: string;
  now(): Date;
}

/** The real process. */
export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd(), now: () => new Date() };
}

/** Options every command accepts (declared on the root command). */
export interface GlobalOptions {
  /** `--config`: the symbi.toml to read. */
  config?: string;
  /** `--db`: the store, overriding the configuration. */
  db?: string;
  /** `--api`: a running server's URL. */
  api?: string;
  /** `--api-key`: the key of that server (or, for `up`, the key it requires). */
  apiKey?: string;
  /** `--no-color` sets this false. */
  color: boolean;
}

/** What a command runs with: the process, its global options and styles for each stream. */
export interface CommandContext {
  io: Io;
  globals: GlobalOptions;
  /** Styles for standard output. */
  out: Style;
  /** Styles for standard error. */
  err: Style;
}

/** The context of a command from its global options. */
export function commandContext(io: Io, globals: GlobalOptions): CommandContext {
  return {
    io,
    globals,
    out: new Style(colourEnabled(io.stdout, io.env, globals.color)),
    err: new Style(colourEnabled(io.stderr, io.env, globals.color)),
  };
}
