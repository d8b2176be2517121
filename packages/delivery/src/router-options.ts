import { silentLogger, systemClock } from '@symbi/core';
import type { Clock, Logger } from '@symbi/core';
import { systemResolver } from './address-guard.js';
import type { HostResolver } from './address-guard.js';
import { resolveDeliveryConfig } from './delivery-config.js';
import type { DeliveryConfig, ResolvedDeliveryConfig } from './delivery-config.js';
import type { HttpDeliveryOptions } from './http-delivery.js';
import { configSecrets, secretFragments } from './secrets.js';

/** Options every built-in router accepts. */
export interface RouterOptions {
  /** Channel settings; defaults apply to whatever is left out. */
  config?: DeliveryConfig;
  /** Time source for waits between attempts and for timestamps (default: the wall clock). */
  clock?: Clock;
  /** Receives warnings about retried attempts; never given a secret (default: silent). */
  logger?: Logger;
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
  /** Secrets of the configuration, to mask in messages. */
  secrets: string[];
}

/** Applies the defaults of {@link RouterOptions}. */
export function routerContext(options: RouterOptions = {}): RouterContext {
  const config = resolveDeliveryConfig(options.config);
  return {
    config,
    clock: options.clock ?? systemClock,
    logger: options.logger ?? silentLogger,
    secrets: configSecrets(config),
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
    allowLinkLocal: context.config.allowLinkLocal,
    resolveHost: resolveHost ?? systemResolver,
    clock: context.clock,
    logger: context.logger,
    secrets: secretFragments([...extraSecrets, ...context.secrets]),
  };
}
