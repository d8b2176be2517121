import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { ApiError } from './api-error.js';

/** One accepted API key. */
export interface ApiKey {
  /** The secret the client sends as `Authorization: Bearer <key>`. */
  key: string;
  /** Who holds it; recorded as the actor in the audit log and as the default approver (default `api`). */
  label?: string;
  /** A read-only key may only call GET routes; anything else answers 403. */
  readOnly?: boolean;
}

/** The authenticated party of a request. */
export interface Caller {
  /** Label of its key (`api` when authentication is off). */
  label: string;
  /** Whether it may only read. */
  readOnly: boolean;
}

/** The caller of every request when no key is configured. */
export const ANONYMOUS_CALLER: Caller = { label: 'api', readOnly: false };

interface StoredKey {
  digest: Buffer;
  caller: Caller;
}

/**
 * Checks bearer tokens against the configured keys. Tokens are compared as SHA-256 digests with
 * `timingSafeEqual`, so neither the comparison time nor an early length mismatch reveals how much
 * of a guess was right; every key is compared, so timing does not reveal which key matched either.
 */
export class ApiKeyAuthenticator {
  readonly #keys: StoredKey[];

  constructor(keys: ApiKey[]) {
    this.#keys = keys.map((k, i) => {
      if (typeof k.key !== 'string' || k.key.length === 0) throw new TypeError(`API key #${i + 1} must be a non-empty string`);
      return { digest: digest(k.key), caller: { label: k.label ?? 'api', readOnly: k.readOnly ?? false } };
    });
  }

  /** Whether any key is configured (when not, every request is let through). */
  get enabled(): boolean {
    return this.#keys.length > 0;
  }

  /** The caller the request's bearer token belongs to; throws 401 when it is missing or wrong. */
  authenticate(headers: IncomingHttpHeaders): Caller {
    if (!this.enabled) return ANONYMOUS_CALLER;
    const token = bearerToken(headers.authorization);
    if (token === null) throw unauthorized('missing API key: send Authorization: Bearer <key>');
    const given = digest(token);
    let found: Caller | null = null;
    for (const key of this.#keys) {
      if (timingSafeEqual(given, key.digest) && found === null) found = key.caller;
    }
    if (found === null) throw unauthorized('invalid API key');
    return found;
  }
}

function bearerToken(header: string | undefined): string | null {
  if (header === undefined) return null;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match ? match[1]! : null;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

function unauthorized(message: string): ApiError {
  return new ApiError(401, 'UNAUTHORIZED', message, { headers: { 'www-authenticate': 'Bearer realm="symbi"' } });
}
