import { describeApiError, field, type LlmProvider } from './llm-provider.js';

/** The Anthropic API version this wire format follows. */
export const ANTHROPIC_VERSION = '2023-06-01';

/**
 * Anthropic Messages API: `POST {base}/v1/messages` with `x-api-key` and `anthropic-version`;
 * the output is the concatenated text blocks of the answer's `content`.
 */
export const anthropicMessages: LlmProvider = {
  name: 'anthropic',
  label: 'Anthropic API',
  apiKeyEnv: 'ANTHROPIC_API_KEY',
  baseUrlEnv: 'ANTHROPIC_BASE_URL',
  defaultBaseUrl: 'https://api.anthropic.com',
  endpoint: (baseUrl) => (baseUrl.endsWith('/v1') ? `${baseUrl}/messages` : `${baseUrl}/v1/messages`),
  headers: (apiKey) => ({ 'x-api-key': apiKey, 'anthropic-version': ANTHROPIC_VERSION }),
  body: (model, conversation, maxTokens) => ({
    model,
    max_tokens: maxTokens,
    ...(conversation.system === null ? {} : { system: conversation.system }),
    messages: conversation.turns.map(({ role, content }) => ({ role, content })),
  }),
  output: (answer) => {
    const content = field(answer, 'content');
    if (!Array.isArray(content)) return undefined;
    return content
      .filter((block) => field(block, 'type') === 'text' && typeof field(block, 'text') === 'string')
      .map((block) => field(block, 'text') as string)
      .join('');
  },
  errorDetail: (answer) => describeApiError(field(answer, 'error')),
};
