import { createHash } from 'node:crypto';
import type { Compilable, CompiledQuery } from 'kysely';
import type { Pool, PoolClient, QueryResult } from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreError, StoreUnavailableError } from '@symbi/core';
import { isReplayable, mapPgError, sqlState } from './pg-errors.js';

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
      return Array.isArray(value) ? arrayLiteral(value) : value;
    });
    return { name: this.name, text: this.text, values: bound };
  }
}

/**
 * The array literal of `values` when each is a string with no quote or backslash (ids, statuses),
 * in one join: node-postgres would escape each element by regular expressions and concatenate
 * them, and batches send arrays of hundreds of ids. Any other array is left to node-postgres.
 */
function arrayLiteral(values: readonly unknown[]): unknown {
  for (const value of values) if (typeof value !== 'string' || value.includes('"') || value.includes('\\')) return values;
  return values.length === 0 ? '{}' : `{"${values.join('","')}"}`;
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

/**
 * The statements of one open transaction; errors come out already mapped to the core's taxonomy.
 * Each statement is sent at once, behind those sent before it: on a pipelining connection (see
 * {@link PIPELINE}) statements sent without waiting for each other's results share one round trip,
 * and so does the opening BEGIN with the first statement. Send several together with
 * `Promise.all`, so that every result is awaited whichever fails.
 */
export interface Transaction {
  /** Runs one statement. */
  query<Row>(statement: Statement<Row>): Promise<Result<Row>>;
  /** Runs parameterless statements (DDL) as one script: one round trip, unprepared. */
  script(statements: readonly Compilable<unknown>[]): Promise<void>;
  /**
   * Commits now, behind the statements sent so far (with them, in one round trip, when pipelined);
   * otherwise the runner commits once the work returns. Nothing may be sent after it. Rejects if
   * the transaction did not commit.
   */
  commit(): Promise<void>;
}

/**
 * Pool option that makes node-postgres (8.23 and later; older versions ignore it) pipeline each
 * connection: statements are written without waiting for the answer to the one before, which still
 * come back in order. A statement that fails aborts the transaction, so those sent behind it fail
 * too and its COMMIT rolls back.
 */
export const PIPELINE = { pipeline: true } as const;

/**
 * Settings the store's own pool gives every connection, and every transaction sets locally (so
 * they hold on a pool the caller passed too). JIT compilation costs tens of milliseconds and pays
 * off only for long analytic queries, and the planner's estimates for the claim queries can cross
 * its threshold. Generic plans: each statement is planned once per connection instead of on every
 * run, and its plan does not follow table statistics, which lag far behind a queue that fills and
 * drains within seconds (a custom plan built on them sorts every due row to take the first few);
 * the statements are written so that their generic plan walks the right index whatever the sizes.
 * No sequential scan where an index can serve: a statement's generic plan is made at its first
 * run on a connection, from the statistics of that moment, and kept as the tables grow until they
 * are analyzed again. A table analyzed while empty (right after install, after the queue drained,
 * or after retention pruned every run) makes reading it whole look as cheap as a probe by key, and
 * such a plan, kept, reads the whole history once per run or per poll (the outbox's claim did).
 */
export const SESSION_SETTINGS: readonly (readonly [string, string])[] = [
  ['jit', 'off'],
  ['plan_cache_mode', 'force_generic_plan'],
  ['enable_seqscan', 'off'],
];

/** How often a transaction that lost a deadlock or serialization race is replayed before giving up. */
const MAX_ATTEMPTS = 4;

/** First and longest wait between tries to reach a database that cannot be reached. */
const FIRST_RECONNECT_DELAY_MS = 50;
const MAX_RECONNECT_DELAY_MS = 1_000;

/** How long a store call keeps trying to reach the database, unless configured. */
export const DEFAULT_RECONNECT_WINDOW_MS = 10_000;

/** Why the database cannot be reached, and since when. */
export interface Outage {
  /** The last connection failure, e.g. `terminating connection due to administrator command`. */
  reason: string;
  /** When the first failure of this outage was seen. */
  since: Date;
}

/**
 * Runs kysely-built statements on the store's `pg.Pool`, alone or in transactions.
 *
 * Kysely builds and compiles every statement; the hot ones are compiled once ({@link prepare}) and
 * only bound afterwards. Execution bypasses kysely's driver for what it does not offer: every
 * statement runs as a named prepared statement (named by a hash of its text), so each connection
 * parses and plans it once however often it runs; a transaction's statements are pipelined (see
 * {@link Transaction}); and a transaction that loses a deadlock is replayed whole.
 *
 * A lost or refused connection is tried again on a fresh one, waiting longer each time (50 ms
 * doubling to 1 s), for up to `reconnectWindowMs`; then the call fails with a
 * `StoreUnavailableError`. A transaction whose COMMIT was sent is not replayed (it may have
 * committed); it fails at once with that error. {@link outage} tells whether the database is
 * reachable now.
 */
export class PostgresRunner {
  #outage: Outage | null = null;

  /**
   * @param reconnectWindowMs - how long a call keeps trying to reach the database (default
   *   {@link DEFAULT_RECONNECT_WINDOW_MS}).
   */
  constructor(
    readonly pool: Pool,
    readonly reconnectWindowMs = DEFAULT_RECONNECT_WINDOW_MS,
  ) {}

  /** The current outage: since the last call failed to reach the database, until one succeeds. */
  get outage(): Outage | null {
    return this.#outage;
  }

  /** Runs one statement in its own implicit transaction, replaying it after a deadlock. */
  async query<Row>(what: string, statement: Statement<Row>): Promise<Result<Row>> {
    return this.#reconnecting(this.reconnectWindowMs, async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return resultOf<Row>(await this.pool.query(statement));
        } catch (error) {
          if (attempt < MAX_ATTEMPTS && isReplayable(error)) continue;
          throw mapPgError(error, what);
        }
      }
    });
  }

  /**
   * Runs `work` between BEGIN and COMMIT on one connection. After a deadlock or serialization failure
   * the whole of `work` runs again (the callbacks the store calls inside are pure, so a replay is
   * safe), and so after a connection lost before COMMIT was sent; any other error rolls back and is
   * rethrown, pg errors mapped, others (e.g. thrown by a plan callback) as they are.
   *
   * @param windowMs - how long to keep trying to reach the database (default the runner's window).
   */
  async transaction<T>(what: string, work: (tx: Transaction) => Promise<T>, windowMs = this.reconnectWindowMs): Promise<T> {
    return this.#reconnecting(windowMs, async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.#transactionOnce(what, work);
        } catch (error) {
          if (attempt < MAX_ATTEMPTS && isReplayable(error)) continue;
          throw error;
        }
      }
    });
  }

  /** Runs `once` again on a fresh connection after a connection failure, for up to `windowMs`. */
  async #reconnecting<T>(windowMs: number, once: () => Promise<T>): Promise<T> {
    const started = Date.now();
    for (let delay = FIRST_RECONNECT_DELAY_MS; ; delay = Math.min(delay * 2, MAX_RECONNECT_DELAY_MS)) {
      try {
        const result = await once();
        this.#outage = null;
        return result;
      } catch (error) {
        if (!(error instanceof StoreUnavailableError)) throw error;
        const reason = error.cause instanceof Error ? error.cause.message : error.message;
        this.#outage = { reason, since: this.#outage?.since ?? new Date() };
        // The last wait is cut to what is left of the window, so the window is used in full.
        const remaining = windowMs - (Date.now() - started);
        if (error instanceof CommitUnknownError || remaining <= 0) throw error;
        await sleep(Math.min(delay, remaining));
      }
    }
  }

  async #transactionOnce<T>(what: string, work: (tx: Transaction) => Promise<T>): Promise<T> {
    const client = await this.#connect(what);
    const send = sender(client);
    let broken: Error | undefined;
    let closing = false;
    let committed = false;
    // The server itself reported an error (e.g. 57P01, its session terminated): whatever was
    // not answered yet did not commit. Only a connection cut without a word leaves a sent COMMIT
    // in doubt.
    let serverEnded = false;
    const onClientError = (error: unknown) => {
      if (sqlState(error) !== undefined) serverEnded = true;
    };
    client.on('error', onClientError);
    // Not awaited: the first statement follows it in the same round trip when pipelined, and a
    // failure of it surfaces through every statement sent behind it.
    const begun = send(BEGIN);
    const run = async (text: string | Statement<unknown>): Promise<QueryResult> => {
      if (closing) throw new TypeError(`${what}: a statement was sent after the commit`);
      const sent = send(text);
      try {
        await begun;
        return await sent;
      } catch (error) {
        if (sqlState(error) !== undefined) serverEnded = true;
        throw mapPgError(error, what);
      }
    };
    const tx: Transaction = {
      query: async <Row>(statement: Statement<Row>) => resultOf<Row>(await run(statement)),
      script: async (statements) => void (await run(statements.map(scriptText).join(';\n'))),
      commit: async () => {
        const sent = run('COMMIT');
        closing = true;
        const result = await sent;
        committed = true;
        // In a transaction that a failed statement aborted, COMMIT answers ROLLBACK.
        if (result.command !== 'COMMIT') throw new StoreError(`${what} failed: the transaction was rolled back`);
      },
    };
    try {
      const result = await work(tx);
      if (!closing) await tx.commit();
      return result;
    } catch (error) {
      const commitSent = closing;
      if (!committed) {
        // Behind every statement sent, so none of them can run after it, outside the transaction.
        closing = true;
        await send('ROLLBACK').catch((rollbackError: Error) => {
          // A connection that cannot roll back is unusable; the pool must drop it.
          broken = rollbackError;
        });
      }
      if (commitSent && !serverEnded && error instanceof StoreUnavailableError) {
        throw new CommitUnknownError(`${what} failed: the connection was lost after COMMIT was sent; the transaction may have committed`, error);
      }
      throw error;
    } finally {
      client.off('error', onClientError);
      client.release(broken);
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

/** A connection lost once COMMIT was on its way: trying again could apply the work twice. */
class CommitUnknownError extends StoreUnavailableError {
  constructor(message: string, lost: StoreUnavailableError) {
    super(message, { cause: lost.cause });
  }
}

/**
 * Sends statements on `client` in call order: at once when it pipelines, otherwise each after the
 * answer to the one before (node-postgres no longer queues them itself). Every promise it returns
 * is marked handled, so one left unawaited after an earlier failure cannot crash the process; its
 * awaiter still sees the rejection.
 */
function sender(client: PoolClient): (text: string | Statement<unknown>) => Promise<QueryResult> {
  const pipelined = (client as { pipeline?: unknown }).pipeline === true;
  let previous: Promise<unknown> = Promise.resolve();
  return (text) => {
    const sent = pipelined ? client.query(text) : previous.then(() => client.query(text));
    previous = sent.catch(() => undefined);
    return sent;
  };
}

/**
 * Settings every transaction adds to the {@link SESSION_SETTINGS} (which it sets too, so that they
 * hold on a pool the caller passed): index reads costed near sequential ones, so no sort where an
 * index can serve. A claim takes the first due rows `FOR NO KEY UPDATE SKIP LOCKED` with a `LIMIT`;
 * the row locking sits between the limit and a sort, so a sort cannot stop early: a plan that
 * fetches every due row and sorts it (which the planner prefers for a backlog) costs the whole
 * backlog per claim, where walking the index in order stops after `limit` rows.
 */
const TRANSACTION_SETTINGS: readonly (readonly [string, string])[] = [['random_page_cost', '1.1']];

/** Opens a transaction with the {@link SESSION_SETTINGS} and the {@link TRANSACTION_SETTINGS}. */
const BEGIN = ['BEGIN', ...[...SESSION_SETTINGS, ...TRANSACTION_SETTINGS].map(([name, value]) => `SET LOCAL ${name} = ${value}`)].join('; ');

/** The text of a statement that takes no parameters, for a script. */
function scriptText(statement: Compilable<unknown>): string {
  const compiled = statement.compile();
  if (compiled.parameters.length > 0) throw new TypeError(`a script statement cannot take parameters: ${compiled.sql}`);
  return compiled.sql;
}
