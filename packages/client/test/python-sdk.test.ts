import { execFile, spawnSync } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { failingAgent } from '@symbi/core/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeNeeding } from '../../../tests/support/describe-needing.js';
import { startLiveApi, type LiveApi } from './live-api.js';

const PYTHON_ROOT = fileURLToPath(new URL('../../../clients/python/', import.meta.url));
const SPEC_ORIGIN = 'http://localhost:8080';
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/** Why the Python SDK cannot be run here (the SDK needs Python 3.8 or later), or null. */
const noPython = (() => {
  const probe = spawnSync('python3', ['-c', 'import sys; sys.exit(0 if sys.version_info >= (3, 8) else 1)']);
  if (probe.error) return `python3 cannot be run (${probe.error.message}): install Python 3.8 or later`;
  return probe.status === 0 ? null : 'python3 is older than 3.8, which the Python SDK needs';
})();

/** `describe` for tests that run the Python SDK (see {@link describeNeeding}). */
const describeWithPython = (name: string, body: () => void) => describeNeeding(name, noPython, body, 'client');

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs python3 without blocking the event loop (the server answering it lives in this process). */
function python(args: string[], env: Record<string, string>): Promise<Outcome> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/_proxy$/i.test(name)));
  return new Promise((resolve) => {
    execFile('python3', args, { cwd: PYTHON_ROOT, env: { ...inherited, PYTHONPATH: PYTHON_ROOT, PYTHONDONTWRITEBYTECODE: '1', ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/**
 * A forward proxy for the example's hard-coded `http://localhost:8080`: urllib sends requests
 * for it through `http_proxy`, and this sends them on to the live server on its random port.
 */
async function startForwarder(target: string, seen: string[]): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/');
    if (url.origin !== SPEC_ORIGIN) {
      res.writeHead(502).end(`unexpected origin ${url.origin}`);
      return;
    }
    seen.push(`${req.method} ${url.pathname}${url.search}`);
    const upstream = request(`${target}${url.pathname}${url.search}`, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

describeWithPython("the spec's Python SDK example", () => {
  let live: LiveApi;
  let forwarder: { server: Server; url: string };
  const seen: string[] = [];
  let outcome: Outcome;

  beforeAll(async () => {
    live = await startLiveApi({ apiKey: 'py-example-key', agents: { 'metrics-agent': (req) => `metrics: ${req.input}` } });
    forwarder = await startForwarder(live.url, seen);
    outcome = await python(['examples/spec_example.py'], { SYMBI_API_KEY: 'py-example-key', http_proxy: forwarder.url, no_proxy: '' });
  });
  afterAll(async () => {
    forwarder.server.closeAllConnections();
    await new Promise((resolve) => forwarder.server.close(resolve));
    await live.close();
  });

  it('exits 0 and prints the expected lines', () => {
    expect(outcome.stderr).toBe('');
    expect(outcome.code).toBe(0);
    const lines = outcome.stdout.trimEnd().split('\n');
    const expected = [
      new RegExp(`^Created job: ${UUID}$`),
      /^Found 1 jobs for metrics-agent$/,
      /^Cron: 0 0 \* \* \* \*$/,
      /^Next run: \d{4}-\d{2}-\d{2}T\d{2}:00:00\.000Z$/,
      new RegExp(`^Run ID: ${UUID}$`),
      /^Job paused for maintenance$/,
      /^Scheduler status: healthy$/,
      /^Active jobs: 1$/,
      /^In-flight jobs: [01]$/,
    ];
    expect(lines).toHaveLength(expected.length);
    lines.forEach((line, i) => expect(line).toMatch(expected[i]!));
  });

  it('went through the spec routes, and the job exists with what the example asked for', async () => {
    const jobId = outcome.stdout.match(new RegExp(`Created job: (${UUID})`))![1]!;
    expect(seen).toEqual([
      'POST /api/v1/schedule',
      'GET /api/v1/schedule?agent_id=metrics-agent',
      `GET /api/v1/schedule/${jobId}`,
      `PUT /api/v1/schedule/${jobId}`,
      `POST /api/v1/schedule/${jobId}/run`,
      `POST /api/v1/schedule/${jobId}/pause`,
      `GET /api/v1/schedule/${jobId}/history?status=failed&limit=5`,
      `POST /api/v1/schedule/${jobId}/resume`,
      'GET /api/v1/health/scheduler',
    ]);
    const job = await live.scheduler.getJob('hourly-metrics');
    expect(job).toMatchObject({ id: jobId, cronExpr: '0 */30 * * * *', delivery: ['slack', 'log_file'], slackChannel: '#metrics', status: 'active' });
    await live.settled(jobId);
    const runId = outcome.stdout.match(new RegExp(`Run ID: (${UUID})`))![1]!;
    expect(await live.scheduler.getRun(runId)).toMatchObject({ status: 'succeeded', output: 'metrics: Generate metrics report' });
    expect(live.router.delivered.map((d) => d.channel)).toEqual(['slack', 'log_file']);
  });
});

describeWithPython('the Python SDK unittest suite', () => {
  let live: LiveApi;

  beforeAll(async () => {
    live = await startLiveApi({ apiKey: 'py-unittest-key', agents: { ok: (req) => `fine: ${req.input}`, broken: failingAgent('no disk') } });
  });
  afterAll(() => live.close());

  it('passes against a live server, with nothing skipped', async () => {
    const result = await python(['-m', 'unittest', 'discover', '-s', 'tests', '-t', '.', '-v'], {
      SYMBI_BASE_URL: live.url,
      SYMBI_API_KEY: 'py-unittest-key',
    });
    expect(result.stderr).toMatch(/^Ran \d+ tests in /m);
    expect(result.stderr).toMatch(/\nOK\n$/);
    expect(result.stderr).not.toContain('skipped');
    expect(result.stderr).toContain('test_job_life_cycle (tests.test_live_server.LiveServerTest.test_job_life_cycle) ... ok');
    expect(result.code).toBe(0);
  });
});
