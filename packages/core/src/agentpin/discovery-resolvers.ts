import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentPinError } from '../errors.js';
import { agentPinFailure, messageOf, quote } from './agentpin-failure.js';
import { normalizeDomain } from './discovery-document.js';

/**
 * Finds a domain's discovery document (see `AgentIdentityDocument` for its shape). The
 * verifier validates whatever a resolver returns, so a resolver only fetches.
 */
export interface DiscoveryResolver {
  /** Short name used in error messages, e.g. `directory:/etc/symbi/agentpin`. */
  readonly name: string;
  /**
   * The raw (parsed JSON) document for `domain`, or null when this resolver does not know the
   * domain, so the next resolver is asked. Throws when the source exists but cannot be read.
   */
  resolve(domain: string): Promise<unknown>;
}

const isMissingFile = (error: unknown) => (error as NodeJS.ErrnoException | null)?.code === 'ENOENT';

async function readJsonFile(path: string, what: string): Promise<unknown> {
  const text = await readFile(path, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw agentPinFailure('discovery_failed', `${what} ${path} is not valid JSON: ${messageOf(error)}`, error);
  }
}

/**
 * Reads `<dir>/<domain>.json`, one discovery document per file: the offline form for hosts whose
 * agents' domains are not reachable. A missing file means "not known here". The domain is checked
 * to be a host name first, so it can never walk out of `dir`.
 */
export class DirectoryDiscovery implements DiscoveryResolver {
  /** Name used in error messages. */
  readonly name: string;
  readonly #dir: string;

  /** Resolves from the documents in `dir`. */
  constructor(dir: string) {
    this.#dir = dir;
    this.name = `directory:${dir}`;
  }

  /** The document in `<dir>/<domain>.json`, or null when there is no such file. */
  async resolve(domain: string): Promise<unknown> {
    const path = join(this.#dir, `${normalizeDomain(domain)}.json`);
    try {
      return await readJsonFile(path, 'discovery document');
    } catch (error) {
      if (isMissingFile(error)) return null;
      throw error;
    }
  }
}

/**
 * Reads one trust bundle file holding the documents of several domains:
 * `{ "domains": { "<domain>": <discovery document>, … } }`. The file is read on every lookup, so
 * an edited bundle (a new revocation) takes effect without a restart. A missing file is an error,
 * since a configured bundle that vanished must not silently trust nobody's revocations.
 */
export class TrustBundleDiscovery implements DiscoveryResolver {
  /** Name used in error messages. */
  readonly name: string;
  readonly #file: string;

  /** Resolves from the bundle at `file`. */
  constructor(file: string) {
    this.#file = file;
    this.name = `bundle:${file}`;
  }

  /** The bundle's document for `domain`, or null when the bundle does not list it. */
  async resolve(domain: string): Promise<unknown> {
    const wanted = normalizeDomain(domain);
    let bundle: unknown;
    try {
      bundle = await readJsonFile(this.#file, 'trust bundle');
    } catch (error) {
      if (isMissingFile(error)) throw agentPinFailure('discovery_failed', `trust bundle ${this.#file} does not exist`, error);
      throw error;
    }
    const domains = (bundle as { domains?: unknown } | null)?.domains;
    if (typeof domains !== 'object' || domains === null || Array.isArray(domains)) {
      throw agentPinFailure('discovery_failed', `trust bundle ${this.#file} has no "domains" object`);
    }
    const entry = Object.entries(domains).find(([name]) => name.toLowerCase() === wanted);
    return entry ? entry[1] : null;
  }
}

/** Options of {@link WellKnownDiscovery}. */
export interface WellKnownDiscoveryOptions {
  /** The fetch to use; defaults to the global one. */
  fetch?: typeof globalThis.fetch;
  /**
   * Origin to ask instead of `https://<domain>`, e.g. `http://127.0.0.1:8080` for a local mirror
   * or a test server. The path `/.well-known/agent-identity.json` is appended.
   */
  baseUrl?: string;
  /** Give up after this many milliseconds; default 5000. */
  timeoutMs?: number;
  /** Refuse bodies larger than this many bytes; default 1 MiB. */
  maxBytes?: number;
}

/**
 * Fetches `https://<domain>/.well-known/agent-identity.json`, as AgentPin publishes it. Redirects
 * are refused (a redirect could hand the domain's identity to another host), a 404 means "not
 * known here", any other failure (status, timeout, oversize or invalid body) is `discovery_failed`.
 * Nothing is cached: every verification sees the current keys and revocations.
 */
export class WellKnownDiscovery implements DiscoveryResolver {
  /** Name used in error messages. */
  readonly name = 'well-known';
  readonly #fetch: typeof globalThis.fetch;
  readonly #baseUrl: string | null;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;

  /** Resolves over HTTPS (or from `options.baseUrl`). */
  constructor(options: WellKnownDiscoveryOptions = {}) {
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#baseUrl = options.baseUrl?.replace(/\/+$/, '') ?? null;
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#maxBytes = options.maxBytes ?? 1024 * 1024;
  }

  /** The document served for `domain`, or null on 404. */
  async resolve(domain: string): Promise<unknown> {
    const origin = this.#baseUrl ?? `https://${normalizeDomain(domain)}`;
    const url = `${origin}/.well-known/agent-identity.json`;
    const failed = (problem: string, cause?: unknown) => agentPinFailure('discovery_failed', `GET ${url}: ${problem}`, cause);

    let response: Response;
    let body: string;
    try {
      response = await this.#fetch(url, {
        headers: { accept: 'application/json' },
        redirect: 'error',
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      if (response.status === 404) return null;
      if (!response.ok) throw failed(`answered ${response.status}`);
      const declared = Number(response.headers.get('content-length') ?? 0);
      if (declared > this.#maxBytes) throw failed(`body of ${declared} bytes exceeds ${this.#maxBytes}`);
      body = await response.text();
    } catch (error) {
      if (error instanceof AgentPinError) throw error;
      if (error instanceof Error && error.name === 'TimeoutError') throw failed(`timed out after ${this.#timeoutMs} ms`, error);
      throw failed(messageOf(error), error);
    }
    if (Buffer.byteLength(body) > this.#maxBytes) throw failed(`body exceeds ${this.#maxBytes} bytes`);
    try {
      return JSON.parse(body) as unknown;
    } catch (error) {
      throw failed(`body is not valid JSON (${quote(body.slice(0, 40))})`, error);
    }
  }
}
