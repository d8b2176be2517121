import type { CronScheduler, JobRunRecord, Logger } from '@symbi/core';
import { clockTime as clock, formatElapsed, oneLine } from './output/format.js';
import { escapeUnsafe, type OutputStream, type Paint, type Style } from './output/style.js';

/** Structured fields of a run for the log. */
function runFields(run: JobRunRecord): Record<string, unknown> {
  return {
    job: run.jobName,
    job_id: run.jobId,
    run_id: run.id,
    agent: run.agentId,
    status: run.status,
    trigger: run.trigger,
    attempt: run.attempt,
    execution_time_ms: run.executionTimeMs,
    ...(run.error ? { error: run.error } : {}),
  };
}

/**
 * Prints a readable line per run event of `scheduler` to `out` (finished, failed, denied, waiting
 * for approval, dead-lettered…) and writes each as a structured line to `log`.
 * Returns a function that stops listening.
 */
export function attachRunPrinter(scheduler: CronScheduler, out: OutputStream, style: Style, log: Logger): () => void {
  const line = (symbol: string, paint: Paint, run: JobRunRecord, text: string) => {
    const tail = style.dim(`run ${run.id}`);
    out.write(style.safe(`${style.dim(clock(new Date()))} ${style.paint(paint, symbol)} ${style.bold(escapeUnsafe(run.jobName))} ${text}  ${tail}\n`));
  };
  const took = (run: JobRunRecord) => `in ${formatElapsed(run.executionTimeMs)}`;
  const listeners = {
    'run:started': ({ run }: { run: JobRunRecord }) => log.debug(runFields(run), 'run started'),
    'run:succeeded': ({ run }: { run: JobRunRecord }) => {
      log.info(runFields(run), 'run succeeded');
      line('✓', 'green', run, `${style.status('succeeded')} ${took(run)}${run.error ? `: ${oneLine(run.error, 80)}` : ''}`);
    },
    'run:failed': ({ run }: { run: JobRunRecord }) => {
      log.warn(runFields(run), 'run failed');
      line('✗', 'red', run, `${style.status(run.status)} ${took(run)}: ${oneLine(run.error, 100)}`);
    },
    'run:skipped': ({ run }: { run: JobRunRecord }) => {
      log.info(runFields(run), 'run skipped');
      // The scheduler's reason may already say it was skipped; say it once.
      line('-', 'grey', run, `${style.status('skipped')}: ${oneLine(run.error?.replace(/^skipped: /, ''), 100)}`);
    },
    'run:denied': ({ run, reason }: { run: JobRunRecord; reason: string }) => {
      log.warn({ ...runFields(run), reason }, 'run denied');
      line('⊘', 'yellow', run, `${style.status('denied')}: ${oneLine(reason, 100)}`);
    },
    'run:interrupted': ({ run }: { run: JobRunRecord }) => {
      log.warn(runFields(run), 'run interrupted');
      line('!', 'yellow', run, `${style.status('interrupted')}: ${oneLine(run.error, 100)}`);
    },
    'run:awaiting_approval': ({ run }: { run: JobRunRecord }) => {
      log.info({ ...runFields(run), approver: run.approval?.approver }, 'run awaiting approval');
      line('?', 'magenta', run, `${style.status('awaiting_approval')} by ${escapeUnsafe(run.approval?.approver ?? 'anyone')} (symbi cron approve ${run.id})`);
    },
    'run:approval_decided': ({ run, decision }: { run: JobRunRecord; decision: string }) => {
      log.info({ ...runFields(run), decision }, 'approval decided');
      line('·', 'magenta', run, `approval ${decision}`);
    },
    'job:dead_lettered': ({ run }: { run: JobRunRecord }) => {
      log.error(runFields(run), 'job dead-lettered');
      line('✗', 'red', run, `${style.status('dead_letter')}: too many consecutive failures (symbi cron reset ${run.jobName})`);
    },
    'delivery:failed': ({ run, outcome }: { run: JobRunRecord; outcome: { channel: string; error: string | null } }) => {
      line('!', 'yellow', run, `delivery to ${escapeUnsafe(outcome.channel)} failed: ${oneLine(outcome.error, 100)}`);
    },
    'scheduler:error': ({ error, during }: { error: unknown; during: string }) => {
      const message = error instanceof Error ? error.message : String(error);
      log.error({ during, error: message }, 'scheduler error');
      out.write(style.safe(`${style.dim(clock(new Date()))} ${style.paint('red', '!')} scheduler error during ${during}: ${message}\n`));
    },
  } as const;
  for (const [event, listener] of Object.entries(listeners)) scheduler.on(event as 'run:started', listener as never);
  return () => {
    for (const [event, listener] of Object.entries(listeners)) scheduler.off(event as 'run:started', listener as never);
  };
}
