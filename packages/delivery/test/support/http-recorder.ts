import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the recorder answers to one request: a response, or `hang` (never answer). */
export type Reply = { status: number; headers?: Record<string, string>; body?: string } | 'hang';

/** A request as the recorder received it. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body, exactly as sent (for signature checks). */
  body: string;
}

/**
 * A real HTTP server on loopback that records every request and answers from a queue of
 * replies, then with the default reply (`200 ok`).
 */
export class HttpRecorder {
  readonly requests: RecordedRequest[] = [];
  readonly #replies: Reply[] = [];
  readonly #server: Server;
  #defaultReply: Reply = { status: 200, body: 'ok' };

  private constructor(server: Server) {
    this.#server = server;
  }

  /** Starts a recorder on a random loopback port. */
  static async start(): Promise<HttpRecorder> {
    let recorder: HttpRecorder | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        recorder!.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        const reply = recorder!.#replies.shift() ?? recorder!.#defaultReply;
        if (reply === 'hang') return;
        res.writeHead(reply.status, reply.headers);
        res.end(reply.body ?? '');
      });
    });
    recorder = new HttpRecorder(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return recorder;
  }

  /** The server's port. */
  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** `http://127.0.0.1:<port><path>`. */
  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Queues replies for the next requests. */
  reply(...replies: Reply[]): this {
    this.#replies.push(...replies);
    return this;
  }

  /** Sets the reply given once the queue is empty. */
  otherwise(reply: Reply): this {
    this.#defaultReply = reply;
    return this;
  }

  /** Stops the server, cutting hanging connections. */
  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
