import type { StoreChange } from '@symbi/core';
import pg from 'pg';
import { beforeAll, expect, it } from 'vitest';
import type { PostgresJobStore } from '@symbi/store-postgres';
import { CONNECTION_STRING, describePostgres, randomSchemaName, useSchema } from './support/postgres.js';

/** Collects changes and waits for them without fixed sleeps. */
function recorder() {
  const seen: StoreChange[] = [];
  return {
    seen,
    listener: (change: StoreChange) => seen.push(change),
    async until(predicate: (change: StoreChange) => boolean, timeoutMs = 5_000): Promise<StoreChange> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = seen.find(predicate);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no matching change within ${timeoutMs} ms; saw ${JSON.stringify(seen)}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
  };
}

/**
 * LISTEN starts in the background when the first subscriber arrives, so a sender keeps announcing
 * `change` until the receiver has it (each announcement a new id suffix, to tell them apart).
 */
async function announceUntilHeard(sender: PostgresJobStore, heard: ReturnType<typeof recorder>, id: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    await sender.notify({ kind: 'job', id: `${id}#${attempt}` });
    try {
      await heard.until((change) => change.id.startsWith(`${id}#`), 100);
      return;
    } catch (error) {
      if (attempt > 50) throw error;
    }
  }
}

async function listenerPids(channel: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: CONNECTION_STRING });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT pid FROM pg_stat_activity WHERE query = $1`, [`LISTEN "${channel}"`]);
    return rows.map((row) => row.pid as number);
  } finally {
    await client.end();
  }
}

describePostgres('PostgresJobStore notifications', () => {
  const db = useSchema();
  let a: PostgresJobStore;
  let b: PostgresJobStore;
  beforeAll(async () => {
    a = await db.open();
    b = await db.open();
  });

  it('delivers a change from one instance to the subscriber of another, and not back to itself', async () => {
    const atB = recorder();
    const atA = recorder();
    const stopB = b.subscribe(atB.listener);
    const stopA = a.subscribe(atA.listener);
    try {
      await announceUntilHeard(a, atB, 'warm-up');
      await a.notify({ kind: 'run', id: 'run-42' });
      expect(await atB.until((change) => change.id === 'run-42')).toEqual({ kind: 'run', id: 'run-42' });
      await announceUntilHeard(b, atA, 'from-b');
      expect(atA.seen.some((change) => change.id.startsWith('warm-up') || change.id === 'run-42')).toBe(false);
    } finally {
      stopA();
      stopB();
    }
  });

  it('carries ids of any content', async () => {
    const heard = recorder();
    const stop = b.subscribe(heard.listener);
    try {
      await announceUntilHeard(a, heard, 'warm-up');
      const id = `it's "quoted" \\ 🚀 ${'x'.repeat(2000)}`;
      await a.notify({ kind: 'job', id });
      expect(await heard.until((change) => change.id === id)).toEqual({ kind: 'job', id });
    } finally {
      stop();
    }
  });

  it('stops delivering after unsubscribe and gives the connection back', async () => {
    const heard = recorder();
    const stop = b.subscribe(heard.listener);
    await announceUntilHeard(a, heard, 'warm-up');
    stop();
    stop();
    const deadline = Date.now() + 5_000;
    while ((await listenerPids(b.notifyChannel)).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(await listenerPids(b.notifyChannel)).toEqual([]);
    const count = heard.seen.length;
    await a.notify({ kind: 'job', id: 'after-unsubscribe' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(heard.seen.length).toBe(count);
  });

  it('keeps a throwing subscriber from starving the others', async () => {
    const heard = recorder();
    const stopBad = b.subscribe(() => {
      throw new Error('subscriber bug');
    });
    const stopGood = b.subscribe(heard.listener);
    try {
      await announceUntilHeard(a, heard, 'warm-up');
      await a.notify({ kind: 'run', id: 'still-delivered' });
      await heard.until((change) => change.id === 'still-delivered');
    } finally {
      stopBad();
      stopGood();
    }
  });

  it('reconnects when the LISTEN connection is killed', async () => {
    const heard = recorder();
    const stop = b.subscribe(heard.listener);
    try {
      await announceUntilHeard(a, heard, 'before');
      const [pid] = await listenerPids(b.notifyChannel);
      expect(pid).toBeTypeOf('number');
      const killer = new pg.Client({ connectionString: CONNECTION_STRING });
      await killer.connect();
      await killer.query('SELECT pg_terminate_backend($1)', [pid]);
      await killer.end();
      await announceUntilHeard(a, heard, 'after');
      const [newPid] = await listenerPids(b.notifyChannel);
      expect(newPid).not.toBe(pid);
    } finally {
      stop();
    }
  });

  it('keeps schemas apart: a store on another schema hears nothing', async () => {
    const other = await db.open({ schema: randomSchemaName() });
    try {
      const heard = recorder();
      const stop = other.subscribe(heard.listener);
      const control = recorder();
      const stopControl = b.subscribe(control.listener);
      try {
        await announceUntilHeard(a, control, 'same-schema');
        await a.notify({ kind: 'job', id: 'last' });
        await control.until((change) => change.id === 'last');
        expect(heard.seen).toEqual([]);
      } finally {
        stop();
        stopControl();
      }
    } finally {
      await other.close();
    }
  });
});
