import type { IncomingMessage, ServerResponse } from 'node:http';
import { silentLogger, type CronScheduler, type Logger } from '@symbi/core';
import { ApiError, toApiError } from './api-error.js';
import { ApiKeyAuthenticator, DEFAULT_KEY_LABEL, permit, type ApiKey, type Caller } from './api-keys.js';
import { parseQuery } from './query-params.js';
import { DEFAULT_MAX_BODY_BYTES, discardBody, drainLimit, hasBody, readJsonBody } from './request-body.js';
import { API_ROUTES, type RouteDefinition, type RouteResult } from './route-table.js';
import { decodePath, Router } from './router.js';

/** Settings of the HTTP API. */
export interface ApiOptions {
  /**
   * A single key every route but the dashboard's static files needs: its holder is `api` with the
   * role `operator` (everything). Without `apiKeys` it is the only identity, so a job's
   * `policy.approver` only says who is asked.
   */
  apiKey?: string;
  /**
   * Keys with a label (the identity: audit actor and recorded approver) and a role. Once any is
   * configured, a job's `policy.approver` restricts its approvals to the key of that label.
   */
  apiKeys?: ApiKey[];
  /** Serve `GET /api/v1/health/scheduler` without a key (for load balancers and probes). */
  openHealth?: boolean;
  /** Serve `GET /metrics` without a key (for a Prometheus scraper without credentials). */
  openMetrics?: boolean;
  /** Largest accepted request body in bytes (default 1 MiB). */
  maxBodyBytes?: number;
  /** Where request lines (debug) and server-side failures (error) are logged (default silent). */
  logger?: Logger;
  /**
   * Variables that `${VAR}` in `webhook_headers` values and `agent_pin_jwt` sent through the API
   * may read (`[api] env_allow`); any other `${…}` stays literal text (default none).
   */
  envAllow?: readonly string[];
}

/** A Node `http` request listener. */
export type ApiHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Longest accepted request target (path and query). */
const MAX_URL_LENGTH = 8192;

const COMMON_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/** The page and its assets come only from this server; nothing else may load or frame it. */
const HTML_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
};

const router = new Router(API_ROUTES);

/**
 * The HTTP API of a scheduler as a Node request listener, to mount in any `http` server (or
 * behind a host's own routing). Answers every route of the spec plus approvals, audit, runs,
 * reset, `/metrics`, the OpenAPI document and the dashboard.
 *
 * Bad input never yields a 5xx: it is 400 (bad JSON), 401, 403, 404, 405, 409, 413, 414, 415 or
 * 422, always with a JSON body `{ "error": { code, message, field? } }`.
 *
 * @example
 * ```ts
 * const handler = createApiHandler(scheduler, { apiKey: process.env.SYMBI_API_KEY });
 * http.createServer(handler).listen(8080);
 * ```
 */
export function createApiHandler(scheduler: CronScheduler, options: ApiOptions = {}): ApiHandler {
  const single: ApiKey[] = options.apiKey === undefined ? [] : [{ key: options.apiKey, label: DEFAULT_KEY_LABEL, role: 'operator' }];
  const auth = new ApiKeyAuthenticator([...single, ...(options.apiKeys ?? [])]);
  const namedApprovers = (options.apiKeys ?? []).length > 0;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1) throw new TypeError('maxBodyBytes must be a positive whole number');
  const logger = options.logger ?? silentLogger;

  const isOpen = (route: RouteDefinition) =>
    route.access === 'public' || (route.access === 'health' && options.openHealth === true) || (route.access === 'metrics' && options.openMetrics === true);

  /**
   * Without a valid key only open routes answer: unknown paths, 405 and OPTIONS are 401 too, and
   * the caller is known before a byte of the body is read.
   */
  const handle = async (req: IncomingMessage, state: { caller: Caller | null }): Promise<RouteResult> => {
    const target = req.url ?? '/';
    if (target.length > MAX_URL_LENGTH) throw new ApiError(414, 'URI_TOO_LONG', `request target longer than ${MAX_URL_LENGTH} characters`);
    const queryStart = target.indexOf('?');
    const segments = decodePath(queryStart === -1 ? target : target.slice(0, queryStart));
    if (segments === null || !target.startsWith('/')) throw new ApiError(400, 'BAD_REQUEST', 'malformed request path');
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const match = router.match(method, segments);
    const caller = match.kind === 'found' && isOpen(match.route) ? auth.identify(req.headers) : auth.authenticate(req.headers);
    state.caller = caller;
    if (match.kind === 'not_found') throw new ApiError(404, 'ROUTE_NOT_FOUND', 'no such route');
    if (match.kind === 'method_not_allowed') {
      const allow = [...match.allowed, ...(match.allowed.includes('GET') ? ['HEAD'] : [])].join(', ');
      if (req.method === 'OPTIONS') return { status: 204, body: '', contentType: 'text/plain', headers: { allow } };
      throw new ApiError(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed here; use ${allow}`, { headers: { allow } });
    }
    const { route, params } = match;
    permit(caller, route.permission ?? (route.method === 'GET' ? 'read' : 'operate'));
    const query = parseQuery(new URLSearchParams(queryStart === -1 ? '' : target.slice(queryStart + 1)), route.query ?? []);
    const body = route.body ? await readJsonBody(req, maxBodyBytes) : undefined;
    if (route.body?.required && body === undefined) throw new ApiError(422, 'VALIDATION', 'body: a JSON object is required', { field: 'body' });
    return route.handle({ scheduler, params, query, body, caller, envAllow: options.envAllow ?? [], namedApprovers });
  };

  return (req, res) => {
    const started = performance.now();
    const respond = async () => {
      const state: { caller: Caller | null } = { caller: null };
      let result: RouteResult;
      try {
        result = await handle(req, state);
      } catch (error) {
        const apiError = toApiError(error);
        if (apiError.status >= 500) logger.error({ method: req.method, path: pathOf(req), error: describe(error) }, 'request failed');
        result = { status: apiError.status, body: apiError.toBody(), headers: apiError.headers };
      }
      // A stranger's body is never waited for: the answer goes out now and the connection closes.
      // A known caller's unread body is drained, as leaving it would reset the connection under the response.
      const drained = !hasBody(req) || (state.caller?.authenticated === true && (await discardBody(req, drainLimit(maxBodyBytes))));
      send(res, result, !drained);
      logger.debug({ method: req.method, path: pathOf(req), status: result.status, ms: Math.round(performance.now() - started) }, 'request');
    };
    respond().catch((error: unknown) => {
      logger.error({ method: req.method, path: pathOf(req), error: describe(error) }, 'response failed');
      res.destroy();
    });
  };
}

function send(res: ServerResponse, result: RouteResult, close: boolean): void {
  if (res.headersSent || res.destroyed) return;
  const isJson = result.contentType === undefined;
  const payload = isJson ? JSON.stringify(result.body) : String(result.body);
  const contentType = result.contentType ?? 'application/json; charset=utf-8';
  res.writeHead(result.status, {
    ...COMMON_HEADERS,
    ...(contentType.startsWith('text/html') ? HTML_HEADERS : {}),
    ...result.headers,
    'content-type': contentType,
    'content-length': Buffer.byteLength(payload),
    ...(close ? { connection: 'close' } : {}),
  });
  res.end(payload);
}

function pathOf(req: IncomingMessage): string {
  const target = req.url ?? '/';
  const path = target.split('?', 1)[0]!;
  return path.length > 200 ? `${path.slice(0, 200)}…` : path;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
