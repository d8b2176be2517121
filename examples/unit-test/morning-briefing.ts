import { CronScheduler, type AgentExecutor, type Clock, type JobStore } from '@symbi/core';

/**
 * A host application's schedule: a briefing agent runs on weekday mornings at 07:30 in Berlin,
 * retried twice before it is dead-lettered, never outside 05:00–08:00 UTC.
 */
export async function startMorningBriefing(deps: { store: JobStore; executor: AgentExecutor; clock?: Clock }): Promise<CronScheduler> {
  const scheduler = new CronScheduler({ ...deps, config: { tickIntervalMs: 60_000 } });
  await scheduler.start();
  await scheduler.upsert({
    name: 'morning-briefing',
    agentId: 'briefing-agent',
    cronExpr: '0 30 7 * * MON-FRI',
    timezone: 'Europe/Berlin',
    input: 'Summarise overnight alerts',
    maxRetries: 2,
  });
  return scheduler;
}
