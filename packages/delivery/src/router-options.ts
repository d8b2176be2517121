import { Redactor, silentLogger, systemClock } from '@symbi/core';
import type { Clock, Logger } from '@symbi/core';
import { OutboundPolicy, systemResolver } from './address-guard.js';
import type { HostResolver, NetworkEndpoint } from './address-guard.js';
import { resolveDeliveryConfig } from './delivery-config.js';
import type { DeliveryConfig, ResolvedDeliveryConfig } from './delivery-config.js';
import type { HttpDeliveryOptions } from './http-delivery.js';
import { configSecrets } from './secrets.js';

/** Options every built-in router accepts. */
export interface RouterOptions {
  /** Channel settings; defaults apply to whatever is left out. */
  config?: DeliveryConfig;
  /** Time source for waits between attempts and for timestamps (default: the wall clock). */
  clock?: Clock;
  /** Receives warnings about retried attempts; never given a secret (default: silent). */
  logger?: Logger;
  /**
   * Masks secrets in every message a channel produces; the configuration's own secrets are
   * always added (default: those and the common credential shapes).
   */
  redactor?: Redactor;
  /**
   * The scheduler's own listening endpoints (its HTTP API), which a job's webhook may never reach;
   * read at each delivery, so a server that starts after the router is still covered.
   */
  selfEndpoints?: () => readonly NetworkEndpoint[];
}

/** Options of the routers that make HTTP requests. */
export interface HttpRouterOptions extends RouterOptions {
  /** Resolves host names before connecting (default: the system resolver). */
  resolveHost?: HostResolver;
}

/** What a router keeps of its options. */
export interface RouterContext {
  /** Configuration with defaults applied. */
  config: ResolvedDeliveryConfig;
  /** Time source. */
  clock: Clock;
  /** Logger. */
  logger: Logger;
  /** Masks the configuration's secrets (and the host's) in messages. */
  redactor: Redactor;
  /** Which destinations may be contacted. */
  policy: OutboundPolicy;
}

/** Applies the defaults of {@link RouterOptions}. */
export function routerContext(options: RouterOptions = {}): RouterContext {
  const config = resolveDeliveryConfig(options.config);
  const policy = new OutboundPolicy({
    allowHosts: config.allowHosts,
    allowLinkLocal: config.allowLinkLocal,
    ...(options.selfEndpoints && { selfEndpoints: options.selfEndpoints }),
  });
  return {
    config,
    clock: options.clock ?? systemClock,
    logger: options.logger ?? silentLogger,
    redactor: (options.redactor ?? new Redactor()).with(configSecrets(config)),
    policy,
  };
}

/** The HTTP settings of a router, with `extraSecrets` masked too. */
export function httpOptions(
  context: RouterContext,
  resolveHost: HostResolver | undefined,
  extraSecrets: readonly string[] = [],
): HttpDeliveryOptions {
  return {
    timeoutMs: context.config.webhookTimeoutSeconds * 1000,
    retryAttempts: context.config.webhookRetryAttempts,
    policy: context.policy,
    resolveHost: resolveHost ?? systemResolver,
    clock: context.clock,
    logger: context.logger,
    redactor: extraSecrets.length === 0 ? context.redactor : context.redactor.with(extraSecrets),
  };
}
