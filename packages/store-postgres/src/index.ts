/**
 * `@symbi/store-postgres`: the PostgreSQL job store, for several scheduler instances on one database.
 *
 * @packageDocumentation
 * @module @symbi/store-postgres
 */
export { PostgresJobStore, type PostgresJobStoreOptions } from './postgres-job-store.js';
