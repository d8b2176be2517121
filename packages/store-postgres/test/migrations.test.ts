import { StoreError, ValidationError } from '@symbi/core';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { PostgresJobStore } from '@symbi/store-postgres';
import { makeJob } from '@symbi/core/testing';
import { CONNECTION_STRING, describePostgres, dropSchema, randomSchemaName } from './support/postgres.js';

describePostgres('PostgresJobStore migrations', () => {
  const schemas: string[] = [];
  const stores: PostgresJobStore[] = [];
  const open = (schema: string) => {
    const store = new PostgresJobStore({ connectionString: CONNECTION_STRING, schema });
    stores.push(store);
    return store;
  };
  const fresh = () => {
    const schema = randomSchemaName();
    schemas.push(schema);
    return schema;
  };
  const query = async (text: string) => {
    const client = new pg.Client({ connectionString: CONNECTION_STRING });
    await client.connect();
    try {
      return (await client.query(text)).rows;
    } finally {
      await client.end();
    }
  };
  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
    for (const schema of schemas) await dropSchema(schema);
  });

  it('creates the schema and its tables, and a second init changes nothing', async () => {
    const schema = fresh();
    const store = open(schema);
    await store.init();
    const job = await store.createJob(makeJob());
    await store.init();
    expect(await store.getJob(job.id)).toEqual(job);
    const tables = await query(`SELECT table_name FROM information_schema.tables WHERE table_schema = '${schema}' ORDER BY 1`);
    expect(tables.map((row) => row.table_name)).toEqual(['audit_events', 'jobs', 'runs', 'schema_migrations', 'sessions']);
    const versions = await query(`SELECT version FROM "${schema}".schema_migrations`);
    expect(versions).toEqual([{ version: 1 }]);
  });

  it('lets many instances initialise one new schema at the same moment', async () => {
    const schema = fresh();
    const instances = Array.from({ length: 6 }, () => open(schema));
    await Promise.all(instances.map((store) => store.init()));
    expect(await query(`SELECT version FROM "${schema}".schema_migrations`)).toEqual([{ version: 1 }]);
    const job = await instances[0]!.createJob(makeJob());
    expect(await instances[5]!.getJob(job.id)).toEqual(job);
  });

  it('refuses a schema migrated by a newer version of the package', async () => {
    const schema = fresh();
    await open(schema).init();
    await query(`INSERT INTO "${schema}".schema_migrations (version, name) VALUES (99, 'from the future')`);
    const error = await open(schema).init().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toMatch(/version 99, newer than this @symbi\/store-postgres knows/);
  });

  it('quotes the schema name, so upper case names work as written', async () => {
    const schema = `Mixed_${fresh()}`;
    schemas.push(schema);
    const store = open(schema);
    await store.init();
    const job = await store.createJob(makeJob());
    expect(await store.getJob(job.id)).toEqual(job);
    expect(await query(`SELECT nspname FROM pg_namespace WHERE nspname = '${schema}'`)).toHaveLength(1);
  });

  it.each(['', 'has-dash', '1starts_with_digit', 'quote"d', 'semi;colon', 'public; DROP SCHEMA public', 'x'.repeat(56), 'ünïcode'])(
    'rejects the schema name %j before touching the database',
    (schema) => {
      expect(() => new PostgresJobStore({ connectionString: CONNECTION_STRING, schema })).toThrow(ValidationError);
    },
  );

  it('rejects a notify channel that is not an identifier', () => {
    const error = (() => {
      try {
        return new PostgresJobStore({ connectionString: CONNECTION_STRING, notifyChannel: 'a"; NOTIFY x; --' });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('notify_channel');
  });

  it('uses a pool it is given and leaves it open on close', async () => {
    const schema = fresh();
    const pool = new pg.Pool({ connectionString: CONNECTION_STRING, max: 2 });
    try {
      const store = new PostgresJobStore({ pool, schema });
      await store.init();
      await store.createJob(makeJob());
      await store.close();
      expect((await pool.query(`SELECT count(*)::int AS n FROM "${schema}".jobs`)).rows).toEqual([{ n: 1 }]);
    } finally {
      await pool.end();
    }
  });
});
