import { newRun } from '@symbi/core';

/** A job as the scheduler would hand it to the router, delivering to stdout and to `jsonl`. */
export function demoJob() {
  const created = new Date('2026-03-01T00:00:00Z');
  return {
    id: 'demo-job',
    name: 'nightly-digest',
    agentId: 'digest-agent',
    cronExpr: '0 0 6 * * *',
    at: null,
    timezone: 'UTC',
    input: null,
    sessionMode: 'fully_ephemeral',
    delivery: ['stdout', 'jsonl'],
    webhookUrl: null,
    webhookHeaders: {},
    slackChannel: null,
    emailRecipients: [],
    policy: {
      requireApproval: false,
      approver: null,
      approvalTimeoutMs: null,
      maxRuntimeMs: null,
      requireCapabilities: [],
      allowedHours: null,
      allowedEnvironments: [],
      requireAgentPin: false,
    },
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
  };
}

/** A finished run of `job`, as it stands when its output is delivered. */
export function demoRun(job, scheduledFor = new Date('2026-03-02T06:00:00Z')) {
  return {
    ...newRun(job, { scheduledFor, trigger: 'schedule' }),
    status: 'succeeded',
    startedAt: scheduledFor,
    completedAt: new Date(scheduledFor.getTime() + 842),
    executionTimeMs: 842,
  };
}
