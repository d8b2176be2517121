import { ConflictError, JobNotFoundError, StoreError } from '@symbi/core';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { mapSqliteError } from '../src/sqlite-errors.js';
import { onCleanup, tempDbPath } from './temp-files.js';

/** The error SQLite raises for `statement`, on a table with a unique, a not-null and a foreign-key column. */
function sqliteErrorOf(statement: string): unknown {
  const db = new Database(':memory:');
  onCleanup(() => db.close());
  db.pragma('foreign_keys = ON');
  db.exec(`create table parent (id text primary key, name text not null unique);
           create table child (id text primary key, parent_id text not null references parent (id));
           insert into parent values ('p1', 'taken');`);
  try {
    db.exec(statement);
  } catch (error) {
    return error;
  }
  throw new Error(`no error from: ${statement}`);
}

describe('mapSqliteError', () => {
  it('turns a known uniqueness failure into the error its caller chose', () => {
    const error = sqliteErrorOf(`insert into parent values ('p2', 'taken')`);
    const mapped = mapSqliteError(error, { 'parent.name': () => new ConflictError('a parent named taken exists already') });
    expect(mapped).toBeInstanceOf(ConflictError);
    expect(mapped).toMatchObject({ message: 'a parent named taken exists already', cause: error });
  });

  it('turns any other uniqueness or primary-key failure into a ConflictError naming the column', () => {
    expect(mapSqliteError(sqliteErrorOf(`insert into parent values ('p1', 'other')`))).toEqual(new ConflictError('duplicate parent.id'));
    expect(mapSqliteError(sqliteErrorOf(`insert into parent values ('p3', 'taken')`))).toBeInstanceOf(ConflictError);
  });

  it('maps a foreign-key failure only when the caller names it, else reports a store error', () => {
    const error = sqliteErrorOf(`insert into child values ('c1', 'ghost')`);
    expect(mapSqliteError(error, { foreign_key: () => new JobNotFoundError('ghost') })).toBeInstanceOf(JobNotFoundError);
    expect(mapSqliteError(error)).toMatchObject({ code: 'STORE', retryable: false });
  });

  it('reports other SQLite failures as non-retryable StoreErrors that keep the cause', () => {
    const error = sqliteErrorOf(`insert into parent values ('p4', null)`);
    const mapped = mapSqliteError(error);
    expect(mapped).toBeInstanceOf(StoreError);
    expect(mapped).toMatchObject({ retryable: false, cause: error });
    expect((mapped as Error).message).toMatch(/SQLITE_CONSTRAINT_NOTNULL/);
  });

  it('reports a busy database as a retryable StoreError', () => {
    const path = tempDbPath();
    const holder = new Database(path);
    const waiter = new Database(path, { timeout: 0 });
    onCleanup(() => waiter.close());
    onCleanup(() => holder.close());
    holder.exec('create table t (x); begin immediate; insert into t values (1)');
    onCleanup(() => holder.exec('rollback'));
    let error: unknown;
    try {
      waiter.exec('begin immediate');
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: 'SQLITE_BUSY' });
    expect(mapSqliteError(error)).toMatchObject({ code: 'STORE', retryable: true });
  });

  it('passes errors that are not SQLite failures through untouched', () => {
    const plain = new Error('plan exploded');
    const ours = new ConflictError('already mapped');
    expect(mapSqliteError(plain)).toBe(plain);
    expect(mapSqliteError(ours)).toBe(ours);
    expect(mapSqliteError('a string')).toBe('a string');
  });
});
