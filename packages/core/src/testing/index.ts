export * from './virtual-clock.js';
export * from './fakes.js';
export * from './fixtures.js';
export * from './job-store-conformance.js';
