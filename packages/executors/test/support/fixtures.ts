import { makeJob } from '@symbi/core/testing';
import { newRun, type AgentContext, type AgentDefinition, type AgentExecutionRequest, type CronJobDefinition } from '@symbi/core';

const NOW = new Date('2026-03-01T09:00:00Z');

/** A job as the store would hand it to the scheduler, carrying secrets that must never reach an agent. */
export function testJob(overrides: Partial<CronJobDefinition> = {}): CronJobDefinition {
  return makeJob({
    id: 'job-1',
    name: 'daily-report',
    agentId: 'reporter',
    cronExpr: '0 0 9 * * *',
    input: 'job input',
    delivery: ['stdout', 'webhook'],
    webhookUrl: 'https://hooks.example.com/ingest?token=hook-secret',
    webhookHeaders: { Authorization: 'Bearer header-secret' },
    agentPinJwt: 'eyJhbGciOiJFUzI1NiJ9.jwt-secret',
    nextRun: NOW,
    createdAt: NOW,
    updatedAt: NOW,
    ...overrides,
  });
}

/** A context of a second heartbeat iteration carrying a summary. */
export function testContext(overrides: Partial<AgentContext> = {}): AgentContext {
  return {
    mode: 'ephemeral_with_summary',
    previousSummary: 'disk at 71%',
    history: [],
    iteration: 2,
    capabilities: ['reporting'],
    environment: 'staging',
    now: NOW,
    ...overrides,
  };
}

/** A request to run `agentId` once, for the test job. */
export function testRequest(agentId: string, overrides: Partial<Omit<AgentExecutionRequest, 'agentId'>> = {}): AgentExecutionRequest {
  const job = overrides.job ?? testJob({ agentId });
  const run = { ...newRun(job, { scheduledFor: NOW, trigger: 'schedule' }), id: 'run-1', startedAt: NOW, status: 'running' as const };
  return { agentId, job, run, input: 'check the disks', context: testContext(), ...overrides };
}

/** An agent declaration with the given fields. */
export function agent(name: string, fields: Partial<AgentDefinition> = {}): AgentDefinition {
  return { name, capabilities: [], ...fields };
}

/** A signal that never aborts. */
export function noSignal(): { signal: AbortSignal } {
  return { signal: new AbortController().signal };
}

/** Settles `promise` and returns what it rejected with (fails if it resolved). */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}
