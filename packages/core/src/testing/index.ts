/**
 * `@symbi/core/testing`: test a host application's schedules in milliseconds under any test
 * runner (vitest, jest, `node --test`): a virtual clock, the in-memory store, scripted fakes and
 * {@link createTestScheduler}. It imports no test framework; the store conformance suite, which
 * needs vitest, is `@symbi/core/conformance`.
 *
 * @packageDocumentation
 * @module @symbi/core/testing
 */
export { VirtualClock, flushAsync } from './virtual-clock.js';
export {
  FakeExecutor,
  RecordingRouter,
  failingAgent,
  type FakeAgent,
  type FakeCallJob,
  type FakeExecutorCall,
  type RecordedDelivery,
} from './fakes.js';
export { FIXTURE_EPOCH, makeJob } from './fixtures.js';
export { createTestScheduler, TEST_SCHEDULER_CONFIG, type TestScheduler, type TestSchedulerOptions } from './test-scheduler.js';
export { InMemoryJobStore } from '../store/in-memory-job-store.js';
