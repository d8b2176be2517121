import { Redactor, referencedVariables } from '@symbi/core';
import type { SymbiConfig } from '@symbi/dsl';
import type { AgentFiles } from './runtime.js';

type Environment = Record<string, string | undefined>;

/**
 * The redaction `symbi` applies to everything it stores, logs or prints: the values of
 * secret-looking variables, the configuration's secrets (API key, delivery credentials), and the
 * value of every variable that the loaded files or `[api] env_allow` point at (agents' `env`,
 * schedules' `webhook_headers` and `agent_pin_jwt`), whatever its name.
 */
export function configuredRedactor(config: SymbiConfig, files: AgentFiles, env: Environment, extra: (string | null | undefined)[] = []): Redactor {
  const { delivery } = config;
  const templates = [
    ...files.agents.flatMap((agent) => Object.values(agent.env ?? {})),
    ...files.specs.flatMap((spec) => [...Object.values(spec.webhookHeaders ?? {}), spec.agentPinJwt ?? '']),
  ];
  const referenced = [...templates.flatMap(referencedVariables), ...config.api.envAllow].map((name) => env[name]);
  return Redactor.forEnvironment(env, [
    config.api.apiKey,
    delivery.webhookAuthHeader,
    delivery.webhookSigningSecret,
    delivery.slackApiToken,
    delivery.slackWebhookUrl,
    delivery.smtpPassword,
    ...referenced,
    ...extra,
  ]);
}
