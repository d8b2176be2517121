import { Command } from 'commander';
import { createJobDefinition, newRun, type AgentContext } from '@symbi/core';
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
      const now = ctx.io.now();
      const job = createJobDefinition({ name: `symbi run ${agentId}`, agentId, at: now.toISOString(), input: options.input ?? null }, now);
      const run = newRun(job, { scheduledFor: now, trigger: 'manual' });
      const context: AgentContext = {
        mode: 'fully_ephemeral',
        previousSummary: null,
        history: [],
        iteration: 1,
        capabilities: executor.describe(agentId)?.capabilities ?? [],
        environment: config.scheduler.environment,
        now,
      };
      const controller = new AbortController();
      const interrupt = () => controller.abort(new CliError('interrupted'));
      process.once('SIGINT', interrupt);
      const started = Date.now();
      try {
        const result = await executor.execute({ agentId, job, run, input: run.input, context }, { signal: controller.signal });
        print(ctx, result.output.endsWith('\n') || result.output === '' ? result.output : `${result.output}\n`);
        notice(ctx, `${ctx.err.paint('green', '✓')} ${agentId} ${ctx.err.status('succeeded')} in ${formatElapsed(Date.now() - started)}`);
        return EXIT_OK;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        notice(ctx, `${ctx.err.paint('red', '✗')} ${agentId} ${ctx.err.status('failed')} after ${formatElapsed(Date.now() - started)}: ${message}`);
        const stderr = (error as { stderr?: unknown }).stderr;
        if (typeof stderr === 'string' && stderr.trim() !== '') notice(ctx, ctx.err.dim(stderr.trimEnd()));
        return controller.signal.aborted ? EXIT_INTERRUPTED : EXIT_ERROR;
      } finally {
        process.off('SIGINT', interrupt);
      }
    }),
  );
}
