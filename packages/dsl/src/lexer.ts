/** Kinds of token in a `.symbi` file. */
export type TokenKind = 'ident' | 'string' | 'number' | '{' | '}' | '[' | ']' | '(' | ')' | ':' | ',' | '=' | 'eof';

/** One token; `text` is the source slice, `value` the decoded string or number. */
export interface Token {
  kind: TokenKind;
  /** Offset of the first character. */
  start: number;
  /** Offset after the last character. */
  end: number;
  /** Decoded value of a string, the number of a number, the name of an identifier. */
  value: string | number;
}

/** Raised by the lexer; the parser turns it into a `DslError` that knows the field. */
export class LexFailure {
  constructor(
    readonly offset: number,
    readonly message: string,
  ) {}
}

const PUNCTUATION = new Set(['{', '}', '[', ']', '(', ')', ':', ',', '=']);
const CLOSER: Record<string, string> = { '{': '}', '(': ')' };
const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_-]/;
const DIGIT = /[0-9]/;
const SIMPLE_ESCAPES: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  n: '\n',
  t: '\t',
  r: '\r',
  b: '\b',
  f: '\f',
  '0': '\0',
};

/**
 * Splits `.symbi` source into tokens on demand. Whitespace and comments (`#` or `//` to the end of
 * the line, `/* … *\/` blocks, outside strings) are skipped. Every step consumes at least one
 * character, so lexing is linear in the input.
 */
export class Lexer {
  private offset = 0;

  constructor(private readonly source: string) {
    if (source.charCodeAt(0) === 0xfeff) this.offset = 1;
  }

  /** The next token; throws {@link LexFailure} on a character or literal that cannot start one. */
  next(): Token {
    this.skipTrivia();
    const start = this.offset;
    const char = this.source[start];
    if (char === undefined) return { kind: 'eof', start, end: start, value: '' };
    if (PUNCTUATION.has(char)) {
      this.offset += 1;
      return { kind: char as TokenKind, start, end: this.offset, value: char };
    }
    if (char === '"') return this.source.startsWith('"""', start) ? this.tripleQuoted(start) : this.quoted(start);
    if (DIGIT.test(char) || ((char === '-' || char === '+') && DIGIT.test(this.source[start + 1] ?? ''))) {
      return this.number(start);
    }
    if (IDENT_START.test(char)) {
      let end = start + 1;
      while (end < this.source.length && IDENT_PART.test(this.source[end] as string)) end += 1;
      this.offset = end;
      return { kind: 'ident', start, end, value: this.source.slice(start, end) };
    }
    if (char === "'") throw new LexFailure(start, 'strings use double quotes (`"…"`), not single quotes');
    const shown = String.fromCodePoint(this.source.codePointAt(start) ?? 0);
    throw new LexFailure(start, `unexpected character ${JSON.stringify(shown)}`);
  }

  /** Continues lexing at `offset` (after a stretch read by {@link Lexer.balancedEnd} or {@link Lexer.endBefore}). */
  seek(offset: number): void {
    this.offset = offset;
  }

  /**
   * The offset after the bracket that closes the `{` or `(` at `open`, counting nested brackets of
   * the same kind and skipping strings and comments: how a Symbiont function body or parameter
   * list is stepped over without reading its statements.
   */
  balancedEnd(open: number): number {
    const opener = this.source[open] as string;
    const closer = CLOSER[opener] as string;
    let depth = 0;
    for (let index = open; index < this.source.length; ) {
      const char = this.source[index] as string;
      if (char === '"') {
        index = this.stringEnd(index);
        continue;
      }
      const comment = this.commentEnd(index);
      if (comment !== null) {
        index = comment;
        continue;
      }
      if (char === opener) depth += 1;
      else if (char === closer && --depth === 0) return index + 1;
      index += 1;
    }
    throw new LexFailure(open, `\`${opener}\` is never closed; expected \`${closer}\``);
  }

  /** The offset of the first `char` at or after `from` outside strings, or throws naming `what`. */
  endBefore(from: number, char: string, what: string): number {
    for (let index = from; index < this.source.length; ) {
      if (this.source[index] === '"') index = this.stringEnd(index);
      else if (this.source[index] === char) return index;
      else index += 1;
    }
    throw new LexFailure(from, `expected \`${char}\` after ${what}`);
  }

  /** The offset after the `"…"` string starting at `start`, any escape allowed (Symbiont's rule), or throws. */
  private stringEnd(start: number): number {
    for (let index = start + 1; index < this.source.length; index += 1) {
      const char = this.source[index];
      if (char === '\\') index += 1;
      else if (char === '"') return index + 1;
    }
    throw new LexFailure(start, 'unterminated string');
  }

  private skipTrivia(): void {
    const { source } = this;
    while (this.offset < source.length) {
      const comment = this.commentEnd(this.offset);
      if (comment !== null) this.offset = comment;
      else if (/\s/.test(source[this.offset] as string)) this.offset += 1;
      else return;
    }
  }

  /**
   * The offset after the comment starting at `index` (`#` or `//` to the end of the line, or a
   * `/* … *\/` block, not nested, as in the Symbiont runtime), or null when none starts there.
   */
  private commentEnd(index: number): number | null {
    const { source } = this;
    const char = source[index];
    if (char === '#' || (char === '/' && source[index + 1] === '/')) {
      const newline = source.indexOf('\n', index);
      return newline === -1 ? source.length : newline + 1;
    }
    if (char === '/' && source[index + 1] === '*') {
      const close = source.indexOf('*/', index + 2);
      if (close === -1) throw new LexFailure(index, 'unterminated `/*` comment; close it with `*/`');
      return close + 2;
    }
    return null;
  }

  private number(start: number): Token {
    const match = /^[-+]?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?/.exec(this.source.slice(start, start + 400));
    const end = start + (match?.[0].length ?? 1);
    const after = this.source[end];
    if (after !== undefined && (IDENT_PART.test(after) || after === '.')) {
      throw new LexFailure(
        end,
        `unexpected ${JSON.stringify(after)} after the number ${this.source.slice(start, end)}; ` +
          'write durations and other text as strings, e.g. "5m"',
      );
    }
    this.offset = end;
    return { kind: 'number', start, end, value: Number(this.source.slice(start, end)) };
  }

  private quoted(start: number): Token {
    const { source } = this;
    let value = '';
    let index = start + 1;
    for (;;) {
      const char = source[index];
      if (char === undefined || char === '\n' || char === '\r') {
        throw new LexFailure(start, 'unterminated string; a "…" string ends on its line (use """…""" for multi-line text)');
      }
      if (char === '"') break;
      if (char === '\\') {
        const [decoded, length] = this.escape(index);
        value += decoded;
        index += length;
      } else {
        value += char;
        index += 1;
      }
    }
    this.offset = index + 1;
    return { kind: 'string', start, end: this.offset, value };
  }

  /** Decodes the escape at `index` (the backslash); returns the text and the characters consumed. */
  private escape(index: number): [string, number] {
    const code = this.source[index + 1];
    if (code !== undefined && code in SIMPLE_ESCAPES) return [SIMPLE_ESCAPES[code] as string, 2];
    if (code === 'u') {
      const braced = /^\{([0-9a-fA-F]{1,6})\}/.exec(this.source.slice(index + 2, index + 10));
      if (braced) {
        const point = Number.parseInt(braced[1] as string, 16);
        if (point <= 0x10ffff) return [String.fromCodePoint(point), 2 + braced[0].length];
      }
      const plain = /^[0-9a-fA-F]{4}/.exec(this.source.slice(index + 2, index + 6));
      if (plain) return [String.fromCharCode(Number.parseInt(plain[0], 16)), 6];
      throw new LexFailure(index, 'invalid unicode escape; write \\uXXXX or \\u{X…} (at most 10FFFF)');
    }
    const shown = code === undefined || code === '\n' ? '' : code;
    throw new LexFailure(index, `unknown escape \`\\${shown}\`; write \`\\\\\` for a backslash`);
  }

  private tripleQuoted(start: number): Token {
    const close = this.source.indexOf('"""', start + 3);
    if (close === -1) throw new LexFailure(start, 'unterminated """ string; close it with """');
    this.offset = close + 3;
    return { kind: 'string', start, end: this.offset, value: dedent(this.source.slice(start + 3, close)) };
  }
}

/**
 * The text of a `"""` string: raw (no escapes), line breaks normalised to `\n`, the line break after
 * the opening quotes and the blank line before the closing quotes dropped, and the indentation
 * common to all non-blank lines removed, so a prompt can be indented with the file.
 */
export function dedent(raw: string): string {
  const lines = raw.replace(/\r\n?/g, '\n').split('\n');
  if (lines.length > 1 && (lines[0] as string).trim() === '') lines.shift();
  if (lines.length > 1 && (lines[lines.length - 1] as string).trim() === '') lines.pop();
  let indent = Number.POSITIVE_INFINITY;
  for (const line of lines) {
    if (line.trim() === '') continue;
    indent = Math.min(indent, /^[ \t]*/.exec(line)?.[0].length ?? 0);
  }
  if (!Number.isFinite(indent)) indent = 0;
  return lines.map((line) => (line.trim() === '' ? '' : line.slice(indent))).join('\n');
}
