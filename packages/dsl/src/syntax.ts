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

/** A bare identifier, as Symbiont writes capability names and levels (`[read, write]`, `audit: all_operations`). */
export interface IdentNode {
  kind: 'ident';
  value: string;
  position: SourcePosition;
}

/**
 * The text of a Symbiont item this project keeps without reading it: a `function` (signature and
 * body), a `type` definition, a `with` block, or a top-level `channel`, `memory` or `webhook`
 * block.
 */
export interface OpaqueNode {
  kind: 'opaque';
  /** The source from the item's keyword to its end. */
  text: string;
  position: SourcePosition;
}

/** Any value of the DSL. */
export type SymbiValue = StringNode | NumberNode | BooleanNode | ListNode | BlockNode | IdentNode | OpaqueNode;

/** `key: value`, `key { … }` or `key label { … }` (as in `agent reporter { … }`). */
export interface SymbiEntry {
  /** The key as written (an identifier or a quoted string). */
  key: string;
  /** Where the key starts. */
  keyPosition: SourcePosition;
  /** The label between key and block, e.g. the agent name in `agent NAME { … }`. */
  label: { name: string; position: SourcePosition } | null;
  /** Symbiont's parameters and return type between label and block (`(target: String) -> Review`), as written. */
  signature: string | null;
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

/** Top-level Symbiont blocks kept as text (`channel NAME { … }`), for the reader to refuse by name. */
const OPAQUE_BLOCKS = new Set(['channel', 'memory', 'webhook']);

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
    return this.raw(() => this.lexer.next());
  }

  private balancedEnd(open: number): number {
    return this.raw(() => this.lexer.balancedEnd(open));
  }

  private endBefore(from: number, char: string, what: string): number {
    return this.raw(() => this.lexer.endBefore(from, char, what));
  }

  /** Runs a lexer step, turning its {@link LexFailure} into a `DslError`. */
  private raw<T>(step: () => T): T {
    try {
      return step();
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
    if (keyToken.kind === 'ident' && key === 'with' && this.kind() !== ':') {
      return { key, keyPosition, label: null, signature: null, value: this.opaque(keyToken, this.endBefore(this.token.start, '{', '`with`')) };
    }
    let label: SymbiEntry['label'] = null;
    let signature: string | null = null;
    if (this.kind() === 'ident' || this.kind() === 'string') {
      const labelToken = this.advance();
      label = { name: String(labelToken.value), position: this.lines.position(labelToken.start) };
      if (key === 'type' && this.kind() === '=') return { key, keyPosition, label, signature, value: this.typeDefinition(keyToken) };
      if (key === 'function' && this.kind() === '(') {
        const close = this.balancedEnd(this.token.start);
        return { key, keyPosition, label, signature, value: this.opaque(keyToken, this.endBefore(close, '{', `the parameters of \`${label.name}\``)) };
      }
      if (parent === null && OPAQUE_BLOCKS.has(key) && this.kind() === '{') {
        return { key, keyPosition, label, signature, value: this.opaque(keyToken, this.token.start) };
      }
      if (this.kind() === '(') signature = this.signature(label.name);
      if (this.kind() !== '{') throw this.unexpected(`\`{\` to open the \`${key}\` block`);
    }
    if (this.kind() === '{') return { key, keyPosition, label, signature, value: this.block(depth + 1) };
    if (this.kind() !== ':' && this.kind() !== '=') throw this.unexpected(`\`:\` or \`{\` after \`${key}\``);
    this.advance();
    const value = this.value(depth);
    this.refuseExpression(key);
    return { key, keyPosition, label, signature, value };
  }

  /** Stops at what only Symbiont's expression language has: a call (`read(x)`) or a condition (`if …`). */
  private refuseExpression(key: string): void {
    if (this.kind() === '(') {
      throw this.error(this.token.start, `\`${key}\` holds a call expression; symbi-scheduler does not evaluate expressions, it reads plain values (names, strings, lists)`);
    }
    if (this.kind() === 'ident' && this.token.value === 'if') {
      throw this.error(this.token.start, `\`${key}\` has a condition (\`if …\`); symbi-scheduler cannot evaluate conditions, so it refuses the rule rather than apply it always or never`);
    }
  }

  /** `(params) -> Type` after an agent's name, kept as written; leaves the lexer at the `{`. */
  private signature(name: string): string {
    const start = this.token.start;
    const open = this.endBefore(this.balancedEnd(start), '{', `the parameters of \`${name}\``);
    this.resumeAt(open);
    return this.source.slice(start, open).trim();
  }

  /** `type NAME = { … }` or `type NAME = Other<…>`, kept as text. */
  private typeDefinition(keyword: Token): OpaqueNode {
    const equals = this.token;
    const pattern = /\s*(\{|[A-Za-z_][A-Za-z0-9_]*(<[^{}\n]*>)?)/y;
    pattern.lastIndex = equals.end;
    const rest = pattern.exec(this.source);
    if (rest === null) throw this.error(equals.end, 'expected a type after `=`, e.g. `{ url: String }` or `String`');
    const start = equals.end + (rest[0].length - (rest[1] as string).length);
    return this.kept(keyword, rest[1] === '{' ? this.balancedEnd(start) : start + (rest[1] as string).length);
  }

  /** An item from `keyword` to the end of the brace block that opens at `open`, kept as text. */
  private opaque(keyword: Token, open: number): OpaqueNode {
    return this.kept(keyword, this.balancedEnd(open));
  }

  /** The source from `keyword` to `end` as an {@link OpaqueNode}; lexing goes on after it. */
  private kept(keyword: Token, end: number): OpaqueNode {
    this.resumeAt(end);
    return { kind: 'opaque', text: this.source.slice(keyword.start, end), position: this.lines.position(keyword.start) };
  }

  /** Moves the lexer to `offset`, after a stretch read as raw text, and reads the token there. */
  private resumeAt(offset: number): void {
    this.lexer.seek(offset);
    this.token = this.lex();
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
        this.advance();
        if (token.value === 'true' || token.value === 'false') return { kind: 'boolean', value: token.value === 'true', position };
        return { kind: 'ident', value: String(token.value), position };
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
