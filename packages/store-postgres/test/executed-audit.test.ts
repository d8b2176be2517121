import { executedAuditEvent, newRun, type CronJobDefinition, type ExecutedRunFacts, type JobRunRecord } from '@symbi/core';
import { beforeAll, expect, it } from 'vitest';
import type { PostgresJobStore } from '@symbi/store-postgres';
import { makeJob } from '@symbi/core/testing';
import { describePostgres, queryRows, useSchema } from './support/postgres.js';

const T0 = new Date('2026-01-01T00:00:01.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);

describePostgres("PostgresJobStore: a success's CronJobExecuted event kept as a mark on its run", () => {
  const db = useSchema();
  let store: PostgresJobStore;
  let other: PostgresJobStore;
  beforeAll(async () => {
    store = await db.open();
    other = await db.open();
  });

  const query = queryRows;
  /** The `audit_events` rows of the job's runs. */
  const auditRowsOf = async (job: CronJobDefinition) => query(`SELECT id FROM "${store.schema}".audit_events WHERE job_id = $1`, [job.id]);
  const running = (job: CronJobDefinition): Promise<JobRunRecord> =>
    store.insertRun({ ...newRun(job, { scheduledFor: at(0), trigger: 'manual' }), status: 'running', owner: 'me', leaseExpiresAt: at(60_000) });
  /** Finishes `run` as a success with the mark; the finished run. */
  const succeed = async (run: JobRunRecord, completedAt: Date, executionTimeMs: number | null) => {
    const done = await store.finishRun({ runId: run.id, owner: 'me', patch: { status: 'succeeded', completedAt, executionTimeMs }, outcome: 'success', plan: () => ({}), executedAudit: true });
    return done?.run as JobRunRecord;
  };
  const eventOf = (run: JobRunRecord) => executedAuditEvent(run as ExecutedRunFacts);

  it('writes no audit row for a marked success, and every instance on the schema answers its event', async () => {
    const job = await store.createJob(makeJob());
    const run = await succeed(await running(job), at(1000), 12.5);
    expect(await auditRowsOf(job)).toEqual([]);
    expect(await query(`SELECT executed_audit FROM "${store.schema}".runs WHERE id = $1`, [run.id])).toEqual([{ executed_audit: true }]);
    expect(await store.queryAudit({ jobId: job.id })).toEqual([eventOf(run)]);
    expect(await other.queryAudit({ jobId: job.id, type: 'CronJobExecuted' })).toEqual([eventOf(run)]);
    expect(await other.queryAudit({ jobId: job.id, type: 'CronJobFailed' })).toEqual([]);
  });

  it('writes the events of a deleted job as rows with exactly the fields executedAuditEvent gives', async () => {
    const job = await store.createJob(makeJob({ name: 'daily «digest» 📬' }));
    const timed = await succeed(await running(job), at(2000), 0.1 + 0.2);
    const untimed = await succeed(await running(job), at(3000), null);
    const before = await other.queryAudit({ jobId: job.id });
    expect(before).toEqual([eventOf(untimed), eventOf(timed)]);
    expect(await other.deleteJob(job.id)).toBe(true);
    expect((await auditRowsOf(job)).map((row) => row.id).sort()).toEqual([timed.id, untimed.id].sort());
    expect(await query(`SELECT count(*)::int AS n FROM "${store.schema}".runs WHERE job_id = $1`, [job.id])).toEqual([{ n: 0 }]);
    expect(await store.queryAudit({ jobId: job.id })).toEqual(before);
  });

  it('keeps the event as the run finished when a patch changes what it is made of, and only then writes a row', async () => {
    const job = await store.createJob(makeJob());
    const run = await succeed(await running(job), at(5000), 3);
    await store.updateRun(run.id, { deliveries: [{ channel: 'webhook', status: 'pending', attempts: 0, error: null, completedAt: null }] });
    expect(await auditRowsOf(job)).toEqual([]);
    expect(await other.updateRun(run.id, { executionTimeMs: 99, completedAt: at(9000) })).toMatchObject({ executionTimeMs: 99 });
    expect((await auditRowsOf(job)).map((row) => row.id)).toEqual([run.id]);
    expect(await store.queryAudit({ jobId: job.id })).toEqual([eventOf(run)]);
  });

  it('keeps a marked run marked when a patch would bring it back in flight: the patch is refused', async () => {
    const job = await store.createJob(makeJob());
    const run = await succeed(await running(job), at(4000), 7);
    expect(await store.updateRun(run.id, { status: 'scheduled', completedAt: null })).toBeNull();
    expect(await auditRowsOf(job)).toEqual([]);
    expect(await store.queryAudit({ jobId: job.id })).toEqual([eventOf(run)]);
  });
});
