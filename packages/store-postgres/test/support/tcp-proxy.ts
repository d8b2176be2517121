import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of the test PostgreSQL server, for connection faults that
 * touch only the connections of the test using it: `cut()` drops every connection through it (as
 * a network failure or a restarted server would), `refuse()` stops accepting (a database that is
 * down), `accept()` starts again.
 */
export class TcpProxy {
  readonly #target: { host: string; port: number };
  readonly #sockets = new Set<Socket>();
  #server: Server | null = null;
  #port = 0;

  /** A proxy to `target` (e.g. the host and port of `CONNECTION_STRING`); call {@link accept} to open it. */
  constructor(target: { host: string; port: number }) {
    this.#target = target;
  }

  /** The port it listens on (fixed at the first {@link accept}). */
  get port(): number {
    return this.#port;
  }

  /** `connectionString` with its host and port replaced by this proxy's. */
  route(connectionString: string): string {
    const url = new URL(connectionString);
    url.hostname = '127.0.0.1';
    url.port = String(this.#port);
    return url.toString();
  }

  /** Accepts connections (again), on the same port as before. */
  async accept(): Promise<void> {
    if (this.#server !== null) return;
    const server = createServer((client) => {
      const upstream = connect(this.#target);
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('close', () => this.#sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
      client.pipe(upstream).on('close', () => client.destroy());
      upstream.pipe(client).on('close', () => upstream.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => resolve());
    });
    this.#port = (server.address() as { port: number }).port;
    this.#server = server;
  }

  /** Drops every open connection. */
  cut(): void {
    for (const socket of this.#sockets) socket.destroy();
  }

  /** Stops accepting and drops every open connection: the database is unreachable. */
  async refuse(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    this.cut();
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
