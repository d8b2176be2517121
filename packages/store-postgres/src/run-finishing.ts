import { checkPlannedRuns, countOutcome, withStatus } from '@symbi/core';
import type { AuditEvent, CronJobDefinition, FinishPlan, JobRunRecord, RunOutcome } from '@symbi/core';
import type { Transaction } from './postgres-runner.js';
import { auditToRow, rowToJob, rowToRun, runToRow } from './row-mapping.js';
import type { NewAuditRow, NewRunRow } from './schema.js';
import type { PatchInput, Statements } from './statements.js';

/** One run to finish: the parts of a `FinishRunRequest`, with the patch already as columns. */
export interface FinishItem {
  runId: string;
  /** Only this owner may finish it; null skips the check. */
  owner: string | null;
  /** The columns to set (see `runPatchToRow`). */
  patch: Partial<NewRunRow>;
  outcome: RunOutcome;
  plan(job: CronJobDefinition, run: JobRunRecord): FinishPlan;
  /** The audit events of the finish, written with it (see `FinishRunRequest.audit`). */
  audit?: (run: JobRunRecord, job: CronJobDefinition | null) => AuditEvent[];
}

/** What finishing one item gave: null when its run was absent, finished already or owned by another. */
export type FinishResult = { run: JobRunRecord; job: CronJobDefinition | null } | null;

/** The input row of a batched run update (see `Statements.updateRuns`). */
export function patchInput(runId: string, owner: string | null, patch: Partial<NewRunRow>, statusIn: string[] | null = null): PatchInput {
  return { id: runId, owner, status_in: statusIn, patch };
}

/**
 * Finishes runs inside the caller's transaction in two statements whatever their number: the first
 * ends every unfinished run and locks their jobs, then each item's outcome is counted and its plan
 * asked in order (so two runs of one job see each other's counts, as if finished one by one), and
 * the second stores the jobs as the plans left them, with the retries and every item's audit events,
 * and is sent with the COMMIT (one round trip when pipelined): nothing may follow it in `tx`.
 */
export async function finishRuns(tx: Transaction, statements: Statements, items: FinishItem[]): Promise<FinishResult[]> {
  const input = items.map((item) => patchInput(item.runId, item.owner, item.patch));
  const { rows } = await tx.query(statements.finishRuns.bind({ ids: items.map((item) => item.runId), input: JSON.stringify(input) }));
  const runs = new Map((rows[0]?.runs ?? []).map((row) => [row.id, rowToRun(row)]));
  const jobs = new Map((rows[0]?.jobs ?? []).map((row) => [row.id, rowToJob(row)]));
  if (runs.size === 0) return items.map(() => null);

  const retries: JobRunRecord[] = [];
  const audits: NewAuditRow[] = [];
  const audited = (item: FinishItem, result: NonNullable<FinishResult>): FinishResult => {
    for (const event of item.audit?.(result.run, result.job) ?? []) audits.push(auditToRow(event));
    return result;
  };
  const results = items.map((item): FinishResult => {
    const run = runs.get(item.runId);
    if (run === undefined) return null;
    const job = jobs.get(run.jobId);
    if (job === undefined) return audited(item, { run, job: null });
    const counted = countOutcome(job, run, item.outcome);
    const decision = item.plan(counted, run);
    const retry = decision.retry ?? null;
    if (retry !== null) {
      checkPlannedRuns(job, [retry]);
      retries.push(retry);
    }
    const next = withStatus(counted, decision.status, run.completedAt ?? new Date());
    jobs.set(job.id, next);
    return audited(item, { run, job: next });
  });

  const jobRows = [...jobs.values()].map((job) => ({
    id: job.id,
    run_count: job.runCount,
    failure_count: job.failureCount,
    consecutive_failures: job.consecutiveFailures,
    last_run: job.lastRun,
    status: job.status,
    version: job.version,
    updated_at: job.updatedAt,
  }));
  const written = { jobIds: jobRows.map((row) => row.id), jobs: JSON.stringify(jobRows), retries: JSON.stringify(retries.map(runToRow)), audits: JSON.stringify(audits) };
  await Promise.all([tx.query(statements.writeFinishedJobs.bind(written)), tx.commit()]);
  return results;
}
