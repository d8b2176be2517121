import { describe, expect, it } from 'vitest';
import { defaultSymbiConfig } from '@symbi/dsl';
import { webhookOrigins } from '../src/runtime.js';
import { configuredRedactor } from '../src/secret-values.js';

describe('what symbi up trusts and masks from the files an operator wrote', () => {
  it('allow-lists the host:port of every webhook the loaded files name, and nothing else', () => {
    const specs = [
      { name: 'a', agentId: 'x', webhookUrl: 'http://127.0.0.1:9000/hook' },
      { name: 'b', agentId: 'x', webhookUrl: 'https://hooks.internal./ingest' },
      { name: 'c', agentId: 'x', webhookUrl: 'http://[::1]/v6' },
      { name: 'd', agentId: 'x', webhookUrl: null },
      { name: 'e', agentId: 'x', webhookUrl: 'not a url' },
    ];
    expect(webhookOrigins(specs)).toEqual(['127.0.0.1:9000', 'hooks.internal:443', '[::1]:80']);
  });

  it('masks every value the configuration and the files point at, whatever its name', () => {
    const config = defaultSymbiConfig();
    config.api.apiKey = 'api-key-1234';
    config.api.envAllow = ['ALLOWED_FOR_API'];
    config.delivery.smtpPassword = 'smtp-pw-5678';
    const files = {
      files: [],
      agents: [{ name: 'deployer', capabilities: [], env: { GH: '${DEPLOY_PAT}' } }],
      specs: [{ name: 's', agentId: 'deployer', webhookHeaders: { 'X-Hook': 'Bearer ${HOOK_VALUE}' }, agentPinJwt: '${PIN}' }],
      notes: [],
    };
    const env = { DEPLOY_PAT: 'pat-value-0001', HOOK_VALUE: 'hook-value-0002', PIN: 'pin-value-0003', ALLOWED_FOR_API: 'allowed-0004', PLAIN: 'plain-value-0005' };
    const redactor = configuredRedactor(config, files, env, ['cli-flag-key-9']);
    const text = 'api-key-1234 smtp-pw-5678 pat-value-0001 hook-value-0002 pin-value-0003 allowed-0004 cli-flag-key-9 plain-value-0005';
    expect(redactor.text(text)).toBe(`${'[redacted] '.repeat(7)}plain-value-0005`);
  });
});
