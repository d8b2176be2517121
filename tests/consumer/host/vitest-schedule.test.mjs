// The same schedule test under vitest, with only the public testing entry.
import { expect, test } from 'vitest';
import { InMemoryJobStore, VirtualClock, createTestScheduler } from '@symbi/core/testing';

test('the weekday digest runs Monday to Friday at 09:00 Berlin time', async () => {
  const clock = new VirtualClock('2026-03-02T00:00:00Z');
  const { scheduler, executor, stop } = await createTestScheduler({ clock, store: new InMemoryJobStore() });
  await scheduler.add({ name: 'digest', agentId: 'digest-agent', cronExpr: '0 0 9 * * MON-FRI', timezone: 'Europe/Berlin' });
  await clock.advance('7d');
  expect(executor.calls.map((call) => new Date(call.startedAt).toISOString())).toEqual(
    ['02', '03', '04', '05', '06'].map((day) => `2026-03-${day}T08:00:00.000Z`),
  );
  await stop();
});
