import { ConflictError, JobNotFoundError, newRun, type AuditEvent, type CronJobDefinition, type FinishPlan, type FirePlan, type JobRunRecord } from '@symbi/core';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterEach, beforeAll, expect, it, vi } from 'vitest';
import type { PostgresJobStore } from '@symbi/store-postgres';
import { makeJob } from '@symbi/core/testing';
import { describePostgres, useSchema } from './support/postgres.js';

const T0 = new Date('2026-01-01T00:00:01.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);

/** A job with every optional part filled, to check the paths that return jobs as JSON. */
const richJob = (overrides: Partial<CronJobDefinition> = {}) =>
  makeJob({
    webhookHeaders: { Authorization: 'Bearer ${TOKEN}' },
    heartbeat: { enabled: true, contextMode: 'shared_persistent', maxIterations: 7 },
    policy: { ...makeJob().policy, allowedHours: { start: '22:00', end: '04:00' }, maxRuntimeMs: 1500 },
    lastRun: new Date('2025-12-31T23:59:59.999Z'),
    jitterSeconds: 2.5,
    ...overrides,
  });

/** Counts the transactions (COMMITs) this process sends while `work` runs. */
async function countCommits(work: () => Promise<unknown>): Promise<number> {
  const spy = vi.spyOn(pg.Client.prototype, 'query');
  try {
    await work();
    return spy.mock.calls.filter(([text]) => text === 'COMMIT').length;
  } finally {
    spy.mockRestore();
  }
}

describePostgres('PostgresJobStore', () => {
  const db = useSchema();
  let store: PostgresJobStore;
  beforeAll(async () => {
    store = await db.open();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  const running = async (job: CronJobDefinition, owner = 'me'): Promise<JobRunRecord> =>
    store.insertRun({ ...newRun(job, { scheduledFor: at(0), trigger: 'manual' }), status: 'running', owner, leaseExpiresAt: at(60_000) });

  it('declares that several instances may share it and hear each other', () => {
    expect(store.capabilities).toEqual({ multiInstance: true, crossProcessNotifications: true, executedAuditFromHistory: true });
  });

  it('hands out claimed runs with their job exactly as stored', async () => {
    const job = await store.createJob(richJob({ nextRun: at(0), maxConcurrent: 5, overlap: 'allow_all' }));
    const plan = (j: CronJobDefinition): FirePlan => ({ runs: [newRun(j, { scheduledFor: at(0), trigger: 'schedule' })], nextRun: at(1000) });
    const claimed = (await store.claimDue({ now: at(0), owner: 'me', leaseMs: 1000, limit: 10, plan })).filter((c) => c.job.id === job.id);
    expect(claimed).toHaveLength(1);
    expect(claimed[0]?.job).toEqual(await store.getJob(job.id));
    expect(claimed[0]?.run).toEqual(await store.getRun(claimed[0]?.run.id as string));

    const done = await store.finishRun({
      runId: claimed[0]?.run.id as string,
      owner: 'me',
      outcome: 'success',
      patch: { status: 'succeeded', completedAt: at(10), owner: null, leaseExpiresAt: null, deliveries: [{ channel: 'stdout', status: 'pending', attempts: 0, error: null, completedAt: null }] },
      plan: () => ({}),
    });
    const outbox = (await store.claimPendingDeliveries({ now: at(20), owner: 'courier', leaseMs: 1000, limit: 10 })).filter((c) => c.job.id === job.id);
    expect(outbox.map((c) => c.job)).toEqual([await store.getJob(job.id)]);
    expect(outbox.map((c) => c.run)).toEqual([{ ...done?.run, owner: 'courier', leaseExpiresAt: at(1020) }]);
    await store.deleteJob(job.id);
  });

  it('does not claim again a fire already finished: its fire key is held in the history', async () => {
    const job = await store.createJob(makeJob({ nextRun: at(0), maxConcurrent: 5, overlap: 'allow_all' }));
    const plan = (j: CronJobDefinition): FirePlan => ({ runs: [newRun(j, { scheduledFor: at(0), trigger: 'schedule' })], nextRun: at(1000) });
    const claim = async () => (await store.claimDue({ now: at(0), owner: 'me', leaseMs: 1000, limit: 10, plan })).filter((c) => c.job.id === job.id);
    const [first] = await claim();
    await store.finishRun({ runId: first?.run.id as string, owner: 'me', outcome: 'success', patch: { status: 'succeeded', completedAt: at(5) }, plan: () => ({}) });
    // The same fire planned again (as after the clock stepped back): its run is not inserted, so not claimed.
    const stored = (await store.getJob(job.id)) as CronJobDefinition;
    await store.saveJob({ ...stored, nextRun: at(0) });
    expect(await claim()).toEqual([]);
    expect((await store.listRuns({ jobId: job.id })).map((run) => [run.id, run.status])).toEqual([[first?.run.id, 'succeeded']]);
    expect((await store.getJob(job.id))?.nextRun).toEqual(at(1000));
    await store.deleteJob(job.id);
  });

  it('admits a run waiting for a slot only if the runs its own claim plans leave one free', async () => {
    const job = await store.createJob(makeJob({ nextRun: at(0), maxConcurrent: 1, overlap: 'buffer_one' }));
    const waiting = await store.insertRun({ ...newRun(job, { scheduledFor: at(-2000), trigger: 'schedule' }), waitForSlot: true });
    const plan = (j: CronJobDefinition): FirePlan => ({ runs: [newRun(j, { scheduledFor: at(0), trigger: 'schedule' })], nextRun: null });
    const claimed = (await store.claimDue({ now: at(0), owner: 'me', leaseMs: 1000, limit: 10, plan })).filter((c) => c.job.id === job.id);
    expect(claimed.map((c) => c.run.scheduledFor)).toEqual([at(0)]);
    expect(await store.getRun(waiting.id)).toEqual(waiting);
    await store.deleteJob(job.id);
  });

  it('claims the queued run holding a fire key that a plan brings again, and inserts no second run', async () => {
    const job = await store.createJob(makeJob({ nextRun: at(0) }));
    const queued = await store.insertRun(newRun(job, { scheduledFor: at(0), trigger: 'schedule' }));
    const plan = (j: CronJobDefinition): FirePlan => ({ runs: [newRun(j, { scheduledFor: at(0), trigger: 'schedule' })], nextRun: at(1000) });
    const claimed = (await store.claimDue({ now: at(0), owner: 'me', leaseMs: 1000, limit: 10, plan })).filter((c) => c.job.id === job.id);
    expect(claimed.map((c) => c.run)).toEqual([{ ...queued, owner: 'me', leaseExpiresAt: at(1000) }]);
    expect(claimed[0]?.job).toEqual(await store.getJob(job.id));
    expect(await store.listRuns({ jobId: job.id })).toEqual([{ ...queued, owner: 'me', leaseExpiresAt: at(1000) }]);
    await store.deleteJob(job.id);
  });

  it('keeps the first of two planned runs with one fire key or one id, and hands it out as stored', async () => {
    const job = await store.createJob(makeJob({ nextRun: at(0), maxConcurrent: 5, overlap: 'allow_all' }));
    const plan = (j: CronJobDefinition): FirePlan => {
      const first = newRun(j, { scheduledFor: at(0), trigger: 'schedule', input: 'first' });
      const sameKey = newRun(j, { scheduledFor: at(0), trigger: 'schedule', input: 'same fire key' });
      const sameId = { ...newRun(j, { scheduledFor: at(0), trigger: 'manual', input: 'same id' }), id: first.id };
      return { runs: [first, sameId, sameKey], nextRun: null };
    };
    const claimed = (await store.claimDue({ now: at(0), owner: 'me', leaseMs: 1000, limit: 10, plan })).filter((c) => c.job.id === job.id);
    expect(claimed.map((c) => c.run.input)).toEqual(['first']);
    expect(claimed[0]?.run).toEqual(await store.getRun(claimed[0]?.run.id as string));
    expect(await store.listRuns({ jobId: job.id })).toHaveLength(1);
    await store.deleteJob(job.id);
  });

  it('claims a batch of any size in one transaction', async () => {
    const job = await store.createJob(makeJob({ nextRun: null, maxConcurrent: 1000, overlap: 'allow_all' }));
    await Promise.all(Array.from({ length: 120 }, (_, i) => store.insertRun(newRun(job, { scheduledFor: at(i), trigger: 'schedule' }))));
    const never = (): FirePlan => {
      throw new Error('nothing is due');
    };
    let claimed = 0;
    const commits = await countCommits(async () => {
      claimed = (await store.claimDue({ now: at(1000), owner: 'me', leaseMs: 1000, limit: 100, plan: never })).length;
    });
    expect(claimed).toBe(100);
    expect(commits).toBe(1);
    await store.deleteJob(job.id);
  });

  it('finishes concurrent runs in a few shared transactions, each counted once and in order', async () => {
    const job = await store.createJob(makeJob({ nextRun: null, maxRetries: 3 }));
    const runs = await Promise.all(Array.from({ length: 40 }, () => running(job)));
    const seen: number[] = [];
    const plan = (j: CronJobDefinition): FinishPlan => {
      seen.push(j.consecutiveFailures);
      return j.consecutiveFailures === 3 ? { status: 'dead_letter' } : {};
    };
    let results: unknown[] = [];
    const commits = await countCommits(async () => {
      results = await Promise.all(
        runs.map((run) => store.finishRun({ runId: run.id, owner: 'me', outcome: 'failure', patch: { status: 'failed', completedAt: at(5) }, plan })),
      );
    });
    expect(results.every((result) => result !== null)).toBe(true);
    expect(commits).toBeLessThan(10);
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(await store.getJob(job.id)).toMatchObject({
      runCount: 40,
      failureCount: 40,
      consecutiveFailures: 40,
      status: 'dead_letter',
      version: job.version + 1,
      updatedAt: at(5),
    });
  });

  it('fails only the finish whose plan throws when finishes share a transaction', async () => {
    const job = await store.createJob(makeJob({ nextRun: null, maxConcurrent: 10 }));
    const runs = await Promise.all(Array.from({ length: 6 }, () => running(job)));
    const outcomes = await Promise.allSettled(
      runs.map((run, i) =>
        store.finishRun({
          runId: run.id,
          owner: 'me',
          outcome: 'success',
          patch: { status: 'succeeded', completedAt: at(5) },
          plan: () => {
            if (i === 2) throw new Error('plan bug');
            return {};
          },
        }),
      ),
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect((await store.getRun(runs[2]!.id))?.status).toBe('running');
    expect((await store.getJob(job.id))?.runCount).toBe(5);
  });

  it('applies concurrent updates of one run in the order they were made', async () => {
    const job = await store.createJob(makeJob({ nextRun: null }));
    const run = await running(job);
    const updates = await Promise.all(Array.from({ length: 25 }, (_, i) => store.updateRun(run.id, { output: `v${i}` }, { owner: 'me' })));
    expect(updates.map((u) => u?.output)).toEqual(Array.from({ length: 25 }, (_, i) => `v${i}`));
    expect((await store.getRun(run.id))?.output).toBe('v24');
  });

  it('applies patches of different shapes together, each only where its guard holds', async () => {
    const job = await store.createJob(makeJob({ nextRun: null, maxConcurrent: 10 }));
    const [a, b, c] = await Promise.all([running(job), running(job, 'other'), running(job)]);
    const [ua, ub, uc] = await Promise.all([
      store.updateRun(a!.id, { output: 'a', summary: null }, { owner: 'me', statusIn: ['running'] }),
      store.updateRun(b!.id, { output: 'b' }, { owner: 'me' }),
      store.updateRun(c!.id, { status: 'scheduled', dueAt: at(99), leaseExpiresAt: null }, { statusIn: ['scheduled'] }),
    ]);
    expect(ua).toMatchObject({ output: 'a', status: 'running', owner: 'me' });
    expect([ub, uc]).toEqual([null, null]);
    expect(await store.getRun(b!.id)).toEqual(b);
    expect(await store.getRun(c!.id)).toEqual(c);
  });

  it('patches a run in flight or finished wherever it is, lists one that a patch finishes as its status says, and never brings a finished run back', async () => {
    const job = await store.createJob(makeJob({ nextRun: null, maxConcurrent: 10 }));
    const live = await running(job);
    const done = await store.insertRun({ ...newRun(job, { scheduledFor: at(1), trigger: 'manual' }), status: 'succeeded', completedAt: at(2) });
    const unreached = () => store.updateRun(done.id, { output: 'unreached' }, { statusIn: ['scheduled', 'running'] });
    // Guards that only runs in flight meet reach no finished run.
    expect(await Promise.all([store.updateRun(live.id, { output: 'live' }, { owner: 'me', statusIn: ['running'] }), unreached()])).toEqual([
      expect.objectContaining({ output: 'live', status: 'running' }),
      null,
    ]);
    expect(await store.updateRun(done.id, { output: 'late' })).toMatchObject({ output: 'late', status: 'succeeded' });
    expect(await store.updateRun(live.id, { status: 'failed', completedAt: at(3), owner: null, leaseExpiresAt: null }, { owner: 'me' })).toMatchObject({ status: 'failed' });
    expect(await store.updateRun(done.id, { status: 'scheduled', completedAt: null, dueAt: at(4) }, { statusIn: ['succeeded'] })).toBeNull();

    expect((await store.listRuns({ jobId: job.id, status: 'failed' })).map((run) => run.id)).toEqual([live.id]);
    expect(await store.getRun(done.id)).toMatchObject({ status: 'succeeded', output: 'late', completedAt: at(2) });
    const plan = () => ({ nextRun: null, runs: [] });
    const claimed = await store.claimDue({ now: at(10), owner: 'me', leaseMs: 1000, limit: 100, plan });
    expect(claimed.filter((c) => c.job.id === job.id)).toEqual([]);
  });

  it('saves and loads concurrent sessions together, failing only the one of a missing job', async () => {
    const jobs = await Promise.all(Array.from({ length: 5 }, () => store.createJob(makeJob({ nextRun: null }))));
    const state = (i: number) => ({ summary: `summary ${i}`, history: [{ role: 'assistant' as const, content: `said ${i}`, at: at(i).toISOString() }], updatedAt: at(i) });
    const saved = await Promise.allSettled([...jobs.map((job, i) => store.saveSession(job.id, state(i))), store.saveSession('no-such-job', state(9))]);
    expect(saved.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
    expect((saved[5] as PromiseRejectedResult).reason).toBeInstanceOf(JobNotFoundError);
    expect(await Promise.all([...jobs.map((job) => store.loadSession(job.id)), store.loadSession('no-such-job')])).toEqual([...jobs.map((_, i) => state(i)), null]);
  });

  it('appends concurrent audit events together in call order, failing only a duplicate id', async () => {
    const job = await store.createJob(makeJob({ nextRun: null }));
    const events: AuditEvent[] = Array.from({ length: 6 }, (_, i) => ({ id: randomUUID(), type: 'CronJobExecuted', at: at(0), jobId: job.id, runId: null, actor: `actor-${i}`, details: { i } }));
    const appended = await Promise.allSettled([...events.map((event) => store.appendAudit(event)), store.appendAudit({ ...events[0]!, actor: 'impostor' })]);
    expect(appended.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
    expect((appended[6] as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
    expect(await store.queryAudit({ jobId: job.id })).toEqual([...events].reverse());
  });
});
