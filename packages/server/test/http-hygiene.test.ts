import { connect, type Socket } from 'node:net';
import { CronScheduler, InMemoryJobStore, systemClock } from '@symbi/core';
import { FakeExecutor } from '@symbi/core/testing';
import { startServer } from '@symbi/server';
import { afterEach, describe, expect, it } from 'vitest';
import { fetchApi, rawRequest, startLiveServer, type LiveServer } from './live-server.js';

let server: LiveServer | null = null;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await server?.close();
  server = null;
});

/** A raw connection to the server; resolves once connected. */
function open(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => resolve(socket));
    socket.on('error', reject);
    sockets.push(socket);
  });
}

/** Everything the server sends until it closes the connection. */
function untilClosed(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

describe('a stranger cannot hold the server', () => {
  it('answers a slow body without Authorization 401 at once, while the body is still unsent', async () => {
    server = await startLiveServer({ apiKey: 'k', requestTimeoutMs: 120_000 });
    for (const authorization of [null, 'Bearer wrong']) {
      const socket = await open(server.url);
      const answer = untilClosed(socket);
      socket.write(
        `POST /api/v1/schedule HTTP/1.1\r\nHost: 127.0.0.1\r\n${authorization ? `Authorization: ${authorization}\r\n` : ''}` +
          'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name":',
      );
      const text = await answer;
      expect(text).toMatch(/^HTTP\/1\.1 401 Unauthorized\r\n/);
      expect(text).toMatch(/\r\nconnection: close\r\n/i);
      expect(text).toContain('"code":"UNAUTHORIZED"');
    }
    expect(await server.scheduler.list()).toEqual([]);
  });

  it('closes requests whose headers or body stall, after the configured seconds', async () => {
    server = await startLiveServer({ apiKey: 'k', headersTimeoutMs: 500, requestTimeoutMs: 1000 });
    const partialHeaders = await open(server.url);
    const headersAnswer = untilClosed(partialHeaders);
    partialHeaders.write('GET /api/v1/schedule HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bea');
    const slowBody = await open(server.url);
    const bodyAnswer = untilClosed(slowBody);
    slowBody.write('POST /api/v1/schedule HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer k\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{');
    expect(await headersAnswer).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(await bodyAnswer).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
  });

  it('keeps at most maxConnections open: 300 stalled connections are bounded and then released', async () => {
    server = await startLiveServer({ apiKey: 'k', maxConnections: 50, headersTimeoutMs: 1000, requestTimeoutMs: 1000 });
    const stalled = await Promise.all(Array.from({ length: 300 }, () => open(server!.url)));
    const closed = stalled.map((socket) => untilClosed(socket));
    for (const socket of stalled) socket.write('GET /api/v1/schedule HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const count = await new Promise<number>((resolve, reject) => server!.api.server.getConnections((error, n) => (error ? reject(error) : resolve(n))));
    expect(count).toBeLessThanOrEqual(50);
    const answers = await Promise.all(closed);
    expect(answers.filter((text) => text === '').length).toBeGreaterThanOrEqual(250);
    expect(answers.filter((text) => text.startsWith('HTTP/1.1 408')).length).toBeLessThanOrEqual(50);
    const res = await server.call('/api/v1/schedule');
    expect(res.status).toBe(200);
  });

  it('refuses limits that cannot work', async () => {
    const scheduler = new CronScheduler({ store: new InMemoryJobStore(), executor: new FakeExecutor(systemClock) });
    await expect(startServer({ scheduler, port: 0, headersTimeoutMs: 5000, requestTimeoutMs: 1000 })).rejects.toThrow(
      'requestTimeoutMs (1000) must be at least headersTimeoutMs (5000)',
    );
    await expect(startServer({ scheduler, port: 0, maxConnections: 0 })).rejects.toThrow('maxConnections must be a positive whole number, not 0');
  });
});

describe('without a valid key only open routes answer', () => {
  it('answers unknown paths, wrong methods and OPTIONS 401 before saying whether they exist', async () => {
    server = await startLiveServer({ apiKey: 'k', openHealth: true });
    for (const [method, path] of [
      ['GET', '/api/v1/no-such-route'],
      ['GET', '/api/v2/schedule'],
      ['GET', '/favicon.ico'],
      ['OPTIONS', '/api/v1/schedule'],
      ['OPTIONS', '/api/v1/health/scheduler'],
      ['DELETE', '/api/v1/audit'],
      ['PATCH', '/api/v1/schedule/x'],
    ] as [string, string][]) {
      const res = await rawRequest(server.url, { method, path });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="symbi"');
      expect(res.headers.allow).toBeUndefined();
      const known = await rawRequest(server.url, { method, path, headers: { authorization: 'Bearer k' } });
      expect([204, 404, 405], `${method} ${path} with the key`).toContain(known.status);
    }
    const options = await rawRequest(server.url, { method: 'OPTIONS', path: '/api/v1/schedule', headers: { authorization: 'Bearer k' } });
    expect({ status: options.status, allow: options.headers.allow }).toEqual({ status: 204, allow: 'POST, GET, HEAD' });
    expect((await fetchApi(`${server.url}/api/v1/health/scheduler`)).status).toBe(200);
    expect((await fetchApi(`${server.url}/`)).status).toBe(200);
  });
});
