import { newRun } from '@symbi/core';
import { describe, expect, it } from 'vitest';
import { FIXTURE_EPOCH, makeJob } from '@symbi/core/testing';
import { openStore, tempDbPath } from './temp-files.js';

const at = (seconds: number): Date => new Date(FIXTURE_EPOCH.getTime() + seconds * 1000);

/** Text that breaks naive SQL, JSON or encoding handling. */
const HOSTILE = [
  `'; DROP TABLE jobs; --`,
  `Robert'); DELETE FROM runs WHERE ('1'='1`,
  `"double" 'single' \`back\` \\back\\slash`,
  'select * from jobs where 1=1 union select sqlite_version()',
  '🚀 émoji ✅ 👩‍💻 中文 עברית',
  'nul\u0000inside',
  'line one\nline two\r\n\ttab',
  '100% _wild_ [cards] *?',
  '{"json": ["looking", 1]}',
  'x'.repeat(10 * 1024),
];

describe('hostile input', () => {
  it('round-trips every text field of a job, a run, a session and an audit event through the file', async () => {
    const path = tempDbPath();
    const writer = await openStore({ path });
    const stored = [];
    for (const [i, text] of HOSTILE.entries()) {
      const job = await writer.createJob(
        makeJob({
          name: `${i}:${text}`,
          agentId: text,
          input: text,
          cronExpr: text,
          at: text,
          timezone: text,
          webhookUrl: text,
          webhookHeaders: { [text]: text, 'X-Plain': text },
          slackChannel: text,
          emailRecipients: [text, text],
          delivery: ['stdout', text],
          agentPinJwt: text,
          policy: { ...makeJob().policy, approver: text, requireCapabilities: [text], allowedEnvironments: [text] },
          heartbeat: { enabled: true, contextMode: 'fully_ephemeral', maxIterations: 3 },
        }),
      );
      const run = await writer.insertRun({
        ...newRun(job, { scheduledFor: at(i), trigger: 'manual', input: text }),
        jobName: text,
        output: text,
        summary: text,
        error: text,
        stderr: text,
        owner: text,
        iterations: [{ index: 1, output: text, summary: text, action: 'continue', durationMs: 1 }],
        deliveries: [{ channel: text, status: 'failed', attempts: 1, error: text, completedAt: at(i + 1) }],
      });
      const session = { summary: text, history: [{ role: 'assistant' as const, content: text, at: text }], updatedAt: at(i) };
      await writer.saveSession(job.id, session);
      const event = { id: `event-${i}`, type: 'CronJobFailed' as const, at: at(i), jobId: job.id, runId: run.id, actor: text, details: { [text]: text, list: [text] } };
      await writer.appendAudit(event);
      stored.push({ job, run, session, event });
    }
    await writer.close();

    const reader = await openStore({ path });
    for (const { job, run, session, event } of stored) {
      expect(await reader.getJob(job.id)).toEqual(job);
      expect(await reader.getJobByName(job.name)).toEqual(job);
      expect(await reader.getRun(run.id)).toEqual(run);
      expect(await reader.listRuns({ agentId: job.agentId })).toEqual([run]);
      expect(await reader.loadSession(job.id)).toEqual(session);
      expect(await reader.queryAudit({ jobId: job.id })).toEqual([event]);
    }
    expect(await reader.listJobs()).toHaveLength(HOSTILE.length);
  });

  it('matches filters literally: %, _ and quotes are not wildcards or syntax', async () => {
    const store = await openStore();
    const names = ['100%', '100-percent', 'a_b', 'axb', `it's`, 'its'];
    const jobs = new Map<string, Awaited<ReturnType<typeof store.createJob>>>();
    for (const name of names) jobs.set(name, await store.createJob(makeJob({ name, agentId: name })));
    for (const name of names) {
      const job = jobs.get(name)!;
      expect((await store.getJobByName(name))?.id).toBe(job.id);
      expect((await store.listJobs({ agentId: name })).map((j) => j.name)).toEqual([name]);
      await store.insertRun(newRun(job, { scheduledFor: at(1), trigger: 'manual' }));
      await store.appendAudit({ id: `e-${name}`, type: 'CronJobCreated', at: at(1), jobId: job.id, runId: null, actor: 'cli', details: {} });
    }
    for (const pattern of ['%', '_', '100_', 'a%', `'`, `' OR '1'='1`, '*']) {
      expect(await store.getJobByName(pattern)).toBeNull();
      expect(await store.listJobs({ agentId: pattern })).toEqual([]);
      expect(await store.listRuns({ agentId: pattern })).toEqual([]);
      expect(await store.listRuns({ jobId: pattern })).toEqual([]);
      expect(await store.queryAudit({ jobId: pattern })).toEqual([]);
    }
    expect((await store.listRuns({ agentId: 'a_b' })).map((r) => r.jobName)).toEqual(['a_b']);
    expect(await store.listJobs()).toHaveLength(names.length);
  });
});
