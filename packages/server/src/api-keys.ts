import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { API_KEY_ROLES, identifier, type ApiKeyRole } from '@symbi/core';
import { ApiError } from './api-error.js';

/** What a route asks of its caller: `read` (GET), `operate` (change jobs, start runs) or `decide` (approve, deny). */
export type Permission = 'read' | 'operate' | 'decide';

const ALLOWED: Record<ApiKeyRole, readonly Permission[]> = {
  'read-only': ['read'],
  approver: ['read', 'decide'],
  operator: ['read', 'operate', 'decide'],
};

const REFUSAL: Record<Permission, string> = {
  read: 'read',
  operate: 'change jobs or start runs',
  decide: 'approve or deny runs',
};

/** One accepted API key with the identity it stands for. */
export interface ApiKey {
  /** The secret the client sends as `Authorization: Bearer <key>`. */
  key: string;
  /** Who holds it: the `actor` of every audit event it causes and the recorded approver of its decisions. */
  label: string;
  /** What it may do. */
  role: ApiKeyRole;
}

/** The authenticated party of a request. */
export interface Caller {
  /** Label of its key (`api` for the single `apiKey`, or for everyone when authentication is off). */
  label: string;
  /** Its key's role. */
  role: ApiKeyRole;
  /** Whether a configured key (or no key, with authentication off) vouches for it. */
  authenticated: boolean;
}

/** The label of the single key given as `apiKey` (or `[api] api_key`), and of every caller when no key is configured. */
export const DEFAULT_KEY_LABEL = 'api';

/** Someone without a valid key on an open route: may only read what that route shows. */
const STRANGER: Caller = { label: 'anonymous', role: 'read-only', authenticated: false };

interface StoredKey {
  digest: Buffer;
  caller: Caller;
}

/** Whether `caller` may do what `permission` names; throws 403 naming its label and role otherwise. */
export function permit(caller: Caller, permission: Permission): void {
  if (ALLOWED[caller.role].includes(permission)) return;
  throw new ApiError(403, 'FORBIDDEN', `the API key "${caller.label}" has the role ${caller.role}, which may not ${REFUSAL[permission]}`);
}

/**
 * Checks bearer tokens against the configured keys. Tokens are compared as SHA-256 digests with
 * `timingSafeEqual`, so neither the comparison time nor an early length mismatch reveals how much
 * of a guess was right; every key is compared, so timing does not reveal which key matched either.
 */
export class ApiKeyAuthenticator {
  readonly #keys: StoredKey[];

  constructor(keys: ApiKey[]) {
    const labels = new Set<string>();
    this.#keys = keys.map((k, i) => {
      if (typeof k.key !== 'string' || k.key.length === 0) throw new TypeError(`API key #${i + 1} must be a non-empty string`);
      const label = identifier(k.label, `apiKeys[${i}].label`);
      if (labels.has(label)) throw new TypeError(`API key #${i + 1}: the label "${label}" is already used by another key; labels are identities`);
      labels.add(label);
      if (!API_KEY_ROLES.includes(k.role)) throw new TypeError(`API key "${label}": role must be one of ${API_KEY_ROLES.join(', ')}`);
      return { digest: digest(k.key), caller: { label, role: k.role, authenticated: true } };
    });
  }

  /** Whether any key is configured (when not, every request is let through). */
  get enabled(): boolean {
    return this.#keys.length > 0;
  }

  /** The caller the request's bearer token belongs to; throws 401 when it is missing or wrong. */
  authenticate(headers: IncomingHttpHeaders): Caller {
    if (!this.enabled) return { label: DEFAULT_KEY_LABEL, role: 'operator', authenticated: true };
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

  /** On an open route, a missing or wrong key is not refused (the route needs none): the caller is a stranger. */
  identify(headers: IncomingHttpHeaders): Caller {
    try {
      return this.authenticate(headers);
    } catch {
      return STRANGER;
    }
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
