export { InMemoryJobStore } from './in-memory-job-store.js';
export { checkPlannedRuns, claimHorizon, countOutcome, withStatus } from './job-accounting.js';
