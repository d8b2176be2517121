import type { Command } from 'commander';
import { SECURITY_EVENT_TYPES } from '@symbi/core';
import { UsageError } from '../errors.js';

/** The `symbi cron` commands the shell offers (`add` and `remove` stay on the command line). */
const CRON_SUBCOMMANDS = ['list', 'status', 'history', 'run', 'pause', 'resume', 'reset', 'approve', 'deny', 'prune'] as const;

/** `cron` commands whose first argument is a job. */
const TAKES_JOB: readonly string[] = ['status', 'history', 'run', 'pause', 'resume', 'reset'];

/** A slash command: how it reads and which `symbi` command line it stands for. */
interface SlashCommand {
  name: string;
  usage: string;
  summary: string;
  /** The `symbi` command it runs (`['cron', 'list']`), from its arguments; absent for the shell's own. */
  path?(args: readonly string[]): string[];
  /** The arguments of that command, from the slash command's. */
  argv?(args: readonly string[]): string[];
}

const SLASH_COMMANDS: readonly SlashCommand[] = [
  {
    name: 'audit',
    usage: '/audit [EventType] [--since 1d] [--limit N] [--format table|json|csv]',
    summary: 'audit events, newest first (symbi audit query)',
    path: () => ['audit', 'query'],
    argv: (args) => (args[0] !== undefined && !args[0].startsWith('-') ? ['--type', args[0], ...args.slice(1)] : [...args]),
  },
  {
    name: 'cron',
    usage: `/cron ${CRON_SUBCOMMANDS.join('|')} …`,
    summary: 'jobs and runs (symbi cron …)',
    path: (args) => {
      const sub = args[0];
      if (sub === undefined || !(CRON_SUBCOMMANDS as readonly string[]).includes(sub)) {
        throw new UsageError(`/cron ${sub ?? ''}`.trim() + ' needs one of: ' + CRON_SUBCOMMANDS.join(', '), 'e.g. /cron list');
      }
      return ['cron', sub];
    },
    argv: (args) => {
      if (args.includes('--watch')) throw new UsageError('--watch redraws until Ctrl-C, which would end the shell', 'run symbi cron status --watch in a terminal of its own');
      return args.slice(1);
    },
  },
  { name: 'health', usage: '/health [--format json]', summary: "the scheduler's health (symbi health)", path: () => ['health'], argv: (args) => [...args] },
  { name: 'help', usage: '/help [command …]', summary: 'this list, or the help of a command: /help cron history' },
  { name: 'quit', usage: '/quit', summary: 'leave the shell (also /exit or Ctrl-D)' },
];

/** A line of the shell, understood. */
export type ShellLine =
  | { kind: 'run'; argv: string[] }
  | { kind: 'help' }
  | { kind: 'quit' }
  | { kind: 'blank' };

/**
 * Splits a line into words as a POSIX shell would for simple cases: blanks separate words,
 * '…' and "…" quote, a backslash escapes the next character (inside "…" too).
 */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (c === '\\' && quote !== "'" && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (quote !== null) {
      if (c === quote) quote = null;
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote !== null) throw new UsageError(`unclosed ${quote} in: ${line}`, `close it, or escape it as \\${quote}`);
  if (inWord) words.push(word);
  return words;
}

function slashCommand(word: string): SlashCommand {
  const name = word.replace(/^\//, '');
  const command = SLASH_COMMANDS.find((c) => c.name === name || (name === 'exit' && c.name === 'quit'));
  if (!word.startsWith('/') || !command) {
    throw new UsageError(`unknown command: ${word}`, `commands start with /: ${SLASH_COMMANDS.map((c) => `/${c.name}`).join(', ')}`);
  }
  return command;
}

/**
 * Reads one line of the shell: blank lines and `#` comments do nothing; `/help` and `/quit` are
 * the shell's own; every other slash command becomes the `symbi` command line it stands for.
 * Throws a `UsageError` naming what is wrong.
 */
export function readShellLine(line: string): ShellLine {
  const words = splitWords(line);
  if (words.length === 0 || (words[0] as string).startsWith('#')) return { kind: 'blank' };
  const [word, ...args] = words as [string, ...string[]];
  const command = slashCommand(word);
  if (command.name === 'quit') return { kind: 'quit' };
  if (command.name === 'help') return args.length === 0 ? { kind: 'help' } : helpOf(args as [string, ...string[]]);
  return { kind: 'run', argv: [...command.path!(args), ...command.argv!(args)] };
}

/** `/help cron history`: the `--help` of the command it stands for (`/help quit`: the shell's own). */
function helpOf([name, ...rest]: [string, ...string[]]): ShellLine {
  const target = slashCommand(`/${name}`);
  if (!target.path) return { kind: 'help' };
  return { kind: 'run', argv: [...(target.name === 'cron' && rest.length === 0 ? ['cron'] : target.path(rest)), '--help'] };
}

/** The text of `/help`. */
export function shellHelp(): string {
  const width = Math.max(...SLASH_COMMANDS.map((c) => c.usage.length));
  const lines = SLASH_COMMANDS.map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`);
  return [
    'Commands:',
    ...lines,
    '',
    'Tab completes commands, job names, event types and options; the up arrow recalls earlier lines.',
    'Quote arguments with spaces: /cron run daily-report --input "Check production"',
    '',
  ].join('\n');
}

/** What completion offers beyond the fixed words: the store's job names. */
export interface CompletionSource {
  /** Names of the jobs, as last read. */
  jobNames(): readonly string[];
}

/** The `symbi` command at `path` below `program`. */
function commandAt(program: Command, path: readonly string[]): Command | undefined {
  let command: Command | undefined = program;
  for (const name of path) command = command?.commands.find((c) => c.name() === name);
  return command;
}

/** What may stand at the word being typed, given the words before it. */
function candidates(program: Command, before: readonly string[], source: CompletionSource, typing: string): readonly string[] {
  if (before.length === 0) return SLASH_COMMANDS.map((c) => `/${c.name}`);
  const [first, ...args] = before as [string, ...string[]];
  const name = first.replace(/^\//, '');
  if (name === 'help') return args.length === 0 ? SLASH_COMMANDS.map((c) => c.name) : args.length === 1 && args[0] === 'cron' ? CRON_SUBCOMMANDS : [];
  if (name === 'cron' && args.length === 0) return CRON_SUBCOMMANDS;
  let command: Command | undefined;
  try {
    command = commandAt(program, SLASH_COMMANDS.find((c) => c.name === name)?.path?.(args) ?? []);
  } catch {
    return [];
  }
  if (!command || command === program) return [];
  // After an option that takes a value from a list (`--format`, `--status`), offer the list.
  const option = command.options.find((o) => o.long === before[before.length - 1]);
  if (option?.argChoices) return option.argChoices;
  if (typing.startsWith('-')) return command.options.map((o) => o.long).filter((long): long is string => long !== undefined);
  if (name === 'audit' && args.length === 0) return SECURITY_EVENT_TYPES;
  if (name === 'cron' && args.length === 1 && TAKES_JOB.includes(args[0] as string)) return source.jobNames();
  return [];
}

/**
 * Completions of the word being typed at the end of `line`, in the form node:readline's
 * `completer` returns: the matching words and the word they complete.
 */
export function completeLine(program: Command, line: string, source: CompletionSource): [string[], string] {
  const words = line.trimStart().split(/\s+/);
  const typing = words[words.length - 1] ?? '';
  const matches = [...new Set(candidates(program, words.slice(0, -1), source, typing).filter((word) => word.startsWith(typing)))];
  // A single match is taken whole, with the blank after it, as shells do.
  return [matches.length === 1 ? [`${matches[0]} `] : matches, typing];
}
