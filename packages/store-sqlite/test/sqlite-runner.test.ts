import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { describe, expect, it } from 'vitest';
import { SqliteRunner } from '../src/sqlite-runner.js';
import { onCleanup } from './temp-files.js';

interface Tables {
  t: { a: string | null; b: string | null };
}

/** A runner on an in-memory database with one table `t (a, b)`. */
function runnerOnTable(): { runner: SqliteRunner; db: Kysely<Tables>; raw: Database.Database } {
  const raw = new Database(':memory:');
  onCleanup(() => raw.close());
  raw.exec('create table t (a, b)');
  return { runner: new SqliteRunner(raw), db: new Kysely<Tables>({ dialect: new SqliteDialect({ database: raw }) }), raw };
}

describe('prepared queries', () => {
  it('bind each slot to its own column, run after run', () => {
    const { runner, db, raw } = runnerOnTable();
    const insert = runner.query('t.insert', (p) => db.insertInto('t').values({ a: p('a'), b: p('b') }));
    insert.run({ a: 'first', b: null });
    insert.run({ a: null, b: 'second' });
    expect(raw.prepare('select a, b from t order by rowid').all()).toEqual([
      { a: 'first', b: null },
      { a: null, b: 'second' },
    ]);
  });

  it('refuse an object or a list as a slot value instead of binding it into other slots', () => {
    const { runner, db, raw } = runnerOnTable();
    const insert = runner.query('t.insert', (p) => db.insertInto('t').values({ a: p('a'), b: p('b') }));
    expect(() => insert.run({ a: ['x', 'y'], b: 'z' })).toThrow(TypeError);
    expect(() => insert.run({ a: { b: 'y' }, b: 'z' })).toThrow(TypeError);
    expect(() => insert.run({ a: new Date(0), b: 'z' })).toThrow(TypeError);
    insert.run({ a: Buffer.from('bytes'), b: 'z' });
    expect(raw.prepare('select count(*) as n from t').get()).toEqual({ n: 1 });
  });
});
