import { newRun, TERMINAL_RUN_STATUSES, type FirePlan } from '@symbi/core';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { FIXTURE_EPOCH, makeJob } from '@symbi/core/testing';
import type { SqliteJobStore } from '../src/index.js';
import { onCleanup, openStore, tempDbPath } from './temp-files.js';

const at = (seconds: number): Date => new Date(FIXTURE_EPOCH.getTime() + seconds * 1000);

/** A store on a database whose `prepare` records every SQL text the store sends. */
async function recordingStore(): Promise<{ store: SqliteJobStore; explain: (source: string) => string; record: () => string[] }> {
  const database = new Database(tempDbPath());
  onCleanup(() => database.close());
  let seen: string[] = [];
  const prepare = database.prepare.bind(database);
  database.prepare = ((source: string) => {
    seen.push(source);
    return prepare(source);
  }) as typeof database.prepare;
  const store = await openStore({ database });
  return {
    store,
    explain: (source) => planOf(prepare, source),
    record: () => {
      const texts = seen;
      seen = [];
      return texts;
    },
  };
}

/** SQLite's plan for a statement, one line per step (parameters bound to null). */
function planOf(prepare: Database.Database['prepare'], source: string): string {
  const parameters = (source.match(/\?/g) ?? []).map(() => null);
  const rows = prepare(`explain query plan ${source}`).all(...parameters) as { detail: string }[];
  return rows.map((row) => row.detail).join(' | ');
}

const fire = (job: Parameters<typeof newRun>[0]): FirePlan => ({
  runs: [newRun(job, { scheduledFor: job.nextRun as Date, trigger: 'schedule' })],
  nextRun: new Date((job.nextRun as Date).getTime() + 1000),
});

describe('query plans of the hot paths', () => {
  it('find due jobs, queued runs, leases and the outbox by index, never by scanning a table', async () => {
    const { store, explain, record } = await recordingStore();
    for (let i = 0; i < 5; i += 1) await store.createJob(makeJob());
    record();

    // Each SQL text is prepared once, when first run: a step's plans are those of the statements
    // it ran first.
    const plans = new Map<string, string[]>();
    const step = async <T>(name: string, action: () => Promise<T>): Promise<T> => {
      const result = await action();
      const statements = record().filter((source) => /^\s*(select|insert|update|delete)/i.test(source));
      plans.set(name, statements.map(explain));
      return result;
    };
    await step('nextWakeAt', () => store.nextWakeAt());
    await step('nextWakeAt for agents', () => store.nextWakeAt(['test-agent']));
    const [first, second] = await step('claimDue', () => store.claimDue({ now: at(10), owner: 'a', leaseMs: 1000, limit: 10, plan: fire }));
    await step('updateRun', () => store.updateRun(first!.run.id, { status: 'running', startedAt: at(10) }, { owner: 'a', statusIn: ['scheduled'] }));
    await step('renewLeases', () => store.renewLeases('a', [first!.run.id], at(20)));
    await step('finishRun', () =>
      store.finishRun({
        runId: second!.run.id,
        owner: 'a',
        outcome: 'success',
        patch: { status: 'succeeded', completedAt: at(11), deliveries: [{ channel: 'webhook', status: 'pending', attempts: 0, error: null, completedAt: null }] },
        plan: () => ({}),
      }),
    );
    await step('recoverExpired', () => store.recoverExpired({ now: at(30), limit: 10, plan: () => ({}) }));
    await step('claimPendingDeliveries', () => store.claimPendingDeliveries({ now: at(30), owner: 'b', leaseMs: 1000, limit: 10 }));
    await step('listRuns by job', () => store.listRuns({ jobId: first!.job.id }));
    await step('listJobs by status', () => store.listJobs({ status: 'paused', limit: 10 }));
    await step('listRuns', () => store.listRuns());
    await step('listRuns by agent', () => store.listRuns({ agentId: 'test-agent' }));
    await step('listRuns failed', () => store.listRuns({ status: 'failed' }));
    await step('listRuns failed or interrupted', () => store.listRuns({ status: ['failed', 'interrupted'] }));
    for (const status of ['scheduled', 'running', 'succeeded'] as const) await step(`listRuns ${status}`, () => store.listRuns({ status }));
    await step('listRuns running or failed', () => store.listRuns({ status: ['running', 'failed'] }));
    await step('listRuns succeeded or failed', () => store.listRuns({ status: ['succeeded', 'failed'] }));
    await step('queryAudit', () => store.queryAudit());
    await step('queryAudit by job', () => store.queryAudit({ jobId: first!.job.id }));
    await step('queryAudit by job since', () => store.queryAudit({ jobId: first!.job.id, since: at(5) }));
    await step('deleteJob', () => store.deleteJob(first!.job.id));

    for (const [name, steps] of plans) {
      for (const plan of steps) expect(plan, `${name}: ${plan}`).not.toMatch(/SCAN (runs|jobs)(?! USING)/);
    }
    const all = (name: string) => plans.get(name)?.join(' || ') ?? '';
    expect(all('claimDue')).toMatch(/jobs USING INDEX jobs_due/);
    expect(all('claimDue')).toMatch(/runs USING INDEX runs_claim/);
    expect(all('recoverExpired')).toMatch(/runs USING INDEX runs_lease/);
    expect(all('claimPendingDeliveries')).toMatch(/runs USING INDEX runs_outbox/);
    expect(all('nextWakeAt')).toMatch(/COVERING INDEX jobs_due/);
    expect(all('nextWakeAt')).toMatch(/INDEX runs_lease/);
    expect(all('nextWakeAt')).toMatch(/INDEX runs_waiting/);
    expect(all('nextWakeAt')).toMatch(/INDEX runs_claim/);
    expect(all('nextWakeAt for agents')).toMatch(/jobs USING INDEX jobs_due/);
    expect(all('claimDue')).toMatch(/INDEX runs_job_active/);
    expect(all('listRuns by job')).toMatch(/INDEX runs_job_history/);
    expect(all('listRuns')).toMatch(/INDEX runs_recent/);
    expect(all('listRuns by agent')).toMatch(/INDEX runs_agent/);
    // The rarely listed statuses and the runs in flight have a partial index; the succeeded are found walking the newest runs.
    expect(all('listRuns failed')).toMatch(/INDEX runs_listed/);
    expect(all('listRuns failed or interrupted')).toMatch(/INDEX runs_listed/);
    expect(all('listRuns scheduled')).toMatch(/INDEX runs_(claim|job_active)/);
    expect(all('listRuns running')).toMatch(/INDEX runs_job_active/);
    expect(all('listRuns succeeded')).toMatch(/INDEX runs_recent/);
    expect(all('listRuns succeeded or failed')).toMatch(/INDEX runs_recent/);
    // Statuses of two partial indexes: SQLite's `or` plans do not use partial indexes, so it walks the newest runs.
    expect(all('listRuns running or failed')).toMatch(/INDEX runs_recent/);
    // Events kept as marks on runs: through their partial indexes, the newest and a job's newest.
    expect(all('queryAudit')).toMatch(/runs USING INDEX runs_audited/);
    expect(all('queryAudit by job')).toMatch(/runs USING INDEX runs_job_audited/);
    expect(all('queryAudit by job since')).toMatch(/runs USING INDEX runs_job_audited \(job_id=\? AND completed_at>\?\)/);
    for (const name of ['queryAudit', 'queryAudit by job', 'queryAudit by job since']) expect(all(name), name).not.toMatch(/TEMP B-TREE/);
    expect(all('deleteJob')).toMatch(/runs USING INDEX runs_job_audited/);
    // No index on status (every fire and finish sets it): the name's unique index gives the order.
    expect(all('listJobs by status')).toMatch(/jobs USING INDEX sqlite_autoindex_jobs_2/);
  });

  it('prune one job\'s history through its history index, never by scanning the runs', async () => {
    const { store, explain, record } = await recordingStore();
    const job = await store.createJob(makeJob());
    for (let i = 0; i < 3; i += 1) await store.insertRun({ ...newRun(job, { scheduledFor: at(i), trigger: 'manual' }), status: 'succeeded', completedAt: at(i) });
    record();
    const request = { jobs: [{ jobId: job.id, finishedBefore: at(2), keepNewest: 1 }], statuses: TERMINAL_RUN_STATUSES, limit: 500 };
    expect(await store.pruneHistory({ ...request, dryRun: true })).toBe(2);
    expect(await store.pruneHistory(request)).toBe(2);
    const plans = record()
      .filter((source) => /^\s*(select|insert|delete)/i.test(source))
      .map(explain);
    // The boundary, the count, the marked runs' events written as rows, the delete.
    expect(plans).toHaveLength(4);
    for (const plan of plans) {
      expect(plan).not.toMatch(/SCAN runs(?! USING)/);
      expect(plan).toMatch(/runs USING (COVERING )?INDEX runs_job_history/);
    }
    // The events are those of the runs the delete takes, found by id, not among every marked run.
    expect(plans[2]).toMatch(/runs USING INDEX sqlite_autoindex_runs_1 \(id=\?\)/);
    expect(plans[2]).not.toMatch(/runs_audited/);
  });
});
