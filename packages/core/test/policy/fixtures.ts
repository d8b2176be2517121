import type { AgentContext, CronJobDefinition, SchedulePolicy } from '@symbi/core';
import { makeJob as makeTestJob } from '@symbi/core/testing';

/**
 * The shared test job, named `production-deploy` and run by `deploy-agent`, with `overrides`
 * applied; `policy` overrides are merged into the default policy (every condition off).
 */
export function makeJob(
  overrides: Partial<Omit<CronJobDefinition, 'policy'>> & { policy?: Partial<SchedulePolicy> } = {},
): CronJobDefinition {
  const { policy, ...rest } = overrides;
  const job = makeTestJob({ name: 'production-deploy', agentId: 'deploy-agent', ...rest });
  return { ...job, policy: { ...job.policy, ...policy } };
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
