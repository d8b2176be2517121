import { Command } from 'commander';
import { CronScheduler, InMemoryJobStore } from '@symbi/core';
import { toSchedulerConfig } from '@symbi/dsl';
import { agentFilesFor, collect, loadCliConfig, notice, print } from '../command-support.js';
import { CliError, EXIT_ERROR, EXIT_OK } from '../errors.js';
import { formatElapsed } from '../output/format.js';
import { examples, type Registrar } from '../program.js';

/** Exit status of a run stopped with Ctrl-C (128 + SIGINT). */
const EXIT_INTERRUPTED = 130;

/** Registers `symbi run`. */
export function registerRun(program: Command, registrar: Registrar): void {
  examples(
    program
      .command('run')
      .description('run one agent once, outside the scheduler, and print its output')
      .argument('<agent>', 'the agent, as declared in a .symbi file')
      .option('--input <text>', 'input for the agent')
      .option('--file <file>', '.symbi file declaring the agent (repeatable; default: the files `symbi up` loaded)', collect, []),
    ['symbi run reporter-agent --file agents.symbi --input "test"', 'symbi run heartbeat_monitor --file examples/agents/scheduler.symbi'],
  ).action(
    registrar.action(async (ctx, agentId: string, options: { input?: string; file: string[] }) => {
      const config = loadCliConfig(ctx);
      const files = agentFilesFor(ctx, options.file, config);
      const { createAgentExecutor } = await import('@symbi/executors');
      const executor = createAgentExecutor({ agents: files.agents, env: ctx.io.env });
      if (executor.kindOf(agentId) === undefined) {
        const known = files.agents.map((agent) => agent.name);
        throw new CliError(
          `agent not found: ${agentId}`,
          known.length > 0 ? `declared: ${known.join(', ')}` : 'pass the .symbi file that declares it with --file',
        );
      }
      // A one-off job in a store of its own, run once by core's entry point: the same pipeline
      // (session, max_runtime, policy) as a scheduled run, with nothing stored beyond this process.
      const scheduler = new CronScheduler({ store: new InMemoryJobStore(), executor, config: toSchedulerConfig(config) });
      const now = ctx.io.now();
      const job = await scheduler.add({ name: `symbi run ${agentId}`, agentId, at: now.toISOString(), input: options.input ?? null, paused: true });
      const controller = new AbortController();
      const interrupt = () => controller.abort('stopped by Ctrl-C');
      process.once('SIGINT', interrupt);
      const started = Date.now();
      try {
        const run = await scheduler.runOnce(job.id, { signal: controller.signal });
        const elapsed = formatElapsed(run.executionTimeMs ?? Date.now() - started);
        if (run.status === 'succeeded') {
          const output = run.output ?? '';
          print(ctx, output.endsWith('\n') || output === '' ? output : `${output}\n`);
          notice(ctx, `${ctx.err.paint('green', '✓')} ${agentId} ${ctx.err.status('succeeded')} in ${elapsed}`);
          return EXIT_OK;
        }
        notice(ctx, `${ctx.err.paint('red', '✗')} ${agentId} ${ctx.err.status(run.status)} after ${elapsed}: ${run.error ?? run.status}`);
        if (run.stderr) notice(ctx, ctx.err.dim(run.stderr.trimEnd()));
        return controller.signal.aborted ? EXIT_INTERRUPTED : EXIT_ERROR;
      } finally {
        process.off('SIGINT', interrupt);
      }
    }),
  );
}
