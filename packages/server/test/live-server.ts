import { request as httpRequest } from 'node:http';
import { CronScheduler, InMemoryJobStore, systemClock, type PolicyGate } from '@symbi/core';
import { FakeExecutor, RecordingRouter, type FakeAgent } from '@symbi/core/testing';
import { startServer, type RunningServer, type StartServerOptions } from '@symbi/server';

/** A fetch response whose JSON is untyped, as tests read fields of it freely. */
// biome-ignore lint/suspicious/noExplicitAny: tests read any field of the API's answers; the wire types are checked in wire-schema tests.
export type ApiResponse = Omit<Response, 'json'> & { json(): Promise<any> };

/** `fetch`, typed to return an {@link ApiResponse}. */
export function fetchApi(url: string, init?: RequestInit): Promise<ApiResponse> {
  return fetch(url, init);
}

/** A real scheduler on the system clock behind a real server on a random loopback port. */
export interface LiveServer {
  scheduler: CronScheduler;
  executor: FakeExecutor;
  router: RecordingRouter;
  api: RunningServer;
  url: string;
  /** `fetch` against the server, with the API key when one is set. */
  call(path: string, init?: RequestInit & { json?: unknown }): Promise<ApiResponse>;
  close(): Promise<void>;
}

export async function startLiveServer(
  options: Omit<StartServerOptions, 'scheduler' | 'port'> & { agents?: Record<string, FakeAgent>; gates?: PolicyGate[] } = {},
): Promise<LiveServer> {
  const { agents, gates, ...apiOptions } = options;
  const executor = new FakeExecutor(systemClock, agents ?? {});
  const router = new RecordingRouter();
  const scheduler = new CronScheduler({ store: new InMemoryJobStore(), executor, router, gates, config: { shutdownTimeoutMs: 0 } });
  await scheduler.start();
  const api = await startServer({ scheduler, port: 0, ...apiOptions });
  const call = (path: string, init: RequestInit & { json?: unknown } = {}) => {
    const { json, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (options.apiKey && !headers.has('authorization')) headers.set('authorization', `Bearer ${options.apiKey}`);
    if (json !== undefined) headers.set('content-type', 'application/json');
    return fetchApi(`${api.url}${path}`, { ...rest, headers, body: json === undefined ? rest.body : JSON.stringify(json) });
  };
  return {
    scheduler,
    executor,
    router,
    api,
    url: api.url,
    call,
    close: async () => {
      await api.close();
      await scheduler.stop();
    },
  };
}

/** Polls `probe` until it returns a value other than undefined (work on the real clock finishing). */
export async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A raw HTTP exchange, for requests `fetch` would normalise or refuse (odd paths, bad headers, huge bodies). */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export function rawRequest(
  baseUrl: string,
  options: { method: string; path: string; headers?: Record<string, string | number>; body?: string | Buffer },
): Promise<RawResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, method: options.method, path: options.path, headers: options.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
