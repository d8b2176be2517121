import { createHash } from 'node:crypto';
import type { Compilable, CompiledQuery } from 'kysely';
import type { Pool, PoolClient, QueryResult } from 'pg';
import { isReplayable, mapPgError } from './pg-errors.js';

/** Stands, in a statement built once, for the value of the named slot given at each run. */
class Slot {
  constructor(readonly name: string) {}
}

/**
 * Every slot of a statement, by name. Each property read gives a {@link Slot} typed as the value
 * it stands for, so the query builder type-checks it where it goes and passes it through untouched
 * into the compiled parameters.
 */
const SLOTS: unknown = new Proxy({}, { get: (_, name) => (typeof name === 'string' ? new Slot(name) : undefined) });

/** Brands a {@link Statement} with the type of its rows; no value ever carries it. */
declare const ROW: unique symbol;

/** A statement ready to send: its text, a name to prepare it under, and its parameter values. */
export interface Statement<Row> {
  readonly name: string;
  readonly text: string;
  readonly values: unknown[];
  readonly [ROW]?: Row;
}

/** The name a statement's text is prepared under on each connection: the same text, the same name. */
function statementName(text: string): string {
  return `symbi_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
}

/** A statement compiled by kysely once and run many times with fresh slot values. */
export class PreparedStatement<Values, Row> {
  readonly name: string;
  readonly text: string;
  /** Each compiled parameter: a slot to fill, or a value kysely bound as a constant. */
  readonly #parameters: readonly (Slot | { value: unknown })[];

  constructor(compiled: CompiledQuery<Row>) {
    this.text = compiled.sql;
    this.name = statementName(compiled.sql);
    this.#parameters = compiled.parameters.map((p) => (p instanceof Slot ? p : { value: p }));
  }

  /** This statement with `values` in its slots. */
  bind(values: Values): Statement<Row> {
    const given = values as Record<string, unknown>;
    const bound = this.#parameters.map((p) => {
      if (!(p instanceof Slot)) return p.value;
      const value = given[p.name];
      if (value === undefined) throw new TypeError(`no value for statement slot "${p.name}"`);
      return value;
    });
    return { name: this.name, text: this.text, values: bound };
  }
}

/** A query built for one run (e.g. a listing with optional filters), ready to send. */
export function statement<Row>(query: Compilable<Row>): Statement<Row> {
  const compiled = query.compile();
  return { name: statementName(compiled.sql), text: compiled.sql, values: [...compiled.parameters] };
}

/**
 * Builds a statement once: `build` receives the slots (type its parameter with their names and the
 * types of their values) and returns a kysely query, compiled here and never again.
 *
 * @example
 * ```ts
 * const byId = prepare((s: { id: string }) => db.selectFrom('jobs').selectAll().where('id', '=', s.id));
 * await runner.query('get job', byId.bind({ id }));
 * ```
 */
export function prepare<Values, Row>(build: (slots: Values) => Compilable<Row>): PreparedStatement<Values, Row> {
  return new PreparedStatement(build(SLOTS as Values).compile());
}

/** What a statement gave back. */
export interface Result<Row> {
  rows: Row[];
  /** Rows the statement returned or changed. */
  rowCount: number;
}

function resultOf<Row>(result: QueryResult): Result<Row> {
  return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
}

/** The statements of one open transaction; errors come out already mapped to the core's taxonomy. */
export interface Transaction {
  /** Runs one statement. */
  query<Row>(statement: Statement<Row>): Promise<Result<Row>>;
  /** Runs parameterless statements (DDL) as one script: one round trip, unprepared. */
  script(statements: readonly Compilable<unknown>[]): Promise<void>;
}

/** How often a transaction that lost a deadlock or serialization race is replayed before giving up. */
const MAX_ATTEMPTS = 4;

/**
 * Runs kysely-built statements on the store's `pg.Pool`, alone or in transactions.
 *
 * Kysely builds and compiles every statement; the hot ones are compiled once ({@link prepare}) and
 * only bound afterwards. Execution bypasses kysely's driver for two things it does not offer: every
 * statement runs as a named prepared statement (named by a hash of its text), so each connection
 * parses and plans it once however often it runs, and a transaction that loses a deadlock is
 * replayed whole.
 */
export class PostgresRunner {
  constructor(readonly pool: Pool) {}

  /** Runs one statement in its own implicit transaction, replaying it after a deadlock. */
  async query<Row>(what: string, statement: Statement<Row>): Promise<Result<Row>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return resultOf(await this.pool.query(statement));
      } catch (error) {
        if (attempt < MAX_ATTEMPTS && isReplayable(error)) continue;
        throw mapPgError(error, what);
      }
    }
  }

  /**
   * Runs `work` between BEGIN and COMMIT on one connection. After a deadlock or serialization failure
   * the whole of `work` runs again (the callbacks the store calls inside are pure, so a replay is
   * safe); any other error rolls back and is rethrown, pg errors mapped, others (e.g. thrown by a
   * plan callback) as they are.
   */
  async transaction<T>(what: string, work: (tx: Transaction) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.#connect(what);
      let broken: Error | undefined;
      const tx: Transaction = {
        query: async <Row>(statement: Statement<Row>) => {
          try {
            return resultOf(await client.query(statement));
          } catch (error) {
            throw mapPgError(error, what);
          }
        },
        script: (statements) => this.#simple(client, statements.map(scriptText).join(';\n'), what),
      };
      try {
        // Sent as one message with BEGIN, so it costs no round trip; see the pool's JIT setting.
        await this.#simple(client, 'BEGIN; SET LOCAL jit = off', what);
        const result = await work(tx);
        await this.#simple(client, 'COMMIT', what);
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => {
          // A connection that cannot roll back is unusable; the pool must drop it.
          broken = rollbackError;
        });
        if (attempt < MAX_ATTEMPTS && isReplayable(error)) continue;
        throw error;
      } finally {
        client.release(broken);
      }
    }
  }

  /** Simple-protocol query: one round trip, several statements allowed, no parameters. */
  async #simple(client: PoolClient, text: string, what: string): Promise<void> {
    try {
      await client.query(text);
    } catch (error) {
      throw mapPgError(error, what);
    }
  }

  async #connect(what: string): Promise<PoolClient> {
    try {
      return await this.pool.connect();
    } catch (error) {
      throw mapPgError(error, what);
    }
  }
}

/** The text of a statement that takes no parameters, for a script. */
function scriptText(statement: Compilable<unknown>): string {
  const compiled = statement.compile();
  if (compiled.parameters.length > 0) throw new TypeError(`a script statement cannot take parameters: ${compiled.sql}`);
  return compiled.sql;
}
