import { describe, expect, it } from 'vitest';
import { InMemoryJobStore } from '../../src/store/index.js';
import { makeJob } from '../../src/testing/fixtures.js';
import { runJobStoreConformance } from '../../src/testing/job-store-conformance.js';

runJobStoreConformance('InMemoryJobStore', {
  create: async () => {
    const store = new InMemoryJobStore();
    await store.init();
    return store;
  },
});
