import { newRun } from '@symbi/core';
import { makeJob } from '@symbi/core/testing';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { runToRow } from '../src/row-codec.js';
import { dataVersionReader, RowCache } from '../src/row-cache.js';
import type { RunRow } from '../src/schema.js';
import { SqliteRunner } from '../src/sqlite-runner.js';
import { onCleanup, tempDbPath } from './temp-files.js';

/** A raw connection on `path`, closed after the test. */
function open(path: string): Database.Database {
  const raw = new Database(path);
  onCleanup(() => raw.close());
  raw.pragma('journal_mode = WAL');
  raw.exec('create table if not exists t (x integer)');
  return raw;
}

const row = (status: 'scheduled' | 'running' | 'succeeded' = 'scheduled') => ({ ...runToRow(newRun(makeJob(), { scheduledFor: new Date(0), trigger: 'manual' })), status });

describe('RowCache', () => {
  it('forgets every row when another connection committed since the last transaction, not after its own commits', () => {
    const path = tempDbPath();
    const mine = open(path);
    const other = open(path);
    const cache = new RowCache<RunRow>(true);
    const dataVersion = dataVersionReader(mine);
    const runner = new SqliteRunner(mine, { begin: () => cache.begin(dataVersion()), rollback: () => cache.clear() });
    const kept = row();
    runner.immediate(() => cache.keep(kept));
    runner.immediate(() => mine.exec('insert into t values (1)'));
    runner.immediate(() => undefined);
    expect(cache.get(kept.id)).toBe(kept);
    other.exec('insert into t values (2)');
    runner.immediate(() => undefined);
    expect(cache.get(kept.id)).toBeUndefined();
  });

  it('forgets every row when a transaction or a savepoint rolls back', () => {
    const raw = open(tempDbPath());
    const cache = new RowCache<RunRow>(true);
    const dataVersion = dataVersionReader(raw);
    const runner = new SqliteRunner(raw, { begin: () => cache.begin(dataVersion()), rollback: () => cache.clear() });
    /** A write that keeps a row, then fails. */
    const keepThenFail = (kept: ReturnType<typeof row>) => () => {
      cache.keep(kept);
      throw new Error('undone');
    };
    const first = row();
    expect(() => runner.immediate(keepThenFail(first))).toThrow('undone');
    expect(cache.get(first.id)).toBeUndefined();
    const second = row();
    runner.immediate(() => {
      expect(() => runner.savepoint(keepThenFail(second))).toThrow('undone');
      expect(cache.get(second.id)).toBeUndefined();
    });
  });

  it('keeps only the rows it is told to, and nothing at all when disabled', () => {
    const cache = new RowCache<RunRow>(true, (kept) => kept.status !== 'succeeded');
    const running = row('running');
    cache.keep(running);
    cache.keep({ ...running, status: 'succeeded' });
    expect(cache.get(running.id)).toBeUndefined();
    const disabled = new RowCache<RunRow>(false);
    disabled.keep(running);
    expect(disabled.get(running.id)).toBeUndefined();
  });
});
