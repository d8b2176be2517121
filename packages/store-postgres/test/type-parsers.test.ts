import pg from 'pg';
import { expect, it } from 'vitest';
import { parseTimestamptz, STORE_TYPES } from '../src/type-parsers.js';
import { CONNECTION_STRING, describePostgres } from './support/postgres.js';

const parseAny = pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ, 'text');

it.each([
  '2026-12-06 18:01:43+00',
  '2026-12-06 18:01:43.2+00',
  '2026-12-06 18:01:43.21+00',
  '2026-12-06 18:01:43.218+00',
  '2026-12-06 18:01:43.218178+00',
  '2024-02-29 23:59:59.999999+00',
  '1970-01-01 00:00:00+00',
  '0099-01-01 00:00:00+00',
  '2026-12-06 18:01:43.218178+05:30',
  '2026-12-06 18:01:43-08',
  '10000-01-01 00:00:00+00',
  '0044-03-15 12:00:00+00 BC',
  'infinity',
  '-infinity',
])('reads %s as node-postgres does', (text) => {
  expect(parseTimestamptz(text)).toEqual(parseAny(text));
});

it('reads random instants as node-postgres does', () => {
  for (let i = 0; i < 2000; i++) {
    const iso = new Date(Math.floor(Math.random() * 8e12) - 1e12).toISOString();
    const micros = String(Math.floor(Math.random() * 1000)).padStart(3, '0');
    const text = `${iso.slice(0, 10)} ${iso.slice(11, 23)}${i % 2 === 0 ? micros : ''}+00`;
    expect(parseTimestamptz(text).getTime()).toBe((parseAny(text) as Date).getTime());
  }
});

describePostgres('timestamps read back from the server', () => {
  it('match what was written, to the millisecond, in any session time zone', async () => {
    for (const zone of ['UTC', 'Asia/Kolkata']) {
      const client = new pg.Client({ connectionString: CONNECTION_STRING, types: STORE_TYPES });
      await client.connect();
      try {
        await client.query(`SET TimeZone = '${zone}'`);
        const written = new Date('2026-03-29T01:30:00.123Z');
        const { rows } = await client.query<{ at: Date }>('SELECT $1::timestamptz AS at', [written]);
        expect(rows[0]?.at).toEqual(written);
      } finally {
        await client.end();
      }
    }
  });
});
