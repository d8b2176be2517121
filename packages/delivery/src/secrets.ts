import type { ResolvedDeliveryConfig } from './delivery-config.js';

const MASK = '[redacted]';
// Words shorter than this (e.g. "Bearer") are not worth masking on their own.
const MIN_PART_LENGTH = 6;

/**
 * The strings to mask in anything that leaves a channel as text: each secret, and each long
 * word of it (so the token of `Bearer <token>` is masked even when quoted without its scheme).
 */
export function secretFragments(secrets: Iterable<string | undefined | null>): string[] {
  const fragments = new Set<string>();
  for (const secret of secrets) {
    if (!secret) continue;
    fragments.add(secret);
    for (const part of secret.split(/\s+/)) if (part.length >= MIN_PART_LENGTH) fragments.add(part);
  }
  // Longest first, so a secret is masked whole before any of its parts.
  return [...fragments].sort((a, b) => b.length - a.length);
}

/** `text` with every fragment of `secrets` replaced by `[redacted]`. */
export function redact(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) if (secret) result = result.split(secret).join(MASK);
  return result;
}

/** The secrets held in the delivery configuration. */
export function configSecrets(config: ResolvedDeliveryConfig): string[] {
  return secretFragments([
    config.slackApiToken,
    config.slackWebhookUrl,
    config.smtpPassword,
    config.webhookSigningSecret,
    config.webhookAuthHeader,
  ]);
}
