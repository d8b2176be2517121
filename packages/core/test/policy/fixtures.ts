import type { AgentContext, CronJobDefinition, SchedulePolicy } from '@symbi/core';

/** A policy with every condition off, changed by `overrides`. */
export function makePolicy(overrides: Partial<SchedulePolicy> = {}): SchedulePolicy {
  return {
    requireApproval: false,
    approver: null,
    approvalTimeoutMs: null,
    maxRuntimeMs: null,
    requireCapabilities: [],
    allowedHours: null,
    allowedEnvironments: [],
    requireAgentPin: false,
    ...overrides,
  };
}

/** A stored cron job `production-deploy` of agent `deploy-agent`, with `overrides` applied. */
export function makeJob(overrides: Partial<Omit<CronJobDefinition, 'policy'>> & { policy?: Partial<SchedulePolicy> } = {}): CronJobDefinition {
  const created = new Date('2026-01-01T00:00:00Z');
  const { policy, ...rest } = overrides;
  return {
    id: 'job-1',
    name: 'production-deploy',
    agentId: 'deploy-agent',
    cronExpr: '0 0 0 * * 0',
    at: null,
    timezone: 'UTC',
    input: null,
    sessionMode: 'ephemeral_with_summary',
    delivery: ['stdout'],
    webhookUrl: null,
    webhookHeaders: {},
    slackChannel: null,
    emailRecipients: [],
    policy: makePolicy(policy),
    heartbeat: null,
    maxConcurrent: 1,
    maxRetries: null,
    agentPinJwt: null,
    jitterSeconds: null,
    catchup: 'once',
    overlap: 'skip',
    status: 'active',
    nextRun: null,
    lastRun: null,
    runCount: 0,
    failureCount: 0,
    consecutiveFailures: 0,
    createdAt: created,
    updatedAt: created,
    version: 1,
    ...rest,
  };
}

/** The context of a plain run at `now` in `production`, with `overrides` applied. */
export function makeContext(now: string | Date, overrides: Partial<AgentContext> = {}): AgentContext {
  return {
    mode: 'ephemeral_with_summary',
    previousSummary: null,
    history: [],
    iteration: 1,
    capabilities: [],
    environment: 'production',
    now: new Date(now),
    ...overrides,
  };
}
