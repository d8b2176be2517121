import { createReadStream, existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { print } from '../command-support.js';
import { CliError } from '../errors.js';
import type { CommandContext } from '../io.js';
import { keepEntry, levelNumber, parseLogLine, prettyLogLine, type LogFilter } from '../log-lines.js';
import { DEFAULT_LOG_FILE, LOG_LEVELS } from '../logging.js';
import { examples, type Registrar } from '../program.js';

const FOLLOW_POLL_MS = 250;

/**
 * Prints the complete lines of `file` from byte `start`, filtered, and resolves with the offset
 * after the last complete line: a last line without its line break is still being written, so
 * it is left for the next read.
 */
async function printFrom(ctx: CommandContext, file: string, start: number, filter: LogFilter): Promise<number> {
  const pretty = ctx.io.stdout.isTTY === true;
  let offset = start;
  let rest = Buffer.alloc(0);
  for await (const chunk of createReadStream(file, { start })) {
    rest = Buffer.concat([rest, chunk as Buffer]);
    for (let end = rest.indexOf(10); end !== -1; end = rest.indexOf(10)) {
      const line = rest.subarray(0, end).toString('utf8').replace(/\r$/, '');
      rest = rest.subarray(end + 1);
      offset += end + 1;
      const entry = parseLogLine(line);
      if (line !== '' && keepEntry(entry, filter)) print(ctx, `${pretty && entry ? prettyLogLine(entry, ctx.out) : line}\n`);
    }
  }
  return offset;
}

/** Follows `file` from `offset` until Ctrl-C, starting over when it is truncated or replaced. */
async function follow(ctx: CommandContext, file: string, offset: number, filter: LogFilter): Promise<void> {
  let stopped = false;
  const stop = () => {
    stopped = true;
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    let position = offset;
    while (!stopped) {
      await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
      if (!existsSync(file)) continue;
      const size = statSync(file).size;
      if (size < position) position = 0;
      if (size > position) position = await printFrom(ctx, file, position, filter);
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

/** Registers `symbi logs`. */
export function registerLogs(program: Command, registrar: Registrar): void {
  examples(
    program
      .command('logs')
      .description('read the structured log of `symbi up` (pretty on a terminal, JSON lines otherwise)')
      .option('--file <path>', 'log file', DEFAULT_LOG_FILE)
      .option('--filter <component>', 'only lines of these components, comma-separated: cli, scheduler, run, delivery, server')
      .addOption(new Option('--level <level>', 'only lines at this level or above').choices(LOG_LEVELS).default('trace'))
      .option('--follow', 'keep printing lines as they are written, until Ctrl-C'),
    ['symbi logs', 'symbi logs --filter scheduler --level debug', 'symbi logs --filter run --level warn --follow', 'symbi logs --file /var/log/symbi.log | jq .'],
  ).action(
    registrar.action(async (ctx, options: { file: string; filter?: string; level: string; follow?: boolean }) => {
      const file = resolve(ctx.io.cwd, options.file);
      const filter: LogFilter = {
        components: (options.filter ?? '').split(',').map((c) => c.trim()).filter((c) => c !== ''),
        minLevel: levelNumber(options.level),
      };
      const exists = existsSync(file);
      if (!exists && !options.follow) throw new CliError(`log file not found: ${options.file}`, 'start the scheduler with symbi up, or pass --file');
      const offset = exists ? await printFrom(ctx, file, 0, filter) : 0;
      if (options.follow) await follow(ctx, file, offset, filter);
    }),
  );
}
