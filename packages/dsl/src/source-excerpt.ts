/** A place in a source text: 1-based line and column (UTF-16 code units), 0-based offset. */
export interface SourcePosition {
  /** Line number, starting at 1. */
  line: number;
  /** Column number, starting at 1. */
  column: number;
  /** Offset from the start of the text, starting at 0. */
  offset: number;
}

/** Turns offsets into line and column in O(log lines), for parsers that need many positions. */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(private readonly source: string) {
    for (let index = source.indexOf('\n'); index !== -1; index = source.indexOf('\n', index + 1)) {
      this.starts.push(index + 1);
    }
  }

  /** The position of `offset`; offsets past the end are clamped to it. */
  position(offset: number): SourcePosition {
    const end = Math.max(0, Math.min(offset, this.source.length));
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if ((this.starts[middle] as number) <= end) low = middle;
      else high = middle - 1;
    }
    return { line: low + 1, column: end - (this.starts[low] as number) + 1, offset: end };
  }
}

/** The text of line `line` (1-based) without its line break; empty when out of range. */
function lineText(source: string, line: number): string {
  let start = 0;
  for (let current = 1; current < line; current += 1) {
    const next = source.indexOf('\n', start);
    if (next === -1) return '';
    start = next + 1;
  }
  const end = source.indexOf('\n', start);
  return source.slice(start, end === -1 ? source.length : end).replace(/\r$/, '');
}

/**
 * `file:line:column: message`, then the source line and a caret under the column, e.g.
 *
 * ```text
 * jobs.symbi:4:9: unknown field `crn`; did you mean `cron`?
 *  4 |   crn: "0 0 9 * * *"
 *    |   ^
 * ```
 *
 * Tabs before the column are kept in the caret line so the caret lines up in a terminal.
 */
export function formatAtPosition(
  source: string,
  file: string | undefined,
  line: number,
  column: number,
  message: string,
): string {
  const text = lineText(source, line);
  const gutter = String(line);
  const lead = text.slice(0, Math.max(0, column - 1)).replace(/[^\t]/g, ' ');
  return [
    `${file ?? '<input>'}:${line}:${column}: ${message}`,
    ` ${gutter} | ${text}`,
    ` ${' '.repeat(gutter.length)} | ${lead}^`,
  ].join('\n');
}
