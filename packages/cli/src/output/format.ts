import { escapeUnsafe, visibleLength } from './style.js';

/** A column of a {@link renderTable} table. */
export interface Column {
  /** Header text (shown in upper case). */
  header: string;
  /** Right-align numbers. */
  align?: 'left' | 'right';
}

/**
 * Aligned columns separated by two spaces, the header first. Cells may hold ANSI styles; widths
 * count only visible characters. The last column is not padded, so lines carry no trailing blanks.
 */
export function renderTable(columns: readonly Column[], rows: readonly (readonly string[])[], header: (text: string) => string = (t) => t): string {
  const cells = [columns.map((c) => c.header.toUpperCase()), ...rows];
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => visibleLength(row[i] ?? ''))));
  const lines = cells.map((row, r) =>
    columns
      .map((column, i) => {
        const cell = row[i] ?? '';
        const pad = ' '.repeat((widths[i] ?? 0) - visibleLength(cell));
        const last = i === columns.length - 1;
        const text = r === 0 ? header(cell) : cell;
        if (column.align === 'right') return pad + text;
        return last ? text : text + pad;
      })
      .join('  ')
      .trimEnd(),
  );
  return `${lines.join('\n')}\n`;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Local `HH:MM:SS`. */
export function clockTime(at: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(at.getHours())}:${p(at.getMinutes())}:${p(at.getSeconds())}`;
}

/** A short span such as `45s`, `3m`, `2h5m`, `3d4h` (the two largest units, rounded down). */
export function shortSpan(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < MINUTE) return `${Math.floor(abs / SECOND)}s`;
  if (abs < HOUR) {
    const m = Math.floor(abs / MINUTE);
    const s = Math.floor((abs % MINUTE) / SECOND);
    return m < 10 && s > 0 ? `${m}m${s}s` : `${m}m`;
  }
  if (abs < DAY) {
    const h = Math.floor(abs / HOUR);
    const m = Math.floor((abs % HOUR) / MINUTE);
    return m > 0 ? `${h}h${m}m` : `${h}h`;
  }
  const d = Math.floor(abs / DAY);
  const h = Math.floor((abs % DAY) / HOUR);
  return h > 0 ? `${d}d${h}h` : `${d}d`;
}

/** `in 3m`, `2h ago`, `now`, or `-` for no time. */
export function relativeTime(value: string | Date | null | undefined, now: Date): string {
  if (value === null || value === undefined) return '-';
  const at = typeof value === 'string' ? new Date(value) : value;
  const diff = at.getTime() - now.getTime();
  if (Number.isNaN(diff)) return String(value);
  if (Math.abs(diff) < SECOND) return 'now';
  return diff > 0 ? `in ${shortSpan(diff)}` : `${shortSpan(diff)} ago`;
}

/** A run's execution time: `850ms`, `1.2s`, `3m20s`. */
export function formatElapsed(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  if (ms < SECOND) return `${Math.round(ms)}ms`;
  if (ms < MINUTE) return `${(ms / SECOND).toFixed(1)}s`;
  return shortSpan(ms);
}

/** An ISO instant as local `YYYY-MM-DD HH:MM:SS`, or `-`. */
export function localTime(value: string | Date | null | undefined): string {
  if (value === null || value === undefined) return '-';
  const at = typeof value === 'string' ? new Date(value) : value;
  if (Number.isNaN(at.getTime())) return String(value);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${p(at.getMonth() + 1)}-${p(at.getDate())} ${clockTime(at)}`;
}

/** `text` cut to `max` characters with an ellipsis, on one line, terminal-safe ({@link escapeUnsafe}). */
export function oneLine(text: string | null | undefined, max: number): string {
  if (text === null || text === undefined) return '';
  const flat = escapeUnsafe(text.replace(/\s+/g, ' ').trim());
  const chars = [...flat];
  return chars.length <= max ? flat : `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

/** One CSV cell: nested values as JSON, null as empty. */
function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * RFC 4180 CSV of wire records: a header of every field (in the order they first appear), CRLF
 * line ends, cells quoted when they hold a comma, quote, line break or edge blanks. Nested
 * objects and lists are written as JSON.
 */
export function toCsv(records: readonly object[], columns?: readonly string[]): string {
  const rows = records.map((record) => new Map(Object.entries(record)));
  const keys = columns ?? [...new Set(rows.flatMap((row) => [...row.keys()]))];
  const lines = [keys.map(csvCell).join(','), ...rows.map((row) => keys.map((key) => csvCell(row.get(key))).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}

/** Pretty JSON followed by a line break. */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
