import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { API_KEY_ROLES, identifierProblem, interpolateEnv, MAX_RETENTION_DAYS, MAX_RETENTION_RUNS, ValidationError, type ApiKeyRole } from '@symbi/core';
import { parse as parseToml, TomlError } from 'smol-toml';
import { readAgentRunners } from './agent-runners.js';
import { defaultSymbiConfig, type ApiKeySettings, type StoreLocation, type SymbiConfig } from './config-types.js';
import { ConfigError, validationReason, type ConfigErrorLocation } from './errors.js';
import { didYouMean } from './suggest.js';
import { locateTomlKey } from './toml-locator.js';

type Environment = Record<string, string | undefined>;

/** Where a value came from: a key of the file or an overriding environment variable. */
interface Origin {
  /** `field` of the error: the dotted key or the variable name. */
  field: string;
  /** How messages name it. */
  label: string;
  override: boolean;
  where: () => ConfigErrorLocation;
}

/** How one key is read: the property it sets and the values it accepts. */
interface Setting {
  prop: string;
  kind: 'string' | 'boolean' | 'integer' | 'seconds' | 'list';
  /** Smallest accepted number (`integer`), or whether zero is refused (`seconds`, min 1). */
  min?: number;
  max?: number;
  /** Extra check of a string; returns what is wrong, or undefined. */
  refine?: (value: string) => string | undefined;
}

const text = (prop: string, refine?: Setting['refine']): Setting => ({ prop, kind: 'string', refine });
const flag = (prop: string): Setting => ({ prop, kind: 'boolean' });
const whole = (prop: string, min: number, max?: number): Setting => ({ prop, kind: 'integer', min, max });
const seconds = (prop: string, min: 0 | 1): Setting => ({ prop, kind: 'seconds', min });
const list = (prop: string, refine?: Setting['refine']): Setting => ({ prop, kind: 'list', refine });
/** A variable name, for `[api] env_allow`. */
const variableName = (value: string) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(value) ? undefined : 'must list variable names (letters, digits, _)');

/** Each table's keys; `scheduler.delivery` and the `[[api.keys]]` array are the nested tables. */
const TABLES: Record<'scheduler' | 'scheduler.delivery' | 'api' | 'agentpin', Record<string, Setting>> = {
  scheduler: {
    tick_interval_seconds: seconds('tickIntervalSeconds', 1),
    max_jitter_seconds: whole('maxJitterSeconds', 0, 86_400),
    max_concurrent_jobs: whole('maxConcurrentJobs', 1),
    max_concurrent_cron_jobs: whole('maxConcurrentJobs', 1),
    max_concurrent_deliveries: whole('maxConcurrentDeliveries', 1),
    enable_metrics: flag('enableMetrics'),
    default_max_retries: whole('defaultMaxRetries', 0),
    shutdown_timeout_seconds: seconds('shutdownTimeoutSeconds', 0),
    job_store_path: text('jobStorePath'),
    enable_missed_run_catchup: flag('enableMissedRunCatchup'),
    store_url: text('storeUrl', (value) =>
      parseStoreUrl(value) === undefined ? 'must be an SQLite path, `sqlite:PATH` or a `postgres://` URL' : undefined,
    ),
    environment: text('environment'),
    catchup_window_seconds: seconds('catchupWindowSeconds', 0),
    misfire_grace_seconds: seconds('misfireGraceSeconds', 0),
    approval_timeout_seconds: seconds('approvalTimeoutSeconds', 1),
    claim_batch_size: whole('claimBatchSize', 1),
    claim_ahead_seconds: seconds('claimAheadSeconds', 0),
    prefetch: whole('prefetch', 0),
    history_retention_days: whole('historyRetentionDays', 1, MAX_RETENTION_DAYS),
    history_retention_runs: whole('historyRetentionRuns', 1, MAX_RETENTION_RUNS),
    history_prune_interval_seconds: seconds('historyPruneIntervalSeconds', 1),
  },
  'scheduler.delivery': {
    webhook_timeout_seconds: seconds('webhookTimeoutSeconds', 1),
    webhook_retry_attempts: whole('webhookRetryAttempts', 0),
    webhook_signing_secret: text('webhookSigningSecret'),
    webhook_auth_header: text('webhookAuthHeader'),
    webhook_auth_hosts: list('webhookAuthHosts'),
    allow_hosts: list('allowHosts'),
    allow_link_local: flag('allowLinkLocal'),
    slack_api_token: text('slackApiToken'),
    slack_default_channel: text('slackDefaultChannel'),
    slack_webhook_url: text('slackWebhookUrl'),
    slack_api_url: text('slackApiUrl'),
    smtp_host: text('smtpHost'),
    smtp_port: whole('smtpPort', 1, 65_535),
    smtp_username: text('smtpUsername'),
    smtp_password: text('smtpPassword'),
    smtp_secure: flag('smtpSecure'),
    email_from: text('emailFrom'),
    log_dir: text('logDir'),
    log_max_bytes: whole('logMaxBytes', 1),
    log_max_files: whole('logMaxFiles', 1),
  },
  api: {
    listen: text('listen', (value) => (parseListen(value) === undefined ? 'must be `HOST:PORT`, e.g. "127.0.0.1:8080"' : undefined)),
    api_key: text('apiKey'),
    open_health: flag('openHealth'),
    open_metrics: flag('openMetrics'),
    env_allow: list('envAllow', variableName),
    headers_timeout_seconds: seconds('headersTimeoutSeconds', 1),
    request_timeout_seconds: seconds('requestTimeoutSeconds', 1),
    max_connections: whole('maxConnections', 1),
  },
  agentpin: {
    required: flag('required'),
    domain: text('domain'),
    trust_bundle: text('trustBundle'),
    discovery_dir: text('discoveryDir'),
    allow_insecure_discovery: flag('allowInsecureDiscovery'),
    audience: list('audience'),
  },
};

type TableName = keyof typeof TABLES;

/**
 * The `SYMBI_*` variables that override the file, and the key each stands for. An empty variable
 * counts as unset, as shells and container runtimes often pass empty values for "not configured".
 */
export const ENV_OVERRIDES: readonly { variable: string; table: TableName; key: string }[] = [
  { variable: 'SYMBI_SCHEDULER_MAX_JITTER', table: 'scheduler', key: 'max_jitter_seconds' },
  { variable: 'SYMBI_SCHEDULER_MAX_CONCURRENT', table: 'scheduler', key: 'max_concurrent_jobs' },
  { variable: 'SYMBI_DB', table: 'scheduler', key: 'store_url' },
  { variable: 'SYMBI_ENV', table: 'scheduler', key: 'environment' },
  { variable: 'SYMBI_SLACK_TOKEN', table: 'scheduler.delivery', key: 'slack_api_token' },
  { variable: 'SYMBI_WEBHOOK_AUTH_HEADER', table: 'scheduler.delivery', key: 'webhook_auth_header' },
  { variable: 'SYMBI_API_KEY', table: 'api', key: 'api_key' },
  { variable: 'SYMBI_AGENTPIN_REQUIRED', table: 'agentpin', key: 'required' },
  { variable: 'SYMBI_AGENTPIN_DOMAIN', table: 'agentpin', key: 'domain' },
];

const TRUE = ['true', '1', 'yes', 'on'];
const FALSE = ['false', '0', 'no', 'off'];

/** The configuration file looked for in the working directory when no path is given. */
export const DEFAULT_CONFIG_FILE = 'symbi.toml';

/** Options of {@link parseConfig}. */
export interface ParseConfigOptions {
  /** Variables for `${VAR}` interpolation and `SYMBI_*` overrides; defaults to `process.env`. */
  env?: Environment;
  /** File name shown in errors and recorded in `SymbiConfig.file`. */
  file?: string;
  /**
   * Resolve the `${VAR}` references of `[scheduler.delivery]` (default true). A command that
   * delivers nothing passes false: those settings (tokens, passwords) are then kept as written,
   * so an unset variable only it would need is no error.
   */
  resolveDelivery?: boolean;
}

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** Configuration file; it must exist. Without it, `symbi.toml` in `cwd` is used when present. */
  path?: string;
  /** Variables for `${VAR}` interpolation and `SYMBI_*` overrides; defaults to `process.env`. */
  env?: Environment;
  /** Directory in which a relative `path` and the default file are looked up; defaults to `process.cwd()`. */
  cwd?: string;
  /** As {@link ParseConfigOptions.resolveDelivery}. */
  resolveDelivery?: boolean;
}

/**
 * Reads a `symbi.toml` text: checks every key and type against the known tables (`[scheduler]`,
 * `[scheduler.delivery]`, `[api]`, `[agentpin]`), resolves `${VAR}` references in strings, then
 * applies the `SYMBI_*` environment overrides ({@link ENV_OVERRIDES}) and fills in defaults.
 *
 * @throws {@link ConfigError} (and nothing else) naming the key or variable, with the TOML line when known.
 */
export function parseConfig(source: string, options: ParseConfigOptions = {}): SymbiConfig {
  return new ConfigReader(source, options.file, options.env ?? process.env, options.resolveDelivery ?? true).read();
}

/**
 * Finds, reads and parses the configuration: `options.path`, else `symbi.toml` in `cwd` if it
 * exists, else only defaults and environment overrides.
 *
 * @throws {@link ConfigError} when the file named by `path` cannot be read, or as {@link parseConfig}.
 */
export function loadConfig(options: LoadConfigOptions = {}): SymbiConfig {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const path = options.path === undefined ? join(cwd, DEFAULT_CONFIG_FILE) : resolve(cwd, options.path);
  const resolveDelivery = options.resolveDelivery ?? true;
  if (options.path === undefined && !existsSync(path)) return parseConfig('', { env, resolveDelivery });
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code ?? String(cause);
    throw new ConfigError('path', `cannot read the configuration file (${reason})`, { file: path }, { cause });
  }
  return parseConfig(source, { env, file: path, resolveDelivery });
}

/** Parses `sqlite:PATH`, `sqlite://PATH`, `postgres://…`, `postgresql://…` or a plain SQLite path. */
export function parseStoreUrl(value: string): StoreLocation | undefined {
  if (/^postgres(ql)?:\/\//i.test(value)) return URL.canParse(value) ? { kind: 'postgres', url: value } : undefined;
  const sqlite = /^sqlite:(?:\/\/)?(.+)$/i.exec(value);
  if (sqlite !== null) return { kind: 'sqlite', path: sqlite[1] as string };
  if (/^[A-Za-z][A-Za-z0-9+.-]+:/.test(value) || value.trim() === '') return undefined;
  return { kind: 'sqlite', path: value };
}

function parseListen(value: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(value);
  const port = Number(match?.[3]);
  if (match === null || port > 65_535) return undefined;
  return { host: (match[1] ?? match[2]) as string, port };
}

class ConfigReader {
  /** Values set so far, by table and property, with what set them. */
  private readonly values = new Map<TableName, Map<string, { value: unknown; origin: Origin }>>();
  /** `[agents.NAME]` tables. */
  private agents: SymbiConfig['agents'] = {};
  /** The `[[api.keys]]` entries. */
  private readonly apiKeys: ApiKeySettings[] = [];

  constructor(
    private readonly source: string,
    private readonly file: string | undefined,
    private readonly env: Environment,
    private readonly resolveDelivery: boolean,
  ) {}

  read(): SymbiConfig {
    const root = this.parseToml();
    for (const [key, value] of Object.entries(root)) {
      if (key === 'agents') {
        this.agents = readAgentRunners(value, (path, detail) => this.keyError(path, detail));
        continue;
      }
      if (key !== 'scheduler' && key !== 'api' && key !== 'agentpin') {
        throw this.keyError([key], `unknown table \`${key}\`${didYouMean(key, ['scheduler', 'api', 'agentpin', 'agents'])}`);
      }
      this.table(key, [key], value);
    }
    for (const { variable, table, key } of ENV_OVERRIDES) {
      const raw = this.env[variable];
      if (raw === undefined || raw === '') continue;
      const setting = TABLES[table][key] as Setting;
      this.set(table, setting, fromEnvironment(raw, setting), { field: variable, label: variable, override: true, where: () => ({}) });
    }
    return this.build();
  }

  private parseToml(): Record<string, unknown> {
    try {
      return parseToml(this.source, { maxDepth: 32 });
    } catch (cause) {
      const detail = (cause instanceof Error ? cause.message : String(cause)).replace(/^Invalid TOML document: /, '').split('\n')[0] as string;
      const location = cause instanceof TomlError ? { line: cause.line, column: cause.column } : { line: 1, column: 1 };
      throw new ConfigError('', `invalid TOML: ${detail}`, { ...location, file: this.file, source: this.source }, { cause });
    }
  }

  private location(path: readonly string[]): ConfigErrorLocation {
    return { file: this.file, source: this.source, ...(locateTomlKey(this.source, path) ?? { line: 1, column: 1 }) };
  }

  private keyError(path: readonly string[], detail: string, cause?: unknown): ConfigError {
    return new ConfigError(path.join('.'), detail, this.location(path), cause === undefined ? undefined : { cause });
  }

  private table(name: TableName, path: string[], value: unknown): void {
    if (!isTable(value)) throw this.keyError(path, `\`${path.join('.')}\` must be a table (\`[${path.join('.')}]\`)`);
    const settings = TABLES[name];
    const nested = name === 'scheduler' ? ['delivery'] : name === 'api' ? ['keys'] : [];
    for (const [key, raw] of Object.entries(value)) {
      const keyPath = [...path, key];
      if (nested.includes(key)) {
        if (name === 'api') this.keyList(keyPath, raw);
        else this.table('scheduler.delivery', keyPath, raw);
        continue;
      }
      const setting = Object.hasOwn(settings, key) ? settings[key] : undefined;
      if (setting === undefined) {
        const known = [...Object.keys(settings), ...nested];
        throw this.keyError(keyPath, `unknown key \`${key}\` in [${path.join('.')}]${didYouMean(key, known)}`);
      }
      const field = keyPath.join('.');
      const resolved = name === 'scheduler.delivery' && !this.resolveDelivery ? raw : this.interpolate(raw, keyPath);
      this.set(name, setting, resolved, {
        field,
        label: `\`${field}\``,
        override: false,
        where: () => this.location(keyPath),
      });
    }
  }

  /** `[[api.keys]]`: each entry a `label` (an identifier, unique), a `role` and a `key` (never quoted in errors). */
  private keyList(path: string[], raw: unknown): void {
    if (!Array.isArray(raw)) throw this.keyError(path, '`api.keys` must be an array of tables (`[[api.keys]]`)');
    raw.forEach((entry: unknown, i) => {
      const field = `api.keys[${i}]`;
      if (!isTable(entry)) throw this.keyError(path, `\`${field}\` must be a table with label, role and key`);
      for (const key of Object.keys(entry)) {
        if (!['label', 'role', 'key'].includes(key)) {
          throw this.keyError([...path, key], `unknown key \`${key}\` in [[api.keys]]${didYouMean(key, ['label', 'role', 'key'])}`);
        }
      }
      const labelProblem = identifierProblem(entry.label);
      if (labelProblem !== null) throw this.keyError([...path, 'label'], `\`${field}.label\` ${labelProblem}`);
      const label = entry.label as string;
      if (this.apiKeys.some((k) => k.label === label)) throw this.keyError([...path, 'label'], `\`${field}.label\` "${label}" is already the label of another key`);
      if (!API_KEY_ROLES.includes(entry.role as ApiKeyRole)) {
        throw this.keyError([...path, 'role'], `\`${field}.role\` must be one of ${API_KEY_ROLES.join(', ')}, found ${shown(entry.role)}`);
      }
      const key = this.interpolate(entry.key, [...path, 'key']);
      const keyProblem = checkValue(text('key'), key);
      if (keyProblem !== undefined) throw this.keyError([...path, 'key'], `\`${field}.key\` ${keyProblem}`);
      this.apiKeys.push({ label, role: entry.role as ApiKeyRole, key: key as string });
    });
  }

  private interpolate(raw: unknown, keyPath: string[]): unknown {
    if (Array.isArray(raw)) return raw.map((item) => this.interpolate(item, keyPath));
    if (typeof raw !== 'string') return raw;
    const field = keyPath.join('.');
    try {
      return interpolateEnv(raw, this.env, field);
    } catch (cause) {
      const reason = cause instanceof ValidationError ? validationReason(cause) : String(cause);
      throw this.keyError(keyPath, `\`${field}\`: ${reason}`, cause);
    }
  }

  /** Validates and records one value; a key and its alias may not both be written in the file. */
  private set(table: TableName, setting: Setting, value: unknown, origin: Origin): void {
    const problem = checkValue(setting, value);
    if (problem !== undefined) {
      throw new ConfigError(origin.field, `${origin.label} ${problem}`, origin.where(), { value: setting.kind === 'string' ? undefined : value });
    }
    const values = this.values.get(table) ?? new Map<string, { value: unknown; origin: Origin }>();
    const earlier = values.get(setting.prop);
    if (earlier !== undefined && !origin.override && !earlier.origin.override) {
      throw new ConfigError(origin.field, `${origin.label} and ${earlier.origin.label} are the same setting; keep one`, origin.where());
    }
    values.set(setting.prop, { value, origin });
    this.values.set(table, values);
  }

  private build(): SymbiConfig {
    const config = defaultSymbiConfig();
    config.file = this.file ?? null;
    const apply = (table: TableName, target: object): void => {
      for (const [prop, { value }] of this.values.get(table) ?? []) Object.assign(target, { [prop]: value });
    };
    apply('scheduler', config.scheduler);
    apply('scheduler.delivery', config.delivery);
    apply('api', config.api);
    apply('agentpin', config.agentpin);
    config.agents = this.agents;
    const { scheduler, api } = config;
    api.keys = this.apiKeys;
    if (api.apiKey !== null && api.keys.some((k) => k.label === 'api')) {
      throw this.keyError(['api', 'keys'], 'the label "api" belongs to the single `api_key`; give the `[[api.keys]]` entry another label');
    }
    if (api.requestTimeoutSeconds < api.headersTimeoutSeconds) {
      throw this.keyError(['api', 'request_timeout_seconds'], '`api.request_timeout_seconds` must be at least `api.headers_timeout_seconds`');
    }
    scheduler.store = scheduler.storeUrl === null ? { kind: 'sqlite', path: scheduler.jobStorePath } : (parseStoreUrl(scheduler.storeUrl) as StoreLocation);
    Object.assign(api, parseListen(api.listen));
    return config;
  }
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** What is wrong with `value` for `setting`, or undefined. Never quotes the value of a string setting (it may be a secret). */
function checkValue(setting: Setting, value: unknown): string | undefined {
  switch (setting.kind) {
    case 'string':
      if (typeof value !== 'string') return `must be a string, found ${typeName(value)}`;
      if (value.trim() === '') return 'must not be empty';
      return setting.refine?.(value);
    case 'list': {
      if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' && item.trim() !== '')) {
        return `must be a list of non-empty strings, found ${shown(value)}`;
      }
      const problem = value.map((item: string) => setting.refine?.(item)).find((found) => found !== undefined);
      return problem;
    }
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `must be true or false, found ${shown(value)}`;
    case 'integer': {
      const max = setting.max === undefined ? '' : ` and at most ${setting.max}`;
      const ok = typeof value === 'number' && Number.isSafeInteger(value) && value >= (setting.min ?? 0) && value <= (setting.max ?? Number.MAX_SAFE_INTEGER);
      return ok ? undefined : `must be a whole number of at least ${setting.min ?? 0}${max}, found ${shown(value)}`;
    }
    case 'seconds': {
      const ok = typeof value === 'number' && Number.isFinite(value) && (setting.min === 1 ? value > 0 : value >= 0);
      return ok ? undefined : `must be a number of seconds ${setting.min === 1 ? 'above' : 'of at least'} 0, found ${shown(value)}`;
    }
  }
}

/** Converts an environment variable's text to the type its setting expects (left as text if it does not fit). */
function fromEnvironment(raw: string, setting: Setting): unknown {
  const trimmed = raw.trim();
  if ((setting.kind === 'integer' || setting.kind === 'seconds') && /^-?\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  if (setting.kind === 'boolean') {
    if (TRUE.includes(trimmed.toLowerCase())) return true;
    if (FALSE.includes(trimmed.toLowerCase())) return false;
  }
  return raw;
}

function typeName(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return 'a date';
  if (typeof value === 'object' && value !== null) return 'a table';
  return `a ${typeof value}`;
}

function shown(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return typeName(value);
}
