import { describeApiError, field, type LlmProvider } from './llm-provider.js';

/**
 * OpenAI-compatible Chat Completions: `POST {base}/v1/chat/completions` (or
 * `{base}/chat/completions` when the base already ends in `/v1`) with a bearer key; the system
 * prompt is the first message and the output is `choices[0].message.content`.
 */
export const openAiChatCompletions: LlmProvider = {
  name: 'openai',
  label: 'OpenAI-compatible API',
  apiKeyEnv: 'OPENAI_API_KEY',
  baseUrlEnv: 'OPENAI_BASE_URL',
  defaultBaseUrl: 'https://api.openai.com/v1',
  endpoint: (baseUrl) => (baseUrl.endsWith('/v1') ? `${baseUrl}/chat/completions` : `${baseUrl}/v1/chat/completions`),
  headers: (apiKey) => ({ authorization: `Bearer ${apiKey}` }),
  // max_tokens is left to the server: OpenAI's newer models reject it in favour of max_completion_tokens.
  body: (model, conversation) => ({
    model,
    messages: [
      ...(conversation.system === null ? [] : [{ role: 'system', content: conversation.system }]),
      ...conversation.turns.map(({ role, content }) => ({ role, content })),
    ],
  }),
  output: (answer) => {
    const choices = field(answer, 'choices');
    const content = Array.isArray(choices) ? field(field(choices[0], 'message'), 'content') : undefined;
    if (typeof content === 'string') return content;
    // Some compatible servers answer with content parts instead of a string.
    if (Array.isArray(content)) {
      return content
        .filter((part) => typeof field(part, 'text') === 'string')
        .map((part) => field(part, 'text') as string)
        .join('');
    }
    return undefined;
  },
  errorDetail: (answer) => describeApiError(field(answer, 'error')),
};
