export { PostgresJobStore, type PostgresJobStoreOptions } from './postgres-job-store.js';
