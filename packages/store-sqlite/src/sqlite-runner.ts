import type { Database, Statement, Transaction } from 'better-sqlite3';
import type { Compilable } from 'kysely';

/** Distinct query shapes kept prepared; dynamic filters make a bounded set, this only guards leaks. */
const MAX_CACHED_QUERIES = 500;

/** A named value slot in a query built once and run many times. */
class Slot {
  constructor(readonly name: string) {}
}

/**
 * Stands for a value given at run time. Typed as whatever the query builder expects at that
 * place, since kysely passes it through untouched into the compiled parameters.
 */
export type Param = <T = never>(name: string) => T;

const param: Param = <T>(name: string) => new Slot(name) as unknown as T;

/** A slot per key of `row`, named after it, so the row itself is the query's values. */
export function slotsOf<T extends object>(row: T, p: Param): T {
  return Object.fromEntries(Object.keys(row).map((column) => [column, p(column)])) as T;
}

/** Values of a prepared query's slots, by name (any object: a row's columns name its slots); dates as epoch ms, booleans as 0/1. */
export type SlotValues = object;

/** Builds a row object from the values of one result row, in column order. */
type RowFactory = (values: unknown[]) => unknown;

/**
 * A function that turns a result row's values into an object keyed by `columns`, as one object
 * literal. better-sqlite3 builds row objects key by key through the V8 API, which costs more than
 * the query itself for a wide row; a literal of fixed shape is built in one step, and every object
 * it makes shares one hidden class, so the codec reading them stays monomorphic. The column names
 * come from SQLite and enter the source only as JSON string literals.
 */
function rowFactory(columns: readonly string[]): RowFactory {
  const fields = columns.map((column, i) => `${JSON.stringify(column)}: values[${i}]`);
  return new Function('values', `return { ${fields.join(', ')} };`) as RowFactory;
}

/** A query compiled by kysely once and prepared by SQLite once, run with fresh slot values. */
export class PreparedQuery<R> {
  readonly #statement: Statement<unknown[], unknown>;
  /** Each compiled parameter's slot name, or null for a constant kysely inlined as a parameter. */
  readonly #slots: readonly (string | null)[];
  /**
   * The compiled parameters as bound: constants in place, slots filled by {@link #bind} for each
   * run. One array, reused: better-sqlite3 copies its items into the statement before it runs and
   * keeps none, and no statement calls back into JavaScript while it runs. It holds the last values
   * until the next run of the statement.
   */
  readonly #bound: unknown[];
  /** For a statement that returns rows: makes each row's object from its values. */
  readonly #row: RowFactory | null;
  /** Whether the statement only reads (better-sqlite3 answers through a native getter on each call). */
  readonly #readonly: boolean;

  constructor(statement: Statement<unknown[], unknown>, parameters: readonly unknown[]) {
    this.#statement = statement;
    this.#slots = parameters.map((p) => (p instanceof Slot ? p.name : null));
    this.#bound = parameters.map((p) => (p instanceof Slot ? undefined : p));
    // Rows come back as arrays of values; #row makes the objects (see rowFactory).
    this.#row = statement.reader ? rowFactory(statement.raw(true).columns().map((column) => column.name)) : null;
    this.#readonly = statement.readonly;
  }

  /** Every row. */
  all(values: SlotValues = {}): R[] {
    const rows = this.#statement.all(...this.#bind(values)) as unknown[][];
    const row = this.#row;
    return (row === null ? rows : rows.map((r) => row(r))) as R[];
  }

  /**
   * The first row, if any. A statement that writes (`… RETURNING`) is run to its end: SQLite
   * reports a write that failed (e.g. a full disk) only when the statement finishes, which
   * better-sqlite3's `get` never waits for.
   */
  get(values: SlotValues = {}): R | undefined {
    const bound = this.#bind(values);
    const row = (this.#readonly ? this.#statement.get(...bound) : this.#statement.all(...bound)[0]) as unknown[] | undefined;
    return (row === undefined || this.#row === null ? row : this.#row(row)) as R | undefined;
  }

  /** Runs a statement that returns no rows; answers how many rows it changed. */
  run(values: SlotValues = {}): number {
    return this.#statement.run(...this.#bind(values)).changes;
  }

  /**
   * The statement's parameters, in order. The statement takes them as arguments, not as one array:
   * better-sqlite3 reads an array's items one V8 call each, which made a 26-column insert bind
   * about 0.9 µs slower. As arguments, an object would be taken for named parameters and an array
   * spread into several: a slot's value must be a number, string, bigint, buffer or null.
   */
  #bind(values: SlotValues): unknown[] {
    const slots = this.#slots;
    const bound = this.#bound;
    for (let i = 0; i < slots.length; i++) {
      const name = slots[i];
      if (name === null) continue;
      const value = (values as Record<string, unknown>)[name as string];
      if (value === undefined) throw new TypeError(`no value for query slot "${name}"`);
      if (typeof value === 'object' && value !== null && !(value instanceof Uint8Array)) throw new TypeError(`query slot "${name}" takes no object`);
      bound[i] = value;
    }
    return bound;
  }
}

/** Told of a runner's transactions: as each `BEGIN IMMEDIATE` transaction starts and after it committed, and after any rollback (of a transaction or a savepoint). */
export interface TransactionHooks {
  /** The transaction has just begun; nothing ran in it yet. */
  begin(): void;
  /** A transaction or savepoint was rolled back: writes made in it are undone. */
  rollback(): void;
  /** A `BEGIN IMMEDIATE` transaction has committed; none is open. */
  committed?(): void;
}

/**
 * Runs kysely-built queries synchronously through better-sqlite3.
 *
 * Kysely builds every query, with {@link Param} slots where values go, and compiles it once per
 * shape; SQLite prepares it once; afterwards a call only binds values. Execution bypasses kysely's
 * async driver because a transaction must not yield to the event loop: the claim transaction calls
 * the core's synchronous `plan` callbacks between statements, and a whole claim batch should cost
 * one `BEGIN IMMEDIATE … COMMIT` rather than a round of promises per statement.
 */
export class SqliteRunner {
  readonly #db: Database;
  readonly #queries = new Map<string, PreparedQuery<unknown>>();
  readonly #transaction: Transaction<(body: () => unknown) => unknown>;
  readonly #hooks: TransactionHooks | undefined;

  /** Runs queries on `db`; `hooks` hear of each transaction's start and of every rollback. */
  constructor(db: Database, hooks?: TransactionHooks) {
    this.#db = db;
    this.#transaction = db.transaction((body: () => unknown) => body());
    this.#hooks = hooks;
  }

  /**
   * The query `build` makes, compiled and prepared the first time `key` is seen. The key names the
   * query's shape: two different shapes must never share one.
   */
  query<R>(key: string, build: (param: Param) => Compilable<R>): PreparedQuery<R> {
    let query = this.#queries.get(key) as PreparedQuery<R> | undefined;
    if (query === undefined) {
      const compiled = build(param).compile();
      query = new PreparedQuery<R>(this.#db.prepare(compiled.sql), compiled.parameters);
      if (this.#queries.size >= MAX_CACHED_QUERIES) this.#queries.clear();
      this.#queries.set(key, query as PreparedQuery<unknown>);
    }
    return query;
  }

  /** Runs a statement once, unprepared for reuse (schema changes). */
  execute(statement: Compilable<unknown>): void {
    const compiled = statement.compile();
    this.#db.prepare(compiled.sql).run(...compiled.parameters);
  }

  /**
   * Runs `body` in a `BEGIN IMMEDIATE` transaction: the write lock is taken up front, so two
   * connections never both read a due job and then both plan it. Rolls back if `body` throws.
   */
  immediate<T>(body: () => T): T {
    const hooks = this.#hooks;
    if (hooks === undefined) return this.#transaction.immediate(body) as T;
    let result: T;
    try {
      result = this.#transaction.immediate(() => {
        hooks.begin();
        return body();
      }) as T;
    } catch (error) {
      hooks.rollback();
      throw error;
    }
    hooks.committed?.();
    return result;
  }

  /**
   * Runs `body`, which only reads, in a deferred transaction: its statements see one snapshot of the
   * file, whatever other connections commit meanwhile (in WAL mode a reader blocks no writer).
   */
  snapshot<T>(body: () => T): T {
    return this.#transaction.deferred(body) as T;
  }

  /**
   * Runs `body` in a `SAVEPOINT` of the open transaction: a throw undoes only `body`'s changes and
   * leaves the transaction open (unless SQLite itself ended it, see {@link inTransaction}).
   */
  savepoint<T>(body: () => T): T {
    if (!this.#db.inTransaction) throw new Error('a savepoint needs an open transaction');
    try {
      return this.#transaction(body) as T;
    } catch (error) {
      this.#hooks?.rollback();
      throw error;
    }
  }

  /**
   * Runs `body` with foreign keys not enforced, then enforces them again if they were. SQLite
   * ignores the switch inside a transaction: there they stay as they were (see {@link foreignKeysEnforced}).
   */
  withoutForeignKeys<T>(body: () => T): T {
    const enforced = this.foreignKeysEnforced();
    if (enforced) this.#db.pragma('foreign_keys = OFF');
    try {
      return body();
    } finally {
      if (enforced) this.#db.pragma('foreign_keys = ON');
    }
  }

  /** How many rows refer to a row that does not exist (`pragma foreign_key_check`), whether enforced or not. */
  foreignKeyViolations(): number {
    return (this.#db.pragma('foreign_key_check') as unknown[]).length;
  }

  /** Whether the connection enforces foreign keys now. */
  foreignKeysEnforced(): boolean {
    return this.#db.pragma('foreign_keys', { simple: true }) === 1;
  }

  /** Whether a transaction is open on the connection (SQLite ends one itself on some errors, e.g. a full disk). */
  get inTransaction(): boolean {
    return this.#db.inTransaction;
  }
}
