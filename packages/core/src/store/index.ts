export { InMemoryJobStore } from './in-memory-job-store.js';
export { checkCount } from './query-limits.js';
