// A host's own schedule test under node:test, with only the public testing entry.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTestScheduler } from '@symbi/core/testing';

test('the weekday digest runs Monday to Friday at 09:00 Berlin time', async () => {
  const { scheduler, clock, executor, stop } = await createTestScheduler({ start: '2026-03-02T00:00:00Z' });
  await scheduler.add({ name: 'digest', agentId: 'digest-agent', cronExpr: '0 0 9 * * MON-FRI', timezone: 'Europe/Berlin' });
  await clock.advance('7d');
  assert.deepEqual(
    executor.calls.map((call) => new Date(call.startedAt).toISOString()),
    ['02', '03', '04', '05', '06'].map((day) => `2026-03-${day}T08:00:00.000Z`),
  );
  await stop();
});
