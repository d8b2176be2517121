import type { InstanceRecord, InstanceRegistration } from '@symbi/core';
import type { Kysely } from 'kysely';
import type { StoreDatabase } from './schema.js';
import type { SqliteRunner } from './sqlite-runner.js';

type Db = Kysely<StoreDatabase>;

/**
 * The `instances` table: the scheduler processes using the file. The store only keeps the rows;
 * core's `lifecycle/liveness.ts` judges which are dead. Times are the callers' clock, epoch ms.
 */

/** Inserts or replaces the row of `instance`, its heartbeat at `now`. */
export function registerInstance(runner: SqliteRunner, db: Db, instance: InstanceRegistration, now: number): void {
  const row = { id: instance.id, host: instance.host, pid: instance.pid, start_token: instance.startToken, started_at: now, heartbeat_at: now, beats: 0 };
  runner
    .query('instances.register', (p) =>
      db
        .insertInto('instances')
        .values({
          id: p('id'),
          host: p('host'),
          pid: p('pid'),
          start_token: p('start_token'),
          started_at: p('started_at'),
          heartbeat_at: p('heartbeat_at'),
          beats: p('beats'),
        })
        .onConflict((oc) => oc.column('id').doUpdateSet({ host: p('host'), pid: p('pid'), start_token: p('start_token'), heartbeat_at: p('heartbeat_at') })),
    )
    .run(row);
}

/** Moves the heartbeat of instance `id` to `now`; false when it has no row. */
export function beatInstance(runner: SqliteRunner, db: Db, id: string, now: number): boolean {
  const beaten = runner
    .query('instances.beat', (p) =>
      db
        .updateTable('instances')
        .set((eb) => ({ heartbeat_at: p('now'), beats: eb('beats', '+', 1) }))
        .where('id', '=', p('id'))
        .returning('id'),
    )
    .get({ id, now });
  return beaten !== undefined;
}

/** Every instance, silent since its last heartbeat by `now`. */
export function listInstances(runner: SqliteRunner, db: Db, now: number): InstanceRecord[] {
  return runner
    .query('instances.list', () => db.selectFrom('instances').selectAll().orderBy('id'))
    .all()
    .map((row) => ({ id: row.id, host: row.host, pid: row.pid, startToken: row.start_token, beats: row.beats, silentMs: Math.max(0, now - row.heartbeat_at) }));
}

/** Deletes the row of each instance whose heartbeat count is still `beats`; the ids deleted. */
export function forgetInstances(runner: SqliteRunner, db: Db, instances: readonly Pick<InstanceRecord, 'id' | 'beats'>[]): string[] {
  const forget = runner.query('instances.forget', (p) => db.deleteFrom('instances').where('id', '=', p('id')).where('beats', '=', p('beats')).returning('id'));
  return instances.filter((instance) => forget.get({ id: instance.id, beats: instance.beats }) !== undefined).map((instance) => instance.id);
}

/** Deletes the row of instance `id`. */
export function deregisterInstance(runner: SqliteRunner, db: Db, id: string): void {
  runner.query('instances.deregister', (p) => db.deleteFrom('instances').where('id', '=', p('id'))).run({ id });
}
