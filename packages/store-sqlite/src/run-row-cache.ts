import { TERMINAL_RUN_STATUSES } from '@symbi/core';
import type { Database, Statement } from 'better-sqlite3';
import type { RunRow } from './schema.js';

/** Most rows kept; past it the cache starts afresh (runs in flight are far fewer). */
const MAX_ROWS = 100_000;

const TERMINAL: ReadonlySet<string> = new Set(TERMINAL_RUN_STATUSES);

/**
 * The rows of unfinished runs as this connection last wrote them, so that a run's start and its
 * finish need not read back the row they just updated (a read by id costs about as much as the
 * update itself).
 *
 * A row is only as good as the knowledge that nothing else changed it since it was kept:
 * - another connection's commit: {@link begin}, called as each transaction starts, forgets every
 *   row when SQLite's `data_version` moved since the last transaction (it moves on every commit
 *   by another connection, never on this one's own);
 * - this connection's own writes: every statement of the store that changes `runs` either keeps
 *   the rows it wrote here or calls {@link forget} / {@link clear};
 * - a rollback (of a transaction or a savepoint): {@link clear}, since rows kept by the undone
 *   writes no longer hold.
 * A store on a connection someone else also writes through must not keep rows at all: it is made
 * with `enabled` false.
 */
export class RunRowCache {
  readonly #rows = new Map<string, RunRow>();
  readonly #dataVersion: Statement<[], number> | null;
  #seen: number | null = null;

  /** Keeps rows for the store on `database` unless `enabled` is false (then every lookup misses). */
  constructor(database: Database, enabled: boolean) {
    this.#dataVersion = enabled ? (database.prepare('pragma data_version').pluck() as Statement<[], number>) : null;
  }

  /** Call as a transaction starts: forgets every row if another connection committed since the last one. */
  begin(): void {
    if (this.#dataVersion === null) return;
    const version = this.#dataVersion.get() as number;
    if (version !== this.#seen) {
      this.#rows.clear();
      this.#seen = version;
    }
  }

  /** The row of run `id` as this connection last wrote it, if kept. */
  get(id: string): RunRow | undefined {
    return this.#rows.get(id);
  }

  /** Keeps `row` as run `row.id` now stands, unless the run is finished (it is not written again on the hot path). */
  keep(row: RunRow): void {
    if (this.#dataVersion === null) return;
    if (TERMINAL.has(row.status)) {
      this.#rows.delete(row.id);
      return;
    }
    if (this.#rows.size >= MAX_ROWS) this.#rows.clear();
    this.#rows.set(row.id, row);
  }

  /** Forgets the rows of these runs. */
  forget(ids: Iterable<string>): void {
    for (const id of ids) this.#rows.delete(id);
  }

  /** Forgets every row. */
  clear(): void {
    this.#rows.clear();
  }
}
