import type { JobStore } from '@symbi/core';
import { runJobStoreConformance } from '@symbi/core/conformance';
import { PostgresJobStore } from '@symbi/store-postgres';
import { CONNECTION_STRING, describePostgres, dropSchema, randomSchemaName } from './support/postgres.js';

describePostgres('PostgresJobStore conformance', () => {
  runJobStoreConformance('PostgresJobStore', {
    async create() {
      const store = new PostgresJobStore({ connectionString: CONNECTION_STRING, schema: randomSchemaName() });
      await store.init();
      return store;
    },
    async openPeer(store: JobStore) {
      const peer = new PostgresJobStore({ connectionString: CONNECTION_STRING, schema: (store as PostgresJobStore).schema });
      await peer.init();
      return peer;
    },
    async destroy(store: JobStore) {
      await store.close();
      await dropSchema((store as PostgresJobStore).schema);
    },
  });
});
