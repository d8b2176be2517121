import { randomBytes } from 'node:crypto';
import { newRun, type JobRunRecord } from '@symbi/core';
import { makeJob } from '@symbi/core/testing';
import type { PostgresJobStore } from '@symbi/store-postgres';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CONNECTION_STRING, describePostgres, useSchema } from './support/postgres.js';

const T0 = new Date('2026-01-01T00:00:00.000Z');

/** Resolves once `count` connections named `application` wait for a lock; fails after 10 s. */
async function waitersReach(admin: pg.Client, application: string, count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { rows } = await admin.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
      [application],
    );
    if ((rows[0]?.n ?? 0) >= count) return;
    if (Date.now() > deadline) throw new Error(`never saw ${count} connections of ${application} waiting for a lock`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** `promise`, or a failure naming `what` when it has not settled within `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} still waiting after ${ms} ms: a deadlock`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

describePostgres('locks on runs', () => {
  const db = useSchema();
  const admin = new pg.Client({ connectionString: CONNECTION_STRING });
  beforeAll(() => admin.connect());
  afterAll(() => admin.end());

  /** The two batched writes on runs in flight: what each writes to a run, and the status it leaves. */
  const writes = {
    start: {
      from: 'scheduled' as const,
      write: (store: PostgresJobStore, run: JobRunRecord) =>
        store.updateRun(run.id, { status: 'running', startedAt: new Date() }, { owner: 'me', statusIn: ['scheduled'] }).then((result) => result?.status),
      leaves: 'running',
    },
    finish: {
      from: 'running' as const,
      write: (store: PostgresJobStore, run: JobRunRecord) =>
        store
          .finishRun({ runId: run.id, owner: 'me', outcome: 'success', patch: { status: 'succeeded', completedAt: new Date() }, plan: () => ({}) })
          .then((result) => result?.run.status),
      leaves: 'succeeded',
    },
  };

  it.each(Object.keys(writes) as (keyof typeof writes)[])(
    "renews its owner's leases without waiting for the runs a batch's %s is writing, counting those neither renewed nor lost",
    async (kind) => {
      const { from, write, leaves } = writes[kind];
      // A renewal that waited here could deadlock with the batch (each holding a run the other
      // wants); PostgreSQL would break that after `deadlock_timeout` by failing one side, which the
      // store then hides at the cost of the wait. A long timeout makes any wait show.
      const application = `symbi_lock_order_${randomBytes(4).toString('hex')}`;
      const url = new URL(CONNECTION_STRING);
      url.searchParams.set('application_name', application);
      url.searchParams.set('options', '-c deadlock_timeout=60s');
      const store = await db.open({ connectionString: url.toString() });

      const job = await store.createJob(makeJob({ maxConcurrent: 5, overlap: 'allow_all' }));
      const run = (offsetMs: number, owner = 'me'): Promise<JobRunRecord> =>
        store.insertRun({
          ...newRun(job, { scheduledFor: new Date(T0.getTime() + offsetMs), trigger: 'manual' }),
          status: from,
          owner,
          leaseExpiresAt: new Date(Date.now() + 60_000),
        });
      const [low, high, idle, theirs] = [await run(0), await run(1), await run(2), await run(3, 'other')];

      // Another transaction holds the run (in flight, so in `live_runs`) with the higher id, so the batch, sent in the order
      // (high, low), waits for it, maybe holding the other run already.
      const blocker = new pg.Client({ connectionString: CONNECTION_STRING });
      await blocker.connect();
      try {
        await blocker.query('BEGIN');
        await blocker.query(`SELECT 1 FROM "${store.schema}".live_runs WHERE id = $1 FOR NO KEY UPDATE`, [high!.id]);
        const written = Promise.all([write(store, high!), write(store, low!)]);
        await waitersReach(admin, application, 1);

        const until = new Date(Date.now() + 120_000);
        const renewal = await within(store.renewLeases('me', [low!.id, high!.id, idle!.id, theirs!.id], until), 10_000, 'the renewal');
        expect(renewal.renewed).toContain(idle!.id);
        expect(renewal.renewed).not.toContain(high!.id);
        expect(renewal.lost).toEqual([theirs!.id]);
        expect((await store.getRun(idle!.id))?.leaseExpiresAt).toEqual(until);

        await blocker.query('COMMIT');
        expect(await within(written, 10_000, `the ${kind}`)).toEqual([leaves, leaves]);
      } finally {
        await blocker.end();
      }
    },
  );
});

describePostgres('locks on jobs and runs', () => {
  const db = useSchema();
  const admin = new pg.Client({ connectionString: CONNECTION_STRING });
  beforeAll(() => admin.connect());
  afterAll(() => admin.end());

  it("claims a fire that cancels its job's running run (overlap cancel_other) without deadlocking with that run's finish", async () => {
    // The finish holds its run and then locks the run's job; a claim holds the jobs it plans. Were
    // the claim to wait for the run while holding the job, each would wait for the other. A long
    // `deadlock_timeout` makes such a wait show as a hang instead of one side failing after 1 s.
    const application = `symbi_lock_order_${randomBytes(4).toString('hex')}`;
    const url = new URL(CONNECTION_STRING);
    url.searchParams.set('application_name', application);
    url.searchParams.set('options', '-c deadlock_timeout=60s');
    const store = await db.open({ connectionString: url.toString() });

    const job = await store.createJob(makeJob({ overlap: 'cancel_other', nextRun: T0 }));
    const running = await store.insertRun({
      ...newRun(job, { scheduledFor: new Date(T0.getTime() - 1000), trigger: 'manual' }),
      status: 'running',
      owner: 'me',
      leaseExpiresAt: new Date(Date.now() + 60_000),
    });

    const blocker = new pg.Client({ connectionString: CONNECTION_STRING });
    await blocker.connect();
    try {
      // The finish waits for the run first; then the claim, holding the job, asks for it too.
      await blocker.query('BEGIN');
      await blocker.query(`SELECT 1 FROM "${store.schema}".live_runs WHERE id = $1 FOR NO KEY UPDATE`, [running.id]);
      const finished = store.finishRun({
        runId: running.id,
        owner: 'me',
        outcome: 'success',
        patch: { status: 'succeeded', completedAt: new Date() },
        plan: () => ({}),
      });
      await waitersReach(admin, application, 1);
      const claimed = store.claimDue({
        now: T0,
        owner: 'other',
        leaseMs: 60_000,
        limit: 10,
        plan: () => ({ runs: [], nextRun: new Date(T0.getTime() + 1000), cancelActive: true }),
      });
      await waitersReach(admin, application, 2);
      await blocker.query('COMMIT');

      expect((await within(finished, 10_000, 'the finish'))?.run.status).toBe('succeeded');
      expect(await within(claimed, 10_000, 'the claim')).toEqual([]);
      expect((await store.getJob(job.id))?.nextRun).toEqual(new Date(T0.getTime() + 1000));
    } finally {
      await blocker.end();
    }
  });
});
