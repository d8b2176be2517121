/**
 * `@symbi/core/conformance`: the behavioural suite every `JobStore` adapter runs against
 * itself. It registers vitest tests, so it needs vitest; `@symbi/core/testing` does not.
 *
 * @packageDocumentation
 * @module @symbi/core/conformance
 */
export { runJobStoreConformance, type JobStoreConformanceFactory } from './testing/job-store-conformance.js';
