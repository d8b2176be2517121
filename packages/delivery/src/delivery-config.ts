import { ValidationError } from '@symbi/core';
import { hostPattern } from './address-guard.js';

/**
 * Settings of the built-in delivery channels: the `[scheduler.delivery]` table of the TOML
 * configuration, with its snake_case keys in camelCase. Every field is optional.
 *
 * Secrets (`slackApiToken`, `smtpPassword`, `webhookSigningSecret`, `webhookAuthHeader`, and
 * `slackWebhookUrl`, whose path is a credential) are used to send and never appear in an error
 * message or a log line.
 */
export interface DeliveryConfig {
  /** Time allowed for one webhook or Slack HTTP exchange, in seconds (default 30). */
  webhookTimeoutSeconds?: number;
  /** Retries after a failed first webhook or Slack attempt (network error, 5xx, 429); default 3. */
  webhookRetryAttempts?: number;
  /**
   * When set, each webhook carries `X-Symbi-Signature: sha256=<hex>`, the HMAC-SHA256 of the raw
   * request body under this secret, and `X-Symbi-Timestamp` (Unix seconds).
   */
  webhookSigningSecret?: string;
  /**
   * `Authorization` header value sent when a job's `webhook_headers` have none, and only to a
   * webhook whose host is in `webhookAuthHosts` (required with it).
   */
  webhookAuthHeader?: string;
  /**
   * Hosts the `webhookAuthHeader` is for (`webhook_auth_hosts`): `name`, `name:port`, `*.domain`,
   * an address or `[v6]:port`. A job's webhook to any other host gets no `Authorization` from the
   * configuration, so whoever can write a job's `webhook_url` cannot collect the credential.
   */
  webhookAuthHosts?: string[];
  /**
   * Hosts a job's `webhook_url` may reach although they are loopback, private or link-local
   * (`allow_hosts`), in the same forms as `webhookAuthHosts`. Without an entry, job webhooks go
   * only to public addresses, and never to the scheduler's own API.
   */
  allowHosts?: string[];
  /** Allow the configuration's own URLs (Slack) to reach link-local and cloud metadata addresses (default false). */
  allowLinkLocal?: boolean;
  /** Bot token for Slack's `chat.postMessage` (used when `slackWebhookUrl` is not set). */
  slackApiToken?: string;
  /** Slack channel used when a job has no `slack_channel`. */
  slackDefaultChannel?: string;
  /** Slack incoming-webhook URL; when set, Slack messages go there instead of the Web API. */
  slackWebhookUrl?: string;
  /** Base URL of the Slack Web API (default `https://slack.com/api`). */
  slackApiUrl?: string;
  /** SMTP server host name. */
  smtpHost?: string;
  /** SMTP server port (default 587). */
  smtpPort?: number;
  /** SMTP user name; when set, the client authenticates. */
  smtpUsername?: string;
  /** SMTP password. */
  smtpPassword?: string;
  /** Connect with implicit TLS (port 465 style) rather than upgrading with STARTTLS (default false). */
  smtpSecure?: boolean;
  /** Sender address of delivery emails (default `symbi@localhost`). */
  emailFrom?: string;
  /** Directory of the `log_file` channel's files (default `./.symbi/logs`). */
  logDir?: string;
  /** Size at which a job's log file is rotated, in bytes (default 10 MiB). */
  logMaxBytes?: number;
  /** Rotated files kept per job, `name.log.1` … `name.log.N` (default 5). */
  logMaxFiles?: number;
}

/** A {@link DeliveryConfig} with every default applied; secrets and hosts stay optional. */
export type ResolvedDeliveryConfig = Required<
  Pick<
    DeliveryConfig,
    | 'webhookTimeoutSeconds'
    | 'webhookRetryAttempts'
    | 'allowLinkLocal'
    | 'allowHosts'
    | 'webhookAuthHosts'
    | 'slackApiUrl'
    | 'smtpPort'
    | 'smtpSecure'
    | 'emailFrom'
    | 'logDir'
    | 'logMaxBytes'
    | 'logMaxFiles'
  >
> &
  DeliveryConfig;

/** The defaults of {@link DeliveryConfig}. */
export const DELIVERY_CONFIG_DEFAULTS = {
  webhookTimeoutSeconds: 30,
  webhookRetryAttempts: 3,
  allowLinkLocal: false,
  allowHosts: [],
  webhookAuthHosts: [],
  slackApiUrl: 'https://slack.com/api',
  smtpPort: 587,
  smtpSecure: false,
  emailFrom: 'symbi@localhost',
  logDir: './.symbi/logs',
  logMaxBytes: 10 * 1024 * 1024,
  logMaxFiles: 5,
} as const satisfies Partial<DeliveryConfig>;

/**
 * Applies the defaults to `config` and checks its numbers. Throws a `ValidationError` naming the
 * offending key as written in TOML (e.g. `scheduler.delivery.smtp_port`).
 */
export function resolveDeliveryConfig(config: DeliveryConfig = {}): ResolvedDeliveryConfig {
  const defined = Object.fromEntries(Object.entries(config).filter(([, value]) => value !== undefined)) as DeliveryConfig;
  const resolved: ResolvedDeliveryConfig = { ...DELIVERY_CONFIG_DEFAULTS, ...defined };
  requireNumber('webhook_timeout_seconds', resolved.webhookTimeoutSeconds, { min: 0, exclusiveMin: true });
  requireNumber('webhook_retry_attempts', resolved.webhookRetryAttempts, { min: 0, integer: true });
  requireNumber('smtp_port', resolved.smtpPort, { min: 1, max: 65_535, integer: true });
  requireNumber('log_max_bytes', resolved.logMaxBytes, { min: 1, integer: true });
  requireNumber('log_max_files', resolved.logMaxFiles, { min: 0, integer: true });
  requireHosts('allow_hosts', resolved.allowHosts);
  requireHosts('webhook_auth_hosts', resolved.webhookAuthHosts);
  if (resolved.webhookAuthHeader && resolved.webhookAuthHosts.length === 0) {
    throw new ValidationError(
      'scheduler.delivery.webhook_auth_hosts',
      'must list the hosts webhook_auth_header is for (it is never sent to a host a job chose)',
      [],
    );
  }
  return resolved;
}

function requireHosts(key: string, value: unknown): void {
  const field = `scheduler.delivery.${key}`;
  if (!Array.isArray(value) || !value.every((entry) => typeof entry === 'string')) {
    throw new ValidationError(field, 'must be a list of host names', value);
  }
  for (const entry of value) {
    try {
      hostPattern(entry);
    } catch (error) {
      throw new ValidationError(field, (error as Error).message, entry);
    }
  }
}

function requireNumber(
  key: string,
  value: number,
  rule: { min: number; max?: number; integer?: boolean; exclusiveMin?: boolean },
): void {
  const field = `scheduler.delivery.${key}`;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ValidationError(field, 'must be a number', value);
  if (rule.integer && !Number.isInteger(value)) throw new ValidationError(field, 'must be a whole number', value);
  const tooLow = rule.exclusiveMin ? value <= rule.min : value < rule.min;
  if (tooLow) throw new ValidationError(field, `must be ${rule.exclusiveMin ? 'greater than' : 'at least'} ${rule.min}`, value);
  if (rule.max !== undefined && value > rule.max) throw new ValidationError(field, `must be at most ${rule.max}`, value);
}
