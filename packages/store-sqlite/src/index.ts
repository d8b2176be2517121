/**
 * `@symbi/store-sqlite`: the embedded default job store of the Symbiont scheduler, one SQLite
 * file through better-sqlite3, queries built with kysely.
 *
 * @packageDocumentation
 * @module @symbi/store-sqlite
 */
export { DEFAULT_SQLITE_PATH, SqliteJobStore, type SqliteJobStoreOptions } from './sqlite-job-store.js';
