import type { Command } from 'commander';
import { examples, type Registrar } from '../program.js';
import { runShell, type CommandRunner } from '../shell/shell-session.js';

/** Registers `symbi shell`; `run` runs each slash command as the `symbi` command line it stands for. */
export function registerShell(program: Command, registrar: Registrar, run: CommandRunner): void {
  examples(
    program
      .command('shell')
      .description('an interactive prompt for /audit, /cron …, /health on the store or a server (reads commands from stdin when it is not a terminal)'),
    ['symbi shell --db .symbi/scheduler.db', "printf '/audit CronJobFailed --since 1d\\n/cron list\\n' | symbi shell", 'symbi --api http://127.0.0.1:8080 shell'],
  ).action(registrar.action(async (ctx) => runShell(ctx, program, run)));
}
