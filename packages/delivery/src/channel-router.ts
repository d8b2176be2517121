import type { Writable } from 'node:stream';
import { BUILTIN_DELIVERY_CHANNELS, ConflictError, DeliveryError, SchedulerError, silentLogger, ValidationError } from '@symbi/core';
import type { BuiltinDeliveryChannel, Clock, CronJobDefinition, DeliveryChannel, DeliveryContext, DeliveryRouter, JobRunRecord, Logger, Redactor } from '@symbi/core';
import type { NetworkEndpoint } from './address-guard.js';
import type { DeliveryConfig } from './delivery-config.js';
import { EmailRouter } from './email-router.js';
import { LogFileRouter } from './log-file-router.js';
import { routerContext } from './router-options.js';
import { SlackRouter } from './slack-router.js';
import { StdoutRouter } from './stdout-router.js';
import { WebhookRouter } from './webhook-router.js';

/** A custom channel written as a plain function. */
export type CustomDeliveryHandler = (job: CronJobDefinition, run: JobRunRecord, output: string) => Promise<void>;

/** What a host registers for a custom channel: a router, or just a function. */
export type CustomChannel = DeliveryRouter | CustomDeliveryHandler;

/** Options of {@link ChannelRouter}. */
export interface ChannelRouterOptions {
  /** Settings of the built-in channels (`[scheduler.delivery]`). */
  config?: DeliveryConfig;
  /** Custom channels by name, as if passed to {@link ChannelRouter.register}. */
  custom?: Record<string, CustomChannel>;
  /** Stream of the `stdout` channel (default `process.stdout`). */
  stdout?: Writable;
  /** Variables for `${ENV}` references in webhook headers (default `process.env`), read at send time. */
  env?: Record<string, string | undefined>;
  /** Receives a line per delivery (debug) and per failure (warn); never a secret. */
  logger?: Logger;
  /** Time source for retry waits and log timestamps (default: the wall clock). */
  clock?: Clock;
  /** Masks secrets in every failure message; the configuration's secrets are always added. */
  redactor?: Redactor;
  /** The scheduler's own listening endpoints, which a job's webhook may never reach. */
  selfEndpoints?: () => readonly NetworkEndpoint[];
}

/** Custom channel names: a letter or digit, then letters, digits, `_`, `-`, `.` or `:`. */
const CHANNEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;

/**
 * The delivery router the scheduler uses: sends each channel to its built-in router (`stdout`,
 * `log_file`, `webhook`, `slack`, `email`) or to a custom channel the host registered (the spec's
 * `Custom(String)`). Every failure is a `DeliveryError` naming the channel, with no secret in it.
 *
 * @example
 * ```ts
 * const router = new ChannelRouter({ config: { logDir: '/var/log/symbi' } });
 * router.register('audit', async (job, run, output) => auditTrail.append(job.name, run.id, output));
 * const scheduler = new CronScheduler({ store, executor, router });
 * ```
 */
export class ChannelRouter implements DeliveryRouter {
  readonly #builtin: Record<BuiltinDeliveryChannel, DeliveryRouter>;
  readonly #custom = new Map<string, DeliveryRouter>();
  readonly #logger: Logger;
  readonly #redactor: Redactor;

  constructor(options: ChannelRouterOptions = {}) {
    const { config, clock, env, redactor, selfEndpoints } = options;
    this.#logger = options.logger ?? silentLogger;
    this.#redactor = routerContext({ config, redactor }).redactor;
    const shared = { config, clock, logger: this.#logger, redactor, selfEndpoints };
    this.#builtin = {
      stdout: new StdoutRouter(options.stdout),
      log_file: new LogFileRouter(shared),
      webhook: new WebhookRouter({ ...shared, env }),
      slack: new SlackRouter(shared),
      email: new EmailRouter(shared),
    };
    for (const [name, channel] of Object.entries(options.custom ?? {})) this.register(name, channel);
  }

  /**
   * Adds a custom channel. Throws a `ValidationError` for a malformed name or a built-in one,
   * and a `ConflictError` when the name is taken.
   */
  register(name: string, channel: CustomChannel): this {
    if (!CHANNEL_NAME.test(name)) {
      throw new ValidationError('delivery', `custom channel name ${JSON.stringify(name)} must be a letter or digit followed by letters, digits, _ - . or :`, name);
    }
    if ((BUILTIN_DELIVERY_CHANNELS as readonly string[]).includes(name)) {
      throw new ValidationError('delivery', `${name} is a built-in channel and cannot be replaced`, name);
    }
    if (this.#custom.has(name)) throw new ConflictError(`delivery channel ${name} is already registered`);
    this.#custom.set(name, typeof channel === 'function' ? { route: (_channel, job, run, output) => channel(job, run, output) } : channel);
    return this;
  }

  /** Whether `name` is a built-in or registered channel (for validating a job's `delivery`). */
  has(name: DeliveryChannel): boolean {
    return (BUILTIN_DELIVERY_CHANNELS as readonly string[]).includes(name) || this.#custom.has(name);
  }

  /** Every channel this router can deliver to: the built-in ones, then the custom ones. */
  channels(): string[] {
    return [...BUILTIN_DELIVERY_CHANNELS, ...this.#custom.keys()];
  }

  /** Delivers to `channel`; rejects with a `DeliveryError` naming it when it fails or is unknown. */
  async route(channel: DeliveryChannel, job: CronJobDefinition, run: JobRunRecord, output: string, context?: DeliveryContext): Promise<void> {
    const router = Object.hasOwn(this.#builtin, channel) ? this.#builtin[channel as BuiltinDeliveryChannel] : this.#custom.get(channel);
    const fields = { channel, job: job.name, run_id: run.id };
    if (!router) {
      const known = this.channels().join(', ');
      throw new DeliveryError(channel, `unknown delivery channel ${JSON.stringify(channel)} (known: ${known})`);
    }
    try {
      await router.route(channel, job, run, output, context);
    } catch (error) {
      const failure = this.#asDeliveryError(channel, error);
      this.#logger.warn({ ...fields, retryable: failure.retryable, error: failure.message }, 'delivery failed');
      throw failure;
    }
    this.#logger.debug(fields, 'delivered');
  }

  /** A custom channel may throw anything; the caller always gets a `DeliveryError`, masked. */
  #asDeliveryError(channel: string, error: unknown): DeliveryError {
    if (error instanceof DeliveryError) return error;
    const original = error instanceof Error ? error.message : String(error);
    const message = this.#redactor.text(original);
    const retryable = error instanceof SchedulerError ? error.retryable : ((error as { retryable?: unknown })?.retryable ?? true) !== false;
    // The original stays reachable as the cause unless it held a secret.
    return new DeliveryError(channel, message, message === original ? { cause: error, retryable } : { retryable });
  }
}
