import { readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import type { Command } from 'commander';
import { print, withBackend } from '../command-support.js';
import { EXIT_OK, reportError } from '../errors.js';
import type { CommandContext, GlobalOptions } from '../io.js';
import { completeLine, readShellLine, shellHelp } from './slash-commands.js';

/** Runs a `symbi` command line (without `symbi`) and resolves with its exit status. */
export type CommandRunner = (argv: readonly string[]) => Promise<number>;

/** Lines of history kept for the up arrow. */
const HISTORY_SIZE = 500;

/** The shell's global options again as arguments, so each command works on the same store or server. */
function globalArgs(globals: GlobalOptions): string[] {
  return [
    ...(globals.config === undefined ? [] : ['--config', globals.config]),
    ...(globals.db === undefined ? [] : ['--db', globals.db]),
    ...(globals.api === undefined ? [] : ['--api', globals.api]),
    ...(globals.apiKey === undefined ? [] : ['--api-key', globals.apiKey]),
    ...(globals.color ? [] : ['--no-color']),
  ];
}

/**
 * Runs one line: a slash command through `run`, `/help` here. Resolves with its exit status, or
 * `quit`. A line that cannot be read is reported like a command's usage error.
 */
async function runLine(ctx: CommandContext, text: string, run: CommandRunner): Promise<number | 'quit'> {
  try {
    const line = readShellLine(text);
    if (line.kind === 'quit') return 'quit';
    if (line.kind === 'help') print(ctx, shellHelp());
    if (line.kind !== 'run') return EXIT_OK;
    return await run([...globalArgs(ctx.globals), ...line.argv]);
  } catch (error) {
    const report = reportError(error, ctx.io.env);
    ctx.io.stderr.write(`${report.message}\n`);
    return report.exitCode;
  }
}

/** Without a terminal: each line of standard input in turn, stopping at the first that fails. */
async function runScript(ctx: CommandContext, run: CommandRunner): Promise<number> {
  const lines = createInterface({ input: ctx.io.stdin, terminal: false, crlfDelay: Infinity });
  try {
    for await (const text of lines) {
      const code = await runLine(ctx, text, run);
      if (code === 'quit') return EXIT_OK;
      if (code !== EXIT_OK) return code;
    }
    return EXIT_OK;
  } finally {
    lines.close();
  }
}

/** Where lines typed at the prompt are kept between sessions: `SYMBI_HISTORY` (empty: nowhere), else `~/.symbi_history`. */
function historyFile(env: Record<string, string | undefined>): string | null {
  if (env.SYMBI_HISTORY !== undefined) return env.SYMBI_HISTORY === '' ? null : env.SYMBI_HISTORY;
  return join(env.HOME || homedir(), '.symbi_history');
}

/** The kept lines, newest first as readline holds them; none when the file does not exist yet. */
function readHistory(file: string | null): string[] {
  if (file === null) return [];
  try {
    return readFileSync(file, 'utf8').split('\n').filter((line) => line !== '').reverse().slice(0, HISTORY_SIZE);
  } catch {
    return [];
  }
}

/** Keeps `history` (newest first) in `file`, oldest line first, readable by its owner only. */
function writeHistory(ctx: CommandContext, file: string | null, history: readonly string[]): void {
  if (file === null) return;
  try {
    writeFileSync(file, `${[...history].reverse().join('\n')}\n`, { mode: 0o600 });
  } catch (error) {
    ctx.io.stderr.write(`${ctx.err.dim(`history not kept in ${file}: ${(error as Error).message}`)}\n`);
  }
}

/** Where commands go and the names of the jobs there, for completion. */
async function readJobNames(ctx: CommandContext): Promise<{ target: string; names: string[] }> {
  return withBackend(ctx, async (backend) => ({ target: backend.target, names: (await backend.listJobs({})).map((job) => job.name) }));
}

/**
 * On a terminal: a prompt with history (kept between sessions, see {@link historyFile}) and Tab
 * completion until `/quit`, Ctrl-D, or Ctrl-C on an empty line.
 */
async function runPrompt(ctx: CommandContext, program: Command, run: CommandRunner): Promise<number> {
  const first = await readJobNames(ctx);
  let names = first.names;
  const file = historyFile(ctx.io.env);
  const prompt: Interface = createInterface({
    input: ctx.io.stdin,
    output: ctx.io.stdout as NodeJS.WritableStream,
    terminal: true,
    historySize: HISTORY_SIZE,
    history: readHistory(file),
    removeHistoryDuplicates: true,
    completer: (line: string) => completeLine(program, line, { jobNames: () => names }),
  });
  prompt.on('history', (history: string[]) => writeHistory(ctx, file, history));
  prompt.setPrompt(`${ctx.out.bold('symbi')}> `);
  prompt.on('SIGINT', () => {
    if (prompt.line === '') return prompt.close();
    // Ctrl-C drops the line being typed, as in a shell.
    print(ctx, '^C\n');
    prompt.write(null, { ctrl: true, name: 'u' });
    prompt.prompt();
  });
  print(ctx, `${ctx.out.dim(`symbi shell on ${first.target} · /help lists the commands · Tab completes · /quit leaves`)}\n`);
  prompt.prompt();
  try {
    for await (const text of prompt) {
      if ((await runLine(ctx, text, run)) === 'quit') break;
      // A command may have added, renamed or removed jobs; a store that fails to answer keeps the old names.
      names = await readJobNames(ctx).then((read) => read.names, () => names);
      // Keys typed while the command ran are already on the line: keep the cursor where they left it.
      prompt.prompt(true);
    }
  } finally {
    prompt.close();
  }
  return EXIT_OK;
}

/**
 * `symbi shell`: slash commands (`/audit`, `/cron …`, `/health`, `/help`, `/quit`) run as the
 * `symbi` commands they stand for, on the store or server of the shell's global options. On a
 * terminal it prompts, with history and completion of commands, job names, event types and
 * options; otherwise it runs standard input line by line and stops at the first failure, with its
 * exit status.
 */
export function runShell(ctx: CommandContext, program: Command, run: CommandRunner): Promise<number> {
  return ctx.io.stdin.isTTY === true ? runPrompt(ctx, program, run) : runScript(ctx, run);
}
