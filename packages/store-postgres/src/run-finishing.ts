import { decideFinish } from '@symbi/core';
import type { CronJobDefinition, FinishedJobPatch, FinishRule, JobRunRecord } from '@symbi/core';
import type { Transaction } from './postgres-runner.js';
import { auditToRow, recordsJson, rowToJob, rowToRun, runToRow } from './row-mapping.js';
import type { NewAuditRow, NewRunRow } from './schema.js';
import type { FinishInput, PatchInput, Statements } from './statements.js';

/** One run to finish: the run, its final columns and core's rule for what follows it. */
export interface FinishItem {
  runId: string;
  /** Only this owner may finish it; null skips the check. */
  owner: string | null;
  /** The columns to set (see `runPatchToRow`). */
  patch: Partial<NewRunRow>;
  /** How the finish is judged (see core's `decideFinish`). */
  rule: FinishRule;
  /** Mark the run if it finishes `succeeded`: its `CronJobExecuted` event (see `executed-audit.ts`). */
  executedAudit?: boolean;
}

/** What finishing one item gave: null when its run was absent, finished already or owned by another. */
export type FinishResult = { run: JobRunRecord; job: CronJobDefinition | null } | null;

/** The input row of a batched run update (see `Statements.updateRuns`). */
export function patchInput(runId: string, owner: string | null, patch: Partial<NewRunRow>, statusIn: string[] | null = null): PatchInput {
  return { id: runId, owner, status_in: statusIn, patch };
}

/**
 * Finishes runs inside the caller's transaction in three statements whatever their number, in two
 * round trips when pipelined: the first two, sent together, end every unfinished run and lock the
 * jobs of the batch's runs (in that order), then core decides each item's writes in order (so
 * two runs of one job see each other's counts, as if finished one by one), and the second persists
 * the jobs as the decisions left them, with the retries and every item's audit events, and is sent
 * with the COMMIT (one round trip when pipelined): nothing may follow it in `tx`.
 */
export async function finishRuns(tx: Transaction, statements: Statements, items: FinishItem[]): Promise<FinishResult[]> {
  const input = items.map((item): FinishInput => {
    const row = patchInput(item.runId, item.owner, item.patch);
    return item.executedAudit === true ? { ...row, executed_audit: true } : row;
  });
  const ids = items.map((item) => item.runId);
  const [finished, locked] = await Promise.all([
    tx.query(statements.finishRuns.bind({ ids, input: JSON.stringify(input) })),
    tx.query(statements.lockJobsOfRuns.bind({ ids })),
  ]);
  const runs = new Map(finished.rows.map((row) => [row.id, rowToRun(row)]));
  const jobs = new Map(locked.rows.map((row) => [row.id, rowToJob(row)]));
  if (runs.size === 0) return items.map(() => null);

  const retries: JobRunRecord[] = [];
  const audits: NewAuditRow[] = [];
  // The last patch of each job: it holds the counts of every earlier finish of the job as well.
  const patches = new Map<string, FinishedJobPatch>();
  const results = items.map((item): FinishResult => {
    const run = runs.get(item.runId);
    if (run === undefined) return null;
    const writes = decideFinish(jobs.get(run.jobId) ?? null, run, item.rule);
    if (writes.job !== null && writes.jobPatch !== null) {
      jobs.set(writes.job.id, writes.job);
      patches.set(writes.jobPatch.id, writes.jobPatch);
    }
    if (writes.retry !== null) retries.push(writes.retry);
    for (const event of writes.audit) audits.push(auditToRow(event));
    return { run, job: writes.job };
  });

  const jobRows = [...patches.values()].map((patch) => ({
    id: patch.id,
    run_count: patch.runCount,
    failure_count: patch.failureCount,
    consecutive_failures: patch.consecutiveFailures,
    last_run: patch.lastRun,
    status: patch.status,
    next_run: patch.nextRun,
    version: patch.version,
    updated_at: patch.updatedAt,
  }));
  const written = { jobIds: jobRows.map((row) => row.id), jobs: recordsJson(jobRows), retries: recordsJson(retries.map(runToRow)), audits: recordsJson(audits) };
  await Promise.all([tx.query(statements.writeFinishedJobs.bind(written)), tx.commit()]);
  return results;
}
