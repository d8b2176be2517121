import type { Database, Statement, Transaction } from 'better-sqlite3';
import type { Compilable } from 'kysely';

/** Distinct SQL texts kept prepared; dynamic filters produce a bounded set, this only guards leaks. */
const MAX_CACHED_STATEMENTS = 500;

/**
 * Runs kysely-built queries synchronously through better-sqlite3, each SQL text prepared once.
 *
 * Kysely builds and compiles every query (a few microseconds); execution bypasses kysely's async
 * driver because a transaction must not yield to the event loop: the claim transaction calls the
 * core's synchronous `plan` callbacks between statements, and a whole claim batch should cost one
 * `BEGIN IMMEDIATE … COMMIT` rather than one round of promises per statement.
 */
export class SqliteRunner {
  readonly #db: Database;
  readonly #statements = new Map<string, Statement<unknown[], unknown>>();
  readonly #transaction: Transaction<(body: () => unknown) => unknown>;

  constructor(db: Database) {
    this.#db = db;
    this.#transaction = db.transaction((body: () => unknown) => body());
  }

  /** Every row the query returns. */
  all<R>(query: Compilable<R>): R[] {
    const compiled = query.compile();
    return this.#prepare(compiled.sql).all(...compiled.parameters) as R[];
  }

  /** The first row the query returns, if any. */
  get<R>(query: Compilable<R>): R | undefined {
    const compiled = query.compile();
    return this.#prepare(compiled.sql).get(...compiled.parameters) as R | undefined;
  }

  /** Runs a statement that returns no rows; answers how many rows it changed. */
  run(query: Compilable<unknown>): number {
    const compiled = query.compile();
    return this.#prepare(compiled.sql).run(...compiled.parameters).changes;
  }

  /**
   * Runs `body` in a `BEGIN IMMEDIATE` transaction: the write lock is taken up front, so two
   * connections never both read a due job and then both plan it. Rolls back if `body` throws.
   */
  immediate<T>(body: () => T): T {
    return this.#transaction.immediate(body) as T;
  }

  #prepare(text: string): Statement<unknown[], unknown> {
    let statement = this.#statements.get(text);
    if (statement === undefined) {
      if (this.#statements.size >= MAX_CACHED_STATEMENTS) this.#statements.clear();
      statement = this.#db.prepare(text);
      this.#statements.set(text, statement);
    }
    return statement;
  }
}
