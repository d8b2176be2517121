import { createServer, STATUS_CODES, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { CronScheduler } from '@symbi/core';
import { ApiError } from './api-error.js';
import { createApiHandler, type ApiOptions } from './api-handler.js';

/** Settings of {@link startServer}: the API options plus where to listen. */
export interface StartServerOptions extends ApiOptions {
  /** The scheduler to serve. The server neither starts nor stops it. */
  scheduler: CronScheduler;
  /** Interface to bind (default `127.0.0.1`; use `0.0.0.0` to accept remote clients). */
  host?: string;
  /** Port (default 8080; 0 picks a free one). */
  port?: number;
  /** Longest wait for a request's headers before it is answered 408 and closed (default 10 s). */
  headersTimeoutMs?: number;
  /** Longest wait for a whole request, headers and body (default 30 s; at least `headersTimeoutMs`). */
  requestTimeoutMs?: number;
  /** Most connections open at once; further ones are closed as they arrive (default 256). */
  maxConnections?: number;
}

/** Defaults of the connection limits of {@link startServer}. */
export const SERVER_LIMITS = { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, maxConnections: 256 } as const;

/** A listening API server. */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** The port actually bound. */
  port: number;
  /** The underlying Node server. */
  server: Server;
  /** Stops accepting connections, closes idle and open ones, and resolves once closed. */
  close(): Promise<void>;
}

/**
 * Starts an HTTP server for the API ({@link createApiHandler}) and resolves once it listens.
 * Malformed HTTP (bad request lines, oversized headers) is answered with a JSON error too.
 *
 * @example
 * ```ts
 * const api = await startServer({ scheduler, port: 8080, apiKey: process.env.SYMBI_API_KEY });
 * console.log(`listening on ${api.url}`);
 * await api.close();
 * ```
 */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const { scheduler, host = '127.0.0.1', port = 8080, headersTimeoutMs, requestTimeoutMs, maxConnections, ...apiOptions } = options;
  const limits = connectionLimits({ headersTimeoutMs, requestTimeoutMs, maxConnections });
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // Node looks for expired requests only this often (30 s by default), which would stretch every timeout.
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
    },
    createApiHandler(scheduler, apiOptions),
  );
  server.maxConnections = limits.maxConnections;
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => answerClientError(error, socket));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the server is not bound to a TCP port');
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function connectionLimits(given: Partial<Record<keyof typeof SERVER_LIMITS, number>>): Record<keyof typeof SERVER_LIMITS, number> {
  const limits = { ...SERVER_LIMITS, ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value < 1) throw new TypeError(`${name} must be a positive whole number, not ${String(value)}`);
  }
  if (limits.requestTimeoutMs < limits.headersTimeoutMs) {
    throw new TypeError(`requestTimeoutMs (${limits.requestTimeoutMs}) must be at least headersTimeoutMs (${limits.headersTimeoutMs})`);
  }
  return limits;
}

/** Node answers unparsable requests with a bare status line; this sends the API's JSON error instead. */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const apiError =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? new ApiError(431, 'HEADERS_TOO_LARGE', 'request headers too large')
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new ApiError(408, 'REQUEST_TIMEOUT', 'request timed out')
        : new ApiError(400, 'BAD_REQUEST', 'malformed HTTP request');
  const body = JSON.stringify(apiError.toBody());
  socket.end(
    `HTTP/1.1 ${apiError.status} ${STATUS_CODES[apiError.status]}\r\n` +
      `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
