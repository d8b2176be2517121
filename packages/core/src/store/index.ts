export { InMemoryJobStore } from './in-memory-job-store.js';
export { checkPlannedRuns, countOutcome, withStatus } from './job-accounting.js';
