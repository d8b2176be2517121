import { UNSAFE_CHARACTERS } from '@symbi/core';

/** Where text goes and whether it may be coloured: a stream and its terminal-ness. */
export interface OutputStream {
  write(text: string): unknown;
  /** True when the stream is a terminal (`process.stdout.isTTY`). */
  isTTY?: boolean;
  /** Terminal width in columns, when known. */
  columns?: number;
}

/**
 * Whether to colour output written to `stream`: only on a terminal, never when `NO_COLOR` is set
 * to a non-empty value (https://no-color.org), never with `--no-color`.
 */
export function colourEnabled(stream: OutputStream, env: Record<string, string | undefined>, flag = true): boolean {
  if (!flag) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return stream.isTTY === true;
}

const CODES = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  blue: [34, 39],
  magenta: [35, 39],
  cyan: [36, 39],
  grey: [90, 39],
} as const;

/** A colour or emphasis applied to a piece of text. */
export type Paint = keyof typeof CODES;

/** Applies ANSI styles when enabled and returns text unchanged otherwise. */
export class Style {
  /** Whether styles are emitted. */
  readonly enabled: boolean;

  constructor(enabled: boolean) {
    this.enabled = enabled;
  }

  /** `text` in `paint`. */
  paint(paint: Paint, text: string): string {
    if (!this.enabled || text === '') return text;
    const [open, close] = CODES[paint];
    return `\u001b[${open}m${text}\u001b[${close}m`;
  }

  /** Bold text. */
  bold(text: string): string {
    return this.paint('bold', text);
  }

  /** Dimmed text. */
  dim(text: string): string {
    return this.paint('dim', text);
  }

  /**
   * `text` made safe for a terminal: every control, bidirectional or unpaired surrogate character
   * is written as a visible `\uXXXX` escape, except line feeds, tabs, the CR of a CRLF and (when
   * enabled) this style's own colour sequences. Stored data can thus never move the cursor,
   * retitle the window or hide text. JSON stays valid and means the same, as JSON reads the same escape.
   */
  safe(text: string): string {
    const parts = this.enabled ? text.split(OWN_SEQUENCE) : [text];
    const sequences = this.enabled ? (text.match(OWN_SEQUENCE) ?? []) : [];
    return parts.map((part, i) => escapeUnsafe(part) + (sequences[i] ?? '')).join('');
  }

  /** A job or run status in the colour of its meaning (green good, red bad, yellow waiting). */
  status(status: string): string {
    return this.paint(STATUS_PAINT[status] ?? 'bold', status);
  }
}

const STATUS_PAINT: Record<string, Paint> = {
  active: 'green',
  succeeded: 'green',
  healthy: 'green',
  degraded: 'yellow',
  stopped: 'red',
  completed: 'cyan',
  paused: 'yellow',
  scheduled: 'cyan',
  running: 'blue',
  awaiting_approval: 'magenta',
  skipped: 'grey',
  denied: 'yellow',
  interrupted: 'yellow',
  failed: 'red',
  timed_out: 'red',
  dead_letter: 'red',
};

const ANSI = /\u001b\[[0-9;]*m/g;

/** Exactly the sequences {@link Style.paint} writes. */
const OWN_SEQUENCE = new RegExp(`\u001b\\[(?:${[...new Set(Object.values(CODES).flat())].join('|')})m`, 'g');

/** Text with every unsafe character but `\n`, `\t` and the CR of a CRLF escaped as `\uXXXX`. */
export function escapeUnsafe(text: string): string {
  return text.replace(UNSAFE_CHARACTERS, (char, offset: number, whole: string) => {
    if (char === '\n' || char === '\t' || (char === '\r' && whole[offset + 1] === '\n')) return char;
    return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/** The number of terminal columns `text` takes (styles removed). */
export function visibleLength(text: string): number {
  return [...text.replace(ANSI, '')].length;
}
