import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startLiveApi, type LiveApi } from './live-api.js';

const SPEC_BASE_URL = 'http://localhost:8080';
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/**
 * Runs the spec's JavaScript SDK example unchanged but for its import line. The example talks to
 * `http://localhost:8080`; the global `fetch` is wrapped to send those requests to the live
 * server on its random port instead, and to let a run finish before its history is read so the
 * printed lines do not depend on timing.
 */
describe("the spec's JavaScript SDK example", () => {
  let live: LiveApi;
  const requests: string[] = [];
  const lines: string[] = [];

  beforeAll(async () => {
    live = await startLiveApi({ apiKey: 'js-example-key', agents: { 'backup-agent': (req) => `backed up: ${req.input}` } });
    const realFetch = globalThis.fetch;
    vi.stubEnv('SYMBI_API_KEY', 'js-example-key');
    vi.stubGlobal('fetch', async (input: string, init: RequestInit) => {
      expect(input.startsWith(SPEC_BASE_URL)).toBe(true);
      const path = input.slice(SPEC_BASE_URL.length);
      requests.push(`${init.method} ${path}`);
      if (path.includes('/history')) await live.settled('daily-backup');
      return realFetch(`${live.url}${path}`, init);
    });
    vi.spyOn(console, 'log').mockImplementation((line: string) => {
      lines.push(line);
    });
    try {
      await import('./fixtures/spec-example.mjs');
    } finally {
      vi.restoreAllMocks();
      vi.unstubAllGlobals();
      vi.unstubAllEnvs();
    }
  });
  afterAll(() => live.close());

  it('prints what the spec promises', () => {
    expect(lines).toHaveLength(4);
    const [created, active, next, run] = lines as [string, string, string, string];
    expect(created).toMatch(new RegExp(`^Created job: ${UUID}$`));
    expect(active).toBe('Active jobs: 1');
    expect(next).toMatch(/^Next run: \d{4}-\d{2}-\d{2}T02:00:00\.000Z$/);
    expect(new Date(next.slice('Next run: '.length)).getTime()).toBeGreaterThan(Date.now());
    expect(run).toMatch(new RegExp(`^Run ${UUID}: succeeded \\(\\d+ms\\)$`));
  });

  it('called the spec routes with the spec field names', () => {
    const jobId = lines[0]!.slice('Created job: '.length);
    expect(requests).toEqual([
      'POST /api/v1/schedule',
      'GET /api/v1/schedule?status=active',
      `GET /api/v1/schedule/${jobId}`,
      `POST /api/v1/schedule/${jobId}/run`,
      `POST /api/v1/schedule/${jobId}/pause`,
      `GET /api/v1/schedule/${jobId}/history?limit=10`,
      `POST /api/v1/schedule/${jobId}/resume`,
      `DELETE /api/v1/schedule/${jobId}`,
    ]);
  });

  it('ran the job with its input and delivered to the webhook channel, then deleted it', async () => {
    expect(live.router.delivered.map((d) => [d.channel, d.job.webhookUrl, d.output])).toEqual([
      ['webhook', 'https://backup.example.com/notify', 'backed up: Backup database'],
    ]);
    expect(await live.scheduler.list()).toEqual([]);
    const audit = (await live.scheduler.auditLog()).map((e) => e.type).reverse();
    // The run may finish before or after the pause, so only the API calls' order is fixed.
    expect(audit.filter((type) => type !== 'CronJobExecuted')).toEqual(['CronJobCreated', 'CronJobPaused', 'CronJobResumed', 'CronJobDeleted']);
    expect(audit.filter((type) => type === 'CronJobExecuted')).toHaveLength(1);
  });
});
