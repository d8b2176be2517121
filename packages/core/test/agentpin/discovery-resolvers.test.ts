import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AgentPinError,
  AgentPinVerifier,
  DirectoryDiscovery,
  TrustBundleDiscovery,
  WellKnownDiscovery,
} from '@symbi/core';
import { AGENT, DOMAIN, NOW, documentOf, issue, newSigningKey, type SigningKey } from './issuer.js';

let key: SigningKey;
let dir: string;
const expected = { agentId: AGENT, domain: DOMAIN, now: NOW };

beforeAll(async () => {
  key = await newSigningKey('example-2026-01');
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'symbi-discovery-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<AgentPinError> {
  const error = await promise.then(
    () => {
      throw new Error('unexpectedly resolved');
    },
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(AgentPinError);
  return error as AgentPinError;
}

describe('DirectoryDiscovery', () => {
  it('reads <dir>/<domain>.json and lets the verifier accept a credential', async () => {
    await writeFile(join(dir, `${DOMAIN}.json`), JSON.stringify(documentOf([key])));
    const discovery = new DirectoryDiscovery(dir);
    expect(await discovery.resolve(DOMAIN)).toEqual(documentOf([key]));
    await expect(new AgentPinVerifier({ discovery }).verify(await issue(key), expected)).resolves.toMatchObject({ subject: AGENT });
  });

  it('answers null for a domain without a file', async () => {
    expect(await new DirectoryDiscovery(dir).resolve('unknown.example')).toBeNull();
  });

  it('fails on a file that is not JSON', async () => {
    await writeFile(join(dir, `${DOMAIN}.json`), '{ nope');
    const error = await rejection(new DirectoryDiscovery(dir).resolve(DOMAIN));
    expect(error.reason).toBe('discovery_failed');
    expect(error.message).toContain('is not valid JSON');
  });

  it('never reads outside its directory', async () => {
    await writeFile(join(dir, 'secret.json'), JSON.stringify(documentOf([key])));
    const inner = join(dir, 'docs');
    const error = await rejection(new DirectoryDiscovery(inner).resolve('../secret'));
    expect(error.reason).toBe('discovery_failed');
  });
});

describe('TrustBundleDiscovery', () => {
  it('serves each domain of one bundle file', async () => {
    const second = await newSigningKey('second-2026-01');
    const bundle = join(dir, 'bundle.json');
    const secondDocument = { domain: 'second.example', public_keys: [second.publicJwk] };
    await writeFile(bundle, JSON.stringify({ domains: { [DOMAIN]: documentOf([key]), 'Second.Example': secondDocument } }));
    const discovery = new TrustBundleDiscovery(bundle);
    const verifier = new AgentPinVerifier({ discovery });

    await expect(verifier.verify(await issue(key), expected)).resolves.toBeDefined();
    const secondToken = await issue(second, { iss: 'second.example', sub: AGENT, exp: NOW.getTime() / 1000 + 60 });
    await expect(verifier.verify(secondToken, { ...expected, domain: 'second.example' })).resolves.toBeDefined();
    expect(await discovery.resolve('third.example')).toBeNull();
  });

  it('sees an edited bundle at once', async () => {
    const bundle = join(dir, 'bundle.json');
    await writeFile(bundle, JSON.stringify({ domains: { [DOMAIN]: documentOf([key]) } }));
    const verifier = new AgentPinVerifier({ discovery: new TrustBundleDiscovery(bundle) });
    const token = await issue(key);
    await verifier.verify(token, expected);
    await writeFile(bundle, JSON.stringify({ domains: { [DOMAIN]: documentOf([key], { revoked_credentials: ['cred-0001'] }) } }));
    expect((await rejection(verifier.verify(token, expected))).reason).toBe('revoked');
  });

  it('fails when the bundle is missing or has no domains object', async () => {
    const missing = await rejection(new TrustBundleDiscovery(join(dir, 'absent.json')).resolve(DOMAIN));
    expect(missing.reason).toBe('discovery_failed');
    expect(missing.message).toContain('does not exist');
    const wrong = join(dir, 'wrong.json');
    await writeFile(wrong, JSON.stringify({ documents: [] }));
    expect((await rejection(new TrustBundleDiscovery(wrong).resolve(DOMAIN))).message).toContain('no "domains" object');
  });
});

describe('WellKnownDiscovery', () => {
  let server: Server;
  let baseUrl: string;
  let handler: (request: IncomingMessage, response: ServerResponse) => void;
  const requests: string[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      requests.push(`${request.method} ${request.url}`);
      handler(request, response);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    requests.length = 0;
  });

  const serve = (status: number, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) => {
    handler = (_request, response) => {
      response.writeHead(status, headers);
      response.end(body);
    };
  };

  it('fetches /.well-known/agent-identity.json and lets the verifier accept a credential', async () => {
    serve(200, JSON.stringify(documentOf([key])));
    const verifier = new AgentPinVerifier({ discovery: new WellKnownDiscovery({ baseUrl: `${baseUrl}/` }) });
    await expect(verifier.verify(await issue(key), expected)).resolves.toMatchObject({ issuer: DOMAIN });
    expect(requests).toEqual(['GET /.well-known/agent-identity.json']);
  });

  it('asks https://<domain> when no base URL is given', async () => {
    const urls: string[] = [];
    const fetch: typeof globalThis.fetch = async (input) => {
      urls.push(String(input));
      return new Response(JSON.stringify(documentOf([key])), { status: 200 });
    };
    await new WellKnownDiscovery({ fetch }).resolve('Agents.Example.com');
    expect(urls).toEqual(['https://agents.example.com/.well-known/agent-identity.json']);
  });

  it('answers null on 404, so the verifier reports discovery_failed', async () => {
    serve(404, 'not here');
    const discovery = new WellKnownDiscovery({ baseUrl });
    expect(await discovery.resolve(DOMAIN)).toBeNull();
    expect((await rejection(new AgentPinVerifier({ discovery }).verify(await issue(key), expected))).reason).toBe('discovery_failed');
  });

  it('fails on a server error, a body that is not JSON, or an oversize body', async () => {
    serve(503, 'busy');
    expect((await rejection(new WellKnownDiscovery({ baseUrl }).resolve(DOMAIN))).message).toContain('answered 503');
    serve(200, '<html>hello</html>');
    expect((await rejection(new WellKnownDiscovery({ baseUrl }).resolve(DOMAIN))).message).toContain('not valid JSON');
    serve(200, JSON.stringify(documentOf([key])));
    expect((await rejection(new WellKnownDiscovery({ baseUrl, maxBytes: 50 }).resolve(DOMAIN))).message).toContain('exceeds 50');
  });

  it('refuses to follow a redirect', async () => {
    serve(302, '', { location: `${baseUrl}/elsewhere.json` });
    const error = await rejection(new WellKnownDiscovery({ baseUrl }).resolve(DOMAIN));
    expect(error.reason).toBe('discovery_failed');
    expect(requests).toEqual(['GET /.well-known/agent-identity.json']);
  });

  it('gives up after its timeout', async () => {
    handler = () => {
      // Never answers: the request hangs until the discovery times out.
    };
    const started = Date.now();
    const error = await rejection(new WellKnownDiscovery({ baseUrl, timeoutMs: 150 }).resolve(DOMAIN));
    expect(error.message).toContain('timed out after 150 ms');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('fails when the server cannot be reached', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await rejection(new WellKnownDiscovery({ baseUrl: `http://127.0.0.1:${port}` }).resolve(DOMAIN));
    expect(error.reason).toBe('discovery_failed');
    expect(error.message).toContain('ECONNREFUSED');
  });
});
