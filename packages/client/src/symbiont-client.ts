import { HttpTransport, type FetchFunction } from './http-transport.js';
import { ScheduleApi } from './schedule-api.js';

/** Settings of a {@link SymbiontClient}. */
export interface SymbiontClientOptions {
  /** Base URL of the server, e.g. `http://localhost:8080`. */
  baseUrl: string;
  /** API key, sent as `Authorization: Bearer <apiKey>`; an empty or missing key sends none. */
  apiKey?: string;
  /** A `fetch` to use instead of the global one (tests, proxies, custom agents). */
  fetch?: FetchFunction;
  /** Per-request timeout in milliseconds (default 30 000). */
  timeoutMs?: number;
}

/**
 * The JavaScript SDK of the symbi scheduler HTTP API. No dependencies; uses `fetch`.
 *
 * @example
 * ```ts
 * const client = new SymbiontClient({ baseUrl: 'http://localhost:8080', apiKey: process.env.SYMBI_API_KEY });
 * const job = await client.schedule.create({ name: 'daily-backup', agentId: 'backup-agent', cronExpr: '0 0 2 * * *' });
 * const status = await client.schedule.getStatus(job.id);
 * console.log(status.next_run);
 * ```
 */
export class SymbiontClient {
  /** Jobs, runs, approvals, audit and health. */
  readonly schedule: ScheduleApi;

  constructor(options: SymbiontClientOptions) {
    this.schedule = new ScheduleApi(new HttpTransport(options));
  }
}
