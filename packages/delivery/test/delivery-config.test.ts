import { describe, expect, it } from 'vitest';
import { ValidationError } from '@symbi/core';
import { resolveDeliveryConfig } from '@symbi/delivery';

describe('resolveDeliveryConfig', () => {
  it('applies the documented defaults', () => {
    expect(resolveDeliveryConfig()).toEqual({
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
    });
  });

  it('keeps given values and ignores undefined ones', () => {
    const resolved = resolveDeliveryConfig({ smtpPort: 2525, smtpHost: 'mail.test', logDir: undefined });
    expect(resolved.smtpPort).toBe(2525);
    expect(resolved.smtpHost).toBe('mail.test');
    expect(resolved.logDir).toBe('./.symbi/logs');
  });

  it.each([
    [{ webhookTimeoutSeconds: 0 }, 'scheduler.delivery.webhook_timeout_seconds'],
    [{ webhookRetryAttempts: 1.5 }, 'scheduler.delivery.webhook_retry_attempts'],
    [{ webhookRetryAttempts: -1 }, 'scheduler.delivery.webhook_retry_attempts'],
    [{ smtpPort: 70_000 }, 'scheduler.delivery.smtp_port'],
    [{ logMaxBytes: 0 }, 'scheduler.delivery.log_max_bytes'],
    [{ logMaxFiles: Number.NaN }, 'scheduler.delivery.log_max_files'],
    [{ allowHosts: ['http://x.example/'] }, 'scheduler.delivery.allow_hosts'],
    [{ allowHosts: ['x.example:99999'] }, 'scheduler.delivery.allow_hosts'],
    [{ allowHosts: 'x.example' as unknown as string[] }, 'scheduler.delivery.allow_hosts'],
    [{ webhookAuthHeader: 'Bearer t' }, 'scheduler.delivery.webhook_auth_hosts'],
  ])('rejects %o naming %s', (config, field) => {
    let caught: unknown;
    try {
      resolveDeliveryConfig(config);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as ValidationError).field).toBe(field);
  });
});
