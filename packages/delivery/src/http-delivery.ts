import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { DeliveryError, sleep } from '@symbi/core';
import type { Clock, Logger, Redactor } from '@symbi/core';
import { RefusedAddressError } from './address-guard.js';
import type { DestinationTrust, HostResolver, OutboundPolicy } from './address-guard.js';

/** Most of a response body kept for inspection; the rest is read and dropped. */
const MAX_RESPONSE_BYTES = 64 * 1024;
/** First retry waits this long; each further retry doubles it. */
const BACKOFF_BASE_MS = 1000;
/** Longest wait between two attempts. */
const BACKOFF_MAX_MS = 30_000;
/** A `Retry-After` longer than this ends the attempts: the scheduler's outbox retries later. */
const MAX_RETRY_AFTER_MS = 5 * 60_000;

/** A response received from an endpoint. */
export interface HttpResponse {
  /** HTTP status code. */
  status: number;
  /** Response headers. */
  headers: IncomingHttpHeaders;
  /** The body as text (at most 64 KiB of it). */
  body: string;
}

/** How a channel judges one response. */
export type ResponseVerdict =
  | { ok: true }
  | {
      ok: false;
      /** Why, safe to show (no secrets). */
      reason: string;
      /** Another attempt may succeed. */
      retryable: boolean;
      /** Wait asked for by the endpoint (`Retry-After`), in milliseconds. */
      retryAfterMs?: number;
    };

/** One HTTP POST to send, with everything needed to retry it. */
export interface HttpDeliveryRequest {
  /** The channel, for errors and logs (`webhook`, `slack`). */
  channel: string;
  /** Destination; only its origin ever appears in errors and logs. */
  url: URL;
  /** Who wrote the destination, which decides the addresses it may reach. */
  trust: DestinationTrust;
  /** Request headers (values are never shown). */
  headers: Record<string, string>;
  /** Request body. */
  body: string;
  /** Judges a response; defaults to {@link judgeStatus}. */
  judge?: (response: HttpResponse, now: number) => ResponseVerdict;
  /** Fields identifying the delivery in log lines. */
  logFields: Record<string, unknown>;
}

/** Settings shared by the HTTP channels. */
export interface HttpDeliveryOptions {
  /** Time allowed for one exchange. */
  timeoutMs: number;
  /** Retries after a failed first attempt. */
  retryAttempts: number;
  /** Which destinations may be contacted. */
  policy: OutboundPolicy;
  /** Resolves host names. */
  resolveHost: HostResolver;
  /** Drives the waits between attempts. */
  clock: Clock;
  /** Receives a warning per retried attempt. */
  logger: Logger;
  /** Masks secrets in every message. */
  redactor: Redactor;
}

/**
 * POSTs a request, retrying network errors, timeouts and responses judged retryable with
 * exponential backoff (1 s, 2 s, 4 s… up to 30 s) or the endpoint's `Retry-After`; a
 * `Retry-After` beyond five minutes ends the attempts at once with a retryable error, leaving the
 * wait to the scheduler's delivery outbox.
 * Resolves with the accepted response; rejects with a `DeliveryError` that names the channel
 * and the destination's origin, never a header value, token or URL path.
 */
export async function deliverHttp(request: HttpDeliveryRequest, options: HttpDeliveryOptions): Promise<HttpResponse> {
  const { channel, url } = request;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new DeliveryError(channel, `unsupported URL scheme ${url.protocol} (use http or https)`);
  }
  try {
    options.policy.checkUrl(url, request.trust);
  } catch (error) {
    throw new DeliveryError(channel, (error as Error).message);
  }
  const judge = request.judge ?? judgeStatus;
  const attempts = options.retryAttempts + 1;
  const target = `POST ${url.origin}`;
  for (let attempt = 1; ; attempt++) {
    const verdict = await postOnce(request, options).then((response): Accepted | Refusal => {
      const judged = judge(response, options.clock.now());
      return judged.ok ? { ok: true, response } : judged;
    }, transportVerdict);
    if (verdict.ok) return verdict.response;
    const reason = options.redactor.text(verdict.reason);
    const retryAfterTooLong = verdict.retryAfterMs !== undefined && verdict.retryAfterMs > MAX_RETRY_AFTER_MS;
    if (!verdict.retryable || attempt >= attempts || retryAfterTooLong) {
      const tries = attempt === 1 ? '' : ` (after ${attempt} attempts)`;
      throw new DeliveryError(channel, `${target} failed: ${reason}${tries}`, { retryable: verdict.retryable, attempts: attempt });
    }
    const delayMs = verdict.retryAfterMs ?? Math.min(BACKOFF_BASE_MS * 2 ** (attempt - 1), BACKOFF_MAX_MS);
    options.logger.warn(
      { ...request.logFields, channel, target: url.origin, attempt, delay_ms: delayMs, reason },
      `${channel} delivery attempt failed; retrying`,
    );
    await sleep(options.clock, delayMs);
  }
}

/** Parses a destination URL; a bad one is reported without echoing it (it may hold a token). */
export function parseUrl(channel: string, text: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new DeliveryError(channel, 'the destination URL is not a valid absolute URL');
  }
}

/** A refusal verdict. */
type Refusal = Extract<ResponseVerdict, { ok: false }>;
/** An accepted response. */
type Accepted = { ok: true; response: HttpResponse };

/** 2xx accepts; 408, 429 and 5xx may succeed later; anything else will not. */
export function judgeStatus(response: HttpResponse, now: number): ResponseVerdict {
  const { status } = response;
  if (status >= 200 && status < 300) return { ok: true };
  const reason = `HTTP ${status}`;
  if (status === 429 || status === 503) {
    const retryAfterMs = parseRetryAfter(response.headers['retry-after'], now);
    return retryAfterMs === undefined ? { ok: false, reason, retryable: true } : { ok: false, reason, retryable: true, retryAfterMs };
  }
  if (status === 408 || status >= 500) return { ok: false, reason, retryable: true };
  if (status >= 300 && status < 400) return { ok: false, reason: `${reason} (redirects are not followed)`, retryable: false };
  return { ok: false, reason, retryable: false };
}

/** Milliseconds to wait from a `Retry-After` header (seconds or an HTTP date); undefined if absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text.trim())) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

class TimeoutFailure extends Error {
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
  }
}

function transportVerdict(error: unknown): Refusal {
  if (error instanceof RefusedAddressError) return { ok: false, reason: error.message, retryable: false };
  if (error instanceof TimeoutFailure) return { ok: false, reason: error.message, retryable: true };
  const code = (error as NodeJS.ErrnoException).code;
  // Node's network errors name the address, never a header; only the code and the text are kept.
  return { ok: false, reason: `network error${code ? ` ${code}` : ''}: ${(error as Error).message}`, retryable: true };
}

function postOnce(request: HttpDeliveryRequest, options: HttpDeliveryOptions): Promise<HttpResponse> {
  const transport = request.url.protocol === 'https:' ? https : http;
  return new Promise<HttpResponse>((resolve, reject) => {
    const req = transport.request(request.url, {
      method: 'POST',
      headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
      lookup: options.policy.lookup(request.url, request.trust, options.resolveHost),
      // A fresh connection per delivery: deliveries are rare, and no idle socket outlives one.
      agent: false,
    });
    const fail = (error: Error) => {
      clearTimeout(timer);
      reject(error);
    };
    // The deadline covers the whole exchange, body included, not just idle time on the socket.
    const timer = setTimeout(() => {
      const error = new TimeoutFailure(options.timeoutMs);
      reject(error);
      req.destroy(error);
    }, options.timeoutMs);
    req.on('error', fail);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      res.on('data', (chunk: Buffer) => {
        if (kept >= MAX_RESPONSE_BYTES) return;
        chunks.push(chunk.subarray(0, MAX_RESPONSE_BYTES - kept));
        kept += Math.min(chunk.length, MAX_RESPONSE_BYTES - kept);
      });
      res.on('error', fail);
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.end(request.body);
  });
}
