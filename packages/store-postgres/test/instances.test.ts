import { InstancePresence, newRun, SILENCE_LIMIT_MS, thisProcess, type JobRunRecord } from '@symbi/core';
import { makeJob, VirtualClock } from '@symbi/core/testing';
import { expect, it } from 'vitest';
import { describePostgres, queryRows, useSchema } from './support/postgres.js';

describePostgres('PostgresJobStore instances: liveness judged by the server clock', () => {
  const schema = useSchema();
  const sql = queryRows;
  /** An instance on another host, whose pid this host cannot check: only its heartbeat tells. */
  const remote = (id: string) => ({ id, host: 'elsewhere', pid: 1, startToken: null });

  it("measures silence by the server's now()", async () => {
    const store = await schema.open();
    await store.registerInstance(remote('clock-a'));
    await sql(`UPDATE "${store.schema}".instances SET heartbeat_at = now() - interval '20 seconds' WHERE id = 'clock-a'`);
    const [silent] = await store.listInstances();
    expect(silent!.silentMs).toBeGreaterThanOrEqual(20_000);
    expect(silent!.silentMs).toBeLessThan(25_000);
    expect(await store.beatInstance('clock-a')).toBe(true);
    expect((await store.listInstances())[0]!.silentMs).toBeLessThan(5_000);
    await store.deregisterInstance('clock-a');
  });

  it('a survivor takes over the runs of an instance on another host once it is silent past the limit, not before', async () => {
    const store = await schema.open();
    const job = await store.createJob(makeJob({ nextRun: null, maxConcurrent: 5 }));
    const held = (owner: string): Promise<JobRunRecord> =>
      store.insertRun({ ...newRun(job, { scheduledFor: new Date(), trigger: 'manual' }), status: 'running', owner, leaseExpiresAt: new Date(Date.now() + 60_000) });
    await store.registerInstance(remote('quiet'));
    await store.registerInstance(remote('gone'));
    const quietRun = await held('quiet');
    const goneRun = await held('gone');
    await sql(`UPDATE "${store.schema}".instances SET heartbeat_at = now() - $1 * interval '1 millisecond' WHERE id = 'quiet'`, [SILENCE_LIMIT_MS - 3_000]);
    await sql(`UPDATE "${store.schema}".instances SET heartbeat_at = now() - $1 * interval '1 millisecond' WHERE id = 'gone'`, [SILENCE_LIMIT_MS + 1_000]);
    const errors: unknown[] = [];
    const survivor = InstancePresence.of(store, new VirtualClock(), 'survivor', { onError: (error) => errors.push(error), onDeclaredDead: () => undefined });
    await survivor!.start();
    const released = await survivor!.sweep(new Date(), 100, () => ({}));
    expect(released.map((run) => run.id)).toEqual([goneRun.id]);
    expect(await store.getRun(goneRun.id)).toMatchObject({ status: 'interrupted', owner: null, error: expect.stringMatching(/^interrupted: instance gone \(pid 1 on elsewhere\) is gone: no heartbeat for \d+ ms$/) });
    expect(await store.getRun(quietRun.id)).toEqual(quietRun);
    expect((await store.listInstances()).map((row) => row.id)).toEqual(['quiet', 'survivor']);
    // The forgotten instance comes back: its beat finds no row, and its runs are already lost to it.
    expect(await store.beatInstance('gone')).toBe(false);
    expect((await store.renewLeases('gone', [goneRun.id], new Date(Date.now() + 60_000))).lost).toEqual([goneRun.id]);
    await survivor!.stop();
    expect((await store.listInstances()).map((row) => row.id)).toEqual(['quiet']);
    expect(errors).toEqual([]);
  });

  it('an instance on this host whose process is alive is never taken over, however long it is silent', async () => {
    const store = await schema.open();
    const me = thisProcess('same-process-other-id');
    await store.registerInstance({ ...me, pid: process.ppid, startToken: null });
    await sql(`UPDATE "${store.schema}".instances SET heartbeat_at = now() - interval '1 hour' WHERE id = $1`, [me.id]);
    const survivor = InstancePresence.of(store, new VirtualClock(), 'survivor-2', { onError: () => undefined, onDeclaredDead: () => undefined });
    expect(await survivor!.sweep(new Date(), 100, () => ({}))).toEqual([]);
    expect((await store.listInstances()).map((row) => row.id)).toContain(me.id);
  });
});
