import type { Database, Statement } from 'better-sqlite3';

/** Most rows a cache keeps; past it, it starts afresh (rows in flight are far fewer). */
const MAX_ROWS = 100_000;

/**
 * Reads SQLite's `data_version` on `database`: a number that moves on every commit by another
 * connection, never on this one's own. Read once as each transaction begins and handed to every
 * {@link RowCache.begin} of that transaction.
 */
export function dataVersionReader(database: Database): () => number {
  const statement = database.prepare('pragma data_version').pluck() as Statement<[], number>;
  return () => statement.get() as number;
}

/**
 * Rows as this connection last wrote them, by id, so that a write need not read back a row it
 * wrote before: a run's start and finish, its job's finish (a read by id costs about as much as
 * the update itself).
 *
 * A row is only as good as the knowledge that nothing else changed it since it was kept:
 * - another connection's commit: {@link begin}, called as each transaction starts with the
 *   connection's `data_version` then (see {@link dataVersionReader}), forgets every row when it
 *   moved since the last transaction;
 * - this connection's own writes: every statement of the store that changes the table either
 *   keeps the rows it wrote or calls {@link forget} / {@link clear};
 * - a rollback (of a transaction or a savepoint): {@link clear}, since rows kept by the undone
 *   writes no longer hold.
 * Rows are read from it only inside a transaction (after {@link begin}). A store on a connection
 * someone else also writes through must not keep rows at all: it is made with `enabled` false.
 */
export class RowCache<Row extends { id: string }> {
  readonly #rows = new Map<string, Row>();
  readonly #enabled: boolean;
  readonly #keeps: (row: Row) => boolean;
  #seen: number | null = null;

  /**
   * Keeps rows unless `enabled` is false (then every lookup misses), those for which `keeps` holds
   * (by default every one).
   */
  constructor(enabled: boolean, keeps: (row: Row) => boolean = () => true) {
    this.#enabled = enabled;
    this.#keeps = keeps;
  }

  /**
   * Call as a transaction starts, with the connection's `data_version` read then: forgets every
   * row if another connection committed since the last one.
   */
  begin(version: number): void {
    if (version !== this.#seen) {
      this.#rows.clear();
      this.#seen = version;
    }
  }

  /** The row with this id as this connection last wrote it, if kept. */
  get(id: string): Row | undefined {
    return this.#rows.get(id);
  }

  /** Keeps `row` as the row `row.id` now stands, if `keeps` says so; else forgets that row. */
  keep(row: Row): void {
    if (!this.#enabled) return;
    if (!this.#keeps(row)) {
      this.#rows.delete(row.id);
      return;
    }
    if (this.#rows.size >= MAX_ROWS) this.#rows.clear();
    this.#rows.set(row.id, row);
  }

  /** Forgets the rows with these ids. */
  forget(ids: Iterable<string>): void {
    for (const id of ids) this.#rows.delete(id);
  }

  /** Forgets every row. */
  clear(): void {
    this.#rows.clear();
  }
}
