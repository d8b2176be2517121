import { Command, CommanderError, Option } from 'commander';
import { EXIT_OK, EXIT_USAGE, reportError } from './errors.js';
import { commandContext, processIo, type CommandContext, type GlobalOptions, type Io } from './io.js';
import { escapeUnsafe } from './output/style.js';
import { registerAudit } from './commands/audit.js';
import { registerCron } from './commands/cron.js';
import { registerLogs } from './commands/logs.js';
import { registerHealth } from './commands/health.js';
import { registerRun } from './commands/run.js';
import { registerShell } from './commands/shell.js';
import { registerUp } from './commands/up.js';

/** The version printed by `symbi --version`. */
export const VERSION = '0.1.0';

/** What a command's action does; it may return an exit status (default 0). */
export type CommandAction<A extends unknown[]> = (ctx: CommandContext, ...args: A) => Promise<number | void>;

/** Registers the commands of one family (`up`, `cron`, …) on the root command. */
export interface Registrar {
  /** Wraps an action: builds its context from the global options and records its exit status. */
  action<A extends unknown[]>(fn: CommandAction<A>): (...args: unknown[]) => Promise<void>;
}

/** Adds an `Examples:` section to a command's `--help`. */
export function examples(command: Command, lines: readonly string[]): Command {
  return command.addHelpText('after', `\nExamples:\n${lines.map((line) => `  $ ${line}`).join('\n')}\n`);
}

/**
 * The `symbi` command line: `up`, `cron …`, `audit query`, `run`, `logs`, `health`, `shell`. Exit statuses are set
 * through `setExit`; nothing here calls `process.exit`.
 */
export function createProgram(io: Io, setExit: (code: number) => void): Command {
  const program = new Command('symbi');
  program
    .description('Durable schedules for AI agents: run the scheduler, manage its jobs, read its audit log.')
    .version(VERSION, '-V, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .showHelpAfterError('(add --help for usage and examples)')
    .addOption(new Option('--config <file>', 'configuration file (default ./symbi.toml when present)'))
    .addOption(new Option('--db <store>', 'job store: an SQLite path, sqlite:PATH or postgres://… (env SYMBI_DB)'))
    .addOption(new Option('--api <url>', 'work through a running server instead of the store (env SYMBI_API_URL)'))
    .addOption(new Option('--api-key <key>', 'API key of the server (env SYMBI_API_KEY)'))
    .addOption(new Option('--no-color', 'never colour output (also when NO_COLOR is set)'));
  examples(program, [
    'symbi up --config symbi.toml --file agents.symbi',
    'symbi cron list --status active',
    'symbi cron status daily-report --history 10',
    'symbi cron history daily-report --format csv > runs.csv',
    'symbi audit query --type CronJobFailed --since 1d',
    'symbi shell',
  ]);
  const registrar: Registrar = {
    action<A extends unknown[]>(fn: CommandAction<A>) {
      return async (...args: unknown[]) => {
        const command = args[args.length - 1] as Command;
        const globals = command.optsWithGlobals<GlobalOptions>();
        const positional = args.slice(0, -1);
        const code = await fn(commandContext(io, globals), ...(positional as A));
        setExit(typeof code === 'number' ? code : EXIT_OK);
      };
    },
  };
  registerUp(program, registrar);
  registerCron(program, registrar);
  registerAudit(program, registrar);
  registerRun(program, registrar);
  registerLogs(program, registrar);
  registerHealth(program, registrar);
  registerShell(program, registrar, (argv) => main(argv, io));
  return program;
}

/**
 * Runs the command line `argv` (without `node` and the script) and resolves with its exit status:
 * 0 ok, 1 error, 2 usage. Errors are printed as one `error: …` line on stderr.
 */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  let exitCode = EXIT_OK;
  const program = createProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    // Commander has already printed help or the usage problem; only its verdict is left.
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    const report = reportError(error, io.env);
    io.stderr.write(`${escapeUnsafe(report.message)}\n`);
    return report.exitCode;
  }
}
