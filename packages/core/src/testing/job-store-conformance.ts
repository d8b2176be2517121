import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent, SecurityEventType } from '../domain/audit.js';
import { JOB_STATUSES, type CronJobDefinition, type JobStatus } from '../domain/job.js';
import { fireKey, newRun } from '../domain/run-factory.js';
import { TERMINAL_RUN_STATUSES, type DeliveryOutcome, type JobRunRecord } from '../domain/run.js';
import { executedAuditEvent, type ExecutedRunFacts } from '../domain/run-audit.js';
import type { SessionState } from '../domain/session.js';
import { ConflictError, JobNotFoundError } from '../errors.js';
import type { ClaimedRun, ClaimRequest, FinishPlan, FinishRunRequest, FirePlan, JobLoad, JobStore, StoreChange } from '../ports/job-store.js';
import { planFire } from '../lifecycle/fire-planner.js';
import { releaseClaim } from '../lifecycle/manual-transitions.js';
import { resolveSchedulerConfig } from '../scheduler/config.js';
import { FIXTURE_EPOCH, makeJob } from './fixtures.js';
import { registerPruneConformance } from './prune-conformance.js';

/** How the conformance suite gets stores to test. */
export interface JobStoreConformanceFactory {
  /** A fresh, empty, initialised store. */
  create(): Promise<JobStore>;
  /**
   * A second handle on the same data (another connection or pool), used to race two claimers.
   * Handles other than `store` itself are closed after each test. Default: `store` itself.
   */
  openPeer?(store: JobStore): Promise<JobStore>;
  /** Disposes of a store made by `create` (drop its schema, delete its file…). Default: `close()`. */
  destroy?(store: JobStore): Promise<void>;
  /** Tests this adapter cannot pass, by title, each with the reason shown in the report. */
  skip?: { reason: string; tests: string[] }[];
}

const OWNER_A = 'scheduler-a';
const OWNER_B = 'scheduler-b';
const LEASE_MS = 60_000;

/** `n` seconds after the fixture epoch (fractions give milliseconds). */
const sec = (n: number): Date => new Date(FIXTURE_EPOCH.getTime() + Math.round(n * 1000));

const hostileStrings = {
  sql: `'; DROP TABLE jobs; --`,
  quotes: `it's "quoted" \`back\` \\ slash`,
  emoji: 'deploy 🚀 ✅ 👩‍💻 done',
  lines: 'line one\nline two\r\n\ttabbed',
  big: 'x'.repeat(10 * 1024 - 3) + 'end',
  like: `100% _of_ it's`,
} as const;

/** A run of `job`; manual by default (no fire key), so tests may make as many as they like. */
function makeRun(job: CronJobDefinition, overrides: Partial<JobRunRecord> = {}): JobRunRecord {
  const scheduledFor = overrides.scheduledFor ?? sec(1);
  const base = newRun(job, {
    scheduledFor,
    trigger: overrides.trigger ?? 'manual',
    ...(overrides.attempt === undefined ? {} : { attempt: overrides.attempt }),
  });
  return { ...base, ...overrides };
}

/** The usual plan of an every-second job: one scheduled run for the fire, next fire a second later. */
function fireEverySecond(job: CronJobDefinition): FirePlan {
  const at = job.nextRun as Date;
  return { runs: [newRun(job, { scheduledFor: at, trigger: 'schedule' })], nextRun: new Date(at.getTime() + 1000) };
}

const noPlan = (): FinishPlan => ({});

function delivery(status: DeliveryOutcome['status']): DeliveryOutcome {
  return { channel: 'webhook', status, attempts: status === 'pending' ? 0 : 1, error: null, completedAt: status === 'pending' ? null : sec(2) };
}

function auditEvent(overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    id: randomUUID(),
    type: 'CronJobCreated',
    at: sec(1),
    jobId: null,
    runId: null,
    actor: 'scheduler',
    details: {},
    ...overrides,
  };
}

const ids = (items: { id: string }[]): string[] => items.map((item) => item.id);
const runIds = (claimed: ClaimedRun[]): string[] => claimed.map((c) => c.run.id);

/**
 * Registers the {@link JobStore} conformance suite with vitest: every store adapter runs it against
 * itself, so each behaves exactly as the contract in `ports/job-store.ts` says.
 *
 * @example
 * ```ts
 * runJobStoreConformance('SqliteJobStore', {
 *   create: async () => { const s = new SqliteJobStore({ path: tmpFile() }); await s.init(); return s; },
 *   openPeer: async (s) => { const p = new SqliteJobStore({ path: s.path }); await p.init(); return p; },
 * });
 * ```
 */
export function runJobStoreConformance(name: string, factory: JobStoreConformanceFactory): void {
  const skipped = new Map<string, string>();
  for (const entry of factory.skip ?? []) for (const title of entry.tests) skipped.set(title, entry.reason);
  const titles = new Set<string>();

  /** `it`, honouring the adapter's documented skips. */
  const test = (title: string, body: () => Promise<void>): void => {
    if (titles.has(title)) throw new Error(`duplicate conformance test title: ${title}`);
    titles.add(title);
    const reason = skipped.get(title);
    if (reason === undefined) it(title, body);
    else it.skip(`${title} (skipped: ${reason})`, body);
  };

  describe(`JobStore conformance: ${name}`, () => {
    let store: JobStore;
    let peers: JobStore[] = [];

    beforeEach(async () => {
      store = await factory.create();
      peers = [];
    });

    afterEach(async () => {
      for (const peer of peers) await peer.close();
      if (factory.destroy) await factory.destroy(store);
      else await store.close();
    });

    /** A second handle on the same data. */
    const openPeer = async (): Promise<JobStore> => {
      if (!factory.openPeer) return store;
      const peer = await factory.openPeer(store);
      if (peer !== store) peers.push(peer);
      return peer;
    };

    const claim = (target: JobStore, now: Date, options: Partial<ClaimRequest> = {}): Promise<ClaimedRun[]> =>
      target.claimDue({ now, owner: OWNER_A, leaseMs: LEASE_MS, limit: 100, plan: fireEverySecond, ...options });

    /** A job with nothing of its own due, to hold runs. */
    const idleJob = (overrides: Partial<CronJobDefinition> = {}): Promise<CronJobDefinition> =>
      store.createJob(makeJob({ nextRun: null, ...overrides }));

    const finish = (runId: string, overrides: Partial<FinishRunRequest> = {}) =>
      store.finishRun({ runId, outcome: 'success', patch: { status: 'succeeded', completedAt: sec(5) }, plan: noPlan, ...overrides });

    describe('lifecycle', () => {
      test('init may be called again without losing data', async () => {
        const job = await store.createJob(makeJob());
        await store.init();
        expect(await store.getJob(job.id)).toEqual(job);
      });
    });

    describe('jobs', () => {
      test('createJob stores the job and returns it as stored', async () => {
        const job = makeJob();
        const created = await store.createJob(job);
        expect(created).toEqual(job);
        expect(await store.getJob(job.id)).toEqual(job);
        expect(await store.getJobByName(job.name)).toEqual(job);
      });

      test('getJob and getJobByName return null for unknown jobs', async () => {
        expect(await store.getJob('no-such-job')).toBeNull();
        expect(await store.getJobByName('no-such-job')).toBeNull();
      });

      test('createJob with a taken name throws ConflictError and keeps the first job', async () => {
        const first = await store.createJob(makeJob({ name: 'daily-report' }));
        await expect(store.createJob(makeJob({ name: 'daily-report', agentId: 'other' }))).rejects.toBeInstanceOf(ConflictError);
        expect(await store.getJobByName('daily-report')).toEqual(first);
        expect(await store.listJobs()).toHaveLength(1);
      });

      test('createJob with a taken id throws ConflictError', async () => {
        const first = await store.createJob(makeJob());
        await expect(store.createJob(makeJob({ id: first.id }))).rejects.toBeInstanceOf(ConflictError);
        expect(await store.getJob(first.id)).toEqual(first);
      });

      test('createJobIfAbsent creates a job once: racing callers on one name, through several handles, all get the one stored job', async () => {
        const handles = [store, await openPeer(), await openPeer()];
        const results = await Promise.all(
          Array.from({ length: 6 }, (_, i) => handles[i % handles.length]!.createJobIfAbsent(makeJob({ name: 'daily-report', agentId: `agent-${i}` }))),
        );
        expect(results.filter((result) => result.created)).toHaveLength(1);
        const stored = await store.getJobByName('daily-report');
        for (const result of results) expect(result.job).toEqual(stored);
        expect(await store.listJobs()).toHaveLength(1);
      });

      test('createJobIfAbsent leaves an existing job of that name as it is, and refuses a taken id', async () => {
        const first = await store.createJob(makeJob({ name: 'daily-report' }));
        expect(await store.createJobIfAbsent(makeJob({ name: 'daily-report', agentId: 'other' }))).toEqual({ job: first, created: false });
        await expect(store.createJobIfAbsent(makeJob({ id: first.id, name: 'another' }))).rejects.toBeInstanceOf(ConflictError);
        expect(await store.listJobs()).toEqual([first]);
      });

      test('saveJob replaces the definition, bumps version and keeps the caller\'s updatedAt', async () => {
        const job = await store.createJob(makeJob({ version: 3 }));
        const edited: CronJobDefinition = {
          ...job,
          name: `${job.name}-renamed`,
          cronExpr: '0 */15 * * * *',
          timezone: 'Europe/Paris',
          input: 'new input',
          delivery: ['stdout', 'webhook'],
          webhookUrl: 'https://hooks.example.com/x',
          maxConcurrent: 4,
          overlap: 'buffer_one',
          status: 'paused',
          nextRun: sec(900),
          updatedAt: sec(1234.5),
        };
        const saved = await store.saveJob(edited);
        expect(saved.version).toBe(4);
        expect(saved).toEqual({ ...edited, version: 4 });
        expect(await store.getJob(job.id)).toEqual(saved);
        expect(await store.getJobByName(job.name)).toBeNull();
        expect(await store.getJobByName(edited.name)).toEqual(saved);
      });

      test('saveJob keeps id, createdAt, runCount, failureCount and lastRun, and replaces consecutiveFailures', async () => {
        const job = await store.createJob(makeJob({ nextRun: null }));
        const run = await store.insertRun(makeRun(job, { status: 'running', startedAt: sec(3) }));
        await finish(run.id, { outcome: 'failure', patch: { status: 'failed', completedAt: sec(4) } });
        const counted = (await store.getJob(job.id)) as CronJobDefinition;
        expect(counted).toMatchObject({ runCount: 1, failureCount: 1, consecutiveFailures: 1, lastRun: sec(3) });
        const saved = await store.saveJob({
          ...counted,
          createdAt: sec(777),
          runCount: 99,
          failureCount: 98,
          lastRun: sec(555),
          consecutiveFailures: 0,
        });
        expect(saved).toMatchObject({ id: job.id, createdAt: job.createdAt, runCount: 1, failureCount: 1, lastRun: sec(3), consecutiveFailures: 0 });
        expect(await store.getJob(job.id)).toEqual(saved);
      });

      test('saveJob with the current expectedVersion succeeds', async () => {
        const job = await store.createJob(makeJob());
        const saved = await store.saveJob({ ...job, input: 'v2' }, { expectedVersion: job.version });
        expect(saved.version).toBe(job.version + 1);
        const again = await store.saveJob({ ...saved, input: 'v3' }, { expectedVersion: saved.version });
        expect(again).toMatchObject({ input: 'v3', version: job.version + 2 });
      });

      test('saveJob with a stale expectedVersion throws ConflictError and changes nothing', async () => {
        const job = await store.createJob(makeJob());
        const saved = await store.saveJob({ ...job, input: 'first edit' });
        await expect(store.saveJob({ ...job, input: 'lost update' }, { expectedVersion: job.version })).rejects.toBeInstanceOf(ConflictError);
        expect(await store.getJob(job.id)).toEqual(saved);
      });

      test('saveJob of an unknown job throws JobNotFoundError', async () => {
        await expect(store.saveJob(makeJob())).rejects.toBeInstanceOf(JobNotFoundError);
        expect(await store.listJobs()).toEqual([]);
      });

      test('saveJob renaming to a taken name throws ConflictError', async () => {
        const a = await store.createJob(makeJob({ name: 'alpha' }));
        const b = await store.createJob(makeJob({ name: 'beta' }));
        await expect(store.saveJob({ ...b, name: 'alpha' })).rejects.toBeInstanceOf(ConflictError);
        expect(await store.getJob(b.id)).toEqual(b);
        expect(await store.getJobByName('alpha')).toEqual(a);
      });

      test('saveJob renaming frees the old name', async () => {
        const job = await store.createJob(makeJob({ name: 'old-name' }));
        await store.saveJob({ ...job, name: 'new-name' });
        const reused = await store.createJob(makeJob({ name: 'old-name' }));
        expect(await store.getJobByName('old-name')).toEqual(reused);
        expect((await store.getJobByName('new-name'))?.id).toBe(job.id);
      });

      test('deleteJob deletes the job, its runs and its session, and keeps audit events', async () => {
        const job = await idleJob();
        const other = await idleJob();
        const run = await store.insertRun(makeRun(job));
        const otherRun = await store.insertRun(makeRun(other));
        await store.saveSession(job.id, { summary: 's', history: [], updatedAt: sec(1) });
        await store.saveSession(other.id, { summary: 'other', history: [], updatedAt: sec(1) });
        const event = auditEvent({ jobId: job.id, type: 'CronJobDeleted' });
        await store.appendAudit(event);

        expect(await store.deleteJob(job.id)).toBe(true);
        expect(await store.getJob(job.id)).toBeNull();
        expect(await store.getJobByName(job.name)).toBeNull();
        expect(await store.getRun(run.id)).toBeNull();
        expect(await store.listRuns({ jobId: job.id })).toEqual([]);
        expect(await store.loadSession(job.id)).toBeNull();
        expect(await store.queryAudit({ jobId: job.id })).toEqual([event]);
        expect(await store.getRun(otherRun.id)).toEqual(otherRun);
        expect(await store.loadSession(other.id)).toMatchObject({ summary: 'other' });
        expect(await store.deleteJob(job.id)).toBe(false);
      });

      test('deleteJob of an unknown job returns false', async () => {
        expect(await store.deleteJob('no-such-job')).toBe(false);
      });

      test('a deleted job name can be used again', async () => {
        const job = await store.createJob(makeJob({ name: 'reborn' }));
        await store.deleteJob(job.id);
        const again = await store.createJob(makeJob({ name: 'reborn' }));
        expect(await store.getJobByName('reborn')).toEqual(again);
      });

      test('listJobs orders by name and filters by status and agent', async () => {
        const c = await store.createJob(makeJob({ name: 'job-c', agentId: 'reporter' }));
        const a = await store.createJob(makeJob({ name: 'job-a', agentId: 'reporter', status: 'paused' }));
        const d = await store.createJob(makeJob({ name: 'job-d', agentId: 'scanner' }));
        const b = await store.createJob(makeJob({ name: 'job-b', agentId: 'scanner', status: 'dead_letter' }));
        expect(ids(await store.listJobs())).toEqual(ids([a, b, c, d]));
        expect(await store.listJobs({ status: 'active' })).toEqual([c, d]);
        expect(await store.listJobs({ status: 'completed' })).toEqual([]);
        expect(await store.listJobs({ agentId: 'reporter' })).toEqual([a, c]);
        expect(await store.listJobs({ agentId: 'scanner', status: 'dead_letter' })).toEqual([b]);
        expect(await store.listJobs({ agentId: 'nobody' })).toEqual([]);
      });

      test('listJobs pages with limit and offset', async () => {
        for (const letter of ['e', 'b', 'a', 'd', 'c']) await store.createJob(makeJob({ name: `page-${letter}` }));
        const names = async (filter: Parameters<JobStore['listJobs']>[0]) => (await store.listJobs(filter)).map((j) => j.name);
        expect(await names({ limit: 2 })).toEqual(['page-a', 'page-b']);
        expect(await names({ limit: 2, offset: 2 })).toEqual(['page-c', 'page-d']);
        expect(await names({ limit: 2, offset: 4 })).toEqual(['page-e']);
        expect(await names({ offset: 3 })).toEqual(['page-d', 'page-e']);
        expect(await names({ offset: 5 })).toEqual([]);
        expect(await names({ limit: 0 })).toEqual([]);
      });

      test('listJobs pages after filtering', async () => {
        for (const letter of ['a', 'b', 'c', 'd']) {
          await store.createJob(makeJob({ name: `f-${letter}`, agentId: letter === 'b' ? 'other' : 'mine' }));
        }
        expect((await store.listJobs({ agentId: 'mine', offset: 1, limit: 1 })).map((j) => j.name)).toEqual(['f-c']);
      });

      test('countJobs has every status, zero when none', async () => {
        const empty = await store.countJobs();
        expect(empty).toEqual(Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])));
        const statuses: JobStatus[] = ['active', 'active', 'paused', 'dead_letter'];
        const jobs = [];
        for (const status of statuses) jobs.push(await store.createJob(makeJob({ status })));
        expect(await store.countJobs()).toEqual({ active: 2, paused: 1, completed: 0, failed: 0, dead_letter: 1 });
        await store.saveJob({ ...(jobs[0] as CronJobDefinition), status: 'completed' });
        await store.deleteJob((jobs[3] as CronJobDefinition).id);
        expect(await store.countJobs()).toEqual({ active: 1, paused: 1, completed: 1, failed: 0, dead_letter: 0 });
      });
    });

    describe('round trips', () => {
      test('every job field round-trips, Dates with millisecond precision', async () => {
        const job = makeJob({
          id: 'custom-id.v2',
          agentId: 'agent-42',
          cronExpr: null,
          at: '2026-02-15T14:30:00.250Z',
          timezone: 'America/New_York',
          input: 'check production',
          sessionMode: 'shared_persistent',
          delivery: ['stdout', 'log_file', 'webhook', 'slack', 'email', 'my-custom'],
          webhookUrl: 'https://ops.example.com/hooks/deployment',
          webhookHeaders: { Authorization: 'Bearer ${METRICS_API_KEY}', 'Content-Type': 'application/json' },
          slackChannel: '#ops-alerts',
          emailRecipients: ['ops@example.com', 'security@example.com'],
          policy: {
            requireApproval: true,
            approver: 'ops-lead',
            approvalTimeoutMs: 3_600_000,
            maxRuntimeMs: 1_800_000,
            requireCapabilities: ['deployment', 'production_write'],
            allowedHours: { start: '22:00', end: '04:00' },
            allowedEnvironments: ['staging', 'production'],
            requireAgentPin: true,
            audit: 'errors_only',
          },
          heartbeat: { enabled: true, contextMode: 'fully_ephemeral', maxIterations: 50 },
          maxConcurrent: 3,
          maxRetries: 5,
          agentPinJwt: '${AGENT_PIN_JWT}',
          jitterSeconds: 30,
          catchup: 'all',
          overlap: 'cancel_other',
          historyRetentionDays: 30,
          historyRetentionRuns: 1000,
          status: 'failed',
          nextRun: new Date('2026-02-15T14:30:00.250Z'),
          lastRun: new Date('2026-02-14T14:30:00.999Z'),
          runCount: 12,
          failureCount: 4,
          consecutiveFailures: 2,
          createdAt: new Date('2025-12-31T23:59:59.001Z'),
          updatedAt: new Date('2026-01-01T00:00:00.007Z'),
          version: 9,
        });
        await store.createJob(job);
        expect(await store.getJob(job.id)).toEqual(job);
        expect(await store.getJobByName(job.name)).toEqual(job);
        expect(await store.listJobs()).toEqual([job]);
      });

      test('every run field round-trips, Dates with millisecond precision', async () => {
        const job = await idleJob();
        const run: JobRunRecord = {
          ...makeRun(job, { trigger: 'retry', attempt: 3, scheduledFor: new Date('2026-03-01T09:00:00.123Z') }),
          dueAt: new Date('2026-03-01T09:00:07.456Z'),
          status: 'awaiting_approval',
          input: 'the input',
          output: 'the output',
          summary: 'the summary',
          error: 'an error',
          stderr: 'some stderr',
          startedAt: new Date('2026-03-01T09:00:08.001Z'),
          completedAt: new Date('2026-03-01T09:00:09.999Z'),
          executionTimeMs: 1998,
          iterations: [
            { index: 1, output: 'assessed', summary: 'all fine', action: 'continue', durationMs: 12 },
            { index: 2, output: 'acted', summary: null, action: 'sleep', durationMs: 7 },
          ],
          deliveries: [
            { channel: 'webhook', status: 'failed', attempts: 3, error: 'HTTP 500', completedAt: new Date('2026-03-01T09:00:10.010Z') },
            { channel: 'stdout', status: 'delivered', attempts: 1, error: null, completedAt: new Date('2026-03-01T09:00:10.011Z') },
          ],
          approval: {
            approver: 'ops-lead',
            reason: 'production deploy',
            policyId: 'schedule.require_approval',
            requestedAt: new Date('2026-03-01T09:00:08.002Z'),
            expiresAt: new Date('2026-03-01T10:00:08.002Z'),
            decision: 'approved',
            decidedBy: 'alice',
            decidedAt: new Date('2026-03-01T09:05:00.500Z'),
            note: 'go',
          },
          owner: OWNER_A,
          leaseExpiresAt: new Date('2026-03-01T09:01:08.003Z'),
          waitForSlot: true,
          cancelRequested: true,
        };
        expect(await store.insertRun(run)).toEqual(run);
        expect(await store.getRun(run.id)).toEqual(run);
        expect(await store.listRuns({ jobId: job.id })).toEqual([run]);
      });

      test('hostile strings round-trip intact in jobs', async () => {
        for (const [label, text] of Object.entries(hostileStrings)) {
          // Names and agent ids are indexed; 300 characters keep them within every index's row limit.
          const short = text.slice(0, 300);
          const job = makeJob({
            name: `${label}:${short}`,
            agentId: short,
            input: text,
            cronExpr: text,
            webhookHeaders: { [`X-${label}`]: text },
            emailRecipients: [text, `${text}@example.com`],
            policy: { ...makeJob().policy, approver: text, requireCapabilities: [text] },
          });
          await store.createJob(job);
          expect(await store.getJob(job.id)).toEqual(job);
          expect(await store.getJobByName(job.name)).toEqual(job);
          expect(await store.listJobs({ agentId: short })).toEqual([job]);
        }
        expect(await store.listJobs()).toHaveLength(Object.keys(hostileStrings).length);
      });

      test('hostile strings round-trip intact in ids', async () => {
        const job = makeJob({ id: `job-'%_"; DROP TABLE jobs; --` });
        await store.createJob(job);
        const run = await store.insertRun(makeRun(job));
        expect(await store.getJob(job.id)).toEqual(job);
        expect(await store.listRuns({ jobId: job.id })).toEqual([run]);
        expect(await store.deleteJob(job.id)).toBe(true);
        expect(await store.getRun(run.id)).toBeNull();
      });

      test('hostile strings round-trip intact in runs, sessions and audit events', async () => {
        const job = await idleJob();
        for (const [index, text] of Object.values(hostileStrings).entries()) {
          const run = makeRun(job, {
            input: text,
            output: text,
            summary: text,
            error: text,
            stderr: text,
            iterations: [{ index: 1, output: text, summary: text, action: 'sleep', durationMs: 1 }],
            deliveries: [{ channel: text, status: 'failed', attempts: 1, error: text, completedAt: sec(3) }],
          });
          await store.insertRun(run);
          expect(await store.getRun(run.id)).toEqual(run);
          const updated = await store.updateRun(run.id, { output: `${text}!`, error: null });
          expect(updated).toEqual({ ...run, output: `${text}!`, error: null });

          const session: SessionState = { summary: text, history: [{ role: 'assistant', content: text, at: '2026-01-01T00:00:00Z' }], updatedAt: sec(2) };
          await store.saveSession(job.id, session);
          expect(await store.loadSession(job.id)).toEqual(session);

          const event = auditEvent({ at: sec(index), actor: text, jobId: job.id, details: { reason: text, nested: { list: [text, 1, true, null] } } });
          await store.appendAudit(event);
          expect((await store.queryAudit({ limit: 1 }))[0]).toEqual(event);
        }
      });

      test('filters holding SQL metacharacters match literally', async () => {
        const agents = ['a%', 'abc', 'a_c', 'a\\c', `o'brien`, `o''brien`, 'A%'];
        const jobs = new Map<string, CronJobDefinition>();
        for (const agentId of agents) {
          const job = await store.createJob(makeJob({ agentId, nextRun: null }));
          await store.insertRun(makeRun(job));
          jobs.set(agentId, job);
        }
        for (const agentId of agents) {
          const job = jobs.get(agentId) as CronJobDefinition;
          expect(ids(await store.listJobs({ agentId }))).toEqual([job.id]);
          expect((await store.listRuns({ agentId })).map((r) => r.jobId)).toEqual([job.id]);
        }
        expect(await store.listJobs({ agentId: '%' })).toEqual([]);
        expect(await store.listJobs({ agentId: '_bc' })).toEqual([]);
        expect(await store.listRuns({ agentId: '%' })).toEqual([]);
        expect(await store.listRuns({ jobId: '%' })).toEqual([]);
        expect(await store.getJobByName('%')).toBeNull();
        expect(await store.queryAudit({ jobId: '%' })).toEqual([]);
      });
    });

    describe('nextWakeAt', () => {
      test('is null when nothing is pending', async () => {
        expect(await store.nextWakeAt()).toBeNull();
        await store.createJob(makeJob({ status: 'paused', nextRun: sec(5) }));
        await store.createJob(makeJob({ nextRun: null }));
        expect(await store.nextWakeAt()).toBeNull();
      });

      test('is the lowest nextRun of active jobs, ignoring paused and finished jobs', async () => {
        await store.createJob(makeJob({ status: 'paused', nextRun: sec(1) }));
        await store.createJob(makeJob({ status: 'dead_letter', nextRun: sec(2) }));
        await store.createJob(makeJob({ status: 'completed', nextRun: sec(2.5) }));
        await store.createJob(makeJob({ nextRun: sec(9) }));
        const soon = await store.createJob(makeJob({ nextRun: sec(3.25) }));
        expect(await store.nextWakeAt()).toEqual(sec(3.25));
        await store.saveJob({ ...soon, status: 'paused' });
        expect(await store.nextWakeAt()).toEqual(sec(9));
      });

      test('counts the dueAt of unowned scheduled runs', async () => {
        await store.createJob(makeJob({ nextRun: sec(60) }));
        const holder = await idleJob();
        await store.insertRun(makeRun(holder, { dueAt: sec(7.5) }));
        await store.insertRun(makeRun(holder, { dueAt: sec(2), status: 'succeeded', completedAt: sec(3) }));
        await store.insertRun(makeRun(holder, { dueAt: sec(1), status: 'skipped', completedAt: sec(1) }));
        expect(await store.nextWakeAt()).toEqual(sec(7.5));
      });

      test('counts the lease expiry of owned unfinished runs', async () => {
        await store.createJob(makeJob({ nextRun: sec(60) }));
        const holder = await idleJob();
        await store.insertRun(makeRun(holder, { status: 'running', dueAt: sec(1), owner: OWNER_A, leaseExpiresAt: sec(30) }));
        expect(await store.nextWakeAt()).toEqual(sec(30));
        await store.insertRun(makeRun(holder, { status: 'scheduled', dueAt: sec(1), owner: OWNER_A, leaseExpiresAt: sec(20) }));
        expect(await store.nextWakeAt()).toEqual(sec(20));
        await store.insertRun(
          makeRun(holder, { status: 'succeeded', dueAt: sec(1), completedAt: sec(2), owner: OWNER_A, leaseExpiresAt: sec(5) }),
        );
        expect(await store.nextWakeAt()).toEqual(sec(20));
      });

      test('a waitForSlot run wakes the scheduler only while its job has a free slot (no busy loop while it is full)', async () => {
        const job = await idleJob({ maxConcurrent: 1, overlap: 'buffer_one' });
        const running = await store.insertRun(makeRun(job, { status: 'running', owner: OWNER_A, leaseExpiresAt: sec(60) }));
        await store.insertRun(makeRun(job, { dueAt: sec(2), waitForSlot: true }));
        expect(await store.nextWakeAt()).toEqual(sec(60));
        await finish(running.id, { owner: OWNER_A });
        expect(await store.nextWakeAt()).toEqual(sec(2));
      });

      test('follows claims: a claimed run counts by its lease', async () => {
        const holder = await idleJob();
        await store.insertRun(makeRun(holder, { dueAt: sec(1) }));
        expect(await store.nextWakeAt()).toEqual(sec(1));
        await claim(store, sec(2), { leaseMs: 30_000 });
        expect(await store.nextWakeAt()).toEqual(sec(32));
      });

      test('after the wall clock stepped back, a run claimed at the earlier time counts by its lease and is not claimed again', async () => {
        const holder = await idleJob();
        await claim(store, sec(3600));
        const run = await store.insertRun(makeRun(holder, { dueAt: sec(3) }));
        expect(runIds(await claim(store, sec(2), { horizon: sec(3), leaseMs: 30_000 }))).toEqual([run.id]);
        expect(await store.nextWakeAt()).toEqual(sec(32));
        expect(await claim(store, sec(3), { owner: OWNER_B })).toEqual([]);
      });
    });

    describe('claimDue: planning due jobs', () => {
      test('plans only active jobs whose nextRun is due, and advances their nextRun', async () => {
        const dueNow = await store.createJob(makeJob({ nextRun: sec(10) }));
        const overdue = await store.createJob(makeJob({ nextRun: sec(4) }));
        const future = await store.createJob(makeJob({ nextRun: sec(10.001) }));
        const paused = await store.createJob(makeJob({ nextRun: sec(1), status: 'paused' }));
        const finished = await store.createJob(makeJob({ nextRun: sec(1), status: 'completed' }));
        const dead = await store.createJob(makeJob({ nextRun: sec(1), status: 'dead_letter' }));
        const none = await store.createJob(makeJob({ nextRun: null }));
        const seen = new Map<string, CronJobDefinition>();
        await claim(store, sec(10), {
          plan: (job) => {
            seen.set(job.id, job);
            return fireEverySecond(job);
          },
        });
        expect([...seen.keys()].sort()).toEqual([dueNow.id, overdue.id].sort());
        expect(seen.get(overdue.id)).toEqual(overdue);
        expect((await store.getJob(dueNow.id))?.nextRun).toEqual(sec(11));
        expect((await store.getJob(overdue.id))?.nextRun).toEqual(sec(5));
        for (const job of [future, paused, finished, dead, none]) expect(await store.getJob(job.id)).toEqual(job);
      });

      test('inserts the planned runs and claims the due ones in the same call', async () => {
        const job = await store.createJob(makeJob({ nextRun: sec(3) }));
        const claimed = await claim(store, sec(3), { owner: OWNER_B, leaseMs: 5000 });
        expect(claimed).toHaveLength(1);
        const [only] = claimed as [ClaimedRun];
        expect(only.run).toMatchObject({
          jobId: job.id,
          scheduledFor: sec(3),
          dueAt: sec(3),
          status: 'scheduled',
          fireKey: fireKey(job.id, sec(3), 1),
          owner: OWNER_B,
          leaseExpiresAt: sec(8),
        });
        expect(only.job).toEqual(await store.getJob(job.id));
        expect(only.job.nextRun).toEqual(sec(4));
        expect(await store.getRun(only.run.id)).toEqual(only.run);
      });

      test('plans at most limit jobs, lowest nextRun first', async () => {
        const jobs = [];
        for (const at of [5, 2, 4, 1, 3]) jobs.push(await store.createJob(makeJob({ nextRun: sec(at) })));
        const planned = new Set<string>();
        await claim(store, sec(10), {
          limit: 2,
          plan: (job) => {
            planned.add(job.id);
            return { runs: [], nextRun: sec(100) };
          },
        });
        const byNextRun = [...jobs].sort((a, b) => (a.nextRun as Date).getTime() - (b.nextRun as Date).getTime());
        expect([...planned].sort()).toEqual(ids(byNextRun.slice(0, 2)).sort());
        for (const job of byNextRun.slice(2)) expect((await store.getJob(job.id))?.nextRun).toEqual(job.nextRun);
        expect(await store.nextWakeAt()).toEqual(sec(3));
      });

      test('a run whose fireKey exists already is silently not inserted, and nextRun still advances', async () => {
        const job = await store.createJob(makeJob({ nextRun: sec(2) }));
        const earlier = await store.insertRun(makeRun(job, { trigger: 'schedule', scheduledFor: sec(2), dueAt: sec(50), input: 'first' }));
        const claimed = await claim(store, sec(2));
        expect(claimed).toEqual([]);
        expect(await store.listRuns({ jobId: job.id })).toEqual([earlier]);
        expect((await store.getJob(job.id))?.nextRun).toEqual(sec(3));
      });

      test('planned runs due later (jitter) are queued, claimed when due, and wake the scheduler', async () => {
        const job = await store.createJob(makeJob({ nextRun: sec(2) }));
        const claimed = await claim(store, sec(2), {
          plan: (j) => ({ runs: [newRun(j, { scheduledFor: sec(2), dueAt: sec(2.75), trigger: 'schedule' })], nextRun: sec(3) }),
        });
        expect(claimed).toEqual([]);
        expect(await store.listRuns({ jobId: job.id })).toMatchObject([{ scheduledFor: sec(2), dueAt: sec(2.75), owner: null }]);
        expect(await store.nextWakeAt()).toEqual(sec(2.75));
        const later = await claim(store, sec(2.75), { plan: () => ({ runs: [], nextRun: sec(3) }) });
        expect(later.map((c) => c.run.scheduledFor)).toEqual([sec(2)]);
      });

      test('every run of a plan is inserted (catch-up), and claimed in dueAt order', async () => {
        const job = await store.createJob(makeJob({ nextRun: sec(1), catchup: 'all' }));
        const claimed = await claim(store, sec(3.5), {
          plan: (j) => ({
            runs: [3, 1, 2].map((s) => newRun(j, { scheduledFor: sec(s), trigger: s === 3 ? 'schedule' : 'catchup' })),
            nextRun: sec(4),
          }),
        });
        expect(claimed.map((c) => c.run.scheduledFor)).toEqual([sec(1), sec(2), sec(3)]);
        expect(claimed.map((c) => c.run.trigger)).toEqual(['catchup', 'catchup', 'schedule']);
        expect((await store.getJob(job.id))?.nextRun).toEqual(sec(4));
      });

      test('terminal planned runs are stored as records and never claimed', async () => {
        const job = await store.createJob(makeJob({ nextRun: sec(2) }));
        const claimed = await claim(store, sec(2), {
          plan: (j) => ({
            runs: [newRun(j, { scheduledFor: sec(2), trigger: 'schedule', status: 'skipped', error: 'max_concurrent reached' })],
            nextRun: sec(3),
          }),
        });
        expect(claimed).toEqual([]);
        const [record] = await store.listRuns({ jobId: job.id });
        expect(record).toMatchObject({ status: 'skipped', error: 'max_concurrent reached', owner: null, completedAt: sec(2) });
        expect(await claim(store, sec(2.5))).toEqual([]);
      });

      test('a plan with nextRun null leaves the job without a next fire', async () => {
        const job = await store.createJob(makeJob({ cronExpr: null, at: sec(2).toISOString(), nextRun: sec(2) }));
        await claim(store, sec(2), { plan: (j) => ({ runs: [newRun(j, { scheduledFor: sec(2), trigger: 'schedule' })], nextRun: null }) });
        expect(await store.getJob(job.id)).toMatchObject({ status: 'active', nextRun: null });
        const planned: string[] = [];
        await claim(store, sec(100), { plan: (j) => (planned.push(j.id), fireEverySecond(j)) });
        expect(planned).toEqual([]);
      });

      test('a plan status is applied to the job', async () => {
        const job = await store.createJob(makeJob({ cronExpr: null, at: sec(2).toISOString(), nextRun: sec(2) }));
        await claim(store, sec(2), { plan: () => ({ runs: [], nextRun: null, status: 'completed' }) });
        expect(await store.getJob(job.id)).toMatchObject({ status: 'completed', nextRun: null });
        expect(await store.countJobs()).toMatchObject({ active: 0, completed: 1 });
      });

      test('the plan sees the job load: active and waiting runs', async () => {
        const job = await store.createJob(makeJob({ nextRun: sec(10), maxConcurrent: 10, overlap: 'buffer_one' }));
        const other = await idleJob();
        const add = (overrides: Partial<JobRunRecord>, owner = job) => store.insertRun(makeRun(owner, { dueAt: sec(500), ...overrides }));
        await add({ status: 'running', owner: OWNER_A, leaseExpiresAt: sec(70), startedAt: sec(1) });
        await add({ status: 'running', owner: OWNER_B, leaseExpiresAt: sec(70), startedAt: sec(1) });
        await add({ status: 'scheduled' });
        await add({ status: 'scheduled', owner: OWNER_A, leaseExpiresAt: sec(70) });
        await add({ status: 'scheduled', waitForSlot: true });
        await add({ status: 'awaiting_approval', owner: OWNER_A, leaseExpiresAt: sec(70) });
        await add({ status: 'succeeded', completedAt: sec(2) });
        await add({ status: 'failed', completedAt: sec(2) });
        await add({ status: 'skipped', completedAt: sec(2) });
        await add({ status: 'running', owner: OWNER_A, leaseExpiresAt: sec(70) }, other);
        await add({ status: 'scheduled', waitForSlot: true }, other);
        const loads: JobLoad[] = [];
        await claim(store, sec(10), { plan: (_j, load) => (loads.push(load), { runs: [], nextRun: sec(11) }) });
        expect(loads.length).toBeGreaterThan(0);
        for (const load of loads) expect(load).toEqual({ active: 4, waiting: 1 });
      });

      test('cancelActive requests interruption of the job’s running runs only', async () => {
        const job = await store.createJob(makeJob({ nextRun: sec(10), maxConcurrent: 3, overlap: 'cancel_other' }));
        const other = await idleJob();
        const lease = { owner: OWNER_A, leaseExpiresAt: sec(70) };
        const r1 = await store.insertRun(makeRun(job, { status: 'running', ...lease }));
        const r2 = await store.insertRun(makeRun(job, { status: 'running', ...lease }));
        const queued = await store.insertRun(makeRun(job, { status: 'scheduled', dueAt: sec(500) }));
        const done = await store.insertRun(makeRun(job, { status: 'succeeded', completedAt: sec(2) }));
        const foreign = await store.insertRun(makeRun(other, { status: 'running', ...lease }));
        await claim(store, sec(10), { plan: () => ({ runs: [], nextRun: sec(11), cancelActive: true }) });
        expect((await store.getRun(r1.id))?.cancelRequested).toBe(true);
        expect((await store.getRun(r2.id))?.cancelRequested).toBe(true);
        for (const run of [queued, done, foreign]) expect((await store.getRun(run.id))?.cancelRequested).toBe(false);
        const renewal = await store.renewLeases(OWNER_A, [r1.id, foreign.id], sec(80));
        expect(renewal.cancelRequested).toEqual([r1.id]);
      });

      test('a plan that throws rolls the whole claim back', async () => {
        const first = await store.createJob(makeJob({ nextRun: sec(1) }));
        const second = await store.createJob(makeJob({ nextRun: sec(2) }));
        const holder = await idleJob();
        const queued = await store.insertRun(makeRun(holder, { dueAt: sec(1) }));
        await expect(
          claim(store, sec(5), {
            plan: (job) => {
              if (job.id === second.id) throw new Error('plan failed');
              return fireEverySecond(job);
            },
          }),
        ).rejects.toThrow('plan failed');
        expect(await store.getJob(first.id)).toEqual(first);
        expect(await store.getJob(second.id)).toEqual(second);
        expect(await store.listRuns({ jobId: first.id })).toEqual([]);
        expect(await store.getRun(queued.id)).toEqual(queued);
      });
    });

    describe('claimDue: overlap judged at the due time, and handing back', () => {
      /** Core's fire planner as the scheduler asks it at `now`. */
      const plannerAt = (now: Date): ClaimRequest['plan'] => {
        const ctx = { now, config: resolveSchedulerConfig({ instanceId: OWNER_A }), random: () => 0 };
        return (job, load) => planFire(job, load, ctx);
      };

      test('a fire claimed ahead with its slot taken writes nothing, and is planned at its due time once the slot is free', async () => {
        const job = await store.createJob(makeJob({ cronExpr: '* * * * * *', nextRun: sec(5) }));
        const blocking = await store.insertRun(makeRun(job, { status: 'running', startedAt: sec(4), owner: OWNER_B, leaseExpiresAt: sec(60) }));
        expect(await claim(store, sec(4.75), { horizon: sec(5), plan: plannerAt(sec(4.75)) })).toEqual([]);
        expect(await store.getJob(job.id)).toEqual(job);
        expect(await store.listRuns({ jobId: job.id })).toHaveLength(1);
        await finish(blocking.id, { owner: OWNER_B, patch: { status: 'succeeded', completedAt: sec(4.9) } });
        const claimed = await claim(store, sec(5), { plan: plannerAt(sec(5)) });
        expect(claimed.map((c) => [c.run.scheduledFor, c.run.status, c.run.trigger])).toEqual([[sec(5), 'scheduled', 'schedule']]);
        expect((await store.getJob(job.id))?.nextRun).toEqual(sec(6));
      });

      test('a run handed back by its claimer is claimable by another at once, and by nobody else while held', async () => {
        const job = await idleJob();
        const run = await store.insertRun(makeRun(job, { dueAt: sec(5) }));
        expect(runIds(await claim(store, sec(4.75), { horizon: sec(5) }))).toEqual([run.id]);
        expect(await claim(store, sec(4.8), { horizon: sec(5), owner: OWNER_B })).toEqual([]);
        const { patch, guard } = releaseClaim(OWNER_A);
        expect(await store.updateRun(run.id, patch, { ...guard, owner: OWNER_B })).toBeNull();
        expect(await store.updateRun(run.id, patch, guard)).toMatchObject({ status: 'scheduled', owner: null, leaseExpiresAt: null });
        const peer = await openPeer();
        const taken = await claim(peer, sec(4.9), { horizon: sec(5), owner: OWNER_B });
        expect(taken.map((c) => [c.run.id, c.run.owner])).toEqual([[run.id, OWNER_B]]);
      });
    });

    describe('claimDue: claiming queued runs', () => {
      test('claims due scheduled runs lowest dueAt first, at most limit, with owner and lease', async () => {
        const job = await idleJob();
        const runs = [];
        for (const due of [4, 1, 3, 2, 5]) runs.push(await store.insertRun(makeRun(job, { dueAt: sec(due) })));
        const claimed = await claim(store, sec(10), { limit: 3, owner: OWNER_B, leaseMs: 1500 });
        expect(claimed.map((c) => c.run.dueAt)).toEqual([sec(1), sec(2), sec(3)]);
        for (const c of claimed) {
          expect(c.run).toMatchObject({ owner: OWNER_B, leaseExpiresAt: sec(11.5), status: 'scheduled' });
          expect(await store.getRun(c.run.id)).toEqual(c.run);
          expect(c.job).toEqual(job);
        }
        const rest = await claim(store, sec(10), { limit: 3 });
        expect(rest.map((c) => c.run.dueAt)).toEqual([sec(4), sec(5)]);
      });

      test('does not claim runs due in the future', async () => {
        const job = await idleJob();
        const due = await store.insertRun(makeRun(job, { dueAt: sec(5) }));
        await store.insertRun(makeRun(job, { dueAt: sec(5.001) }));
        expect(runIds(await claim(store, sec(5)))).toEqual([due.id]);
        expect(await claim(store, sec(5))).toEqual([]);
      });

      test('with a horizon, claims runs and plans jobs due up to it, judging leases by now', async () => {
        const job = await idleJob();
        const ahead = await store.insertRun(makeRun(job, { dueAt: sec(5.2) }));
        await store.insertRun(makeRun(job, { dueAt: sec(5.201) }));
        const leased = await store.insertRun(makeRun(job, { dueAt: sec(1), owner: OWNER_A, leaseExpiresAt: sec(5.1) }));
        const cron = await store.createJob(makeJob({ nextRun: sec(5.2) }));
        await store.createJob(makeJob({ nextRun: sec(5.201) }));
        const claimed = await claim(store, sec(5), { horizon: sec(5.2), owner: OWNER_B, leaseMs: 1000 });
        expect(claimed).toHaveLength(2);
        expect(runIds(claimed)).toContain(ahead.id);
        expect(claimed.find((c) => c.run.jobId === cron.id)?.run.scheduledFor).toEqual(sec(5.2));
        for (const c of claimed) expect(c.run.leaseExpiresAt).toEqual(sec(6));
        expect((await store.getJob(cron.id))?.nextRun).toEqual(sec(6.2));
        expect((await store.getRun(leased.id))?.owner).toBe(OWNER_A);
      });

      test('refuses a horizon that is not a valid date, naming it, and claims nothing', async () => {
        const job = await idleJob();
        const run = await store.insertRun(makeRun(job, { dueAt: sec(1) }));
        await expect(claim(store, sec(5), { horizon: new Date(Number.NaN) })).rejects.toThrow(/horizon/);
        expect((await store.getRun(run.id))?.owner).toBeNull();
      });

      test('does not claim runs that are running, awaiting approval or finished', async () => {
        const job = await idleJob({ maxConcurrent: 10 });
        for (const status of ['running', 'awaiting_approval', 'succeeded', 'failed', 'timed_out', 'skipped', 'denied', 'interrupted'] as const) {
          await store.insertRun(makeRun(job, { status, dueAt: sec(1) }));
        }
        expect(await claim(store, sec(10))).toEqual([]);
      });

      test('does not claim a run whose lease is live', async () => {
        const job = await idleJob();
        await store.insertRun(makeRun(job, { dueAt: sec(1), owner: OWNER_A, leaseExpiresAt: sec(20) }));
        expect(await claim(store, sec(10), { owner: OWNER_B })).toEqual([]);
        expect(await claim(store, sec(10), { owner: OWNER_A })).toEqual([]);
      });

      test('claims again a scheduled run whose lease expired', async () => {
        const job = await idleJob();
        const run = await store.insertRun(makeRun(job, { dueAt: sec(1) }));
        expect(runIds(await claim(store, sec(2), { owner: OWNER_A, leaseMs: 3000 }))).toEqual([run.id]);
        expect(await claim(store, sec(4), { owner: OWNER_B })).toEqual([]);
        const retaken = await claim(store, sec(6), { owner: OWNER_B, leaseMs: 3000 });
        expect(retaken.map((c) => c.run)).toEqual([{ ...run, owner: OWNER_B, leaseExpiresAt: sec(9) }]);
      });

      test('a claimer whose clock lags judges leases by its own now', async () => {
        const job = await idleJob();
        const first = await store.insertRun(makeRun(job, { dueAt: sec(0.5) }));
        const leased = await store.insertRun(makeRun(job, { dueAt: sec(1), owner: OWNER_A, leaseExpiresAt: sec(10) }));
        expect(runIds(await claim(store, sec(15), { owner: OWNER_B, limit: 1 }))).toEqual([first.id]);
        expect(await claim(store, sec(5), { owner: OWNER_B })).toEqual([]);
        expect(runIds(await claim(store, sec(15), { owner: OWNER_B }))).toEqual([leased.id]);
      });

      test('waitForSlot runs are claimed only while the job has fewer active runs than maxConcurrent', async () => {
        const job = await idleJob({ maxConcurrent: 1, overlap: 'buffer_one' });
        const running = await store.insertRun(makeRun(job, { status: 'running', owner: OWNER_A, leaseExpiresAt: sec(60), startedAt: sec(1) }));
        const buffered = await store.insertRun(makeRun(job, { dueAt: sec(2), waitForSlot: true }));
        expect(await claim(store, sec(3))).toEqual([]);
        await finish(running.id, { owner: OWNER_A });
        expect(runIds(await claim(store, sec(4)))).toEqual([buffered.id]);
      });

      test('waitForSlot runs count the job’s queued runs as active', async () => {
        const job = await idleJob({ maxConcurrent: 2, overlap: 'buffer_one' });
        const queued = await store.insertRun(makeRun(job, { dueAt: sec(50) }));
        await store.insertRun(makeRun(job, { status: 'running', owner: OWNER_A, leaseExpiresAt: sec(60) }));
        const buffered = await store.insertRun(makeRun(job, { dueAt: sec(2), waitForSlot: true }));
        expect(await claim(store, sec(3))).toEqual([]);
        await store.updateRun(queued.id, { status: 'skipped', completedAt: sec(3) });
        expect(runIds(await claim(store, sec(4)))).toEqual([buffered.id]);
      });

      test('claiming a waitForSlot run clears waitForSlot, so the claimed run holds the slot', async () => {
        const job = await idleJob({ maxConcurrent: 1, overlap: 'buffer_one' });
        const first = await store.insertRun(makeRun(job, { dueAt: sec(1), waitForSlot: true }));
        const second = await store.insertRun(makeRun(job, { dueAt: sec(2), waitForSlot: true }));
        const claimed = await claim(store, sec(3), { limit: 10 });
        expect(runIds(claimed)).toEqual([first.id]);
        expect(claimed[0]?.run.waitForSlot).toBe(false);
        expect(await claim(store, sec(3), { owner: OWNER_B })).toEqual([]);
        await finish(first.id, { owner: OWNER_A });
        expect(runIds(await claim(store, sec(4), { owner: OWNER_B }))).toEqual([second.id]);
      });

      test('waitForSlot runs and plain runs are claimed together in dueAt order', async () => {
        const roomy = await idleJob({ maxConcurrent: 5, overlap: 'buffer_one' });
        const plain = await idleJob();
        const a = await store.insertRun(makeRun(plain, { dueAt: sec(3) }));
        const b = await store.insertRun(makeRun(roomy, { dueAt: sec(1), waitForSlot: true }));
        const c = await store.insertRun(makeRun(plain, { dueAt: sec(2) }));
        const d = await store.insertRun(makeRun(roomy, { dueAt: sec(4), waitForSlot: true }));
        expect(runIds(await claim(store, sec(10), { limit: 3 }))).toEqual([b.id, c.id, a.id]);
        expect(runIds(await claim(store, sec(10)))).toEqual([d.id]);
      });
    });

    describe('claimDue: two claimers', () => {
      const raceJobs = 8;
      const raceSeconds = 20;

      /** Both claimers claim at every second; then both drain what is left at the last second. */
      const race = async (planFor: (owner: string) => ClaimRequest['plan']) => {
        const a = await openPeer();
        const b = await openPeer();
        const claimedBy = new Map<string, string[]>([
          [OWNER_A, []],
          [OWNER_B, []],
        ]);
        const round = async (now: Date) => {
          const results = await Promise.all(
            [
              [a, OWNER_A],
              [b, OWNER_B],
            ].map(([handle, owner]) =>
              claim(handle as JobStore, now, { owner: owner as string, limit: 5, leaseMs: 3_600_000, plan: planFor(owner as string) }),
            ),
          );
          claimedBy.get(OWNER_A)?.push(...runIds(results[0] as ClaimedRun[]));
          claimedBy.get(OWNER_B)?.push(...runIds(results[1] as ClaimedRun[]));
          return results.flat().length;
        };
        for (let s = 1; s <= raceSeconds; s += 1) await round(sec(s));
        for (let drained = false, rounds = 0; !drained; rounds += 1) {
          if (rounds > 100) throw new Error('the claimers never drained the due work');
          const claimedNow = await round(sec(raceSeconds));
          const wake = await store.nextWakeAt();
          drained = claimedNow === 0 && (wake === null || wake > sec(raceSeconds));
        }
        return claimedBy;
      };

      const checkClaims = async (claimedBy: Map<string, string[]>) => {
        const runs = await store.listRuns({ limit: raceJobs * raceSeconds * 2 });
        const fromA = claimedBy.get(OWNER_A) as string[];
        const fromB = claimedBy.get(OWNER_B) as string[];
        expect(new Set([...fromA, ...fromB]).size).toBe(fromA.length + fromB.length);
        expect([...fromA, ...fromB].sort()).toEqual(ids(runs).sort());
        for (const run of runs) expect(run.owner).toBe(fromA.includes(run.id) ? OWNER_A : OWNER_B);
        return runs;
      };

      test('two claimers racing never claim the same run and every fire runs once', async () => {
        const jobs = [];
        for (let i = 0; i < raceJobs; i += 1) jobs.push(await store.createJob(makeJob({ nextRun: sec(1) })));
        const runs = await checkClaims(await race(() => fireEverySecond));
        expect(runs).toHaveLength(raceJobs * raceSeconds);
        const keys = runs.map((r) => r.fireKey);
        expect(new Set(keys).size).toBe(keys.length);
        for (const job of jobs) {
          const seconds = runs.filter((r) => r.jobId === job.id).map((r) => r.scheduledFor.getTime());
          expect(seconds.sort((x, y) => x - y)).toEqual(Array.from({ length: raceSeconds }, (_, i) => sec(i + 1).getTime()));
          expect((await store.getJob(job.id))?.nextRun).toEqual(sec(raceSeconds + 1));
        }
      });

      test('two claimers racing never both plan the same fire (runs keyed per claimer expose a double plan)', async () => {
        for (let i = 0; i < raceJobs; i += 1) await store.createJob(makeJob({ nextRun: sec(1) }));
        const planFor =
          (owner: string): ClaimRequest['plan'] =>
          (job) => {
            const plan = fireEverySecond(job);
            return { ...plan, runs: plan.runs.map((run) => ({ ...run, fireKey: `${run.fireKey}/${owner}` })) };
          };
        const runs = await checkClaims(await race(planFor));
        const fires = runs.map((r) => `${r.jobId}@${r.scheduledFor.toISOString()}`);
        expect(new Set(fires).size).toBe(fires.length);
        expect(runs).toHaveLength(raceJobs * raceSeconds);
      });

      test('two claimers racing for waitForSlot runs never exceed maxConcurrent', async () => {
        const job = await idleJob({ maxConcurrent: 2, overlap: 'buffer_one' });
        for (let i = 0; i < 6; i += 1) await store.insertRun(makeRun(job, { dueAt: sec(1 + i / 10), waitForSlot: true }));
        const a = await openPeer();
        const b = await openPeer();
        for (let round = 0; round < 3; round += 1) {
          await Promise.all([claim(a, sec(5), { owner: OWNER_A }), claim(b, sec(5), { owner: OWNER_B })]);
        }
        const claimed = (await store.listRuns({ jobId: job.id })).filter((r) => r.owner !== null);
        expect(claimed).toHaveLength(2);
      });

      test('two recoverers racing end each run once and count it once', async () => {
        const job = await idleJob({ maxConcurrent: 20 });
        for (let i = 0; i < 12; i += 1) {
          await store.insertRun(makeRun(job, { status: 'running', owner: OWNER_A, leaseExpiresAt: sec(1 + i / 10) }));
        }
        const a = await openPeer();
        const b = await openPeer();
        const ended: string[] = [];
        for (let round = 0; round < 4; round += 1) {
          const results = await Promise.all(
            [a, b].map((handle) => handle.recoverExpired({ now: sec(10), limit: 4, plan: () => ({}) })),
          );
          ended.push(...results.flat().map((r) => r.id));
        }
        expect(ended).toHaveLength(12);
        expect(new Set(ended).size).toBe(12);
        expect(await store.getJob(job.id)).toMatchObject({ runCount: 12, failureCount: 12, consecutiveFailures: 12 });
      });

      test('two finishers racing on one run finish it once', async () => {
        const job = await idleJob();
        const run = await store.insertRun(makeRun(job, { status: 'running', owner: OWNER_A, leaseExpiresAt: sec(60) }));
        const a = await openPeer();
        const b = await openPeer();
        const results = await Promise.all(
          [a, b].map((handle) =>
            handle.finishRun({ runId: run.id, outcome: 'failure', patch: { status: 'failed', completedAt: sec(3) }, plan: noPlan }),
          ),
        );
        expect(results.filter((r) => r !== null)).toHaveLength(1);
        expect(await store.getJob(job.id)).toMatchObject({ runCount: 1, failureCount: 1, consecutiveFailures: 1 });
      });

      test('two claimers racing for pending deliveries never claim the same run', async () => {
        const job = await idleJob();
        const outbox = [];
        for (let i = 0; i < 30; i += 1) {
          outbox.push(await store.insertRun(makeRun(job, { status: 'succeeded', completedAt: sec(i / 10), deliveries: [delivery('pending')] })));
        }
        const a = await openPeer();
        const b = await openPeer();
        const taken: string[] = [];
        for (let round = 0; round < 4; round += 1) {
          const results = await Promise.all(
            [
              [a, OWNER_A],
              [b, OWNER_B],
            ].map(([handle, owner]) =>
              (handle as JobStore).claimPendingDeliveries({ now: sec(10), owner: owner as string, leaseMs: LEASE_MS, limit: 5 }),
            ),
          );
          taken.push(...results.flat().map((c) => c.run.id));
        }
        expect(new Set(taken).size).toBe(taken.length);
        expect([...taken].sort()).toEqual(ids(outbox).sort());
      });

      test('two claimers draining one queue split it without overlap', async () => {
        const job = await idleJob();
        const queued = [];
        for (let i = 0; i < 120; i += 1) queued.push(await store.insertRun(makeRun(job, { dueAt: sec(i / 10) })));
        const a = await openPeer();
        const b = await openPeer();
        const fromA: string[] = [];
        const fromB: string[] = [];
        for (;;) {
          const [ca, cb] = await Promise.all([
            claim(a, sec(20), { owner: OWNER_A, limit: 7 }),
            claim(b, sec(20), { owner: OWNER_B, limit: 7 }),
          ]);
          fromA.push(...runIds(ca));
          fromB.push(...runIds(cb));
          if (ca.length === 0 && cb.length === 0) break;
        }
        expect(new Set([...fromA, ...fromB]).size).toBe(120);
        expect([...fromA, ...fromB].sort()).toEqual(ids(queued).sort());
      });
    });

    describe("claimDue: the claimer's agents", () => {
      const onlyB = { agents: ['agent-b'] } as const;

      test('plans only due jobs of the listed agents; a job of another agent is left as it was and takes no room', async () => {
        const ofA = await store.createJob(makeJob({ agentId: 'agent-a', nextRun: sec(1) }));
        const ofB = await store.createJob(makeJob({ agentId: 'agent-b', nextRun: sec(2) }));
        const claimed = await claim(store, sec(5), { ...onlyB, limit: 1 });
        expect(claimed.map((c) => c.job.id)).toEqual([ofB.id]);
        expect(await store.getJob(ofA.id)).toEqual(ofA);
        expect(await store.listRuns({ jobId: ofA.id })).toEqual([]);
        expect((await claim(store, sec(5), { agents: ['agent-a'] })).map((c) => c.job.id)).toEqual([ofA.id]);
      });

      test('claims only queued runs of the listed agents (manual, retries, waiting for a slot) and leaves the others unowned', async () => {
        const jobA = await idleJob({ agentId: 'agent-a', maxConcurrent: 3 });
        const jobB = await idleJob({ agentId: 'agent-b', maxConcurrent: 2 });
        const others = [
          await store.insertRun(makeRun(jobA, { dueAt: sec(1) })),
          await store.insertRun(makeRun(jobA, { dueAt: sec(1.5), attempt: 2, trigger: 'retry' })),
          await store.insertRun(makeRun(jobA, { dueAt: sec(2), waitForSlot: true })),
        ];
        const mine = [
          await store.insertRun(makeRun(jobB, { dueAt: sec(3) })),
          await store.insertRun(makeRun(jobB, { dueAt: sec(4), waitForSlot: true })),
        ];
        expect(runIds(await claim(store, sec(10), onlyB)).sort()).toEqual(ids(mine).sort());
        for (const run of others) expect(await store.getRun(run.id)).toEqual(run);
        expect(await claim(store, sec(10), onlyB)).toEqual([]);
        expect(runIds(await claim(store, sec(10), { agents: ['agent-a', 'agent-b'] })).sort()).toEqual(ids(others).sort());
      });

      test('an empty list claims nothing', async () => {
        const job = await store.createJob(makeJob({ nextRun: sec(1) }));
        await store.insertRun(makeRun(job, { dueAt: sec(1) }));
        expect(await claim(store, sec(5), { agents: [] })).toEqual([]);
        expect(await store.getJob(job.id)).toEqual(job);
      });

      test('nextWakeAt for a list of agents ignores the due jobs and queued runs of others, but not leases of runs in flight', async () => {
        const jobA = await store.createJob(makeJob({ agentId: 'agent-a', nextRun: sec(1) }));
        await store.insertRun(makeRun(jobA, { dueAt: sec(2) }));
        await store.insertRun(makeRun(jobA, { dueAt: sec(3), owner: OWNER_A, leaseExpiresAt: sec(4) }));
        await store.createJob(makeJob({ agentId: 'agent-b', nextRun: sec(50) }));
        expect(await store.nextWakeAt()).toEqual(sec(1));
        expect(await store.nextWakeAt(['agent-b'])).toEqual(sec(50));
        await store.insertRun(makeRun(jobA, { status: 'running', owner: OWNER_A, leaseExpiresAt: sec(40) }));
        expect(await store.nextWakeAt(['agent-b'])).toEqual(sec(40));
        expect(await store.nextWakeAt(['agent-a'])).toEqual(sec(1));
      });

      test('two claimers of different agents each take the work of their own agent', async () => {
        const peer = await openPeer();
        const jobA = await store.createJob(makeJob({ agentId: 'agent-a', nextRun: sec(1) }));
        const jobB = await store.createJob(makeJob({ agentId: 'agent-b', nextRun: sec(1) }));
        const [byA, byB] = await Promise.all([
          claim(store, sec(3), { agents: ['agent-a'], owner: OWNER_A }),
          claim(peer, sec(3), { agents: ['agent-b'], owner: OWNER_B }),
        ]);
        expect(byA.map((c) => [c.job.id, c.run.owner])).toEqual([[jobA.id, OWNER_A]]);
        expect(byB.map((c) => [c.job.id, c.run.owner])).toEqual([[jobB.id, OWNER_B]]);
      });
    });

    describe('runs', () => {
      test('insertRun stores a run; getRun returns null for unknown ids', async () => {
        const job = await idleJob();
        const run = makeRun(job, { trigger: 'schedule', scheduledFor: sec(4) });
        expect(await store.insertRun(run)).toEqual(run);
        expect(await store.getRun(run.id)).toEqual(run);
        expect(await store.getRun(randomUUID())).toBeNull();
      });

      test('insertRun with a taken fireKey throws ConflictError', async () => {
        const job = await idleJob();
        const first = await store.insertRun(makeRun(job, { trigger: 'schedule', scheduledFor: sec(4) }));
        const twin = makeRun(job, { trigger: 'schedule', scheduledFor: sec(4) });
        expect(twin.fireKey).toBe(first.fireKey);
        await expect(store.insertRun(twin)).rejects.toBeInstanceOf(ConflictError);
        expect(await store.getRun(twin.id)).toBeNull();
        const retry = await store.insertRun(makeRun(job, { trigger: 'retry', scheduledFor: sec(4), attempt: 2 }));
        expect(retry.fireKey).not.toBe(first.fireKey);
      });

      test('runs without a fireKey never conflict', async () => {
        const job = await idleJob();
        const a = await store.insertRun(makeRun(job, { scheduledFor: sec(4) }));
        const b = await store.insertRun(makeRun(job, { scheduledFor: sec(4) }));
        expect(a.fireKey).toBeNull();
        expect(ids(await store.listRuns({ jobId: job.id })).sort()).toEqual([a.id, b.id].sort());
      });

      test('updateRun applies a patch and returns the run', async () => {
        const job = await idleJob();
        const run = await store.insertRun(makeRun(job));
        const patch = {
          status: 'running' as const,
          startedAt: sec(2.5),
          owner: OWNER_A,
          leaseExpiresAt: sec(62.5),
          deliveries: [delivery('pending')],
          iterations: [{ index: 1, output: 'o', summary: null, action: 'continue' as const, durationMs: 3 }],
        };
        const updated = await store.updateRun(run.id, patch);
        expect(updated).toEqual({ ...run, ...patch });
        expect(await store.getRun(run.id)).toEqual(updated);
        expect(await store.updateRun(run.id, { owner: null, leaseExpiresAt: null })).toEqual({ ...updated, owner: null, leaseExpiresAt: null });
      });

      test('updateRun returns null for an unknown run', async () => {
        expect(await store.updateRun(randomUUID(), { status: 'running' })).toBeNull();
      });

      test('updateRun with a failing owner guard returns null and changes nothing', async () => {
        const job = await idleJob();
        const run = await store.insertRun(makeRun(job, { owner: OWNER_A, leaseExpiresAt: sec(60) }));
        expect(await store.updateRun(run.id, { status: 'running' }, { owner: OWNER_B })).toBeNull();
        expect(await store.getRun(run.id)).toEqual(run);
        const unowned = await store.insertRun(makeRun(job));
        expect(await store.updateRun(unowned.id, { status: 'running' }, { owner: OWNER_A })).toBeNull();
        expect(await store.updateRun(run.id, { status: 'running' }, { owner: OWNER_A })).toMatchObject({ status: 'running' });
      });

      test('updateRun with a failing status guard returns null and changes nothing', async () => {
        const job = await idleJob();
        const run = await store.insertRun(makeRun(job, { status: 'awaiting_approval', owner: OWNER_A }));
        expect(await store.updateRun(run.id, { status: 'running' }, { statusIn: ['scheduled', 'running'] })).toBeNull();
        expect(await store.updateRun(run.id, { status: 'running' }, { owner: OWNER_A, statusIn: ['scheduled'] })).toBeNull();
        expect(await store.updateRun(run.id, { status: 'running' }, { statusIn: [] })).toBeNull();
        expect(await store.getRun(run.id)).toEqual(run);
        const ok = await store.updateRun(run.id, { status: 'running' }, { owner: OWNER_A, statusIn: ['awaiting_approval'] });
        expect(ok).toEqual({ ...run, status: 'running' });
      });

      test("a finished run's status is final: a patch that sets one is refused whatever the guard, other patches apply", async () => {
        const job = await idleJob();
        const run = await store.insertRun(makeRun(job, { status: 'failed', owner: OWNER_A, startedAt: sec(2), completedAt: sec(3), error: 'boom' }));
        expect(await store.updateRun(run.id, { status: 'scheduled', completedAt: null })).toBeNull();
        expect(await store.updateRun(run.id, { status: 'running' }, { owner: OWNER_A, statusIn: ['failed'] })).toBeNull();
        expect(await store.updateRun(run.id, { status: 'succeeded', error: null })).toBeNull();
        expect(await store.getRun(run.id)).toEqual(run);
        expect(await store.updateRun(run.id, { deliveries: [delivery('pending')] }, { statusIn: ['failed'] })).toEqual({ ...run, deliveries: [delivery('pending')] });
      });

      test('listRuns returns newest first by scheduledFor, then id', async () => {
        const job = await idleJob();
        const made = [];
        for (const at of [3, 1, 2, 2, 2]) made.push(await store.insertRun(makeRun(job, { scheduledFor: sec(at) })));
        const expected = [...made].sort(
          (a, b) => b.scheduledFor.getTime() - a.scheduledFor.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
        );
        expect(await store.listRuns()).toEqual(expected);
      });

      test('listRuns filters by job, status, agent and since, and limits', async () => {
        const job = await idleJob({ agentId: 'reporter' });
        const other = await idleJob({ agentId: 'scanner' });
        const ok1 = await store.insertRun(makeRun(job, { scheduledFor: sec(1), status: 'succeeded' }));
        const failed = await store.insertRun(makeRun(job, { scheduledFor: sec(2), status: 'failed' }));
        const ok3 = await store.insertRun(makeRun(job, { scheduledFor: sec(3), status: 'succeeded' }));
        const foreign = await store.insertRun(makeRun(other, { scheduledFor: sec(4), status: 'failed' }));
        expect(await store.listRuns({ jobId: job.id })).toEqual([ok3, failed, ok1]);
        expect(await store.listRuns({ status: 'failed' })).toEqual([foreign, failed]);
        expect(await store.listRuns({ status: ['failed', 'succeeded'], jobId: job.id })).toEqual([ok3, failed, ok1]);
        expect(await store.listRuns({ status: ['skipped'] })).toEqual([]);
        expect(await store.listRuns({ agentId: 'scanner' })).toEqual([foreign]);
        expect(await store.listRuns({ since: sec(2) })).toEqual([foreign, ok3, failed]);
        expect(await store.listRuns({ since: sec(2.001), jobId: job.id })).toEqual([ok3]);
        expect(await store.listRuns({ limit: 2 })).toEqual([foreign, ok3]);
        expect(await store.listRuns({ jobId: job.id, status: 'succeeded', limit: 1 })).toEqual([ok3]);
      });

      test('listRuns returns at most 100 runs by default', async () => {
        const job = await idleJob();
        for (let i = 0; i < 101; i += 1) await store.insertRun(makeRun(job, { scheduledFor: sec(i) }));
        const runs = await store.listRuns();
        expect(runs).toHaveLength(100);
        expect(runs[99]?.scheduledFor).toEqual(sec(1));
      });
    });

    describe('finishRun', () => {
      const runningRun = async (job: CronJobDefinition, overrides: Partial<JobRunRecord> = {}) =>
        store.insertRun(makeRun(job, { status: 'running', owner: OWNER_A, leaseExpiresAt: sec(60), startedAt: sec(2), ...overrides }));

      test('a success resets consecutiveFailures, counts the run and sets lastRun to its start', async () => {
        const job = await idleJob({ consecutiveFailures: 2, failureCount: 5, runCount: 7 });
        const run = await runningRun(job, { startedAt: sec(2.5) });
        const patch = { status: 'succeeded' as const, output: 'done', completedAt: sec(4), executionTimeMs: 1500 };
        const result = await store.finishRun({ runId: run.id, owner: OWNER_A, patch, outcome: 'success', plan: noPlan });
        expect(result?.run).toEqual({ ...run, ...patch });
        expect(result?.job).toMatchObject({ consecutiveFailures: 0, failureCount: 5, runCount: 8, lastRun: sec(2.5), status: 'active' });
        expect(await store.getRun(run.id)).toEqual(result?.run);
        expect(await store.getJob(job.id)).toEqual(result?.job);
      });

      test('a failure increments consecutiveFailures and failureCount and counts the run', async () => {
        const job = await idleJob({ consecutiveFailures: 2, failureCount: 5, runCount: 7 });
        const run = await runningRun(job);
        const result = await finish(run.id, { outcome: 'failure', patch: { status: 'failed', error: 'boom', completedAt: sec(3) } });
        expect(result?.run).toMatchObject({ status: 'failed', error: 'boom' });
        expect(result?.job).toMatchObject({ consecutiveFailures: 3, failureCount: 6, runCount: 8, lastRun: sec(2) });
      });

      test('a neutral outcome leaves the failure counters, counts the run and sets lastRun to scheduledFor when it never started', async () => {
        const job = await idleJob({ consecutiveFailures: 2, failureCount: 5, runCount: 7 });
        const run = await store.insertRun(makeRun(job, { scheduledFor: sec(1.5), status: 'awaiting_approval' }));
        const result = await finish(run.id, { outcome: 'neutral', patch: { status: 'denied', error: 'approval denied', completedAt: sec(3) } });
        expect(result?.job).toMatchObject({ consecutiveFailures: 2, failureCount: 5, runCount: 8, lastRun: sec(1.5) });
      });

      test('a skipped run counts for nothing', async () => {
        const job = await idleJob({ consecutiveFailures: 2, failureCount: 5, runCount: 7, lastRun: sec(0.5) });
        const run = await store.insertRun(makeRun(job, { scheduledFor: sec(1.5) }));
        const result = await finish(run.id, { outcome: 'neutral', patch: { status: 'skipped', error: 'max_concurrent', completedAt: sec(2) } });
        expect(result?.job).toMatchObject({ consecutiveFailures: 2, failureCount: 5, runCount: 7, lastRun: sec(0.5) });
      });

      test('the plan sees the updated counters and its status is applied; a job that leaves active keeps no next fire', async () => {
        const job = await store.createJob(makeJob({ maxRetries: 3, consecutiveFailures: 2, failureCount: 2, runCount: 2, nextRun: sec(30) }));
        const run = await runningRun(job);
        const seen: CronJobDefinition[] = [];
        const result = await finish(run.id, {
          outcome: 'failure',
          patch: { status: 'failed', completedAt: sec(3) },
          plan: (j) => {
            seen.push(j);
            return { status: j.consecutiveFailures >= (j.maxRetries ?? 0) ? 'dead_letter' : undefined };
          },
        });
        expect(seen.length).toBeGreaterThan(0);
        for (const j of seen) expect(j).toMatchObject({ id: job.id, consecutiveFailures: 3, failureCount: 3, runCount: 3 });
        expect(result?.job).toMatchObject({ status: 'dead_letter', nextRun: null });
        expect(await store.getJob(job.id)).toEqual(result?.job);
        expect(await store.countJobs()).toMatchObject({ active: 0, dead_letter: 1 });
        expect(await store.nextWakeAt()).toBeNull();
        const planned: string[] = [];
        await claim(store, sec(60), { plan: (j) => (planned.push(j.id), fireEverySecond(j)) });
        expect(planned).toEqual([]);
      });

      test('a retry in the plan is inserted and claimable when due', async () => {
        const job = await idleJob();
        const run = await runningRun(job, { trigger: 'schedule', scheduledFor: sec(1) });
        const retry = newRun(job, { scheduledFor: sec(1), trigger: 'retry', attempt: 2, dueAt: sec(8) });
        await finish(run.id, { owner: OWNER_A, outcome: 'failure', patch: { status: 'failed', completedAt: sec(3) }, plan: () => ({ retry }) });
        expect(await store.listRuns({ jobId: job.id, status: 'scheduled' })).toEqual([retry]);
        expect(await claim(store, sec(7))).toEqual([]);
        expect(runIds(await claim(store, sec(8)))).toEqual([retry.id]);
      });

      test('finishRun by another owner returns null and changes nothing', async () => {
        const job = await idleJob();
        const run = await runningRun(job);
        expect(await finish(run.id, { owner: OWNER_B })).toBeNull();
        expect(await store.getRun(run.id)).toEqual(run);
        expect(await store.getJob(job.id)).toEqual(job);
      });

      test('finishRun without an owner skips the owner check', async () => {
        const job = await idleJob();
        const run = await runningRun(job, { owner: OWNER_B });
        expect((await finish(run.id))?.run.status).toBe('succeeded');
      });

      test('finishRun of an unknown run returns null', async () => {
        expect(await finish(randomUUID())).toBeNull();
      });

      test('finishRun of a run already finished returns null, so a run counts once', async () => {
        const job = await idleJob();
        const run = await runningRun(job);
        await finish(run.id, { owner: OWNER_A, outcome: 'failure', patch: { status: 'failed', completedAt: sec(3) } });
        const once = await store.getJob(job.id);
        expect(await finish(run.id, { owner: OWNER_A })).toBeNull();
        expect(await finish(run.id)).toBeNull();
        expect(await store.getJob(job.id)).toEqual(once);
        expect((await store.getRun(run.id))?.status).toBe('failed');
      });

      test('finishRun after the job was deleted returns null: its runs went with it', async () => {
        const job = await idleJob();
        const run = await runningRun(job);
        await store.deleteJob(job.id);
        expect(await finish(run.id, { owner: OWNER_A })).toBeNull();
      });

      test('the audit events of a finish are stored with it; the callback sees the finished run and the planned job', async () => {
        const job = await idleJob({ maxRetries: 1, consecutiveFailures: 1 });
        const run = await runningRun(job);
        const seen: { run: JobRunRecord; job: CronJobDefinition | null }[] = [];
        const events = [
          auditEvent({ type: 'CronJobFailed', at: sec(3), jobId: job.id, runId: run.id, details: { error: 'boom' } }),
          auditEvent({ type: 'CronJobDeadLettered', at: sec(3), jobId: job.id, runId: run.id, details: { consecutive_failures: 2 } }),
        ];
        const result = await finish(run.id, {
          owner: OWNER_A,
          outcome: 'failure',
          patch: { status: 'failed', error: 'boom', completedAt: sec(3) },
          plan: () => ({ status: 'dead_letter' }),
          audit: (finished, updated) => (seen.push({ run: finished, job: updated }), events),
        });
        expect(seen.length).toBeGreaterThan(0);
        for (const s of seen) {
          expect(s.run).toEqual(result?.run);
          expect(s.job).toEqual(result?.job);
        }
        expect(result?.job).toMatchObject({ status: 'dead_letter', consecutiveFailures: 2 });
        // Equal times: the later append comes first.
        expect(await store.queryAudit({ jobId: job.id })).toEqual([events[1], events[0]]);
      });

      test('finishes made at once each store their audit events', async () => {
        const job = await idleJob();
        const runs = await Promise.all(Array.from({ length: 6 }, () => runningRun(job)));
        const events = runs.map((run, i) => auditEvent({ type: 'CronJobExecuted', at: sec(10 + i), jobId: job.id, runId: run.id }));
        const results = await Promise.all(runs.map((run, i) => finish(run.id, { owner: OWNER_A, audit: () => [events[i] as AuditEvent] })));
        expect(results.every((r) => r?.run.status === 'succeeded')).toBe(true);
        expect(await store.queryAudit({ jobId: job.id })).toEqual([...events].reverse());
        expect(await store.getJob(job.id)).toMatchObject({ runCount: 6 });
      });

      test('a refused finish writes no audit event', async () => {
        const job = await idleJob();
        const run = await runningRun(job);
        const audit = () => [auditEvent({ type: 'CronJobExecuted', jobId: job.id, runId: run.id })];
        expect(await finish(run.id, { owner: OWNER_B, audit })).toBeNull();
        expect(await finish(randomUUID(), { audit })).toBeNull();
        expect(await store.queryAudit()).toEqual([]);
        await finish(run.id, { owner: OWNER_A });
        expect(await finish(run.id, { owner: OWNER_A, audit })).toBeNull();
        expect(await finish(run.id, { audit })).toBeNull();
        expect(await store.queryAudit()).toEqual([]);
      });

      test('a throwing audit callback rolls the finish back', async () => {
        const job = await idleJob();
        const run = await runningRun(job, { trigger: 'schedule', scheduledFor: sec(1) });
        const retry = newRun(job, { scheduledFor: sec(1), trigger: 'retry', attempt: 2, dueAt: sec(8) });
        const failure = new Error('audit callback failed');
        await expect(
          finish(run.id, {
            owner: OWNER_A,
            outcome: 'failure',
            patch: { status: 'failed', completedAt: sec(3) },
            plan: () => ({ retry }),
            audit: () => {
              throw failure;
            },
          }),
        ).rejects.toBe(failure);
        expect(await store.getRun(run.id)).toEqual(run);
        expect(await store.getJob(job.id)).toEqual(job);
        expect(await store.listRuns({ jobId: job.id })).toEqual([run]);
        expect(await store.queryAudit()).toEqual([]);
        expect((await finish(run.id, { owner: OWNER_A }))?.run.status).toBe('succeeded');
      });

      describe("a success's routine event kept as a mark (capabilities.executedAuditFromHistory)", () => {
        /** Whether the store under test keeps marks; the tests below hold only for one that does. */
        const marks = (): boolean => store.capabilities.executedAuditFromHistory === true;
        const finishMarked = (run: JobRunRecord, completedAt: Date, overrides: Partial<FinishRunRequest> = {}) =>
          finish(run.id, { owner: OWNER_A, patch: { status: 'succeeded', completedAt, executionTimeMs: 1500 }, executedAudit: true, ...overrides });
        const executedOf = (run: JobRunRecord | undefined): AuditEvent => executedAuditEvent(run as ExecutedRunFacts);

        test('queryAudit answers a marked success as its CronJobExecuted event, in time order with stored events', async () => {
          if (!marks()) return;
          const job = await idleJob();
          const run = await runningRun(job);
          const created = auditEvent({ at: sec(1), type: 'CronJobCreated', jobId: job.id });
          const tie = auditEvent({ at: sec(4), type: 'CronJobUpdated', jobId: job.id });
          const later = auditEvent({ at: sec(6), type: 'CronJobPaused', jobId: job.id });
          const other = auditEvent({ at: sec(5), type: 'AgentPinVerificationFailed' });
          await store.appendAudit(created);
          const executed = executedOf((await finishMarked(run, sec(4)))?.run);
          for (const event of [tie, later, other]) await store.appendAudit(event);
          expect(executed).toEqual({
            id: run.id,
            type: 'CronJobExecuted',
            at: sec(4),
            jobId: job.id,
            runId: run.id,
            actor: 'scheduler',
            details: { job_name: job.name, status: 'succeeded', execution_time_ms: 1500 },
          });
          // At equal times the run's event comes first: its finish is taken as the later.
          expect(await store.queryAudit()).toEqual([later, other, executed, tie, created]);
          expect(await store.queryAudit({ type: 'CronJobExecuted' })).toEqual([executed]);
          expect(await store.queryAudit({ type: 'CronJobPaused' })).toEqual([later]);
          expect(await store.queryAudit({ jobId: job.id, since: sec(4), limit: 2 })).toEqual([later, executed]);
          expect(await store.queryAudit({ since: sec(4.001) })).toEqual([later, other]);
          expect(await store.queryAudit({ jobId: randomUUID() })).toEqual([]);
          expect(await store.queryAudit({ limit: 3 })).toEqual([later, other, executed]);
        });

        test('only a success its owner finishes with the mark is marked, once', async () => {
          if (!marks()) return;
          const job = await idleJob();
          const [ok, failed, plain, refused] = await Promise.all([1, 2, 3, 4].map(() => runningRun(job)));
          const failure = { status: 'failed' as const, error: 'boom', completedAt: sec(3) };
          await finishMarked(failed as JobRunRecord, sec(3), { outcome: 'failure', patch: failure });
          await finish((plain as JobRunRecord).id, { owner: OWNER_A });
          expect(await finishMarked(refused as JobRunRecord, sec(3), { owner: OWNER_B })).toBeNull();
          const done = await finishMarked(ok as JobRunRecord, sec(4));
          expect(await finishMarked(ok as JobRunRecord, sec(5))).toBeNull();
          expect(await store.queryAudit()).toEqual([executedOf(done?.run)]);
        });

        test('a throwing plan rolls a marked finish back with its mark', async () => {
          if (!marks()) return;
          const job = await idleJob();
          const run = await runningRun(job);
          const failure = new Error('plan failed');
          const plan = () => {
            throw failure;
          };
          await expect(finishMarked(run, sec(4), { plan })).rejects.toBe(failure);
          expect(await store.getRun(run.id)).toEqual(run);
          expect(await store.queryAudit()).toEqual([]);
        });

        test('marked finishes made at once are each answered, newest first', async () => {
          if (!marks()) return;
          const job = await idleJob();
          const runs = await Promise.all(Array.from({ length: 6 }, () => runningRun(job)));
          const results = await Promise.all(runs.map((run, i) => finishMarked(run, sec(10 + i))));
          expect(await store.queryAudit({ jobId: job.id })).toEqual(results.map((result) => executedOf(result?.run)).reverse());
        });

        test("a patch of a marked run's times leaves its event as the run finished; its status is final, so it is audited once", async () => {
          if (!marks()) return;
          const job = await idleJob();
          const timed = (await finishMarked(await runningRun(job), sec(4)))?.run as JobRunRecord;
          const back = (await finishMarked(await runningRun(job), sec(5)))?.run as JobRunRecord;
          const events = [executedOf(back), executedOf(timed)];
          expect(await store.updateRun(timed.id, { deliveries: [delivery('pending')] })).toMatchObject({ deliveries: [{ status: 'pending' }] });
          expect(await store.updateRun(timed.id, { executionTimeMs: 99, completedAt: sec(9) }, { statusIn: ['running'] })).toBeNull();
          expect(await store.updateRun(timed.id, { executionTimeMs: 99, completedAt: sec(9) })).toMatchObject({ executionTimeMs: 99 });
          expect(await store.updateRun(back.id, { status: 'running', completedAt: null })).toBeNull();
          expect(await store.getRun(back.id)).toEqual(back);
          expect(await finishMarked(back, sec(7))).toBeNull();
          expect(await store.queryAudit({ jobId: job.id })).toEqual(events);
          expect(await store.deleteJob(job.id)).toBe(true);
          expect(await store.queryAudit({ jobId: job.id })).toEqual(events);
        });

        test('the event outlives its run: deleting the job or pruning the run keeps it', async () => {
          if (!marks()) return;
          const job = await idleJob();
          const pruned = await idleJob();
          await store.appendAudit(auditEvent({ at: sec(4), type: 'CronJobUpdated', jobId: job.id }));
          for (const [owner, at] of [[job, 4], [pruned, 5], [job, 6]] as const) await finishMarked(await runningRun(owner), sec(at));
          const before = await store.queryAudit();
          expect(before.map((event) => event.type)).toEqual(['CronJobExecuted', 'CronJobExecuted', 'CronJobExecuted', 'CronJobUpdated']);
          const prune = store.pruneHistory;
          if (prune !== undefined) {
            const terms = { jobs: [{ jobId: pruned.id, finishedBefore: sec(1000), keepNewest: 0 }], statuses: TERMINAL_RUN_STATUSES, limit: 10 };
            expect(await prune.call(store, { ...terms, dryRun: true })).toBe(1);
            expect(await prune.call(store, terms)).toBe(1);
            expect(await store.listRuns({ jobId: pruned.id })).toEqual([]);
            expect(await store.queryAudit()).toEqual(before);
          }
          expect(await store.deleteJob(job.id)).toBe(true);
          expect(await store.queryAudit()).toEqual(before);
          expect(await store.queryAudit({ jobId: job.id, type: 'CronJobExecuted' })).toEqual([before[0], before[2]]);
        });
      });

      test('a finished run frees its slot for the plan of the next fire', async () => {
        const job = await store.createJob(makeJob({ nextRun: sec(10), maxConcurrent: 1 }));
        const run = await runningRun(job);
        await finish(run.id, { owner: OWNER_A });
        const loads: JobLoad[] = [];
        await claim(store, sec(10), { plan: (j, load) => (loads.push(load), fireEverySecond(j)) });
        expect(loads[0]).toEqual({ active: 0, waiting: 0 });
      });

      test('a retry waiting for a slot is load once it is due by the horizon, so it takes the slot before a newer fire', async () => {
        const backingOff = await store.createJob(makeJob({ name: 'backing-off', nextRun: sec(10), maxConcurrent: 1 }));
        const due = await store.createJob(makeJob({ name: 'due-retry', nextRun: sec(10), maxConcurrent: 1 }));
        await store.insertRun(makeRun(backingOff, { trigger: 'retry', attempt: 2, scheduledFor: sec(8), dueAt: sec(30), waitForSlot: true }));
        const retry = await store.insertRun(makeRun(due, { trigger: 'retry', attempt: 2, scheduledFor: sec(8), dueAt: sec(9.9), waitForSlot: true }));
        const loads = new Map<string, JobLoad>();
        const claimed = await claim(store, sec(9.8), { horizon: sec(10), plan: (j, load) => (loads.set(j.id, load), { runs: [], nextRun: sec(11) }) });
        expect(loads.get(backingOff.id)).toEqual({ active: 0, waiting: 0 });
        expect(loads.get(due.id)).toEqual({ active: 0, waiting: 1 });
        expect(runIds(claimed)).toEqual([retry.id]);
      });
    });

    describe('leases', () => {
      test('renewLeases extends the leases the owner holds and reports the others lost', async () => {
        const job = await idleJob({ maxConcurrent: 5 });
        const mine = await store.insertRun(makeRun(job, { status: 'running', owner: OWNER_A, leaseExpiresAt: sec(10) }));
        const queued = await store.insertRun(makeRun(job, { status: 'scheduled', owner: OWNER_A, leaseExpiresAt: sec(10) }));
        const flagged = await store.insertRun(makeRun(job, { status: 'running', owner: OWNER_A, leaseExpiresAt: sec(10), cancelRequested: true }));
        const theirs = await store.insertRun(makeRun(job, { status: 'running', owner: OWNER_B, leaseExpiresAt: sec(10) }));
        const unknown = randomUUID();
        const renewal = await store.renewLeases(OWNER_A, [mine.id, queued.id, flagged.id, theirs.id, unknown], sec(70));
        expect([...renewal.renewed].sort()).toEqual([mine.id, queued.id, flagged.id].sort());
        expect(renewal.cancelRequested).toEqual([flagged.id]);
        expect([...renewal.lost].sort()).toEqual([theirs.id, unknown].sort());
        for (const run of [mine, queued, flagged]) expect((await store.getRun(run.id))?.leaseExpiresAt).toEqual(sec(70));
        expect(await store.getRun(theirs.id)).toEqual(theirs);
      });

      test('a run taken over after its lease lapsed is lost to its first owner', async () => {
        const job = await idleJob();
        const run = await store.insertRun(makeRun(job, { dueAt: sec(1) }));
        await claim(store, sec(1), { owner: OWNER_A, leaseMs: 1000 });
        await claim(store, sec(5), { owner: OWNER_B, leaseMs: 1000 });
        const renewal = await store.renewLeases(OWNER_A, [run.id], sec(100));
        expect(renewal).toEqual({ renewed: [], cancelRequested: [], lost: [run.id] });
        expect((await store.getRun(run.id))?.leaseExpiresAt).toEqual(sec(6));
      });

      test('a renewed lease keeps a run from being claimed', async () => {
        const job = await idleJob();
        const run = await store.insertRun(makeRun(job, { dueAt: sec(1) }));
        await claim(store, sec(1), { owner: OWNER_A, leaseMs: 1000 });
        await store.renewLeases(OWNER_A, [run.id], sec(30));
        expect(await claim(store, sec(5), { owner: OWNER_B })).toEqual([]);
        expect(await store.nextWakeAt()).toEqual(sec(30));
      });
    });

    describe('recoverExpired', () => {
      const recover = (now: Date, plan: RecoverPlan = () => ({}), limit = 100) => store.recoverExpired({ now, limit, plan });
      type RecoverPlan = (job: CronJobDefinition, run: JobRunRecord) => FinishPlan;

      test('ends only running runs whose lease expired, as interrupted; queued and awaiting_approval runs are left alone', async () => {
        const job = await idleJob({ maxConcurrent: 10 });
        const expired = await store.insertRun(makeRun(job, { status: 'running', owner: OWNER_A, leaseExpiresAt: sec(5), startedAt: sec(1) }));
        const live = await store.insertRun(makeRun(job, { status: 'running', owner: OWNER_A, leaseExpiresAt: sec(20) }));
        const queued = await store.insertRun(makeRun(job, { status: 'scheduled', dueAt: sec(1), owner: OWNER_A, leaseExpiresAt: sec(5) }));
        const done = await store.insertRun(makeRun(job, { status: 'succeeded', completedAt: sec(2), owner: OWNER_A, leaseExpiresAt: sec(5) }));
        const awaiting = await store.insertRun(makeRun(job, { status: 'awaiting_approval', owner: OWNER_A, leaseExpiresAt: sec(5) }));
        const ended = await recover(sec(10));
        expect(ids(ended)).toEqual([expired.id]);
        expect(ended[0]).toMatchObject({ status: 'interrupted' });
        expect(await store.getRun(expired.id)).toMatchObject({ status: 'interrupted' });
        for (const run of [live, queued, done, awaiting]) expect(await store.getRun(run.id)).toEqual(run);
        expect(runIds(await claim(store, sec(10), { owner: OWNER_B }))).toEqual([queued.id]);
        expect(await recover(sec(10))).toEqual([]);
      });

      test('an interruption counts as a failure and the plan is applied', async () => {
        const job = await store.createJob(makeJob({ nextRun: sec(100), consecutiveFailures: 1, failureCount: 1, runCount: 4 }));
        const run = await store.insertRun(
          makeRun(job, { trigger: 'schedule', scheduledFor: sec(1), status: 'running', owner: OWNER_A, leaseExpiresAt: sec(5), startedAt: sec(1.5) }),
        );
        const seen: [CronJobDefinition, JobRunRecord][] = [];
        const retry = newRun(job, { scheduledFor: sec(1), trigger: 'retry', attempt: 2, dueAt: sec(12) });
        await recover(sec(10), (j, r) => {
          seen.push([j, r]);
          return { retry, status: 'dead_letter' };
        });
        expect(seen.length).toBeGreaterThan(0);
        for (const [j, r] of seen) {
          expect(j).toMatchObject({ id: job.id, consecutiveFailures: 2, failureCount: 2, runCount: 5, lastRun: sec(1.5) });
          expect(r).toMatchObject({ id: run.id, status: 'interrupted' });
        }
        expect(await store.getJob(job.id)).toMatchObject({ status: 'dead_letter', consecutiveFailures: 2, failureCount: 2, runCount: 5 });
        expect(await store.listRuns({ jobId: job.id, status: 'scheduled' })).toEqual([retry]);
      });

      test('recovers at most limit runs per call', async () => {
        const job = await idleJob({ maxConcurrent: 10 });
        for (let i = 0; i < 5; i += 1) {
          await store.insertRun(makeRun(job, { status: 'running', owner: OWNER_A, leaseExpiresAt: sec(1 + i) }));
        }
        expect(await recover(sec(10), undefined, 2)).toHaveLength(2);
        expect(await recover(sec(10), undefined, 2)).toHaveLength(2);
        expect(await recover(sec(10), undefined, 2)).toHaveLength(1);
        expect(await store.listRuns({ status: 'running' })).toEqual([]);
        expect((await store.getJob(job.id))?.failureCount).toBe(5);
      });

      test('a recovered run is lost to its former owner, who can no longer finish it', async () => {
        const job = await idleJob();
        const run = await store.insertRun(makeRun(job, { status: 'running', owner: OWNER_A, leaseExpiresAt: sec(5) }));
        await recover(sec(10));
        const renewal = await store.renewLeases(OWNER_A, [run.id], sec(100));
        expect(renewal.renewed).toEqual([]);
        expect(renewal.lost).toEqual([run.id]);
        expect(await finish(run.id, { owner: OWNER_A })).toBeNull();
        expect((await store.getRun(run.id))?.status).toBe('interrupted');
        expect((await store.getJob(job.id))?.runCount).toBe(1);
      });

      test('a recovered run frees its slot and no longer wakes the scheduler', async () => {
        const job = await idleJob({ maxConcurrent: 1, overlap: 'buffer_one' });
        await store.insertRun(makeRun(job, { status: 'running', owner: OWNER_A, leaseExpiresAt: sec(5) }));
        const buffered = await store.insertRun(makeRun(job, { dueAt: sec(2), waitForSlot: true }));
        expect(await claim(store, sec(10))).toEqual([]);
        await recover(sec(10));
        expect(runIds(await claim(store, sec(10), { owner: OWNER_B }))).toEqual([buffered.id]);
        expect(await store.nextWakeAt()).toEqual(sec(70));
      });
    });

    describe('instances (liveness)', () => {
      /** The instance methods, which a store shared by no other process may lack (skip these tests then). */
      const presence = (target: JobStore) => {
        const { registerInstance, beatInstance, listInstances, forgetInstances, deregisterInstance, releaseOwners } = target;
        if (!registerInstance || !beatInstance || !listInstances || !forgetInstances || !deregisterInstance || !releaseOwners) {
          throw new Error('the store lacks the instance methods: list these tests in the skip of its conformance run');
        }
        return target as Required<JobStore>;
      };
      const instance = (id: string) => ({ id, host: 'host-1', pid: 4242, startToken: '17' });

      test('instances are registered, beaten, listed with how long each is silent, and deregistered', async () => {
        const live = presence(store);
        await live.registerInstance(instance(OWNER_A), new Date());
        await live.registerInstance(instance(OWNER_B), new Date());
        expect(await live.beatInstance(OWNER_A, new Date())).toBe(true);
        expect(await live.beatInstance(OWNER_A, new Date())).toBe(true);
        const listed = await live.listInstances(new Date());
        expect(listed.map(({ silentMs, ...rest }) => rest)).toEqual([
          { ...instance(OWNER_A), beats: 2 },
          { ...instance(OWNER_B), beats: 0 },
        ]);
        for (const row of listed) expect(row.silentMs).toBeLessThan(5_000);
        await live.deregisterInstance(OWNER_B);
        expect(await live.beatInstance(OWNER_B, new Date())).toBe(false);
        expect(ids(await live.listInstances(new Date()))).toEqual([OWNER_A]);
      });

      test('an instance is forgotten only if it has not beaten since it was judged, by one judge', async () => {
        const live = presence(store);
        const peer = presence(await openPeer());
        await live.registerInstance(instance(OWNER_A), new Date());
        await live.registerInstance(instance(OWNER_B), new Date());
        const judged = await live.listInstances(new Date());
        await live.beatInstance(OWNER_B, new Date());
        const verdicts = await Promise.all([live.forgetInstances(judged), peer.forgetInstances(judged)]);
        expect(verdicts.flat()).toEqual([OWNER_A]);
        expect(ids(await live.listInstances(new Date()))).toEqual([OWNER_B]);
        expect(await live.beatInstance(OWNER_A, new Date())).toBe(false);
      });

      test("releasing a dead owner's runs: running ends interrupted and counted through the plan, queued ones and deliveries go back", async () => {
        const live = presence(store);
        const job = await store.createJob(makeJob({ nextRun: null, maxConcurrent: 10, runCount: 4 }));
        const leased = { owner: OWNER_A, leaseExpiresAt: sec(60) };
        const running = await store.insertRun(makeRun(job, { trigger: 'schedule', status: 'running', startedAt: sec(1.5), ...leased }));
        const ahead = await store.insertRun(makeRun(job, { status: 'scheduled', dueAt: sec(2), ...leased }));
        const awaiting = await store.insertRun(makeRun(job, { status: 'awaiting_approval', ...leased }));
        const outbox = await store.insertRun(makeRun(job, { status: 'succeeded', completedAt: sec(2), deliveries: [delivery('pending')], ...leased }));
        const history = await store.insertRun(makeRun(job, { status: 'succeeded', completedAt: sec(2), ...leased }));
        const others = await store.insertRun(makeRun(job, { status: 'running', owner: OWNER_B, leaseExpiresAt: sec(60) }));
        const retry = newRun(job, { scheduledFor: sec(1), trigger: 'retry', attempt: 2, dueAt: sec(12) });
        const planned: string[] = [];
        const released = await live.releaseOwners({
          owners: [{ id: OWNER_A, reason: 'its process exited' }],
          now: sec(10),
          limit: 100,
          plan: (j, r) => {
            planned.push(`${r.id}:${r.status}:${j.runCount}:${j.consecutiveFailures}`);
            return { retry: { ...retry, scheduledFor: r.scheduledFor } };
          },
        });
        expect(ids(released).sort()).toEqual([running.id, ahead.id, awaiting.id, outbox.id].sort());
        expect(planned).toEqual([`${running.id}:interrupted:5:1`]);
        expect(await store.getRun(running.id)).toMatchObject({ status: 'interrupted', owner: null, leaseExpiresAt: null, completedAt: sec(10), error: 'interrupted: its process exited' });
        for (const run of [ahead, awaiting, outbox]) expect(await store.getRun(run.id)).toEqual({ ...run, owner: null, leaseExpiresAt: null });
        for (const run of [history, others]) expect(await store.getRun(run.id)).toEqual(run);
        expect(await store.getJob(job.id)).toMatchObject({ runCount: 5, failureCount: 1, consecutiveFailures: 1 });
        expect((await store.listRuns({ jobId: job.id, status: 'scheduled' })).map((r) => r.trigger).sort()).toEqual(['manual', 'retry']);
        expect(runIds(await claim(store, sec(10), { owner: OWNER_B, plan: fireEverySecond }))).toEqual([ahead.id]);
        expect(await live.releaseOwners({ owners: [{ id: OWNER_A, reason: 'gone' }], now: sec(10), limit: 100, plan: noPlan })).toEqual([]);
      });

      test('releases at most limit runs per call', async () => {
        const live = presence(store);
        const job = await idleJob({ maxConcurrent: 10 });
        for (let i = 0; i < 3; i += 1) await store.insertRun(makeRun(job, { status: 'scheduled', dueAt: sec(1), owner: OWNER_A, leaseExpiresAt: sec(60) }));
        const release = () => live.releaseOwners({ owners: [{ id: OWNER_A, reason: 'gone' }], now: sec(10), limit: 2, plan: noPlan });
        expect(await release()).toHaveLength(2);
        expect(await release()).toHaveLength(1);
        expect(await release()).toEqual([]);
      });
    });

    describe('claimPendingDeliveries', () => {
      const claimDeliveries = (now: Date, options: { owner?: string; leaseMs?: number; limit?: number } = {}) =>
        store.claimPendingDeliveries({ now, owner: OWNER_A, leaseMs: LEASE_MS, limit: 100, ...options });

      test('claims finished runs with a pending delivery, oldest completedAt first, with owner and lease', async () => {
        const job = await idleJob();
        const finishedAt = (s: number, deliveries: DeliveryOutcome[], overrides: Partial<JobRunRecord> = {}) =>
          store.insertRun(makeRun(job, { status: 'succeeded', completedAt: sec(s), output: 'out', deliveries, ...overrides }));
        const later = await finishedAt(3, [delivery('delivered'), delivery('pending')]);
        const earlier = await finishedAt(2, [delivery('pending')]);
        await finishedAt(1, [delivery('delivered'), delivery('failed')]);
        await finishedAt(1, []);
        await store.insertRun(makeRun(job, { status: 'running', deliveries: [delivery('pending')] }));
        const claimed = await claimDeliveries(sec(10), { owner: OWNER_B, leaseMs: 2000 });
        expect(runIds(claimed)).toEqual([earlier.id, later.id]);
        for (const c of claimed) {
          expect(c.run).toMatchObject({ owner: OWNER_B, leaseExpiresAt: sec(12) });
          expect(c.job).toEqual(job);
          expect(await store.getRun(c.run.id)).toEqual(c.run);
        }
      });

      test('respects limit, live leases and lets expired leases be claimed again', async () => {
        const job = await idleJob();
        const held = await store.insertRun(
          makeRun(job, { status: 'failed', completedAt: sec(1), deliveries: [delivery('pending')], owner: OWNER_B, leaseExpiresAt: sec(20) }),
        );
        const lapsed = await store.insertRun(
          makeRun(job, { status: 'failed', completedAt: sec(2), deliveries: [delivery('pending')], owner: OWNER_B, leaseExpiresAt: sec(5) }),
        );
        const free = await store.insertRun(makeRun(job, { status: 'succeeded', completedAt: sec(3), deliveries: [delivery('pending')] }));
        expect(runIds(await claimDeliveries(sec(10), { limit: 1 }))).toEqual([lapsed.id]);
        expect(runIds(await claimDeliveries(sec(10)))).toEqual([free.id]);
        expect(await claimDeliveries(sec(10), { owner: OWNER_B })).toEqual([]);
        expect(runIds(await claimDeliveries(sec(80), { owner: OWNER_B }))).toEqual([held.id, lapsed.id, free.id]);
      });

      test('a claimer whose clock lags judges delivery leases by its own now', async () => {
        const job = await idleJob();
        const pending = { status: 'succeeded' as const, deliveries: [delivery('pending')] };
        const first = await store.insertRun(makeRun(job, { ...pending, completedAt: sec(0.5) }));
        const leased = await store.insertRun(makeRun(job, { ...pending, completedAt: sec(1), owner: OWNER_A, leaseExpiresAt: sec(10) }));
        expect(runIds(await claimDeliveries(sec(15), { owner: OWNER_B, limit: 1 }))).toEqual([first.id]);
        expect(await claimDeliveries(sec(5), { owner: OWNER_B })).toEqual([]);
        expect(runIds(await claimDeliveries(sec(15), { owner: OWNER_B }))).toEqual([leased.id]);
      });

      test('a run whose deliveries are settled leaves the outbox', async () => {
        const job = await idleJob();
        const run = await store.insertRun(makeRun(job, { status: 'succeeded', completedAt: sec(1), deliveries: [delivery('pending')] }));
        const [claimed] = await claimDeliveries(sec(2), { leaseMs: 1000 });
        expect(claimed?.run.id).toBe(run.id);
        await store.updateRun(run.id, { deliveries: [delivery('delivered')], owner: null, leaseExpiresAt: null }, { owner: OWNER_A });
        expect(await claimDeliveries(sec(100))).toEqual([]);
      });
    });

    describe('sessions', () => {
      test('a job has no session until one is saved; saving replaces it', async () => {
        const job = await idleJob();
        expect(await store.loadSession(job.id)).toBeNull();
        const first: SessionState = {
          summary: 'first summary',
          history: [
            { role: 'user', content: 'hello', at: '2026-01-01T00:00:01.000Z' },
            { role: 'assistant', content: 'hi', at: '2026-01-01T00:00:02.000Z' },
          ],
          updatedAt: sec(2.345),
        };
        await store.saveSession(job.id, first);
        expect(await store.loadSession(job.id)).toEqual(first);
        const second: SessionState = { summary: null, history: [], updatedAt: sec(9.001) };
        await store.saveSession(job.id, second);
        expect(await store.loadSession(job.id)).toEqual(second);
      });
    });

    describe('audit', () => {
      test('queryAudit returns events newest first, with details intact', async () => {
        const events = [
          auditEvent({ at: sec(2), type: 'CronJobCreated', details: { name: 'x', fields: ['cron_expr'], count: 3, ok: true, none: null } }),
          auditEvent({ at: sec(1), type: 'CronJobPaused', actor: 'api-key:ops' }),
          auditEvent({ at: sec(3.5), type: 'CronJobFailed', runId: randomUUID(), details: { reason: 'boom' } }),
        ];
        for (const event of events) await store.appendAudit(event);
        expect(await store.queryAudit()).toEqual([events[2], events[0], events[1]]);
      });

      test('queryAudit filters by type, job and since, and limits', async () => {
        const job = await idleJob();
        const e = async (at: number, type: SecurityEventType, jobId: string | null) => {
          const event = auditEvent({ at: sec(at), type, jobId });
          await store.appendAudit(event);
          return event;
        };
        const created = await e(1, 'CronJobCreated', job.id);
        const paused = await e(2, 'CronJobPaused', job.id);
        const pin = await e(3, 'AgentPinVerificationFailed', null);
        const executed = await e(4, 'CronJobExecuted', job.id);
        expect(await store.queryAudit({ type: 'CronJobPaused' })).toEqual([paused]);
        expect(await store.queryAudit({ jobId: job.id })).toEqual([executed, paused, created]);
        expect(await store.queryAudit({ since: sec(2) })).toEqual([executed, pin, paused]);
        expect(await store.queryAudit({ since: sec(2), jobId: job.id, limit: 1 })).toEqual([executed]);
        expect(await store.queryAudit({ limit: 2 })).toEqual([executed, pin]);
        expect(await store.queryAudit({ type: 'CronJobDeadLettered' })).toEqual([]);
      });

      test('queryAudit returns at most 100 events by default', async () => {
        for (let i = 0; i < 101; i += 1) await store.appendAudit(auditEvent({ at: sec(i) }));
        const events = await store.queryAudit();
        expect(events).toHaveLength(100);
        expect(events[0]?.at).toEqual(sec(100));
        expect(events[99]?.at).toEqual(sec(1));
      });
    });

    describe('bad input', () => {
      test('every query refuses a limit or offset that is not a non-negative integer, naming it', async () => {
        const job = await store.createJob(makeJob());
        const refused = { name: 'ValidationError' };
        for (const bad of [-1, 1.5, Number.NaN]) {
          await expect(store.listJobs({ limit: bad })).rejects.toMatchObject({ ...refused, field: 'limit' });
          await expect(store.listJobs({ offset: bad })).rejects.toMatchObject({ ...refused, field: 'offset' });
          await expect(store.listRuns({ limit: bad })).rejects.toMatchObject({ ...refused, field: 'limit' });
          await expect(store.queryAudit({ limit: bad })).rejects.toMatchObject({ ...refused, field: 'limit' });
          await expect(claim(store, sec(5), { limit: bad })).rejects.toMatchObject({ ...refused, field: 'limit' });
          await expect(store.claimPendingDeliveries({ now: sec(5), owner: OWNER_A, leaseMs: LEASE_MS, limit: bad })).rejects.toMatchObject({
            ...refused,
            field: 'limit',
          });
          await expect(store.recoverExpired({ now: sec(5), limit: bad, plan: noPlan })).rejects.toMatchObject({ ...refused, field: 'limit' });
        }
        await expect(store.listJobs({ limit: -1 })).rejects.toThrow(/limit: must be a non-negative integer, not -1/);
        expect(await store.getJob(job.id)).toEqual(job);
        expect(await store.listRuns()).toEqual([]);
      });

      test('a claim refuses a lease that is not a non-negative number, naming it, and changes nothing', async () => {
        const job = await store.createJob(makeJob());
        for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
          await expect(claim(store, sec(5), { leaseMs: bad })).rejects.toMatchObject({ name: 'ValidationError', field: 'leaseMs' });
        }
        expect(await store.getJob(job.id)).toEqual(job);
        expect(await store.listRuns()).toEqual([]);
      });
    });

    describe('notifications', () => {
      test('notify resolves, and with cross-process notifications reaches subscribers of another handle', async () => {
        const peer = await openPeer();
        if (!store.capabilities.crossProcessNotifications) {
          await expect(store.notify?.({ kind: 'run', id: 'run-1' }) ?? Promise.resolve()).resolves.toBeUndefined();
          return;
        }
        expect(typeof peer.subscribe).toBe('function');
        expect(typeof store.notify).toBe('function');
        const received: StoreChange[] = [];
        const unsubscribe = peer.subscribe?.((change) => received.push(change)) as () => void;
        try {
          const deadline = Date.now() + 10_000;
          while (received.length === 0 && Date.now() < deadline) {
            await store.notify?.({ kind: 'job', id: 'job-1' });
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
          expect(received[0]).toEqual({ kind: 'job', id: 'job-1' });
        } finally {
          unsubscribe();
        }
      });
    });

    registerPruneConformance({ store: () => store, test });

    it('skip list names only tests of the suite', () => {
      // Read when it runs: nested suites register their tests after this body returns.
      expect([...skipped.keys()].filter((title) => !titles.has(title))).toEqual([]);
    });
  });
}
