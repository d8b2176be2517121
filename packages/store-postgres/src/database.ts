import { createHash } from 'node:crypto';
import type { Pool, PoolClient, QueryResult } from 'pg';
import { isReplayable, mapPgError } from './pg-errors.js';
import type { Row } from './row-mapping.js';

/** The statements of one open transaction; errors come out already mapped to the core's taxonomy. */
export interface Transaction {
  /** Runs one statement (prepared, with parameters). */
  query(text: string, values?: unknown[]): Promise<QueryResult<Row>>;
  /** Runs a script of several parameterless statements (DDL), unprepared. */
  script(text: string): Promise<void>;
}

/** How often a transaction that lost a deadlock or serialization race is replayed before giving up. */
const MAX_ATTEMPTS = 4;

/**
 * The pool plus the two ways this package talks to it: single statements and transactions.
 * Every statement runs as a named prepared statement (named by a hash of its text), so each
 * connection parses and plans a statement once however often it runs: the claim and finish paths
 * run thousands of times a second.
 */
export class Database {
  private readonly names = new Map<string, string>();

  constructor(readonly pool: Pool) {}

  /** Runs one statement in its own implicit transaction, replaying it after a deadlock. */
  async query(what: string, text: string, values: unknown[] = []): Promise<QueryResult<Row>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.pool.query<Row>({ name: this.nameOf(text), text, values });
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
      const client = await this.connect(what);
      let broken: Error | undefined;
      const tx: Transaction = {
        query: async (text, values = []) => {
          try {
            return await client.query<Row>({ name: this.nameOf(text), text, values });
          } catch (error) {
            throw mapPgError(error, what);
          }
        },
        script: (text) => this.simple(client, text, what),
      };
      try {
        // Sent as one message with BEGIN, so it costs no round trip; see the pool's JIT setting.
        await this.simple(client, 'BEGIN; SET LOCAL jit = off', what);
        const result = await work(tx);
        await this.simple(client, 'COMMIT', what);
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
  private async simple(client: PoolClient, text: string, what: string): Promise<void> {
    try {
      await client.query(text);
    } catch (error) {
      throw mapPgError(error, what);
    }
  }

  private async connect(what: string): Promise<PoolClient> {
    try {
      return await this.pool.connect();
    } catch (error) {
      throw mapPgError(error, what);
    }
  }

  private nameOf(text: string): string {
    let name = this.names.get(text);
    if (name === undefined) {
      name = `symbi_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
      this.names.set(text, name);
    }
    return name;
  }
}
