import { createHmac } from 'node:crypto';
import { validateHeaderName, validateHeaderValue } from 'node:http';
import { DeliveryError, interpolateEnv, ValidationError } from '@symbi/core';
import type { CronJobDefinition, DeliveryChannel, DeliveryContext, DeliveryRouter, JobRunRecord } from '@symbi/core';
import { deliverHttp, parseUrl } from './http-delivery.js';
import { httpOptions, routerContext } from './router-options.js';
import type { HttpRouterOptions, RouterContext } from './router-options.js';
import { bareHostname, hostPattern, portOf } from './address-guard.js';
import type { HostPattern, HostResolver } from './address-guard.js';
import { deliveryPayload } from './run-summary.js';

/** Header carrying the body's HMAC-SHA256 when `webhookSigningSecret` is set. */
export const SIGNATURE_HEADER = 'X-Symbi-Signature';
/** Header carrying the send time in Unix seconds, beside the signature. */
export const TIMESTAMP_HEADER = 'X-Symbi-Timestamp';
/** Header carrying the run id, stable across retries so a receiver can drop duplicates. */
export const RUN_ID_HEADER = 'X-Symbi-Run-Id';

/** Options of {@link WebhookRouter}. */
export interface WebhookRouterOptions extends HttpRouterOptions {
  /** Variables for `${ENV}` references in `webhook_headers` (default `process.env`), read at send time. */
  env?: Record<string, string | undefined>;
}

/**
 * The `webhook` channel: POSTs the run as JSON ({@link deliveryPayload}) to the job's
 * `webhook_url` with its `webhook_headers`, retrying network errors, 5xx and 429 with
 * exponential backoff. A job's URL may reach only public addresses, never the scheduler's own API,
 * unless the host is in `allowHosts`; the configured `webhookAuthHeader` goes only to the hosts in
 * `webhookAuthHosts`.
 *
 * @example
 * ```ts
 * const router = new WebhookRouter({ config: { webhookSigningSecret: process.env.HOOK_SECRET } });
 * await router.route('webhook', job, run, output);
 * ```
 */
export class WebhookRouter implements DeliveryRouter {
  readonly #context: RouterContext;
  readonly #env: Record<string, string | undefined>;
  readonly #resolveHost: HostResolver | undefined;
  readonly #authHosts: readonly HostPattern[];

  constructor(options: WebhookRouterOptions = {}) {
    this.#context = routerContext(options);
    this.#authHosts = this.#context.config.webhookAuthHosts.map((entry) => hostPattern(entry));
    this.#env = options.env ?? process.env;
    this.#resolveHost = options.resolveHost;
  }

  /**
   * Sends the run to `job.webhookUrl`, with the delivery's `traceparent` when it is traced; rejects
   * with a `DeliveryError` once every attempt failed.
   */
  async route(channel: DeliveryChannel, job: CronJobDefinition, run: JobRunRecord, output: string, context?: DeliveryContext): Promise<void> {
    if (!job.webhookUrl) throw new DeliveryError(channel, `job ${job.name} has no webhook_url`);
    const url = parseUrl(channel, job.webhookUrl);
    const body = JSON.stringify(deliveryPayload(job, run, output));
    const headers = this.#headers(channel, job, run, body, url, context?.traceparent ?? null);
    const secrets = [...Object.values(headers), url.username, url.password];
    await deliverHttp(
      { channel, url, trust: 'job', headers, body, logFields: { job: job.name, run_id: run.id } },
      httpOptions(this.#context, this.#resolveHost, secrets),
    );
  }

  #headers(channel: string, job: CronJobDefinition, run: JobRunRecord, body: string, url: URL, traceparent: string | null): Record<string, string> {
    // Keyed by lower-case name: a job's `content-type` replaces ours rather than doubling it.
    const headers = new Map<string, [name: string, value: string]>([
      ['content-type', ['Content-Type', 'application/json']],
      ['user-agent', ['User-Agent', 'symbi-scheduler']],
    ]);
    for (const [name, template] of Object.entries(job.webhookHeaders)) {
      headers.set(name.toLowerCase(), [name, this.#headerValue(channel, name, template)]);
    }
    const { webhookAuthHeader, webhookSigningSecret } = this.#context.config;
    if (webhookAuthHeader && !headers.has('authorization') && this.#isAuthHost(url)) {
      headers.set('authorization', ['Authorization', webhookAuthHeader]);
    }
    headers.set(RUN_ID_HEADER.toLowerCase(), [RUN_ID_HEADER, run.id]);
    if (traceparent !== null) headers.set('traceparent', ['traceparent', traceparent]);
    if (webhookSigningSecret) {
      const timestamp = String(Math.floor(this.#context.clock.now() / 1000));
      const signature = createHmac('sha256', webhookSigningSecret).update(body).digest('hex');
      headers.set(TIMESTAMP_HEADER.toLowerCase(), [TIMESTAMP_HEADER, timestamp]);
      headers.set(SIGNATURE_HEADER.toLowerCase(), [SIGNATURE_HEADER, `sha256=${signature}`]);
    }
    return Object.fromEntries(headers.values());
  }

  /** Whether `url` goes to a host the configured `webhookAuthHeader` is for. */
  #isAuthHost(url: URL): boolean {
    return this.#authHosts.some((pattern) => pattern.matches(bareHostname(url), portOf(url)));
  }

  #headerValue(channel: string, name: string, template: string): string {
    const field = `webhook_headers.${name}`;
    try {
      validateHeaderName(name);
    } catch {
      throw new DeliveryError(channel, `${field}: not a valid header name`);
    }
    let value: string;
    try {
      value = interpolateEnv(template, this.#env, field);
    } catch (error) {
      // The message names the field and the variable, never a value.
      if (error instanceof ValidationError) throw new DeliveryError(channel, error.message, { cause: error });
      throw error;
    }
    try {
      validateHeaderValue(name, value);
    } catch {
      throw new DeliveryError(channel, `${field}: the value holds characters not allowed in a header`);
    }
    return value;
  }
}
