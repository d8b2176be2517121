/**
 * `@symbi/delivery`: delivery routers for `@symbi/core`: stdout, log file, webhook, Slack, email and
 * custom channels, combined by the `ChannelRouter`.
 *
 * @packageDocumentation
 * @module @symbi/delivery
 */
export { ChannelRouter } from './channel-router.js';
export type { ChannelRouterOptions, CustomChannel, CustomDeliveryHandler } from './channel-router.js';
export { DELIVERY_CONFIG_DEFAULTS, resolveDeliveryConfig } from './delivery-config.js';
export type { DeliveryConfig, ResolvedDeliveryConfig } from './delivery-config.js';
export { StdoutRouter } from './stdout-router.js';
export { LogFileRouter } from './log-file-router.js';
export { WebhookRouter, RUN_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './webhook-router.js';
export type { WebhookRouterOptions } from './webhook-router.js';
export { SlackRouter } from './slack-router.js';
export { EmailRouter } from './email-router.js';
export type { HttpRouterOptions, RouterOptions } from './router-options.js';
export { OutboundPolicy, classifyAddress } from './address-guard.js';
export type { AddressKind, DestinationTrust, HostResolver, NetworkEndpoint, OutboundPolicyOptions, ResolvedAddress } from './address-guard.js';
export { deliveryPayload } from './run-summary.js';
export type { DeliveryPayload } from './run-summary.js';
