import { describe, expect, it } from 'vitest';
import { InMemoryJobStore } from '@symbi/core';
import { FakeExecutor, VirtualClock, failingAgent } from '@symbi/core/testing';
import { startMorningBriefing } from '../morning-briefing.js';

// How a host application tests its own schedule in milliseconds: no database, no waiting.
describe('the morning briefing schedule', () => {
  it('runs on weekday mornings at 07:30 Berlin time, across the spring DST change', async () => {
    const clock = new VirtualClock('2026-03-27T00:00:00Z'); // a Friday; DST starts Sunday 29 March
    const executor = new FakeExecutor(clock, { 'briefing-agent': () => 'all quiet' });
    const scheduler = await startMorningBriefing({ store: new InMemoryJobStore(), executor, clock });
    await clock.advance('4d');
    const starts = executor.calls.map((c) => new Date(c.startedAt).toISOString());
    expect(starts).toEqual([
      '2026-03-27T06:30:00.000Z', // Friday, CET (UTC+1)
      '2026-03-30T05:30:00.000Z', // Monday, CEST (UTC+2)
    ]);
    expect(executor.calls[0]!.request.input).toBe('Summarise overnight alerts');
    await scheduler.stop();
  });

  it('is dead-lettered after two failed attempts, and restarting the app does not duplicate it', async () => {
    const clock = new VirtualClock('2026-03-27T06:00:00Z');
    const store = new InMemoryJobStore();
    const executor = new FakeExecutor(clock, { 'briefing-agent': failingAgent('LLM quota exceeded') });
    let scheduler = await startMorningBriefing({ store, executor, clock });
    await clock.advance('1h');
    expect((await scheduler.getJob('morning-briefing')).status).toBe('dead_letter');
    await scheduler.stop();
    scheduler = await startMorningBriefing({ store, executor, clock });
    expect(await scheduler.list()).toHaveLength(1);
    await scheduler.stop();
  });
});
