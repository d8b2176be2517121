import { SymbiontClient, type AuditEvent, type Job, type Run } from '@symbi/client';
import { API_ROUTES, buildOpenApiDocument } from '@symbi/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLiveServer, waitFor, type LiveServer } from './live-server.js';

type Schema = {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
};

const SCHEMAS = (buildOpenApiDocument(API_ROUTES) as { components: { schemas: Record<string, Schema> } }).components.schemas;

const typeOf = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : Number.isInteger(value) ? 'integer' : typeof value;

/**
 * Where `value` departs from `schema` (the subset of JSON Schema the API document uses), as
 * `path: problem` lines. Objects with `properties` must have exactly those fields: the wire
 * types of `@symbi/core` have no optional field, so a field missing from either side is drift.
 */
function violations(value: unknown, schema: Schema, path: string): string[] {
  if (schema.$ref) return violations(value, SCHEMAS[schema.$ref.split('/').at(-1)!]!, path);
  const actual = typeOf(value);
  const types = schema.type === undefined ? [] : [schema.type].flat();
  if (types.length > 0 && !types.includes(actual) && !(actual === 'integer' && types.includes('number'))) {
    return [`${path}: ${actual} where the schema says ${types.join(' | ')}`];
  }
  if (schema.enum && !schema.enum.includes(value)) return [`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`];
  if (actual === 'array' && schema.items) return (value as unknown[]).flatMap((item, i) => violations(item, schema.items!, `${path}[${i}]`));
  if (actual !== 'object' || !schema.properties) return [];
  const record = value as Record<string, unknown>;
  const fields = new Set([...Object.keys(record), ...Object.keys(schema.properties)]);
  return [...fields].flatMap((field) => {
    const fieldSchema = schema.properties![field];
    if (!fieldSchema) return [`${path}.${field}: not in the schema`];
    if (!(field in record)) return [`${path}.${field}: missing from the response`];
    return violations(record[field], fieldSchema, `${path}.${field}`);
  });
}

describe('the wire types of @symbi/core, the server schemas and live responses', () => {
  let live: LiveServer;
  let client: SymbiontClient;
  let job: Job;
  let run: Run;

  beforeAll(async () => {
    live = await startLiveServer({ agents: { reporter: (request) => `report for ${request.input}` } });
    client = new SymbiontClient({ baseUrl: live.url });
    job = await client.schedule.create({
      name: 'wire-report',
      agent_id: 'reporter',
      cron_expr: '0 0 9 * * *',
      timezone: 'Europe/Berlin',
      delivery: ['stdout'],
      webhook_headers: { authorization: 'Bearer secret' },
      policy: { max_runtime: '5m', allowed_hours: { start: '00:00', end: '23:59' } },
      heartbeat: { enabled: true, context_mode: 'shared_persistent', max_iterations: 2 },
    });
    const queued = await client.schedule.runNow(job.id, { input: 'Monday' });
    run = await waitFor(async () => {
      const current = await client.schedule.getRun(queued.id);
      return current.completed_at === null ? undefined : current;
    });
  });
  afterAll(() => live.close());

  it('a job as the server returns it matches the Job schema field for field', async () => {
    expect(violations(job, SCHEMAS.Job!, 'job')).toEqual([]);
    const listed = await client.schedule.list();
    expect(listed.flatMap((entry, i) => violations(entry, SCHEMAS.Job!, `list[${i}]`))).toEqual([]);
    expect(job.webhook_headers).toEqual({ authorization: '[redacted]' });
    expect(job.heartbeat).toEqual({ enabled: true, context_mode: 'shared_persistent', max_iterations: 2 });
  });

  it('a finished heartbeat run with deliveries matches the Run schema field for field', async () => {
    expect(run.status).toBe('succeeded');
    expect(run.iterations.length).toBeGreaterThan(0);
    expect(run.deliveries.map((d) => d.channel)).toEqual(['stdout']);
    expect(violations(run, SCHEMAS.Run!, 'run')).toEqual([]);
    const history = await client.schedule.getHistory(job.id);
    expect(history.flatMap((entry, i) => violations(entry, SCHEMAS.Run!, `history[${i}]`))).toEqual([]);
  });

  it('audit events match the AuditEvent schema field for field', async () => {
    const events: AuditEvent[] = await client.schedule.audit();
    expect(events.map((e) => e.type)).toContain('CronJobCreated');
    expect(events.flatMap((event, i) => violations(event, SCHEMAS.AuditEvent!, `audit[${i}]`))).toEqual([]);
  });

  it('the checker catches drift: a field the schema lacks, a missing field, a wrong type', () => {
    const { status: _status, ...withoutStatus } = job;
    expect(violations({ ...job, extra: 1 }, SCHEMAS.Job!, 'job')).toEqual(['job.extra: not in the schema']);
    expect(violations(withoutStatus, SCHEMAS.Job!, 'job')).toEqual(['job.status: missing from the response']);
    expect(violations({ ...job, run_count: '3' }, SCHEMAS.Job!, 'job')).toEqual(['job.run_count: string where the schema says integer']);
  });
});
