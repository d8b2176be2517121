import { describe, expect, it } from 'vitest';
import { newRun } from '../../src/domain/run-factory.js';
import { TERMINAL_RUN_STATUSES, type JobRunRecord, type RunStatus } from '../../src/domain/run.js';
import type { CronJobDefinition } from '../../src/domain/job.js';
import type { StoreChange } from '../../src/ports/job-store.js';
import { InMemoryJobStore } from '../../src/store/index.js';
import { FIXTURE_EPOCH, makeJob } from '../../src/testing/fixtures.js';
import { runJobStoreConformance } from '@symbi/core/conformance';

runJobStoreConformance('InMemoryJobStore', {
  create: async () => {
    const store = new InMemoryJobStore();
    await store.init();
    return store;
  },
  skip: [
    {
      reason: 'one process holds an in-memory store: it keeps no instances, and liveness has nothing to judge',
      tests: [
        'instances are registered, beaten, listed with how long each is silent, and deregistered',
        'an instance is forgotten only if it has not beaten since it was judged, by one judge',
        "releasing a dead owner's runs: running ends interrupted and counted through the plan, queued ones and deliveries go back",
        'releases at most limit runs per call',
      ],
    },
  ],
});

const sec = (n: number): Date => new Date(FIXTURE_EPOCH.getTime() + Math.round(n * 1000));

describe('InMemoryJobStore', () => {
  it('declares a single-process store', () => {
    expect(new InMemoryJobStore().capabilities).toEqual({ multiInstance: false, crossProcessNotifications: false, executedAuditFromHistory: true });
  });

  it('never lets a caller alias stored state', async () => {
    const store = new InMemoryJobStore();
    const input = makeJob({ nextRun: sec(1), delivery: ['stdout'] });
    const created = await store.createJob(input);
    input.delivery.push('email');
    created.policy.requireCapabilities.push('root');
    (created.nextRun as Date).setTime(0);
    const read = (await store.getJob(input.id)) as CronJobDefinition;
    expect(read.delivery).toEqual(['stdout']);
    expect(read.policy.requireCapabilities).toEqual([]);
    expect(read.nextRun).toEqual(sec(1));
    read.name = 'changed';
    (await store.listJobs())[0]!.agentId = 'changed';
    expect(await store.getJob(input.id)).toEqual(created.id === input.id ? { ...input, delivery: ['stdout'] } : null);

    const [claimed] = await store.claimDue({
      now: sec(1),
      owner: 'a',
      leaseMs: 1000,
      limit: 1,
      plan: (job) => {
        job.name = 'mutated by the plan';
        return { runs: [newRun(job, { scheduledFor: sec(1), trigger: 'schedule' })], nextRun: sec(2) };
      },
    });
    expect((await store.getJob(input.id))?.name).toBe(input.name);
    claimed!.run.deliveries.push({ channel: 'x', status: 'pending', attempts: 0, error: null, completedAt: null });
    claimed!.job.maxConcurrent = 99;
    expect((await store.getRun(claimed!.run.id))?.deliveries).toEqual([]);
    expect((await store.getJob(input.id))?.maxConcurrent).toBe(1);

    const details = { nested: { list: [1, 2] } };
    await store.appendAudit({ id: 'e1', type: 'CronJobCreated', at: sec(1), jobId: null, runId: null, actor: 't', details });
    details.nested.list.push(3);
    const [event] = await store.queryAudit();
    (event!.details.nested as { list: number[] }).list.push(4);
    expect((await store.queryAudit())[0]?.details).toEqual({ nested: { list: [1, 2] } });
  });

  it('shares Dates and empty lists between stored records, never with a caller', async () => {
    const store = new InMemoryJobStore();
    const job = await store.createJob(makeJob({ nextRun: sec(1) }));
    let attempt = 0;
    const plan = (fired: CronJobDefinition) => ({ runs: [newRun(fired, { scheduledFor: sec(1), trigger: 'schedule', attempt: ++attempt })], nextRun: sec(1) });
    const claimed = await store.claimDue({ now: sec(1), owner: 'a', leaseMs: 1000, limit: 1, plan });
    const second = await store.claimDue({ now: sec(1), owner: 'a', leaseMs: 1000, limit: 1, plan });
    const [first, other] = [claimed[0]!.run, second[0]!.run];
    const started = (await store.updateRun(first.id, { status: 'running', startedAt: sec(1) }))!;
    const result = await store.finishRun({ runId: first.id, outcome: 'success', patch: { status: 'succeeded', completedAt: sec(1) }, plan: () => ({}) });
    const finished = result!.run;
    // Every instant of the first run is the one instant of the second's fire: none of their Dates
    // may reach another record, nor an empty list another run.
    for (const date of [first.scheduledFor, first.dueAt, started.startedAt!, finished.completedAt!, finished.leaseExpiresAt!, result!.job!.lastRun!]) {
      date.setTime(0);
    }
    finished.iterations.push({ index: 0, output: 'x', summary: null, action: 'sleep', durationMs: 1 });
    finished.deliveries.push({ channel: 'x', status: 'pending', attempts: 0, error: null, completedAt: null });
    const [reread, otherReread] = [(await store.getRun(first.id))!, (await store.getRun(other.id))!];
    expect([reread.scheduledFor, reread.dueAt, reread.startedAt, reread.completedAt]).toEqual([sec(1), sec(1), sec(1), sec(1)]);
    expect(reread.leaseExpiresAt).toEqual(sec(2));
    expect([otherReread.scheduledFor, otherReread.dueAt, otherReread.leaseExpiresAt]).toEqual([sec(1), sec(1), sec(2)]);
    expect([reread.iterations, reread.deliveries, otherReread.iterations, otherReread.deliveries]).toEqual([[], [], [], []]);
    expect((await store.getJob(job.id))?.lastRun).toEqual(sec(1));
  });

  it('tells every in-process subscriber about a change, until it unsubscribes', async () => {
    const store = new InMemoryJobStore();
    const first: StoreChange[] = [];
    const second: StoreChange[] = [];
    const stopFirst = store.subscribe((change) => first.push(change));
    store.subscribe((change) => second.push(change));
    await store.notify({ kind: 'job', id: 'j1' });
    stopFirst();
    await store.notify({ kind: 'run', id: 'r1' });
    expect(first).toEqual([{ kind: 'job', id: 'j1' }]);
    expect(second).toEqual([
      { kind: 'job', id: 'j1' },
      { kind: 'run', id: 'r1' },
    ]);
  });

  it('calls every subscriber even when one throws, then reports the failure', async () => {
    const store = new InMemoryJobStore();
    const reached: string[] = [];
    store.subscribe(() => {
      throw new Error('listener broke');
    });
    store.subscribe((change) => reached.push(change.id));
    await expect(store.notify({ kind: 'job', id: 'j1' })).rejects.toThrow('listener broke');
    expect(reached).toEqual(['j1']);
  });

  it('finds due work by index: claims among 50 000 idle jobs cost no scan', async () => {
    const store = new InMemoryJobStore();
    for (let i = 0; i < 50_000; i += 1) await store.createJob(makeJob({ nextRun: sec(3600 + i) }));
    const due = await store.createJob(makeJob({ nextRun: sec(10) }));
    const started = performance.now();
    for (let i = 0; i < 2_000; i += 1) {
      await store.claimDue({ now: sec(5), owner: 'a', leaseMs: 1000, limit: 100, plan: () => ({ runs: [], nextRun: null }) });
      await store.nextWakeAt();
    }
    // A scan of 50 000 jobs per call would take seconds; the heaps answer in microseconds.
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(await store.nextWakeAt()).toEqual(sec(10));
    const planned: string[] = [];
    await store.claimDue({ now: sec(10), owner: 'a', leaseMs: 1000, limit: 100, plan: (job) => (planned.push(job.id), { runs: [], nextRun: null }) });
    expect(planned).toEqual([due.id]);
  });
});

/** A small deterministic PRNG (mulberry32), so a failing sequence can be replayed from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const isTerminal = (status: RunStatus): boolean => TERMINAL_RUN_STATUSES.includes(status);
const byKey = (a: { at: number; id: string }, b: { at: number; id: string }): number => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * The store's indexes must answer exactly what a scan of every job and run would: random sequences
 * of operations are checked against a brute-force reading of the same state.
 */
describe('InMemoryJobStore indexes agree with a full scan', () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`random operations, seed ${seed}`, async () => {
      const rnd = random(seed);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)] as T;
      const store = new InMemoryJobStore();
      let now = 0;
      let lastClaimNow = Number.NEGATIVE_INFINITY;
      const owners = ['a', 'b'];

      const state = async () => {
        const jobs = await store.listJobs();
        const runs = await store.listRuns({ limit: Number.MAX_SAFE_INTEGER });
        const active = new Map<string, number>(jobs.map((j) => [j.id, 0]));
        for (const run of runs) {
          if (run.status === 'running' || (run.status === 'scheduled' && !run.waitForSlot)) active.set(run.jobId, (active.get(run.jobId) ?? 0) + 1);
        }
        return { jobs, runs, active, jobById: new Map(jobs.map((j) => [j.id, j])) };
      };
      const leaseFree = (run: JobRunRecord, t: number) => run.owner === null || run.leaseExpiresAt === null || run.leaseExpiresAt.getTime() < t;

      for (let step = 0; step < 400; step += 1) {
        if (rnd() < 0.3) now += Math.floor(rnd() * 3000);
        const t = FIXTURE_EPOCH.getTime() + now;
        const at = (offsetMs: number) => new Date(t + offsetMs);
        const { jobs, runs, active, jobById } = await state();
        const live = runs.filter((r) => !isTerminal(r.status));
        const roll = rnd();

        if (roll < 0.12 || jobs.length === 0) {
          await store.createJob(
            makeJob({
              status: rnd() < 0.8 ? 'active' : pick(['paused', 'completed', 'dead_letter'] as const),
              nextRun: rnd() < 0.85 ? at(Math.floor(rnd() * 25_000) - 5_000) : null,
              maxConcurrent: 1 + Math.floor(rnd() * 3),
            }),
          );
        } else if (roll < 0.17) {
          const job = pick(jobs);
          await store.saveJob({
            ...job,
            status: rnd() < 0.7 ? 'active' : 'paused',
            nextRun: rnd() < 0.5 ? at(Math.floor(rnd() * 10_000) - 2_000) : job.nextRun,
            maxConcurrent: 1 + Math.floor(rnd() * 3),
          });
        } else if (roll < 0.19) {
          await store.deleteJob(pick(jobs).id);
        } else if (roll < 0.42) {
          const job = pick(jobs);
          const status = pick(['scheduled', 'scheduled', 'scheduled', 'running', 'awaiting_approval', 'succeeded', 'failed'] as const);
          const owned = status === 'running' || rnd() < 0.3;
          const finished = isTerminal(status);
          await store.insertRun({
            ...newRun(job, { scheduledFor: at(Math.floor(rnd() * 10_000) - 5_000), trigger: 'manual' }),
            status,
            dueAt: at(Math.floor(rnd() * 12_000) - 6_000),
            waitForSlot: status === 'scheduled' && rnd() < 0.4,
            owner: owned ? pick(owners) : null,
            leaseExpiresAt: owned ? at(Math.floor(rnd() * 8_000)) : null,
            completedAt: finished ? at(-Math.floor(rnd() * 5_000)) : null,
            deliveries: finished && rnd() < 0.6 ? [{ channel: 'webhook', status: 'pending', attempts: 0, error: null, completedAt: null }] : [],
          });
        } else if (roll < 0.5 && live.length > 0) {
          const run = pick(live);
          const owner = pick(owners);
          const patch = pick([
            { status: 'running' as const, owner, leaseExpiresAt: at(Math.floor(rnd() * 8_000)) },
            { owner: null, leaseExpiresAt: null },
            { leaseExpiresAt: at(Math.floor(rnd() * 8_000)), owner },
            { dueAt: at(Math.floor(rnd() * 6_000) - 3_000) },
          ]);
          await store.updateRun(run.id, patch);
        } else if (roll < 0.6 && live.length > 0) {
          const run = pick(live);
          const outcome = pick(['success', 'failure', 'neutral'] as const);
          const status = outcome === 'success' ? 'succeeded' : outcome === 'failure' ? 'failed' : pick(['denied', 'skipped'] as const);
          const before = jobById.get(run.jobId) as CronJobDefinition;
          const result = await store.finishRun({ runId: run.id, outcome, patch: { status, completedAt: at(0) }, plan: () => ({}) });
          const counts = status !== 'skipped';
          expect(result?.job).toMatchObject({
            runCount: before.runCount + (counts ? 1 : 0),
            failureCount: before.failureCount + (outcome === 'failure' ? 1 : 0),
            consecutiveFailures: outcome === 'success' ? 0 : before.consecutiveFailures + (outcome === 'failure' ? 1 : 0),
          });
        } else if (roll < 0.85) {
          const limit = 1 + Math.floor(rnd() * 5);
          const duePlans = jobs
            .filter((j) => j.status === 'active' && j.nextRun !== null && j.nextRun.getTime() <= t)
            .map((j) => ({ at: (j.nextRun as Date).getTime(), id: j.id }))
            .sort(byKey)
            .slice(0, limit)
            .map((e) => e.id);
          const candidates = runs
            .filter((r) => r.status === 'scheduled' && r.dueAt.getTime() <= t && leaseFree(r, t))
            .map((r) => ({ at: r.dueAt.getTime(), id: r.id, run: r }))
            .sort(byKey);
          const expectedClaims: string[] = [];
          for (const { run } of candidates) {
            if (expectedClaims.length >= limit) break;
            if (run.waitForSlot) {
              if ((active.get(run.jobId) ?? 0) >= (jobById.get(run.jobId) as CronJobDefinition).maxConcurrent) continue;
              active.set(run.jobId, (active.get(run.jobId) ?? 0) + 1);
            }
            expectedClaims.push(run.id);
          }
          const planned: string[] = [];
          const claimed = await store.claimDue({
            now: at(0),
            owner: pick(owners),
            leaseMs: 1 + Math.floor(rnd() * 5_000),
            limit,
            plan: (job) => (planned.push(job.id), { runs: [], nextRun: new Date((job.nextRun as Date).getTime() + 7_000) }),
          });
          lastClaimNow = t;
          expect(planned).toEqual(duePlans);
          expect(claimed.map((c) => c.run.id)).toEqual(expectedClaims);
        } else if (roll < 0.92) {
          const limit = 1 + Math.floor(rnd() * 4);
          const expired = runs.filter((r) => r.status === 'running' && r.owner !== null && r.leaseExpiresAt !== null && r.leaseExpiresAt.getTime() < t);
          const ended = await store.recoverExpired({ now: at(0), limit, plan: () => ({}) });
          expect(ended).toHaveLength(Math.min(limit, expired.length));
          for (const run of ended) expect(expired.map((r) => r.id)).toContain(run.id);
        } else {
          const limit = 1 + Math.floor(rnd() * 4);
          const expected = runs
            .filter((r) => isTerminal(r.status) && r.deliveries.some((d) => d.status === 'pending') && leaseFree(r, t))
            .map((r) => ({ at: (r.completedAt ?? r.scheduledFor).getTime(), id: r.id }))
            .sort(byKey)
            .slice(0, limit)
            .map((e) => e.id);
          const claimed = await store.claimPendingDeliveries({ now: at(0), owner: pick(owners), leaseMs: 2_000, limit });
          lastClaimNow = t;
          expect(claimed.map((c) => c.run.id)).toEqual(expected);
        }

        const after = await state();
        const wakes: number[] = [];
        for (const job of after.jobs) if (job.status === 'active' && job.nextRun !== null) wakes.push(job.nextRun.getTime());
        for (const run of after.runs) {
          const lease = run.owner !== null && run.leaseExpiresAt !== null ? run.leaseExpiresAt.getTime() : null;
          if (run.status === 'scheduled') {
            // A lease that lapsed before the latest claim (of runs or deliveries) was released to the queue by it.
            if (lease !== null && lease >= lastClaimNow) wakes.push(lease);
            else if (!run.waitForSlot || (after.active.get(run.jobId) ?? 0) < (after.jobById.get(run.jobId) as CronJobDefinition).maxConcurrent) {
              wakes.push(run.dueAt.getTime());
            }
          } else if ((run.status === 'running' || run.status === 'awaiting_approval') && lease !== null) {
            wakes.push(lease);
          }
        }
        expect((await store.nextWakeAt())?.getTime() ?? null).toBe(wakes.length === 0 ? null : Math.min(...wakes));
        const counts = await store.countJobs();
        for (const [status, count] of Object.entries(counts)) expect(after.jobs.filter((j) => j.status === status)).toHaveLength(count);
        const names = after.jobs.map((j) => j.name);
        expect(names).toEqual([...names].sort());
      }
    });
  }
});
