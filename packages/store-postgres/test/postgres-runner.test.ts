import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PIPELINE, PostgresRunner, prepare, statement, type Statement } from '../src/postgres-runner.js';
import type { Database } from '../src/schema.js';
import { CONNECTION_STRING, describePostgres, dropSchema, randomSchemaName } from './support/postgres.js';

// Compiling needs no connection: the pool is never used.
const pool = new pg.Pool({ max: 1 });
const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }).withSchema('s');
afterAll(() => pool.end());

describe('prepare', () => {
  const dueRuns = (s: { now: Date; limit: number }) =>
    db
      .selectFrom('runs')
      .select('id')
      .where('status', '=', sql.lit('scheduled'))
      .where('due_at', '<=', s.now)
      .where((eb) => eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<', s.now)]))
      .where('attempt', '>', 1)
      .limit(s.limit);
  const due = prepare(dueRuns);

  it('compiles once into parameters, keeping literals in the text', () => {
    expect(due.text).toBe(
      `select "id" from "s"."runs" where "status" = 'scheduled' and "due_at" <= $1 and ("lease_expires_at" is null or "lease_expires_at" < $2) and "attempt" > $3 limit $4`,
    );
  });

  it('binds each slot by name wherever it appears, and keeps the constants kysely bound', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    expect(due.bind({ now, limit: 10 }).values).toEqual([now, now, 1, 10]);
    expect(due.bind({ now, limit: 3 }).values).toEqual([now, now, 1, 3]);
  });

  it('names the statement by its text, the same for the same text', () => {
    const again = prepare(dueRuns);
    expect(due.bind({ now: new Date(), limit: 1 }).name).toMatch(/^symbi_[0-9a-f]{20}$/);
    expect(again.name).toBe(due.name);
    expect(prepare(() => db.selectFrom('jobs').select('id')).name).not.toBe(due.name);
  });

  it('refuses to run with a slot left without a value', () => {
    expect(() => due.bind({ limit: 1 } as { now: Date; limit: number })).toThrow(/no value for statement slot "now"/);
  });

  it('accepts null as a slot value', () => {
    const byOwner = prepare((s: { owner: string | null }) => db.selectFrom('runs').select('id').where(sql<boolean>`owner IS NOT DISTINCT FROM ${s.owner}`));
    expect(byOwner.bind({ owner: null }).values).toEqual([null]);
  });
});

describe('statement', () => {
  it('sends a query built for one call with its own values, under the name of its text', () => {
    const query = db.selectFrom('jobs').selectAll().where('status', '=', 'paused').limit(5);
    const built = statement(query);
    expect(built).toEqual({ name: expect.stringMatching(/^symbi_/), text: query.compile().sql, values: ['paused', 5] });
    expect(statement(db.selectFrom('jobs').selectAll().where('status', '=', 'active').limit(7)).name).toBe(built.name);
  });
});

describePostgres('PostgresRunner transactions', () => {
  const schema = randomSchemaName();
  const raw = (text: string, values: unknown[] = []): Statement<{ n: number }> => ({ name: '', text, values });
  const failing = raw('SELECT 1 / 0 AS n');
  const pools: pg.Pool[] = [];
  beforeAll(async () => {
    const client = new pg.Client({ connectionString: CONNECTION_STRING });
    await client.connect();
    await client.query(`CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".pipelined (n integer); CREATE TABLE "${schema}".serial (n integer)`);
    await client.end();
  });
  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.end()));
    await dropSchema(schema);
  });

  for (const [mode, table, options] of [
    ['pipelined', 'pipelined', PIPELINE],
    ['one statement at a time', 'serial', {}],
  ] as const) {
    describe(mode, () => {
      const insert = (n: number) => raw(`INSERT INTO "${schema}".${table} (n) VALUES ($1)`, [n]);
      const pool = new pg.Pool({ connectionString: CONNECTION_STRING, max: 1, ...options });
      pools.push(pool);
      const runner = new PostgresRunner(pool);
      const stored = async () => (await runner.query('read', raw(`SELECT n FROM "${schema}".${table} ORDER BY n`))).rows.map((row) => row.n);

      it('commits the statements sent together with the commit', async () => {
        const results = await runner.transaction('write', (tx) => Promise.all([tx.query(insert(1)), tx.query(insert(2)), tx.commit()]));
        expect(results.map((result) => result?.rowCount)).toEqual([1, 1, undefined]);
        expect(await stored()).toEqual([1, 2]);
      });

      it('rolls back all when one statement fails, running none of those behind it outside the transaction', async () => {
        const work = runner.transaction('write', (tx) => Promise.all([tx.query(insert(3)), tx.query(failing), tx.query(insert(4)), tx.commit()]));
        await expect(work).rejects.toThrow(/write failed: division by zero/);
        expect(await stored()).toEqual([1, 2]);
      });

      it('rolls back the statements sent when the work throws', async () => {
        const work = runner.transaction('write', async (tx) => {
          tx.query(insert(5)).catch(() => undefined);
          throw new Error('plan bug');
        });
        await expect(work).rejects.toThrow('plan bug');
        expect(await stored()).toEqual([1, 2]);
      });

      it('refuses a statement sent after the commit', async () => {
        const work = runner.transaction('write', async (tx) => {
          await tx.commit();
          return tx.query(insert(6));
        });
        await expect(work).rejects.toThrow(/after the commit/);
        expect(await stored()).toEqual([1, 2]);
      });
    });
  }
});
