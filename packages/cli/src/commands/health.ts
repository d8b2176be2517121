import { Command, Option } from 'commander';
import { print, withBackend } from '../command-support.js';
import { EXIT_ERROR } from '../errors.js';
import { toJson } from '../output/format.js';
import { healthDetails } from '../output/views.js';
import { examples, type Registrar } from '../program.js';

/** Registers `symbi health`. */
export function registerHealth(program: Command, registrar: Registrar): void {
  examples(
    program
      .command('health')
      .description("show the scheduler's health: a running server's status and run counters (--api), or that the store answers and its job counts")
      .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table')),
    ['symbi health', 'symbi --api http://127.0.0.1:8080 health --format json'],
  ).action(
    registrar.action(async (ctx, options: { format: 'table' | 'json' }) => {
      const { health, target, remote } = await withBackend(ctx, async (backend) => ({ health: await backend.health(), target: backend.target, remote: backend.remote }));
      print(ctx, options.format === 'json' ? toJson(health) : healthDetails(health, target, remote, ctx.out));
      // A probe can rely on the status: a server that is not healthy fails the command.
      return remote && health.status !== 'healthy' ? EXIT_ERROR : undefined;
    }),
  );
}
