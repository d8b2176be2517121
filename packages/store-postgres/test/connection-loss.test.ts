import { setTimeout as sleep } from 'node:timers/promises';
import { StoreUnavailableError } from '@symbi/core';
import { makeJob } from '@symbi/core/testing';
import { PostgresJobStore } from '@symbi/store-postgres';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { CONNECTION_STRING, describePostgres, dropSchema, openTerminator, randomSchemaName, terminateBlocking, type Terminator } from './support/postgres.js';
import { TcpProxy } from './support/tcp-proxy.js';

describePostgres('PostgresJobStore when its connections are lost', () => {
  const schema = randomSchemaName();
  const target = new URL(CONNECTION_STRING);
  const proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const stores: PostgresJobStore[] = [];
  /** An application name only this file's stores use: what pg_terminate_backend is limited to. */
  const appName = `symbi_conn_${schema.slice(-12)}`;

  const open = (options: { viaProxy?: boolean; reconnectWindowMs?: number; startupWaitMs?: number } = {}) => {
    const url = new URL(options.viaProxy ? proxy.route(CONNECTION_STRING) : CONNECTION_STRING);
    url.searchParams.set('application_name', appName);
    const store = new PostgresJobStore({ connectionString: url.toString(), schema, ...options });
    stores.push(store);
    return store;
  };

  let terminator: Terminator;
  const terminateOurs = () => terminator.terminate();

  beforeAll(async () => {
    await proxy.accept();
    terminator = await openTerminator(appName);
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
    await proxy.accept();
  });
  afterAll(async () => {
    await proxy.refuse();
    await terminator.close();
    await dropSchema(schema);
  });

  it('survives pg_terminate_backend of every connection, idle or inside a transaction, and answers the next calls', async () => {
    const store = open();
    await store.init();
    const job = await store.createJob(makeJob());
    // A connection held idle in the pool, and one held by a LISTEN subscriber.
    const unsubscribe = store.subscribe(() => undefined);
    await sleep(100);
    expect(await terminateOurs()).toBeGreaterThan(0);
    await sleep(50);
    expect(await store.getJob(job.id)).toEqual(job);
    // Terminated while a claim's transaction is open: the claim is tried again on a fresh connection.
    const due = await store.createJob(makeJob({ name: 'due', nextRun: new Date(0) }));
    let plans = 0;
    const claim = store.claimDue({
      now: new Date(1_000),
      owner: 'me',
      leaseMs: 60_000,
      limit: 10,
      plan: () => {
        if (++plans === 1) expect(terminateBlocking(appName)).toBeGreaterThan(0);
        return { runs: [], nextRun: new Date(2_000) };
      },
    });
    await expect(claim).resolves.toEqual([]);
    expect(plans).toBeGreaterThan(1);
    expect((await store.getJob(due.id))?.nextRun).toEqual(new Date(2_000));
    expect(store.trouble()).toBeNull();
    unsubscribe();
  });

  it('fails calls with StoreUnavailableError while the database cannot be reached, says why, and recovers after', async () => {
    const store = open({ viaProxy: true, reconnectWindowMs: 400 });
    await store.init();
    const job = await store.createJob(makeJob());
    await proxy.refuse();
    await expect(store.getJob(job.id)).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(store.trouble()).toMatch(/^database unreachable since .*(ECONNREFUSED|Connection terminated)/);
    await proxy.accept();
    expect(await store.getJob(job.id)).toEqual(job);
    expect(store.trouble()).toBeNull();
  });

  it('keeps a call going across a short outage: it is tried again with back-off within its window', async () => {
    const store = open({ viaProxy: true, reconnectWindowMs: 10_000 });
    await store.init();
    await proxy.refuse();
    const created = store.createJob(makeJob({ name: 'made-during-outage' }));
    await sleep(600);
    await proxy.accept();
    await expect(created).resolves.toMatchObject({ name: 'made-during-outage' });
    expect(await store.listJobs()).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'made-during-outage' })]));
  });

  it('waits at start-up for a database that does not accept connections yet, up to startupWaitMs', async () => {
    await proxy.refuse();
    const late = open({ viaProxy: true, startupWaitMs: 10_000 });
    const started = late.init();
    await sleep(700);
    await proxy.accept();
    await expect(started).resolves.toBeUndefined();

    await proxy.refuse();
    const impatient = open({ viaProxy: true, startupWaitMs: 300 });
    await expect(impatient.init()).rejects.toThrow(/migrate schema failed: the database cannot be reached/);
  });
});
