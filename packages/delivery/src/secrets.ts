import type { ResolvedDeliveryConfig } from './delivery-config.js';

/** The secrets held in the delivery configuration, for the router's `Redactor`. */
export function configSecrets(config: ResolvedDeliveryConfig): (string | undefined)[] {
  return [config.slackApiToken, config.slackWebhookUrl, config.smtpPassword, config.webhookSigningSecret, config.webhookAuthHeader];
}
