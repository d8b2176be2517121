import { ValidationError } from '@symbi/core';
import { formatAtPosition, type SourcePosition } from './source-excerpt.js';

/**
 * A `.symbi` file that cannot be read as written: bad syntax, an unknown or duplicate field, a value
 * of the wrong type, or (from `toJobSpecs`) a value the scheduler rejects, such as a bad cron
 * expression or time zone.
 *
 * It extends the core's `ValidationError` (code `VALIDATION`) rather than the bare `SchedulerError`
 * because every DSL failure is bad input from the user: the HTTP API and the CLI already map
 * `ValidationError` to "400 / fix your input", and `field` keeps its meaning there.
 *
 * `message` reads `file:line:column: <detail>`, then the source line and a caret under the column.
 */
export class DslError extends ValidationError {
  /** The file name given to the parser, if any. */
  readonly file: string | undefined;
  /** 1-based line of the problem. */
  readonly line: number;
  /** 1-based column of the problem. */
  readonly column: number;
  /** 0-based offset of the problem in the source. */
  readonly offset: number;
  /** What is wrong, without the location and excerpt. */
  readonly detail: string;

  /**
   * @param source - the text, to quote the offending line; null when there is none to quote
   *   (a file that could not be read).
   * @param field - dotted snake_case path of the field as written in its block (`cron`,
   *   `policy.max_runtime`, `timeout`); `''` when the problem lies outside any field.
   */
  constructor(
    source: string | null,
    file: string | undefined,
    position: SourcePosition,
    field: string,
    detail: string,
    options?: { value?: unknown; cause?: unknown },
  ) {
    super(field, detail, options?.value, options?.cause === undefined ? undefined : { cause: options.cause });
    this.file = file;
    this.line = position.line;
    this.column = position.column;
    this.offset = position.offset;
    this.detail = detail;
    this.message =
      source === null
        ? `${file ?? '<input>'}:${position.line}:${position.column}: ${detail}`
        : formatAtPosition(source, file, position.line, position.column, detail);
  }
}

/** Where a {@link ConfigError} comes from, as far as it is known. */
export interface ConfigErrorLocation {
  /** Configuration file, when the problem is in one. */
  file?: string | undefined;
  /** Text of that file, to quote the offending line. */
  source?: string | undefined;
  /** 1-based line and column of the offending key or value. */
  line?: number | undefined;
  /** 1-based column; defaults to 1 when only the line is known. */
  column?: number | undefined;
}

/**
 * A configuration (`symbi.toml` or a `SYMBI_*` environment variable) that cannot be used: TOML
 * syntax, an unknown key, a value of the wrong type, an unset `${VAR}`, or a bad override.
 *
 * Like {@link DslError} it extends `ValidationError`. `field` is the dotted TOML key
 * (`scheduler.max_jitter_seconds`), the environment variable (`SYMBI_SCHEDULER_MAX_JITTER`),
 * `path` for a file that cannot be read, or `''` for a TOML syntax error.
 * With a known line the message reads `file:line:column: <detail>` plus the quoted line and a caret.
 */
export class ConfigError extends ValidationError {
  /** Configuration file, when the problem is in one. */
  readonly file: string | undefined;
  /** 1-based line, when known. */
  readonly line: number | undefined;
  /** 1-based column, when known. */
  readonly column: number | undefined;
  /** What is wrong, without the location and excerpt. */
  readonly detail: string;

  constructor(field: string, detail: string, location: ConfigErrorLocation = {}, options?: { value?: unknown; cause?: unknown }) {
    super(field, detail, options?.value, options?.cause === undefined ? undefined : { cause: options.cause });
    this.file = location.file;
    this.line = location.line;
    this.column = location.line === undefined ? undefined : (location.column ?? 1);
    this.detail = detail;
    if (location.line !== undefined && location.source !== undefined) {
      this.message = formatAtPosition(location.source, location.file, location.line, this.column ?? 1, detail);
    } else {
      this.message = location.file === undefined ? detail : `${location.file}: ${detail}`;
    }
  }
}

/** The message of a core `ValidationError` without its leading `field: `. */
export function validationReason(error: ValidationError): string {
  const prefix = `${error.field}: `;
  return error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
}
