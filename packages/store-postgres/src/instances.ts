import type { InstanceRecord, InstanceRegistration } from '@symbi/core';
import { sql, type Kysely } from 'kysely';
import { statement, type PostgresRunner } from './postgres-runner.js';
import type { Database } from './schema.js';

/**
 * The `instances` table: the scheduler instances working on the schema. The store only keeps the
 * rows; core's `lifecycle/liveness.ts` judges which are dead. Heartbeats and silences are the
 * server's `now()`, so instances on hosts whose clocks disagree are judged alike.
 */
export class InstanceRows {
  constructor(
    private readonly runner: PostgresRunner,
    private readonly db: Kysely<Database>,
  ) {}

  /** Inserts or replaces the row of `instance`, its heartbeat now. */
  async register(instance: InstanceRegistration): Promise<void> {
    const row = { id: instance.id, host: instance.host, pid: instance.pid, start_token: instance.startToken, beats: 0 };
    const query = this.db
      .insertInto('instances')
      .values(row)
      .onConflict((oc) => oc.column('id').doUpdateSet({ host: row.host, pid: row.pid, start_token: row.start_token, heartbeat_at: sql`now()` }));
    await this.runner.query('register instance', statement(query));
  }

  /** Moves the heartbeat of instance `id` to now; false when it has no row. */
  async beat(id: string): Promise<boolean> {
    const query = this.db
      .updateTable('instances')
      .set((eb) => ({ heartbeat_at: sql`now()`, beats: eb('beats', '+', 1) }))
      .where('id', '=', id)
      .returning('id');
    const { rows } = await this.runner.query('beat instance', statement(query));
    return rows.length > 0;
  }

  /** Every instance, with how long it has been silent by the server's clock. */
  async list(): Promise<InstanceRecord[]> {
    const query = this.db
      .selectFrom('instances')
      .select(['id', 'host', 'pid', 'start_token', 'beats', sql<number>`(extract(epoch from now() - heartbeat_at) * 1000)::float8`.as('silent_ms')])
      .orderBy('id');
    const { rows } = await this.runner.query('list instances', statement(query));
    return rows.map((row) => ({ id: row.id, host: row.host, pid: row.pid, startToken: row.start_token, beats: row.beats, silentMs: Math.max(0, row.silent_ms) }));
  }

  /** Deletes the row of each instance whose heartbeat count is still `beats`; the ids deleted. */
  async forget(instances: readonly Pick<InstanceRecord, 'id' | 'beats'>[]): Promise<string[]> {
    if (instances.length === 0) return [];
    const query = this.db
      .deleteFrom('instances')
      .where((eb) => eb.or(instances.map((instance) => eb.and([eb('id', '=', instance.id), eb('beats', '=', instance.beats)]))))
      .returning('id');
    const { rows } = await this.runner.query('forget instances', statement(query));
    return rows.map((row) => row.id);
  }

  /** Deletes the row of instance `id`. */
  async deregister(id: string): Promise<void> {
    await this.runner.query('deregister instance', statement(this.db.deleteFrom('instances').where('id', '=', id)));
  }
}
