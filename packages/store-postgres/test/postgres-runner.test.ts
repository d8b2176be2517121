import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { prepare, statement } from '../src/postgres-runner.js';
import type { Database } from '../src/schema.js';

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
