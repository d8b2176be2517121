import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpRecorder } from '../../delivery/test/support/http-recorder.js';
import { ROOT, ensureBuilt, killLeftovers, startUp, useTempDir, writeFile, type UpProcess } from './support/cli.js';

/** What the corpus needs of better-sqlite3, to read the store file's rows as they are. */
interface SqliteReader {
  prepare(sql: string): { all(): unknown[] };
  close(): void;
}
/** The SQLite driver the store uses (the CLI does not depend on it). */
const Database = createRequire(join(ROOT, 'packages/store-sqlite/package.json'))('better-sqlite3') as new (
  path: string,
  options: { readonly: boolean },
) => SqliteReader;

/**
 * The security corpus: `symbi up` with API keys configured, secrets planted in its environment,
 * its configuration, a job's webhook headers and an LLM key, then more than 150 requests (hostile
 * headers and bodies among them) against its API on 127.0.0.1. Afterwards every response, every
 * log line, stdout and stderr, every row of the SQLite file and the audit trail is searched for
 * the planted values: none may appear, and no request may answer 5xx.
 */

/** Secrets of the scheduler itself: never in a response, a log line or a stored row. */
const ENV_SECRETS = {
  SYMBI_API_KEY: 'corpus-api-key-7f3a9c1e',
  OPENAI_API_KEY: 'sk-corpus-openai-5b2d8e4f',
  WEBHOOK_AUTH: 'corpus-webhook-auth-2c8e',
  REPORT_TOKEN: 'corpus-report-token-91ab',
  DECLARED_TOKEN: 'corpus-declared-token-44de',
  SLACK_TOKEN: 'xoxb-corpus-slack-6a1f',
  SMTP_PASSWORD: 'corpus-smtp-pass-8e2b',
  SIGNING_SECRET: 'corpus-signing-secret-3d7c',
} as const;
/** A secret a caller puts in a job's own header: stored (it must be sent), never shown or logged. */
const JOB_HEADER_SECRET = 'corpus-job-header-0c5e';

const CONFIG_SECRETS = Object.values(ENV_SECRETS);
const ALL_SECRETS = [...CONFIG_SECRETS, JOB_HEADER_SECRET];

/** Everything a response carried. */
interface Exchange {
  label: string;
  status: number;
  text: string;
}

/** An LLM provider on loopback whose 401 body echoes the key it was sent, as some do. */
async function echoingProvider(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `Incorrect API key provided: ${req.headers.authorization ?? ''}`, type: 'invalid_request_error' } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1` };
}

describe('security corpus: symbi up with API keys, secrets planted everywhere', () => {
  const tempDir = useTempDir();
  let dir: string;
  let up: UpProcess;
  let authReceiver: HttpRecorder;
  let otherReceiver: HttpRecorder;
  let provider: { server: Server; url: string };
  const exchanges: Exchange[] = [];

  async function call(label: string, path: string, init: { method?: string; body?: string; headers?: Record<string, string>; key?: string | null } = {}) {
    const headers: Record<string, string> = { ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers };
    if (init.key !== null) headers.authorization ??= `Bearer ${init.key ?? ENV_SECRETS.SYMBI_API_KEY}`;
    const response = await fetch(`${up.url}${path}`, { method: init.method ?? 'GET', headers, body: init.body });
    const text = `${[...response.headers].map(([name, value]) => `${name}: ${value}`).join('\n')}\n\n${await response.text()}`;
    const exchange = { label, status: response.status, text };
    exchanges.push(exchange);
    return exchange;
  }
  const json = (exchange: Exchange) => JSON.parse(exchange.text.slice(exchange.text.indexOf('\n\n') + 2)) as Record<string, unknown>;
  const create = (label: string, body: unknown) => call(label, '/api/v1/schedule', { method: 'POST', body: JSON.stringify(body) });

  async function settledRun(job: string): Promise<Record<string, unknown>> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const [run] = json(await call(`history ${job}`, `/api/v1/schedule/${job}/history?limit=1`)) as unknown as Record<string, unknown>[];
      const deliveries = (run?.deliveries ?? []) as { status: string }[];
      if (run && !['scheduled', 'running'].includes(run.status as string) && deliveries.every((d) => d.status !== 'pending')) return run;
      if (Date.now() > deadline) throw new Error(`run of ${job} did not settle: ${JSON.stringify(run)}`);
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  }

  async function runNow(job: string): Promise<Record<string, unknown>> {
    expect((await call(`run ${job}`, `/api/v1/schedule/${job}/run`, { method: 'POST', body: '{}' })).status).toBe(202);
    return settledRun(job);
  }

  beforeAll(() => ensureBuilt(), 300_000);

  beforeAll(async () => {
    dir = tempDir();
    [authReceiver, otherReceiver, provider] = await Promise.all([HttpRecorder.start(), HttpRecorder.start(), echoingProvider()]);
    writeFile(dir, 'symbi.toml', `
[api]
env_allow = ["REPORT_TOKEN"]

[scheduler]
tick_interval_seconds = 1

[scheduler.delivery]
webhook_auth_header = "Bearer \${WEBHOOK_AUTH}"
webhook_auth_hosts = ["127.0.0.1:${authReceiver.port}"]
webhook_signing_secret = "\${SIGNING_SECRET}"
webhook_retry_attempts = 0
allow_hosts = ["127.0.0.1"]
slack_api_token = "\${SLACK_TOKEN}"
smtp_host = "127.0.0.1"
smtp_username = "symbi"
smtp_password = "\${SMTP_PASSWORD}"
`);
    writeFile(dir, 'agents.symbi', `
agent llm {
  provider: "openai"
  model: "gpt-corpus"
  base_url: "${provider.url}"
}
agent envprobe {
  command: """node -e 'const leaked = ["SYMBI_API_KEY","OPENAI_API_KEY","WEBHOOK_AUTH","SLACK_TOKEN","SMTP_PASSWORD","REPORT_TOKEN"].filter((n) => n in process.env); console.log(leaked.length ? "leaked " + leaked.join(",") : "clean " + process.env.DECLARED_TOKEN.length)'"""
  env: { DECLARED_TOKEN: "\${DECLARED_TOKEN}" }
}
agent blabber {
  command: """node -e 'console.log("token " + process.env.DECLARED_TOKEN); console.error("stderr Authorization: Bearer " + process.env.DECLARED_TOKEN); process.exit(3)'"""
  env: { DECLARED_TOKEN: "\${DECLARED_TOKEN}" }
}
schedule {
  name: "operator-hook"
  agent: "envprobe"
  cron: "0 0 1 1 *"
  delivery: ["webhook"]
  webhook_url: "${authReceiver.url('/operator')}"
  webhook_headers: { "X-Report": "\${REPORT_TOKEN}" }
}
`);
    up = await startUp(['--config', 'symbi.toml', '--file', 'agents.symbi'], { cwd: dir, env: { ...ENV_SECRETS, NO_COLOR: '1' } });
  }, 120_000);

  afterAll(async () => {
    await up?.stop('SIGTERM');
    killLeftovers();
    await Promise.all([authReceiver?.close(), otherReceiver?.close(), new Promise((resolve) => provider?.server.close(resolve))]);
  });

  it('refuses every request without the right key, whatever the headers hold', async () => {
    const keys: [string, Record<string, string>][] = [
      ['no header', {}],
      ['empty bearer', { authorization: 'Bearer ' }],
      ['wrong key', { authorization: 'Bearer not-the-key' }],
      ['key with a suffix', { authorization: `Bearer ${ENV_SECRETS.SYMBI_API_KEY}x` }],
      ['key prefix only', { authorization: `Bearer ${ENV_SECRETS.SYMBI_API_KEY.slice(0, 10)}` }],
      ['basic scheme', { authorization: `Basic ${Buffer.from(`u:${ENV_SECRETS.SYMBI_API_KEY}`).toString('base64')}` }],
      ['a ${VAR} for the key', { authorization: 'Bearer ${SYMBI_API_KEY}' }],
      ['x-api-key with a ${VAR}', { 'x-api-key': '${SYMBI_API_KEY}' }],
      ['huge header', { authorization: `Bearer ${'k'.repeat(6000)}` }],
      ['control characters', { authorization: 'Bearer \tkey' }],
    ];
    const paths = ['/api/v1/schedule', '/api/v1/audit', '/api/v1/approvals', '/metrics'];
    for (const [label, headers] of keys) {
      for (const path of paths) {
        const exchange = await call(`auth: ${label} ${path}`, path, { headers, key: null });
        expect(exchange.status, exchange.label).toBe(401);
      }
    }
  });

  it('keeps ${VAR} in API values literal unless allow-listed, and delivers the global credential only to its host', async () => {
    const stolen = await create('steal env through headers', {
      name: 'steal',
      agent_id: 'envprobe',
      cron_expr: '0 0 1 1 *',
      delivery: ['webhook'],
      webhook_url: otherReceiver.url('/steal'),
      webhook_headers: { 'X-Stolen': '${SYMBI_API_KEY}', 'X-Openai': '${OPENAI_API_KEY:-none}', 'X-Allowed': '${REPORT_TOKEN}' },
      agent_pin_jwt: '${SYMBI_API_KEY}',
    });
    expect(stolen.status).toBe(201);
    const run = await runNow('steal');
    expect(run.output).toBe(`clean ${ENV_SECRETS.DECLARED_TOKEN.length}`);
    const received = otherReceiver.requests.find((request) => request.path === '/steal')!;
    expect(received.headers['x-stolen']).toBe('${SYMBI_API_KEY}');
    expect(received.headers['x-openai']).toBe('${OPENAI_API_KEY:-none}');
    expect(received.headers['x-allowed']).toBe(ENV_SECRETS.REPORT_TOKEN);
    // a host the operator did not configure webhook_auth_header for never sees it
    expect(received.headers.authorization).toBeUndefined();

    // the operator-written schedule still expands its own references
    await runNow('operator-hook');
    const operator = authReceiver.requests.find((request) => request.path === '/operator')!;
    expect(operator.headers['x-report']).toBe(ENV_SECRETS.REPORT_TOKEN);
    expect(operator.headers.authorization).toBe(`Bearer ${ENV_SECRETS.WEBHOOK_AUTH}`);
  });

  it('drops stored secret headers when a caller moves the webhook to another origin', async () => {
    await create('job with a secret header', {
      name: 'redirected',
      agent_id: 'envprobe',
      cron_expr: '0 0 1 1 *',
      delivery: ['webhook'],
      webhook_url: authReceiver.url('/first'),
      webhook_headers: { Authorization: `Bearer ${JOB_HEADER_SECRET}` },
    });
    const moved = await call('redirect the webhook', '/api/v1/schedule/redirected', {
      method: 'PUT',
      body: JSON.stringify({ webhook_url: otherReceiver.url('/redirected'), webhook_headers: { Authorization: '[redacted]' } }),
    });
    expect(moved.status).toBe(200);
    expect(json(moved).webhook_headers).toEqual({});
    await runNow('redirected');
    const received = otherReceiver.requests.find((request) => request.path === '/redirected')!;
    expect(received.headers.authorization).toBeUndefined();
  });

  it("refuses webhooks to the scheduler's own API, private, link-local and unspecified addresses", async () => {
    const port = new URL(up.url).port;
    const targets = {
      self: `http://127.0.0.1:${port}/api/v1/schedule`,
      private: 'http://10.0.0.1/hook',
      metadata: 'http://169.254.169.254/latest/meta-data/',
      unspecified: `http://0.0.0.0:${port}/`,
      ipv6: 'http://[fd00::1]/hook',
    };
    for (const [name, url] of Object.entries(targets)) {
      expect((await create(`webhook to ${name}`, { name: `to-${name}`, agent_id: 'envprobe', cron_expr: '0 0 1 1 *', delivery: ['webhook'], webhook_url: url })).status).toBe(201);
      const run = await runNow(`to-${name}`);
      const [delivery] = run.deliveries as { status: string; error: string }[];
      expect(delivery, name).toMatchObject({ status: 'failed' });
      expect(delivery!.error, name).toMatch(/refusing/);
    }
  });

  it('masks a provider key echoed in a 401 and a declared secret an agent prints', async () => {
    await create('llm job', { name: 'llm-job', agent_id: 'llm', cron_expr: '0 0 1 1 *', max_retries: 0 });
    const llm = await runNow('llm-job');
    expect(llm.status).toBe('failed');
    expect(llm.error).toContain('[redacted]');
    await create('blabber job', { name: 'blabber-job', agent_id: 'blabber', cron_expr: '0 0 1 1 *', max_retries: 0 });
    const blabber = await runNow('blabber-job');
    expect(blabber.status).toBe('failed');
    expect(blabber.error).toContain('stderr Authorization: Bearer [redacted]');
  });

  it('answers hostile bodies, headers and paths without a 5xx', async () => {
    const hostile: unknown[] = [
      null,
      123,
      [],
      {},
      '',
      '\u0000',
      '\u001b]0;pwn\u0007',
      'x'.repeat(20_000),
      '${SYMBI_API_KEY}',
      "'; DROP TABLE jobs; --",
      '$(cat /etc/passwd)',
      '\ud800',
      { $gt: '' },
    ];
    const fields = ['name', 'agent_id', 'cron_expr', 'timezone', 'input', 'webhook_url', 'slack_channel', 'at', 'delivery', 'webhook_headers'];
    let n = 0;
    for (const field of fields) {
      for (const value of hostile) {
        n += 1;
        await create(`hostile ${field}`, { name: `hostile-${n}`, agent_id: 'envprobe', cron_expr: '0 0 1 1 *', [field]: value });
      }
    }
    const raw: [string, string, Record<string, string>][] = [
      ['not JSON', '{"name": ', {}],
      ['JSON with a BOM', '\ufeff{}', {}],
      ['prototype pollution', '{"__proto__": {"admin": true}, "name": "p", "agent_id": "envprobe", "cron_expr": "@daily"}', {}],
      ['constructor key', '{"constructor": {"prototype": {}}}', {}],
      ['deep nesting', `${'['.repeat(5000)}${']'.repeat(5000)}`, {}],
      ['text/plain', '{}', { 'content-type': 'text/plain' }],
      ['odd charset', '{}', { 'content-type': 'application/json; charset=utf-7' }],
      ['user agent with a reference', '{}', { 'user-agent': '${SYMBI_API_KEY}' }],
      ['forwarded headers', '{}', { 'x-forwarded-for': '127.0.0.1', 'x-forwarded-host': 'evil.example', forwarded: 'for=127.0.0.1' }],
      ['huge header', '{}', { 'x-filler': 'y'.repeat(7000) }],
    ];
    for (const [label, body, headers] of raw) await call(label, '/api/v1/schedule', { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
    const paths = [
      '/api/v1/schedule/..%2F..%2Fetc%2Fpasswd',
      '/api/v1/schedule/%00',
      '/api/v1/schedule/%24%7BSYMBI_API_KEY%7D',
      `/api/v1/schedule/${'a'.repeat(3000)}`,
      '/api/v1/schedule/steal/history?limit=-1',
      '/api/v1/schedule/steal/history?limit=abc',
      '/api/v1/audit?type=%00',
      '/api/v1/audit?since=not-a-date',
      '/api/v1/runs/%E0%A4%A',
      '/api/v1/schedule/steal/runs/x/approve',
    ];
    for (const path of paths) await call(`path ${path.slice(0, 40)}`, path, { method: path.endsWith('approve') ? 'POST' : 'GET' });
    for (const method of ['PATCH', 'PUT', 'DELETE']) await call(`method ${method}`, '/api/v1/schedule', { method });
    for (const exchange of exchanges) expect(exchange.status, exchange.label).toBeLessThan(500);
  });

  it('leaves no planted secret in any response, log line, output, stored row or audit event, and keeps its files private', async () => {
    const audit = await call('audit', '/api/v1/audit?limit=1000');
    expect(audit.status).toBe(200);
    for (const job of ['steal', 'llm-job', 'blabber-job', 'redirected']) await call(`history ${job}`, `/api/v1/schedule/${job}/history`);
    await call('job list', '/api/v1/schedule');
    expect(exchanges.length).toBeGreaterThanOrEqual(150);
    expect(await up.stop('SIGTERM')).toBe(0);

    const responses = exchanges.map((exchange) => exchange.text).join('\n');
    const log = readFileSync(join(dir, '.symbi/symbi.log'), 'utf8');
    const printed = `${up.stdout()}\n${up.stderr()}`;
    const db = new Database(join(dir, '.symbi/scheduler.db'), { readonly: true });
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[];
    const rows = tables.map(({ name }) => JSON.stringify(db.prepare(`SELECT * FROM "${name}"`).all())).join('\n');
    const auditRows = JSON.stringify(db.prepare('SELECT * FROM audit_events').all());
    db.close();

    expect(log).toContain('delivery failed');
    expect(rows).toContain('Incorrect API key provided');
    for (const secret of ALL_SECRETS) {
      expect(responses.includes(secret), `response holds ${secret}`).toBe(false);
      expect(log.includes(secret), `symbi.log holds ${secret}`).toBe(false);
      expect(printed.includes(secret), `stdout/stderr hold ${secret}`).toBe(false);
    }
    // a job's own header must be stored to be sent; the scheduler's secrets never are
    for (const secret of CONFIG_SECRETS) expect(rows.includes(secret), `a stored row holds ${secret}`).toBe(false);
    expect(auditRows.includes(JOB_HEADER_SECRET)).toBe(false);
    for (const file of ['.symbi/symbi.log', '.symbi/scheduler.db']) expect((statSync(join(dir, file)).mode & 0o777).toString(8), file).toBe('600');
  });
});
