import { ValidationError, type AgentDefinition, type AgentExecutionRequest, type AgentExecutionResult } from '@symbi/core';
import { DeclaredAgentExecutor, type DeclaredAgentExecutorOptions } from './declared-agent-executor.js';
import { toExecutionResult } from './execution-result.js';
import {
  DEFAULT_HTTP_TIMEOUT_MS,
  DEFAULT_MAX_RESPONSE_BYTES,
  httpStatusError,
  isJsonResponse,
  parseJsonBody,
  readBodyText,
} from './http-response.js';
import { contextToWire, jobToWire, runToWire, type WireContext, type WireJob, type WireRun } from './wire.js';

/** The JSON body an HTTP agent receives with each execution. */
export interface HttpAgentRequestBody {
  /** The job, without secrets. */
  job: WireJob;
  /** The run. */
  run: WireRun;
  /** The run's input. */
  input: string | null;
  /** The agent context. */
  context: WireContext;
}

/** Options of {@link HttpExecutor}. */
export interface HttpExecutorOptions extends DeclaredAgentExecutorOptions {
  /** The fetch implementation; default the global `fetch`. */
  fetch?: typeof fetch;
  /** Cap on a response body; larger answers fail the run. Default 4 MiB. */
  maxResponseBytes?: number;
}

/**
 * Runs agents that live behind an HTTP endpoint (`agent.url`).
 *
 * Each execution POSTs a JSON {@link HttpAgentRequestBody} to the URL. The agent answers 2xx with
 * either JSON `{ "output": "...", "summary"?: "...", "action"?: "sleep" | "continue" }` or any
 * other content type, whose whole body is the output. Any other status rejects with an
 * `AgentHttpError` carrying the status (retryable for 408, 409, 429 and 5xx). Agents without
 * `timeoutMs` get 5 minutes unless `timeoutMs` is set here.
 */
export class HttpExecutor extends DeclaredAgentExecutor {
  readonly #fetch: typeof fetch;
  readonly #maxResponseBytes: number;

  constructor(options: HttpExecutorOptions) {
    super({ ...options, timeoutMs: options.timeoutMs === undefined ? DEFAULT_HTTP_TIMEOUT_MS : options.timeoutMs }, 'url');
    for (const agent of options.agents) checkHttpUrl(agent);
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  }

  protected async run(agent: AgentDefinition, request: AgentExecutionRequest, signal: AbortSignal): Promise<AgentExecutionResult> {
    const body: HttpAgentRequestBody = {
      job: jobToWire(request.job),
      run: runToWire(request.run),
      input: request.input,
      context: contextToWire(request.context),
    };
    const response = await this.#fetch(agent.url!, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/plain;q=0.9, */*;q=0.5',
        ...(request.traceparent === undefined ? {} : { traceparent: request.traceparent }),
      },
      body: JSON.stringify(body),
      signal,
    });
    const what = `agent "${agent.name}"`;
    const text = await readBodyText(response, this.#maxResponseBytes, what);
    if (!response.ok) throw httpStatusError(what, response, text);
    if (!isJsonResponse(response)) return { output: text };
    return toExecutionResult(parseJsonBody(text, what), agent.name);
  }
}

function checkHttpUrl(agent: AgentDefinition): void {
  let protocol: string | undefined;
  try {
    protocol = new URL(agent.url!).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new ValidationError('url', `agent "${agent.name}" needs an http:// or https:// URL`, agent.url);
  }
}
