import { parseDuration, ValidationError } from '@symbi/core';
import { DslError, validationReason } from './errors.js';
import type { SourcePosition } from './source-excerpt.js';
import { didYouMean } from './suggest.js';
import type { BlockNode, SymbiEntry, SymbiValue } from './syntax.js';

/** Reads the handler's value; `path` is the field's dotted path within its top-level block. */
export type FieldHandler = (value: SymbiValue, path: string) => void;

const ARTICLE: Record<SymbiValue['kind'], string> = {
  string: 'a string',
  number: 'a number',
  boolean: 'a boolean',
  list: 'a list',
  block: 'a block',
  ident: 'a bare name',
  opaque: 'a Symbiont item',
};

/**
 * Gives the fields of a parsed `.symbi` block their meaning: checks names (unknown and duplicate
 * fields), types and enumerations, and records where each value was written.
 */
export class FieldReader {
  /** Value positions by dotted path (`cron`, `policy.max_runtime`, `delivery[1]`). */
  readonly positions: Record<string, SourcePosition> = {};

  constructor(
    private readonly source: string,
    private readonly file: string | undefined,
  ) {}

  /** A {@link DslError} at `position` about `field`. */
  error(position: SourcePosition, field: string, detail: string, options?: { value?: unknown; cause?: unknown }): DslError {
    return new DslError(this.source, this.file, position, field, detail, options);
  }

  /**
   * Runs the handler of every entry of `block`. `what` names the block in messages (`schedule`,
   * `policy`); `prefix` is the dotted path of the block itself (`''` for a top-level block).
   */
  fields(block: BlockNode, what: string, prefix: string, handlers: Record<string, FieldHandler>): void {
    const seen = new Map<string, SymbiEntry>();
    const known = Object.keys(handlers);
    for (const entry of block.entries) {
      const path = join(prefix, entry.key);
      const handler = Object.hasOwn(handlers, entry.key) ? handlers[entry.key] : undefined;
      if (handler === undefined) {
        const hint = didYouMean(entry.key, known) || ` (expected one of ${known.map((k) => `\`${k}\``).join(', ')})`;
        throw this.error(entry.keyPosition, path, `unknown field \`${entry.key}\` in ${what}${hint}`);
      }
      const first = seen.get(entry.key);
      if (first !== undefined) {
        throw this.error(entry.keyPosition, path, `duplicate field \`${entry.key}\` in ${what} (first set at line ${first.keyPosition.line})`);
      }
      seen.set(entry.key, entry);
      this.noLabel(entry, path);
      this.positions[path] = entry.value.position;
      handler(entry.value, path);
    }
  }

  /** Rejects `key label { … }` where only `agent NAME { … }` takes a label. */
  noLabel(entry: SymbiEntry, path: string): void {
    if (entry.label !== null) {
      throw this.error(entry.label.position, path, `unexpected \`${entry.label.name}\` between \`${entry.key}\` and \`{\``);
    }
  }

  private expect<K extends SymbiValue['kind']>(value: SymbiValue, kind: K, path: string, wanted: string): Extract<SymbiValue, { kind: K }> {
    if (value.kind !== kind) throw this.error(value.position, path, `\`${path}\` must be ${wanted}, found ${ARTICLE[value.kind]}`);
    return value as Extract<SymbiValue, { kind: K }>;
  }

  /** A string (`"…"` or `"""…"""`). */
  string(value: SymbiValue, path: string): string {
    if (value.kind === 'ident') {
      throw this.error(value.position, path, `expected a value, found \`${value.value}\`; text values are quoted: "${value.value}"`);
    }
    return this.expect(value, 'string', path, 'a string').value;
  }

  /** A name written bare or quoted, as Symbiont writes capabilities and levels (`read`, `"read"`). */
  name(value: SymbiValue, path: string): string {
    return value.kind === 'ident' ? value.value : this.string(value, path);
  }

  /** One name or a list of names, bare or quoted (`[read, "write"]`); positions as {@link FieldReader.stringList}. */
  names(value: SymbiValue, path: string): string[] {
    if (value.kind !== 'list') return [this.name(value, path)];
    return value.items.map((item, index) => {
      this.positions[`${path}[${index}]`] = item.position;
      return this.name(item, `${path}[${index}]`);
    });
  }

  /** `true` or `false`. */
  boolean(value: SymbiValue, path: string): boolean {
    return this.expect(value, 'boolean', path, '`true` or `false`').value;
  }

  /** A whole number of at least `min`. */
  integer(value: SymbiValue, path: string, min = 0): number {
    const number = this.expect(value, 'number', path, 'a whole number').value;
    if (!Number.isSafeInteger(number) || number < min) {
      throw this.error(value.position, path, `\`${path}\` must be a whole number of at least ${min}, found ${number}`, { value: number });
    }
    return number;
  }

  /** One of `allowed`, with a suggestion for a near miss; `bare` also accepts it unquoted, as Symbiont rules write it. */
  oneOf<T extends string>(value: SymbiValue, path: string, allowed: readonly T[], bare = false): T {
    const text = bare ? this.name(value, path) : this.string(value, path);
    if ((allowed as readonly string[]).includes(text)) return text as T;
    const hint = didYouMean(text, allowed);
    const options = allowed.map((option) => `"${option}"`).join(', ');
    throw this.error(value.position, path, `\`${path}\` must be one of ${options}, found ${JSON.stringify(text)}${hint}`, { value: text });
  }

  /** A list of strings; each item's position is recorded as `path[i]`. */
  stringList(value: SymbiValue, path: string): string[] {
    const list = this.expect(value, 'list', path, 'a list of strings');
    return list.items.map((item, index) => {
      this.positions[`${path}[${index}]`] = item.position;
      return this.expect(item, 'string', `${path}[${index}]`, 'a string').value;
    });
  }

  /** A block of `name: "value"` pairs (headers, environment). */
  stringMap(value: SymbiValue, path: string): Record<string, string> {
    const block = this.expect(value, 'block', path, 'a block of `name: "value"` pairs');
    const entries = new Map<string, string>();
    for (const entry of block.entries) {
      const entryPath = `${path}.${entry.key}`;
      if (entries.has(entry.key)) throw this.error(entry.keyPosition, entryPath, `duplicate key \`${entry.key}\` in \`${path}\``);
      this.noLabel(entry, entryPath);
      this.positions[entryPath] = entry.value.position;
      entries.set(entry.key, this.string(entry.value, entryPath));
    }
    // fromEntries defines own properties, so a key such as `__proto__` stays an ordinary key.
    return Object.fromEntries(entries);
  }

  /** A nested block, for the caller to read with {@link FieldReader.fields}. */
  block(value: SymbiValue, path: string): BlockNode {
    return this.expect(value, 'block', path, 'a block `{ … }`');
  }

  /** A duration in milliseconds: a string such as `"5m"`, `"1h30m"` or `"PT5M"`, or a number of seconds. */
  durationMs(value: SymbiValue, path: string): number {
    if (value.kind !== 'number' && value.kind !== 'string') {
      throw this.error(value.position, path, `\`${path}\` must be a duration such as "30s" or a number of seconds, found ${ARTICLE[value.kind]}`);
    }
    try {
      return parseDuration(value.value, path);
    } catch (cause) {
      const reason = cause instanceof ValidationError ? validationReason(cause) : 'is not a duration';
      throw this.error(value.position, path, `\`${path}\`: ${reason}`, { value: value.value, cause });
    }
  }
}

function join(prefix: string, key: string): string {
  return prefix === '' ? key : `${prefix}.${key}`;
}
