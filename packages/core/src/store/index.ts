export { InMemoryJobStore } from './in-memory-job-store.js';
