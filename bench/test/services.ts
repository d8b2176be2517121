import { Redis } from 'ioredis';
import { postgresProblem } from '../../packages/store-postgres/test/support/postgres.js';
import { describeNeeding } from '../../tests/support/describe-needing.js';
import { POSTGRES_URL, REDIS } from '../src/services.js';

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Why the benchmarks' Redis cannot be used, or null when it answers. */
async function redisProblem(): Promise<string | null> {
  const client = new Redis({ ...REDIS, lazyConnect: true, connectTimeout: 3_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return null;
  } catch (error) {
    return `Redis at ${REDIS.host}:${REDIS.port} is unreachable (${messageOf(error)})`;
  } finally {
    client.disconnect();
  }
}

const [postgres, redis] = await Promise.all([postgresProblem(POSTGRES_URL), redisProblem()]);

/** `describe` for benchmark tests on the real PostgreSQL (see {@link describeNeeding}). */
export function describeWithPostgres(name: string, body: () => void): void {
  describeNeeding(name, postgres, body, 'bench');
}

/** `describe` for benchmark tests on the real PostgreSQL and Redis, as the peers run (see {@link describeNeeding}). */
export function describeWithServices(name: string, body: () => void): void {
  describeNeeding(name, [postgres, redis].filter((problem) => problem !== null).join('; ') || null, body, 'bench');
}
