import { describe, expect, it } from 'vitest';
import { CronScheduler, InMemoryJobStore } from '@symbi/core';
import { FakeExecutor, RecordingRouter, VirtualClock, type FakeAgent } from '@symbi/core/testing';
import { loadSymbiFile, toJobSpecs } from '@symbi/dsl';
import { FIXTURES } from './fixture-files.js';

const documents = ['compliance.symbi', 'agents.symbi'].map((name) => loadSymbiFile(`${FIXTURES}symbiont/${name}`));
const SPECS = toJobSpecs(documents, { now: new Date('2026-12-06T00:00:00Z') });
const AGENTS = documents.flatMap((document) => document.agents);

/**
 * A scheduler on a virtual clock holding only the corpus schedule `name`; each agent of the corpus
 * runs as a host function with the capabilities its file declares (or `capabilities` instead).
 */
async function scheduled(name: string, start: string, options: { agent?: FakeAgent; capabilities?: string[]; durationMs?: number } = {}) {
  const clock = new VirtualClock(start);
  const executor = new FakeExecutor(clock, {}, { durationMs: options.durationMs ?? 0 });
  for (const agent of AGENTS) executor.define(agent.name, options.agent ?? (() => `report by ${agent.name}`), options.capabilities ?? agent.capabilities);
  const router = new RecordingRouter();
  const scheduler = new CronScheduler({ store: new InMemoryJobStore(), executor, router, clock, config: { tickIntervalMs: 60_000, shutdownTimeoutMs: 0 } });
  await scheduler.start();
  await scheduler.add(SPECS.find((spec) => spec.name === name)!);
  const runs = async () => scheduler.history(name);
  const audit = async () => (await scheduler.auditLog()).map((event) => event.type).reverse();
  return { clock, scheduler, router, runs, audit };
}

describe('the Symbiont corpus, run by the scheduler', () => {
  it('morning_report runs at 07:00 New York time on weekdays, delivers to Slack, and is audited', async () => {
    const { clock, scheduler, router, runs, audit } = await scheduled('morning_report', '2026-12-07T11:59:00Z');
    await clock.advance('2m');
    const [run] = await runs();
    expect(run).toMatchObject({ status: 'succeeded', scheduledFor: new Date('2026-12-07T12:00:00Z') });
    expect(router.delivered.map((delivery) => [delivery.channel, delivery.job.slackChannel])).toEqual([['slack', '#compliance-alerts']]);
    expect(await audit()).toEqual(['CronJobCreated', 'CronJobExecuted']);
    await scheduler.stop();
  });

  it('the capabilities an agent file declares feed the require_capabilities gate of its policies', async () => {
    const { clock, scheduler, runs } = await scheduled('morning_report', '2026-12-07T11:59:00Z', { capabilities: ['phi_access', 'report'] });
    await clock.advance('2m');
    const [run] = await runs();
    expect(run).toMatchObject({ status: 'denied', error: expect.stringContaining('lacks required capabilities: audit_trail') });
    await scheduler.stop();
  });

  it('the named policy’s max_runtime stops a run that takes longer', async () => {
    const { clock, scheduler, runs } = await scheduled('morning_report', '2026-12-07T11:59:00Z', { durationMs: 11 * 60_000 });
    await clock.advance('12m');
    const first = (await runs()).find((run) => run.attempt === 1);
    expect(first).toMatchObject({ status: 'timed_out', executionTimeMs: 600_000 });
    await scheduler.stop();
  });

  it('quarterly_check (one_shot, local at in UTC) runs once at 23:59 UTC, emails, and completes', async () => {
    const { clock, scheduler, router, runs } = await scheduled('quarterly_check', '2027-03-31T23:58:00Z');
    await clock.advance('1d');
    expect((await runs()).map((run) => [run.status, run.scheduledFor.toISOString()])).toEqual([['succeeded', '2027-03-31T23:59:00.000Z']]);
    expect(router.delivered.map((delivery) => [delivery.channel, delivery.job.emailRecipients])).toEqual([['email', ['audit@example.com', 'cfo@example.com']]]);
    expect((await scheduler.getJob('quarterly_check')).status).toBe('completed');
    await scheduler.stop();
  });

  it('dst_gap_check, at a wall time the spring-forward skips, runs at the first instant after the gap', async () => {
    const { clock, scheduler, runs } = await scheduled('dst_gap_check', '2027-03-14T06:00:00Z');
    await clock.advance('2h');
    expect((await runs()).map((run) => run.scheduledFor.toISOString())).toEqual(['2027-03-14T07:00:00.000Z']);
    await scheduler.stop();
  });

  it('evidence_export waits for the approver its named policy names', async () => {
    const { clock, scheduler } = await scheduled('evidence_export', '2027-01-01T01:59:00Z');
    await clock.advance('2m');
    const [pending] = await scheduler.pendingApprovals();
    expect(pending!.approval).toMatchObject({ approver: 'compliance-lead' });
    await scheduler.stop();
  });

  it('audit: "none" and "errors_only" keep successful runs out of the audit log; failures stay at errors_only', async () => {
    const none = await scheduled('access_review', '2027-01-01T08:59:00Z');
    await none.clock.advance('2m');
    expect((await none.runs())[0]).toMatchObject({ status: 'succeeded' });
    expect(await none.audit()).toEqual(['CronJobCreated']);
    await none.scheduler.stop();

    const errorsOnly = await scheduled('ledger_digest', '2027-01-01T02:59:00Z', {
      agent: (_request, call) => {
        if (call === 1) throw new Error('ledger offline');
        return 'ledger ok';
      },
    });
    await errorsOnly.clock.advance('5m');
    expect((await errorsOnly.runs()).map((run) => run.status)).toEqual(['succeeded', 'failed']);
    expect(await errorsOnly.audit()).toEqual(['CronJobCreated', 'CronJobFailed']);
    await errorsOnly.scheduler.stop();
  });
});
