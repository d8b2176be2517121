import { LOG_LEVELS } from './logging.js';
import { localTime } from './output/format.js';
import type { Paint, Style } from './output/style.js';

const LEVEL_NUMBERS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };
const LEVEL_PAINT: Record<number, Paint> = { 10: 'grey', 20: 'grey', 30: 'green', 40: 'yellow', 50: 'red', 60: 'red' };
const FIXED = new Set(['level', 'time', 'pid', 'hostname', 'component', 'msg', 'v']);

/** A line of the structured log, parsed, or null when the line is not a JSON object. */
export interface LogEntry {
  level: number;
  time: string | number | null;
  component: string | null;
  msg: string;
  fields: Record<string, unknown>;
}

/** Parses one line of pino JSON. */
export function parseLogLine(line: string): LogEntry | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const record = value as Record<string, unknown>;
  const fields = Object.fromEntries(Object.entries(record).filter(([key]) => !FIXED.has(key)));
  return {
    level: typeof record.level === 'number' ? record.level : (LEVEL_NUMBERS[String(record.level)] ?? 30),
    time: typeof record.time === 'string' || typeof record.time === 'number' ? record.time : null,
    component: typeof record.component === 'string' ? record.component : null,
    msg: typeof record.msg === 'string' ? record.msg : '',
    fields,
  };
}

/** The number of a level name (`warn` → 40); throws on an unknown name. */
export function levelNumber(name: string): number {
  const number = LEVEL_NUMBERS[name.toLowerCase()];
  if (number === undefined) throw new RangeError(`unknown level ${name}; one of ${LOG_LEVELS.join(', ')}`);
  return number;
}

/** Which lines `symbi logs` keeps. */
export interface LogFilter {
  /** Components to keep (any when empty). */
  components: string[];
  /** Lowest level kept. */
  minLevel: number;
}

/** Whether `entry` passes `filter`. Lines that are not JSON pass only an empty filter. */
export function keepEntry(entry: LogEntry | null, filter: LogFilter): boolean {
  if (entry === null) return filter.components.length === 0 && filter.minLevel <= LEVEL_NUMBERS.info!;
  if (entry.level < filter.minLevel) return false;
  return filter.components.length === 0 || (entry.component !== null && filter.components.includes(entry.component));
}

function fieldText(value: unknown): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) || value === '' ? JSON.stringify(value) : value;
  return JSON.stringify(value);
}

/** A log entry as one readable line: time, level, component, message, then `key=value` fields. */
export function prettyLogLine(entry: LogEntry, style: Style): string {
  const name = (Object.entries(LEVEL_NUMBERS).find(([, n]) => n === entry.level)?.[0] ?? String(entry.level)).toUpperCase();
  const time = entry.time === null ? '-' : localTime(new Date(entry.time));
  const fields = Object.entries(entry.fields).map(([key, value]) => `${style.dim(`${key}=`)}${fieldText(value)}`);
  return [
    style.dim(time),
    style.paint(LEVEL_PAINT[entry.level] ?? 'bold', name.padEnd(5)),
    style.paint('cyan', (entry.component ?? '-').padEnd(9)),
    entry.msg,
    ...fields,
  ].join(' ');
}
