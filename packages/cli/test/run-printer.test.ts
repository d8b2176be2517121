import { CronScheduler, InMemoryJobStore, newRun, silentLogger, systemClock } from '@symbi/core';
import { FakeExecutor, makeJob } from '@symbi/core/testing';
import { expect, it } from 'vitest';
import { Style } from '../src/output/style.js';
import { attachRunPrinter } from '../src/run-printer.js';

it('says "skipped" once when a run is skipped, after a restart or for overlap', () => {
  const scheduler = new CronScheduler({ store: new InMemoryJobStore(), executor: new FakeExecutor(systemClock) });
  let printed = '';
  attachRunPrinter(scheduler, { write: (text: string) => void (printed += text) } as never, new Style(false), silentLogger);
  const job = makeJob({ name: 'report' });
  const run = { ...newRun(job, { scheduledFor: new Date(), trigger: 'schedule' }), status: 'skipped' as const, error: 'skipped: 1 run(s) already in flight (max_concurrent 1, overlap skip)' };
  scheduler.emit('run:skipped', { job, run });
  expect(printed).toContain('report skipped: 1 run(s) already in flight');
  expect(printed).not.toContain('skipped: skipped');
});
