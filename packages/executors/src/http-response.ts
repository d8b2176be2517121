import { ExecutionError } from '@symbi/core';
import { AgentHttpError } from './errors.js';
import { errorMessage } from './execution-limits.js';

/** Default cap on the body of an HTTP or LLM agent's response (4 MiB). */
export const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
/** Default time limit of HTTP and LLM agents that declare none (5 minutes). */
export const DEFAULT_HTTP_TIMEOUT_MS = 5 * 60_000;
/** How much of an error body a message quotes. */
const ERROR_BODY_CHARS = 500;

/** Reads a response body as UTF-8 text, refusing bodies larger than `limit` bytes. */
export async function readBodyText(response: Response, limit: number, what: string): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (declared > limit) {
    await response.body?.cancel();
    throw new ExecutionError(`${what} answered ${declared} bytes, more than the limit of ${limit}`);
  }
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      throw new ExecutionError(`${what} answered more than the limit of ${limit} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Whether a response declares a JSON body (`application/json` or any `+json` type). */
export function isJsonResponse(response: Response): boolean {
  const type = (response.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || type.endsWith('+json');
}

/** Parses a JSON body, or throws an `ExecutionError` saying whose body was not JSON. */
export function parseJsonBody(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ExecutionError(`${what} answered invalid JSON: ${errorMessage(error)}`, { cause: error });
  }
}

/** An {@link AgentHttpError} for a non-2xx answer, quoting `detail` (or the start of the body). */
export function httpStatusError(what: string, response: Response, detail: string): AgentHttpError {
  const quoted = detail.trim().slice(0, ERROR_BODY_CHARS);
  return new AgentHttpError(`${what} answered HTTP ${response.status}${quoted ? `: ${quoted}` : ''}`, response.status);
}
