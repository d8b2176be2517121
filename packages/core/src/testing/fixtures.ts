import { randomUUID } from 'node:crypto';
import { DEFAULT_POLICY } from '../scheduler/job-definition.js';
import type { CronJobDefinition } from '../domain/job.js';

/** The instant fixtures are created at: the default start of `VirtualClock`. */
export const FIXTURE_EPOCH = new Date('2026-01-01T00:00:00.000Z');

let sequence = 0;

/**
 * A valid, active cron job for tests: runs every second (`* * * * * *`, UTC), next due one second
 * after {@link FIXTURE_EPOCH}, with every policy condition off, `max_concurrent` 1, overlap `skip`
 * and catch-up `once`. Each call gets a fresh id and a unique name; `overrides` win.
 *
 * @example
 * ```ts
 * const job = await store.createJob(makeJob({ name: 'nightly', cronExpr: '0 0 2 * * *' }));
 * ```
 */
export function makeJob(overrides: Partial<CronJobDefinition> = {}): CronJobDefinition {
  sequence += 1;
  const id = randomUUID();
  return {
    id,
    name: `job-${String(sequence).padStart(6, '0')}-${id.slice(0, 8)}`,
    agentId: 'test-agent',
    cronExpr: '* * * * * *',
    at: null,
    timezone: 'UTC',
    input: null,
    sessionMode: 'ephemeral_with_summary',
    delivery: [],
    webhookUrl: null,
    webhookHeaders: {},
    slackChannel: null,
    emailRecipients: [],
    policy: { ...DEFAULT_POLICY },
    heartbeat: null,
    maxConcurrent: 1,
    maxRetries: null,
    agentPinJwt: null,
    jitterSeconds: null,
    catchup: 'once',
    overlap: 'skip',
    historyRetentionDays: null,
    historyRetentionRuns: null,
    status: 'active',
    nextRun: new Date(FIXTURE_EPOCH.getTime() + 1000),
    lastRun: null,
    runCount: 0,
    failureCount: 0,
    consecutiveFailures: 0,
    createdAt: new Date(FIXTURE_EPOCH.getTime()),
    updatedAt: new Date(FIXTURE_EPOCH.getTime()),
    version: 1,
    ...overrides,
  };
}
