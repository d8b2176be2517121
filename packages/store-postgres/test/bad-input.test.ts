import { ValidationError, newRun, type AuditEvent } from '@symbi/core';
import { randomUUID } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import type { PostgresJobStore } from '@symbi/store-postgres';
import { makeJob } from '@symbi/core/testing';
import { describePostgres, useSchema } from './support/postgres.js';

/** Strings aimed at this adapter's paths: SQL text, JSON parameters, jsonb, array literals. */
const NASTY = [
  `'; DROP SCHEMA public CASCADE; --`,
  `SELECT * FROM jobs WHERE 1=1 OR ''='`,
  `$1 $2 ::json ::text[] E'\\x00'`,
  `{"id":"x"}`,
  `"}]},{"id":"injected`,
  `{a,b,"c"} {NULL}`,
  `\\u0000 \\n \\\\ \\`,
  `null`,
  `NULL`,
  `it's "double" \`back\``,
  `👩‍💻🚀 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \u202Eevil\u202C \uFEFFbom \u2028\u2029 e\u0301`,
  `\u0001\u001f\u007f\t\r\n`,
  `%_*?[]^$.|+(){}\\`,
  '🚀'.repeat(2_560),
  'x'.repeat(10 * 1024),
] as const;

describePostgres('PostgresJobStore with hostile input', () => {
  const db = useSchema();
  let store: PostgresJobStore;
  beforeAll(async () => {
    store = await db.open();
  });

  it.each(NASTY.map((text, i) => [i, text] as const))('round-trips string #%i through every kind of column', async (i, text) => {
    const job = makeJob({
      id: `${text}#${i}`,
      name: `${text} name`,
      agentId: text,
      input: text,
      delivery: [text],
      webhookHeaders: { [text]: text, 'X-"q"': text },
      emailRecipients: [text, text],
      policy: { ...makeJob().policy, approver: text, requireCapabilities: [text] },
      slackChannel: text,
      nextRun: null,
    });
    expect(await store.createJob(job)).toEqual(job);
    expect(await store.getJob(job.id)).toEqual(job);
    expect(await store.getJobByName(job.name)).toEqual(job);
    expect(await store.listJobs({ agentId: text })).toEqual([job]);

    const run = await store.insertRun({ ...newRun(job, { scheduledFor: new Date(), trigger: 'manual' }), input: text, status: 'running', owner: text });
    const iteration = { index: 1, output: text, summary: text, action: 'sleep' as const, durationMs: 1 };
    const updated = await store.updateRun(run.id, { iterations: [iteration], stderr: text }, { owner: text, statusIn: ['running'] });
    expect(updated).toMatchObject({ iterations: [iteration], stderr: text });
    const finished = await store.finishRun({
      runId: run.id,
      owner: text,
      outcome: 'failure',
      patch: { status: 'failed', output: text, summary: text, error: text, completedAt: new Date() },
      plan: () => ({}),
    });
    expect(finished?.run).toMatchObject({ output: text, summary: text, error: text, input: text, owner: text });
    expect(await store.getRun(run.id)).toEqual(finished?.run);
    expect(await store.listRuns({ agentId: text, jobId: job.id })).toEqual([finished?.run]);

    const session = { summary: text, history: [{ role: 'user' as const, content: text, at: text }], updatedAt: new Date() };
    await store.saveSession(job.id, session);
    expect(await store.loadSession(job.id)).toEqual(session);

    const event: AuditEvent = { id: randomUUID(), type: 'CronJobFailed', at: new Date(), jobId: job.id, runId: run.id, actor: text, details: { [text]: [text, { nested: text }] } };
    await store.appendAudit(event);
    expect(await store.queryAudit({ jobId: job.id })).toEqual([event]);
  });

  it('matches filter metacharacters literally', async () => {
    const literal = await store.createJob(makeJob({ agentId: '%', nextRun: null }));
    await store.createJob(makeJob({ agentId: 'a%b', nextRun: null }));
    await store.createJob(makeJob({ agentId: '_', nextRun: null }));
    await store.createJob(makeJob({ agentId: 'x', nextRun: null }));
    expect(await store.listJobs({ agentId: '%' })).toEqual([literal]);
    expect((await store.listJobs({ agentId: '_' })).map((job) => job.agentId)).toEqual(['_']);
    expect(await store.listJobs({ agentId: '.*' })).toEqual([]);
    expect(await store.listRuns({ agentId: '%' })).toEqual([]);
    expect(await store.queryAudit({ jobId: '%' })).toEqual([]);
  });

  it('keeps a 1 MB output intact', async () => {
    const job = await store.createJob(makeJob({ nextRun: null }));
    const output = 'ab🚀'.repeat(256 * 1024);
    const run = await store.insertRun(newRun(job, { scheduledFor: new Date(), trigger: 'manual' }));
    await store.updateRun(run.id, { output });
    expect((await store.getRun(run.id))?.output).toBe(output);
  });

  it('refuses the NUL character, which PostgreSQL cannot store, naming the column', async () => {
    const error = await store.createJob(makeJob({ input: 'before\u0000after' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('input');
    const job = await store.createJob(makeJob({ nextRun: null }));
    const run = await store.insertRun(newRun(job, { scheduledFor: new Date(), trigger: 'manual' }));
    await expect(store.updateRun(run.id, { output: 'a\u0000' })).rejects.toMatchObject({ field: 'output' });
    await expect(store.saveSession(job.id, { summary: null, history: [{ role: 'user', content: '\u0000', at: '' }], updatedAt: new Date() })).rejects.toMatchObject({ field: 'history' });
    expect((await store.getRun(run.id))?.output).toBeNull();
  });
});
