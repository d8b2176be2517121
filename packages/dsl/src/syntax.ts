import { DslError } from './errors.js';
import { Lexer, LexFailure, type Token } from './lexer.js';
import { LineIndex, type SourcePosition } from './source-excerpt.js';

/** A string literal (`"…"` or `"""…"""`), decoded. */
export interface StringNode {
  kind: 'string';
  value: string;
  position: SourcePosition;
}

/** A number literal. */
export interface NumberNode {
  kind: 'number';
  value: number;
  position: SourcePosition;
}

/** `true` or `false`. */
export interface BooleanNode {
  kind: 'boolean';
  value: boolean;
  position: SourcePosition;
}

/** `[a, b, …]`. */
export interface ListNode {
  kind: 'list';
  items: SymbiValue[];
  position: SourcePosition;
}

/** `{ key: value … }`, written after `key:` or directly after `key`. */
export interface BlockNode {
  kind: 'block';
  entries: SymbiEntry[];
  position: SourcePosition;
}

/** Any value of the DSL. */
export type SymbiValue = StringNode | NumberNode | BooleanNode | ListNode | BlockNode;

/** `key: value`, `key { … }` or `key label { … }` (as in `agent reporter { … }`). */
export interface SymbiEntry {
  /** The key as written (an identifier or a quoted string). */
  key: string;
  /** Where the key starts. */
  keyPosition: SourcePosition;
  /** The label between key and block, e.g. the agent name in `agent NAME { … }`. */
  label: { name: string; position: SourcePosition } | null;
  value: SymbiValue;
}

/** A `.symbi` file read as a tree, before any field is given a meaning. */
export interface SymbiSyntax {
  entries: SymbiEntry[];
  /** The text that was parsed, kept to quote lines in later errors. */
  source: string;
  /** The file name given to the parser, if any. */
  file: string | undefined;
}

/** Deeper nesting than any real file needs; the bound keeps recursion far from the stack limit. */
const MAX_DEPTH = 64;

/**
 * Reads `.symbi` source into a {@link SymbiSyntax} tree: the generic layer under `parseSymbi`,
 * useful for tooling and for fragments such as a lone `cron: "…"` line. It checks syntax only;
 * field names and types are checked by `parseSymbi`. Throws only {@link DslError}.
 */
export function parseSymbiSyntax(source: string, options: { file?: string } = {}): SymbiSyntax {
  return new SyntaxParser(source, options.file).document();
}

class SyntaxParser {
  private readonly lexer: Lexer;
  private readonly lines: LineIndex;
  private token: Token;
  /** Dotted path of the entry being read, so errors inside a value name their field. */
  private field = '';

  constructor(
    private readonly source: string,
    private readonly file: string | undefined,
  ) {
    this.lexer = new Lexer(source);
    this.lines = new LineIndex(source);
    this.token = this.lex();
  }

  document(): SymbiSyntax {
    const entries = this.entries(null, 0);
    return { entries, source: this.source, file: this.file };
  }

  private lex(): Token {
    try {
      return this.lexer.next();
    } catch (failure) {
      if (failure instanceof LexFailure) throw this.error(failure.offset, failure.message);
      throw failure;
    }
  }

  /** Kind of the current token; a method so that TypeScript does not keep a stale narrowing across `advance()`. */
  private kind(): Token['kind'] {
    return this.token.kind;
  }

  private advance(): Token {
    const current = this.token;
    this.token = this.lex();
    return current;
  }

  private error(offset: number, message: string): DslError {
    return new DslError(this.source, this.file, this.lines.position(offset), this.field, message);
  }

  private describe(token: Token): string {
    if (token.kind === 'eof') return 'the end of the file';
    const text = this.source.slice(token.start, Math.min(token.end, token.start + 40)).replace(/\s+/g, ' ');
    return `\`${token.end - token.start > 40 ? `${text}…` : text}\``;
  }

  private unexpected(expected: string): DslError {
    return this.error(this.token.start, `expected ${expected}, found ${this.describe(this.token)}`);
  }

  /**
   * Entries up to the `}` matching `open`, or to the end of the file at the top level (`open` null),
   * with optional commas between them.
   */
  private entries(open: Token | null, depth: number): SymbiEntry[] {
    const entries: SymbiEntry[] = [];
    // A top-level block's own key is not part of its fields' paths: `schedule { cron }` is `cron`.
    const parent = open === null ? null : this.field;
    const closer = open === null ? 'eof' : '}';
    while (this.kind() !== closer) {
      if (this.kind() === 'eof') {
        throw this.unexpected(`\`}\` to close the block opened at line ${this.lines.position(open?.start ?? 0).line}`);
      }
      entries.push(this.entry(parent, depth));
      this.field = parent ?? '';
      if (this.kind() === ',') this.advance();
    }
    return entries;
  }

  private entry(parent: string | null, depth: number): SymbiEntry {
    if (this.kind() !== 'ident' && this.kind() !== 'string') {
      throw this.unexpected(parent === null ? 'a block such as `schedule { … }`' : 'a field name or `}`');
    }
    const keyToken = this.advance();
    const key = String(keyToken.value);
    const keyPosition = this.lines.position(keyToken.start);
    this.field = parent === null ? '' : parent === '' ? key : `${parent}.${key}`;
    let label: SymbiEntry['label'] = null;
    if (this.kind() === 'ident' || this.kind() === 'string') {
      const labelToken = this.advance();
      label = { name: String(labelToken.value), position: this.lines.position(labelToken.start) };
      if (this.kind() !== '{') throw this.unexpected(`\`{\` to open the \`${key}\` block`);
    }
    if (this.kind() === '{') return { key, keyPosition, label, value: this.block(depth + 1) };
    if (this.kind() === '=') {
      throw this.error(this.token.start, `expected \`:\` after \`${key}\` (fields are written \`${key}: value\`)`);
    }
    if (this.kind() !== ':') throw this.unexpected(`\`:\` or \`{\` after \`${key}\``);
    this.advance();
    return { key, keyPosition, label, value: this.value(depth) };
  }

  private value(depth: number): SymbiValue {
    const token = this.token;
    const position = this.lines.position(token.start);
    switch (token.kind) {
      case 'string':
        this.advance();
        return { kind: 'string', value: String(token.value), position };
      case 'number':
        this.advance();
        return { kind: 'number', value: Number(token.value), position };
      case 'ident':
        if (token.value === 'true' || token.value === 'false') {
          this.advance();
          return { kind: 'boolean', value: token.value === 'true', position };
        }
        throw this.error(token.start, `expected a value, found \`${token.value}\`; text values are quoted: "${token.value}"`);
      case '[':
        return this.list(depth + 1);
      case '{':
        return this.block(depth + 1);
      default:
        throw this.unexpected('a value (string, number, boolean, list or block)');
    }
  }

  private list(depth: number): ListNode {
    const open = this.advance();
    this.checkDepth(open, depth);
    const items: SymbiValue[] = [];
    while (this.kind() !== ']') {
      if (this.kind() === 'eof') throw this.unexpected('`]` to close the list');
      items.push(this.value(depth));
      if (this.kind() === ',') this.advance();
      else if (this.kind() !== ']') throw this.unexpected('`,` or `]` in the list');
    }
    this.advance();
    return { kind: 'list', items, position: this.lines.position(open.start) };
  }

  private block(depth: number): BlockNode {
    const open = this.advance();
    this.checkDepth(open, depth);
    const entries = this.entries(open, depth);
    this.advance();
    return { kind: 'block', entries, position: this.lines.position(open.start) };
  }

  private checkDepth(open: Token, depth: number): void {
    if (depth > MAX_DEPTH) throw this.error(open.start, `nesting deeper than ${MAX_DEPTH} levels`);
  }
}
