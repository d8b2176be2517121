import type { StoreChange } from '@symbi/core';
import { sql, type Kysely } from 'kysely';
import type { Notification, Pool, PoolClient } from 'pg';
import type { Database } from './schema.js';

/** What travels in a NOTIFY payload: the change plus the store instance that made it. */
interface ChangeMessage extends StoreChange {
  source: string;
}

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5_000;

/** The JSON payload announcing `change` made by store instance `source`. */
export function encodeChange(change: StoreChange, source: string): string {
  const message: ChangeMessage = { kind: change.kind, id: change.id, source };
  return JSON.stringify(message);
}

function decodeChange(payload: string | undefined): ChangeMessage | null {
  try {
    const message = JSON.parse(payload ?? '') as Partial<ChangeMessage>;
    if ((message.kind === 'job' || message.kind === 'run') && typeof message.id === 'string' && typeof message.source === 'string') {
      return message as ChangeMessage;
    }
  } catch {
    // Someone else's NOTIFY on our channel; not ours to interpret.
  }
  return null;
}

/**
 * Holds one pooled connection in `LISTEN` while anyone is subscribed, and hands every change made by
 * another store instance to the subscribers. When the connection drops it reconnects with capped
 * exponential backoff; changes sent while it was down are missed, which the scheduler's tick
 * interval bounds.
 */
export class ChangeListener {
  private readonly listeners = new Set<(change: StoreChange) => void>();
  private client: PoolClient | null = null;
  private connecting: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryMs = FIRST_RETRY_MS;
  private closed = false;
  private readonly detachers = new Map<PoolClient, () => void>();
  private readonly listen: string;
  private readonly unlisten: string;

  /**
   * @param db - kysely, to write the `LISTEN` statements.
   * @param channel - the channel name as stored by PostgreSQL.
   * @param source - this store instance's id; its own changes are not echoed back.
   */
  constructor(
    private readonly pool: Pool,
    db: Kysely<Database>,
    private readonly channel: string,
    private readonly source: string,
  ) {
    this.listen = sql`LISTEN ${sql.id(channel)}`.compile(db).sql;
    this.unlisten = sql`UNLISTEN ${sql.id(channel)}`.compile(db).sql;
  }

  /** Adds a subscriber, connecting on the first; the returned function removes it (idempotent). */
  subscribe(listener: (change: StoreChange) => void): () => void {
    const wrapped = (change: StoreChange) => listener(change);
    this.listeners.add(wrapped);
    if (!this.closed && this.client === null && this.connecting === null && this.retryTimer === null) this.connect();
    return () => {
      this.listeners.delete(wrapped);
      if (this.listeners.size === 0) void this.disconnect();
    };
  }

  /** Stops listening for good. */
  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    await this.disconnect();
  }

  private connect(): void {
    this.connecting = this.openClient().finally(() => {
      this.connecting = null;
    });
  }

  private async openClient(): Promise<void> {
    let client: PoolClient | null = null;
    try {
      client = await this.pool.connect();
      const held = client;
      const onNotification = (message: Notification) => this.deliver(message);
      const onLost = (error?: Error) => this.lost(held, error ?? new Error('LISTEN connection ended'));
      held.on('notification', onNotification);
      held.on('error', onLost);
      held.on('end', onLost);
      this.detachers.set(held, () => {
        held.off('notification', onNotification);
        held.off('error', onLost);
        held.off('end', onLost);
      });
      await held.query(this.listen);
      if (this.closed || this.listeners.size === 0) {
        await this.release(held);
        return;
      }
      this.client = held;
      this.retryMs = FIRST_RETRY_MS;
    } catch (error) {
      if (client !== null) this.destroy(client, error);
      this.scheduleRetry();
    }
  }

  private deliver(message: Notification): void {
    if (message.channel !== this.channel) return;
    const change = decodeChange(message.payload);
    if (change === null || change.source === this.source) return;
    for (const listener of this.listeners) {
      try {
        listener({ kind: change.kind, id: change.id });
      } catch {
        // One subscriber's failure must neither starve the others nor kill the connection;
        // subscribers report their own errors.
      }
    }
  }

  private lost(client: PoolClient, error: Error): void {
    if (this.client !== client) return;
    this.client = null;
    this.destroy(client, error);
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.closed || this.listeners.size === 0 || this.retryTimer !== null) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.closed && this.listeners.size > 0 && this.client === null) this.connect();
    }, delay);
    this.retryTimer.unref();
  }

  private async disconnect(): Promise<void> {
    if (this.retryTimer !== null) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    await this.connecting;
    // Someone may have subscribed again while the connection was being opened.
    if (!this.closed && this.listeners.size > 0) return;
    const client = this.client;
    if (client === null) return;
    this.client = null;
    await this.release(client);
  }

  /** Returns a healthy connection to the pool, no longer listening and without our handlers. */
  private async release(client: PoolClient): Promise<void> {
    try {
      await client.query(this.unlisten);
      this.detachers.get(client)?.();
      this.detachers.delete(client);
      client.release();
    } catch (error) {
      this.destroy(client, error);
    }
  }

  /**
   * Makes the pool drop a broken connection. Our handlers stay attached: a dying socket may still
   * emit `error`, and an `error` event without a handler would crash the process.
   */
  private destroy(client: PoolClient, error: unknown): void {
    this.detachers.delete(client);
    client.removeAllListeners('notification');
    client.release(error instanceof Error ? error : new Error(String(error)));
  }
}
