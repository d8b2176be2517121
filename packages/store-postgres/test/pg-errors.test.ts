import { ConflictError, JobNotFoundError, StoreError, StoreUnavailableError } from '@symbi/core';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { PostgresJobStore } from '@symbi/store-postgres';
import { Kysely, PostgresDialect } from 'kysely';
import { isReplayable, mapPgError } from '../src/pg-errors.js';
import { PostgresRunner, prepare } from '../src/postgres-runner.js';
import { makeJob } from '@symbi/core/testing';
import { CONNECTION_STRING, describePostgres } from './support/postgres.js';

/** An error shaped like node-postgres' DatabaseError. */
const dbError = (code: string, constraint?: string) => Object.assign(new Error(`sqlstate ${code}`), { code, constraint });

it.each([
  ['40001', 'serialization failure'],
  ['40P01', 'deadlock'],
  ['55P03', 'lock not available'],
  ['57P01', 'admin shutdown'],
  ['53300', 'too many connections'],
  ['08006', 'connection failure'],
  ['ECONNREFUSED', 'refused socket'],
  ['ECONNRESET', 'reset socket'],
])('maps %s (%s) to a retryable StoreError keeping the cause', (code) => {
  const cause = dbError(code);
  const mapped = mapPgError(cause, 'claim due runs');
  expect(mapped).toBeInstanceOf(StoreError);
  expect(mapped.retryable).toBe(true);
  expect(mapped.cause).toBe(cause);
  expect(mapped.message).toMatch(/^claim due runs failed: /);
});

it('maps a dropped connection without a code to a retryable StoreError', () => {
  expect(mapPgError(new Error('Connection terminated unexpectedly'), 'x').retryable).toBe(true);
});

it.each([
  ['jobs_name_key', /job name is already taken/],
  ['jobs_pkey', /job id is already taken/],
  ['runs_fire_key_key', /fire key is already taken/],
])('maps a unique violation on %s to ConflictError', (constraint, message) => {
  const mapped = mapPgError(dbError('23505', constraint), 'create job');
  expect(mapped).toBeInstanceOf(ConflictError);
  expect(mapped.message).toMatch(message);
});

it('maps other database errors to a StoreError that is not retryable', () => {
  const mapped = mapPgError(dbError('42P01'), 'get job');
  expect(mapped).toBeInstanceOf(StoreError);
  expect(mapped.retryable).toBe(false);
});

it('leaves errors of the taxonomy as they are', () => {
  const error = new JobNotFoundError('j');
  expect(mapPgError(error, 'x')).toBe(error);
});

it('replays deadlocks and serialization failures only, mapped or not', () => {
  expect(isReplayable(dbError('40P01'))).toBe(true);
  expect(isReplayable(mapPgError(dbError('40001'), 'x'))).toBe(true);
  expect(isReplayable(dbError('57P01'))).toBe(false);
  expect(isReplayable(new Error('plain'))).toBe(false);
});

it('reports an unreachable server as a retryable StoreUnavailableError once its reconnect window is over', async () => {
  const store = new PostgresJobStore({ connectionString: 'postgres://postgres@127.0.0.1:1/test', reconnectWindowMs: 300 });
  try {
    expect(store.trouble()).toBeNull();
    const error = await store.getJob('x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error).toMatchObject({ code: 'STORE_UNAVAILABLE', retryable: true });
    expect((error as Error).message).toMatch(/get job failed: the database cannot be reached \(.*ECONNREFUSED/);
    expect(store.trouble()).toMatch(/^database unreachable since \d{4}-.*ECONNREFUSED/);
  } finally {
    await store.close();
  }
});

describePostgres('PostgresJobStore errors on the real server', () => {
  const pool = new pg.Pool({ connectionString: CONNECTION_STRING, max: 4 });
  afterAll(() => pool.end());

  it('replays the loser of a real deadlock, so both transactions succeed', async () => {
    const runner = new PostgresRunner(pool);
    const table = `deadlock_${process.pid}_${Date.now()}`;
    await pool.query(`CREATE TABLE public.${table} (id int PRIMARY KEY, v int); INSERT INTO public.${table} VALUES (1, 0), (2, 0)`);
    const db = new Kysely<Record<string, { id: number; v: number }>>({ dialect: new PostgresDialect({ pool }) });
    const bump = prepare((s: { id: number }) =>
      db
        .updateTable(table)
        .set((eb) => ({ v: eb('v', '+', 1) }))
        .where('id', '=', s.id),
    );
    try {
      let attempts = 0;
      let bothLocked: () => void = () => undefined;
      const barrier = new Promise<void>((resolve) => {
        let arrived = 0;
        bothLocked = () => {
          arrived += 1;
          if (arrived === 2) resolve();
        };
      });
      const crossing = (first: number, second: number) =>
        runner.transaction('deadlock test', async (tx) => {
          attempts += 1;
          await tx.query(bump.bind({ id: first }));
          bothLocked();
          await barrier;
          await tx.query(bump.bind({ id: second }));
        });
      await Promise.all([crossing(1, 2), crossing(2, 1)]);
      expect(attempts).toBe(3);
      const { rows } = await pool.query(`SELECT v FROM public.${table} ORDER BY id`);
      expect(rows).toEqual([{ v: 2 }, { v: 2 }]);
    } finally {
      await pool.query(`DROP TABLE public.${table}`);
    }
  });

  it('rolls back and passes on an error thrown by the work itself, unmapped', async () => {
    const runner = new PostgresRunner(pool);
    const failure = new TypeError('plan bug');
    await expect(runner.transaction('x', async () => Promise.reject(failure))).rejects.toBe(failure);
  });

  it('maps a duplicate job name to ConflictError naming it', async () => {
    const store = new PostgresJobStore({ pool, schema: `errors_${process.pid}_${Date.now()}` });
    await store.init();
    try {
      const job = await store.createJob(makeJob());
      await expect(store.createJob(makeJob({ name: job.name }))).rejects.toThrow(/job name is already taken/);
    } finally {
      await pool.query(`DROP SCHEMA "${store.schema}" CASCADE`);
    }
  });
});
