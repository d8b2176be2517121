import { apiErrorFor, SymbiontApiError, SymbiontNetworkError } from './errors.js';

/** The `fetch` function the client calls (the global one by default). */
export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>;

/** Query values; undefined ones are left out. */
export type QueryInput = Record<string, string | number | undefined>;

/** Sends JSON requests to the API and turns error answers into error classes. */
export class HttpTransport {
  readonly #baseUrl: string;
  readonly #apiKey: string | undefined;
  readonly #fetch: FetchFunction | undefined;
  readonly #timeoutMs: number;

  constructor(options: { baseUrl: string; apiKey?: string; fetch?: FetchFunction; timeoutMs?: number }) {
    if (typeof options.baseUrl !== 'string' || !/^https?:\/\//.test(options.baseUrl)) throw new TypeError('baseUrl must be an http(s) URL');
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#apiKey = options.apiKey || undefined;
    this.#fetch = options.fetch;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** Sends one request; resolves to the parsed JSON answer or throws a {@link SymbiontApiError}. */
  async request<T>(method: string, path: string, options: { query?: QueryInput; body?: unknown } = {}): Promise<T> {
    const url = new URL(`${this.#baseUrl}${path}`);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.#apiKey !== undefined) headers.authorization = `Bearer ${this.#apiKey}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    // The global is looked up per call, so a fetch installed after the client was built is used.
    const fetchFn = this.#fetch ?? globalThis.fetch;
    let response: Response;
    try {
      response = await fetchFn(url.toString(), {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      throw new SymbiontNetworkError(`${method} ${url.pathname} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    const text = await response.text();
    const data = parseJson(text);
    if (!response.ok) {
      const error = (data as { error?: { code?: unknown; message?: unknown; field?: unknown } } | undefined)?.error;
      throw apiErrorFor(
        response.status,
        typeof error?.code === 'string' ? error.code : `HTTP_${response.status}`,
        typeof error?.message === 'string' ? error.message : `${method} ${url.pathname} answered ${response.status}`,
        typeof error?.field === 'string' ? error.field : undefined,
      );
    }
    if (data === undefined) throw new SymbiontApiError(response.status, 'BAD_RESPONSE', `${method} ${url.pathname} did not answer JSON`);
    return data as T;
  }
}

function parseJson(text: string): unknown {
  try {
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  } catch {
    return undefined;
  }
}
