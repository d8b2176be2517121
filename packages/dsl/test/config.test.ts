import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValidationError } from '@symbi/core';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, defaultSymbiConfig, loadConfig, parseConfig, parseStoreUrl, toSchedulerConfig, type SymbiConfig } from '@symbi/dsl';
import { fixture } from './fixture-files.js';

/** The defaults with `changes` laid over one table at a time. */
function expected(changes: { [K in keyof SymbiConfig]?: Partial<SymbiConfig[K]> }): SymbiConfig {
  const config = defaultSymbiConfig();
  return {
    ...config,
    ...changes,
    scheduler: { ...config.scheduler, ...changes.scheduler },
    delivery: { ...config.delivery, ...changes.delivery },
    api: { ...config.api, ...changes.api },
    agentpin: { ...config.agentpin, ...changes.agentpin },
  } as SymbiConfig;
}

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('the scheduling guide TOML examples', () => {
  it('Jitter: [scheduler] max_jitter_seconds = 30', () => {
    expect(parseConfig(fixture('jitter.toml'), { env: {}, file: 'symbi.toml' })).toEqual(
      expected({ file: 'symbi.toml', scheduler: { maxJitterSeconds: 30 } }),
    );
  });

  it('TOML Configuration: scheduler and delivery, with ${VAR} resolved', () => {
    const env = { SLACK_API_TOKEN: 'xoxb-1', SMTP_USER: 'mailer', SMTP_PASS: 's3cret' };
    expect(parseConfig(fixture('configuration.toml'), { env })).toEqual(
      expected({
        scheduler: {
          tickIntervalSeconds: 1,
          maxJitterSeconds: 30,
          maxConcurrentJobs: 20,
          enableMetrics: true,
          defaultMaxRetries: 3,
          shutdownTimeoutSeconds: 60,
        },
        delivery: {
          webhookTimeoutSeconds: 30,
          webhookRetryAttempts: 3,
          slackApiToken: 'xoxb-1',
          slackDefaultChannel: '#ops',
          smtpHost: 'smtp.example.com',
          smtpPort: 587,
          smtpUsername: 'mailer',
          smtpPassword: 's3cret',
          emailFrom: 'symbiont@example.com',
        },
      }),
    );
  });

  it('TOML Configuration: an unset ${VAR} names the key and its line', () => {
    const error = configError(() => parseConfig(fixture('configuration.toml'), { env: { SLACK_API_TOKEN: 'x' }, file: 'symbi.toml' }));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ field: 'scheduler.delivery.smtp_username', file: 'symbi.toml', line: 18, column: 1 });
    expect(error.message).toMatchInlineSnapshot(`
      "symbi.toml:18:1: \`scheduler.delivery.smtp_username\`: environment variable SMTP_USER is not set
       18 | smtp_username = "\${SMTP_USER}"
          | ^"
    `);
    expect(error.message).not.toContain('xoxb');
  });

  it('Migration: the updated [scheduler] table, diff markers removed', () => {
    expect(parseConfig(fixture('migration.toml'), { env: {} })).toEqual(
      expected({ scheduler: { tickIntervalSeconds: 1, maxJitterSeconds: 30, defaultMaxRetries: 3, shutdownTimeoutSeconds: 60 } }),
    );
  });
});

describe('keys beyond the guide', () => {
  it('reads every table and key', () => {
    const source = `
[scheduler]
max_concurrent_cron_jobs = 7
max_concurrent_deliveries = 4
job_store_path = "/var/lib/symbi/jobs.db"
enable_missed_run_catchup = false
enable_metrics = false
environment = "staging"
catchup_window_seconds = 3600
misfire_grace_seconds = 2.5
approval_timeout_seconds = 600.5

[scheduler.delivery]
webhook_signing_secret = "sig"
webhook_auth_header = "Bearer t"
webhook_auth_hosts = ["hooks.example.com", "\${HOOK_HOST}:8443"]
allow_hosts = ["127.0.0.1", "*.corp.example"]
allow_link_local = true
slack_webhook_url = "https://hooks.slack.com/services/x"
slack_api_url = "http://127.0.0.1:9/api"
smtp_secure = true
log_dir = "/var/log/symbi"
log_max_bytes = 1048576
log_max_files = 2

[api]
listen = "[::1]:9090"
api_key = "\${KEY}"
open_health = true
open_metrics = true
env_allow = ["REPORT_TOKEN"]

[agentpin]
required = true
domain = "agent.example.com"
trust_bundle = "./bundle.json"
discovery_dir = "./discovery"
allow_insecure_discovery = true
audience = ["scheduler.example.org"]
`;
    expect(parseConfig(source, { env: { KEY: 'k-1', HOOK_HOST: 'hooks.internal' } })).toEqual(
      expected({
        scheduler: {
          maxConcurrentJobs: 7,
          maxConcurrentDeliveries: 4,
          jobStorePath: '/var/lib/symbi/jobs.db',
          store: { kind: 'sqlite', path: '/var/lib/symbi/jobs.db' },
          enableMissedRunCatchup: false,
          enableMetrics: false,
          environment: 'staging',
          catchupWindowSeconds: 3600,
          misfireGraceSeconds: 2.5,
          approvalTimeoutSeconds: 600.5,
        },
        delivery: {
          webhookSigningSecret: 'sig',
          webhookAuthHeader: 'Bearer t',
          webhookAuthHosts: ['hooks.example.com', 'hooks.internal:8443'],
          allowHosts: ['127.0.0.1', '*.corp.example'],
          allowLinkLocal: true,
          slackWebhookUrl: 'https://hooks.slack.com/services/x',
          slackApiUrl: 'http://127.0.0.1:9/api',
          smtpSecure: true,
          logDir: '/var/log/symbi',
          logMaxBytes: 1_048_576,
          logMaxFiles: 2,
        },
        api: { listen: '[::1]:9090', host: '::1', port: 9090, apiKey: 'k-1', openHealth: true, openMetrics: true, envAllow: ['REPORT_TOKEN'] },
        agentpin: {
          required: true,
          domain: 'agent.example.com',
          trustBundle: './bundle.json',
          discoveryDir: './discovery',
          allowInsecureDiscovery: true,
          audience: ['scheduler.example.org'],
        },
      }),
    );
  });

  it.each([
    ['./data/jobs.db', { kind: 'sqlite', path: './data/jobs.db' }],
    ['sqlite:/tmp/x.db', { kind: 'sqlite', path: '/tmp/x.db' }],
    ['sqlite://relative.db', { kind: 'sqlite', path: 'relative.db' }],
    ['sqlite::memory:', { kind: 'sqlite', path: ':memory:' }],
    ['postgres://u:p@127.0.0.1:5432/test', { kind: 'postgres', url: 'postgres://u:p@127.0.0.1:5432/test' }],
    ['postgresql://127.0.0.1/db', { kind: 'postgres', url: 'postgresql://127.0.0.1/db' }],
    ['mysql://x', undefined],
    ['postgres://[bad', undefined],
  ])('store_url %s', (url, location) => {
    expect(parseStoreUrl(url)).toEqual(location);
    if (location !== undefined) expect(parseConfig(`[scheduler]\nstore_url = "${url}"`, { env: {} }).scheduler.store).toEqual(location);
  });
});

describe('environment overrides', () => {
  const all = {
    SYMBI_SCHEDULER_MAX_JITTER: '12',
    SYMBI_SCHEDULER_MAX_CONCURRENT: '4',
    SYMBI_SLACK_TOKEN: 'xoxb-env',
    SYMBI_WEBHOOK_AUTH_HEADER: 'Bearer secret-token',
    SYMBI_AGENTPIN_REQUIRED: 'true',
    SYMBI_AGENTPIN_DOMAIN: 'agent.example.com',
    SYMBI_DB: 'postgres://127.0.0.1/symbi',
    SYMBI_API_KEY: 'api-env',
    SYMBI_ENV: 'production',
  };

  it('win over the file, each one', () => {
    const file = '[scheduler]\nmax_jitter_seconds = 30\nmax_concurrent_cron_jobs = 20\nstore_url = "a.db"\n[api]\napi_key = "file"\n[agentpin]\nrequired = false\n';
    expect(parseConfig(file, { env: all })).toEqual(
      expected({
        scheduler: {
          maxJitterSeconds: 12,
          maxConcurrentJobs: 4,
          storeUrl: 'postgres://127.0.0.1/symbi',
          store: { kind: 'postgres', url: 'postgres://127.0.0.1/symbi' },
          environment: 'production',
        },
        delivery: { slackApiToken: 'xoxb-env', webhookAuthHeader: 'Bearer secret-token' },
        api: { apiKey: 'api-env' },
        agentpin: { required: true, domain: 'agent.example.com' },
      }),
    );
  });

  it('treat an empty variable as unset and accept yes/no/1/0 flags', () => {
    expect(parseConfig('', { env: { SYMBI_SCHEDULER_MAX_JITTER: '', SYMBI_AGENTPIN_REQUIRED: '0' } })).toEqual(expected({}));
    expect(parseConfig('', { env: { SYMBI_AGENTPIN_REQUIRED: 'Yes' } }).agentpin.required).toBe(true);
  });

  it.each([
    ['SYMBI_SCHEDULER_MAX_JITTER', 'soon'],
    ['SYMBI_SCHEDULER_MAX_JITTER', '-1'],
    ['SYMBI_SCHEDULER_MAX_CONCURRENT', '0'],
    ['SYMBI_AGENTPIN_REQUIRED', 'maybe'],
    ['SYMBI_DB', 'mysql://127.0.0.1/x'],
  ])('reject a bad %s=%s, naming the variable', (variable, value) => {
    const error = configError(() => parseConfig('', { env: { [variable]: value } }));
    expect(error.field).toBe(variable);
    expect(error.message.startsWith(`${variable} `)).toBe(true);
    expect(error.line).toBeUndefined();
  });
});

describe('config errors', () => {
  const error = (source: string) => () => parseConfig(source, { env: {}, file: 'symbi.toml' });

  it('TOML syntax', () => {
    expect(error('[scheduler]\nmax_jitter_seconds = \n')).toThrowErrorMatchingInlineSnapshot(`
      [ConfigError: symbi.toml:2:22: invalid TOML: invalid value
       2 | max_jitter_seconds = 
         |                      ^]
    `);
  });

  it('unknown key, with a suggestion', () => {
    expect(error('[scheduler]\ntick_interval_seconds = 1\nmax_jiter_seconds = 30\n')).toThrowErrorMatchingInlineSnapshot(`
      [ConfigError: symbi.toml:3:1: unknown key \`max_jiter_seconds\` in [scheduler]; did you mean \`max_jitter_seconds\`?
       3 | max_jiter_seconds = 30
         | ^]
    `);
  });

  it('unknown key in [scheduler.delivery]', () => {
    expect(error('[scheduler.delivery]\nsmtp_hots = "mail"\n')).toThrowErrorMatchingInlineSnapshot(`
      [ConfigError: symbi.toml:2:1: unknown key \`smtp_hots\` in [scheduler.delivery]; did you mean \`smtp_host\`?
       2 | smtp_hots = "mail"
         | ^]
    `);
  });

  it('host and variable lists', () => {
    expect(error('[scheduler.delivery]\nallow_hosts = "127.0.0.1"\n')).toThrow(/allow_hosts` must be a list of non-empty strings, found "127.0.0.1"/);
    expect(error('[api]\nenv_allow = ["OK", "NOT-A-NAME"]\n')).toThrow(/env_allow` must list variable names/);
  });

  it('unknown table', () => {
    expect(error('[schedular]\nmax_jitter_seconds = 30\n')).toThrowErrorMatchingInlineSnapshot(`
      [ConfigError: symbi.toml:1:1: unknown table \`schedular\`; did you mean \`scheduler\`?
       1 | [schedular]
         | ^]
    `);
  });

  it('wrong type', () => {
    expect(error('[scheduler]\nmax_concurrent_jobs = "20"\n')).toThrowErrorMatchingInlineSnapshot(`
      [ConfigError: symbi.toml:2:1: \`scheduler.max_concurrent_jobs\` must be a whole number of at least 1, found "20"
       2 | max_concurrent_jobs = "20"
         | ^]
    `);
  });

  it('out of range', () => {
    expect(error('[scheduler.delivery]\nsmtp_port = 70000\n')).toThrowErrorMatchingInlineSnapshot(`
      [ConfigError: symbi.toml:2:1: \`scheduler.delivery.smtp_port\` must be a whole number of at least 1 and at most 65535, found 70000
       2 | smtp_port = 70000
         | ^]
    `);
  });

  it('bad store URL (the detail does not repeat the value)', () => {
    expect(error('[scheduler]\nstore_url = "mysql://root:hunter2@db/x"\n')).toThrowErrorMatchingInlineSnapshot(`
      [ConfigError: symbi.toml:2:1: \`scheduler.store_url\` must be an SQLite path, \`sqlite:PATH\` or a \`postgres://\` URL
       2 | store_url = "mysql://root:hunter2@db/x"
         | ^]
    `);
  });

  it('key and alias both set', () => {
    expect(error('[scheduler]\nmax_concurrent_jobs = 5\nmax_concurrent_cron_jobs = 6\n')).toThrowErrorMatchingInlineSnapshot(`
      [ConfigError: symbi.toml:3:1: \`scheduler.max_concurrent_cron_jobs\` and \`scheduler.max_concurrent_jobs\` are the same setting; keep one
       3 | max_concurrent_cron_jobs = 6
         | ^]
    `);
  });

  it('bad listen address, in a dotted key', () => {
    expect(error('api.listen = "localhost"\n')).toThrowErrorMatchingInlineSnapshot(`
      [ConfigError: symbi.toml:1:1: \`api.listen\` must be \`HOST:PORT\`, e.g. "127.0.0.1:8080"
       1 | api.listen = "localhost"
         | ^]
    `);
  });

  it('a table where a value belongs', () => {
    expect(error('scheduler = 3\n')).toThrowErrorMatchingInlineSnapshot(`
      [ConfigError: symbi.toml:1:1: \`scheduler\` must be a table (\`[scheduler]\`)
       1 | scheduler = 3
         | ^]
    `);
  });
});

describe('loadConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'symbi-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads symbi.toml from cwd, or uses defaults when there is none', () => {
    const empty = mkdtempSync(join(dir, 'empty-'));
    expect(loadConfig({ cwd: empty, env: { SYMBI_ENV: 'ci' } })).toEqual(expected({ scheduler: { environment: 'ci' } }));
    writeFileSync(join(dir, 'symbi.toml'), fixture('jitter.toml'));
    expect(loadConfig({ cwd: dir, env: {} })).toEqual(expected({ file: join(dir, 'symbi.toml'), scheduler: { maxJitterSeconds: 30 } }));
  });

  it('resolves a relative path against cwd and names the file in errors', () => {
    writeFileSync(join(dir, 'bad.toml'), '[api]\nopen_health = "yes"\n');
    const error = configError(() => loadConfig({ cwd: dir, path: 'bad.toml', env: {} }));
    expect(error).toMatchObject({ file: join(dir, 'bad.toml'), line: 2, field: 'api.open_health' });
  });

  it('refuses a named file that does not exist', () => {
    const error = configError(() => loadConfig({ cwd: dir, path: 'missing.toml', env: {} }));
    expect(error.message).toBe(`${join(dir, 'missing.toml')}: cannot read the configuration file (ENOENT)`);
  });
});

describe('history retention', () => {
  it('[scheduler] history_retention_days / _runs / history_prune_interval_seconds set the scheduler\'s retention; unset keeps every run', () => {
    const config = parseConfig('[scheduler]\nhistory_retention_days = 30\nhistory_retention_runs = 500\nhistory_prune_interval_seconds = 60\n', { env: {} });
    expect(config.scheduler).toMatchObject({ historyRetentionDays: 30, historyRetentionRuns: 500, historyPruneIntervalSeconds: 60 });
    expect(toSchedulerConfig(config)).toMatchObject({ historyRetentionDays: 30, historyRetentionRuns: 500, historyPruneIntervalMs: 60_000 });
    expect(toSchedulerConfig(parseConfig('', { env: {} }))).toMatchObject({ historyRetentionDays: null, historyRetentionRuns: null, historyPruneIntervalMs: 600_000 });
  });

  it('refuses a retention of zero or a fraction, naming the key and its line', () => {
    const zero = configError(() => parseConfig('[scheduler]\nhistory_retention_days = 0\n', { env: {}, file: 'symbi.toml' }));
    expect(zero.message).toMatch(/symbi\.toml:2:1: `scheduler\.history_retention_days` must be a whole number of at least 1 and at most 36500, found 0/);
    const fraction = configError(() => parseConfig('[scheduler]\nhistory_retention_runs = 2.5\n', { env: {}, file: 'symbi.toml' }));
    expect(fraction.field).toBe('scheduler.history_retention_runs');
  });
});
