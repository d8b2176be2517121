import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWTPayload } from 'jose';
import type { AgentIdentityDocument, DiscoveryResolver } from '@symbi/core';

/** The instant most tests verify at. */
export const NOW = new Date('2026-03-01T12:00:00Z');
export const NOW_SECONDS = NOW.getTime() / 1000;
export const DOMAIN = 'agents.example.com';
export const AGENT = 'trusted-agent';

/** A domain's signing key: its private half and its published public JWK. */
export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: AgentIdentityDocument['public_keys'][number];
}

/** A fresh ES256 key pair published under `kid`. */
export async function newSigningKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const { x, y } = await exportJWK(publicKey);
  return { kid, privateKey, publicJwk: { kid, kty: 'EC', crv: 'P-256', x: x!, y: y! } };
}

/** A discovery document of `DOMAIN` publishing `keys`, with `extra` fields merged in. */
export function documentOf(keys: SigningKey[], extra: Partial<AgentIdentityDocument> = {}): AgentIdentityDocument {
  return { domain: DOMAIN, public_keys: keys.map((key) => key.publicJwk), ...extra };
}

/** Claims of a credential valid at `NOW` for `AGENT` of `DOMAIN`, with `overrides` (undefined removes one). */
export function claims(overrides: Record<string, unknown> = {}): JWTPayload {
  const base: Record<string, unknown> = {
    iss: DOMAIN,
    sub: AGENT,
    iat: NOW_SECONDS - 60,
    exp: NOW_SECONDS + 3600,
    jti: 'cred-0001',
    capabilities: ['read:reports'],
    ...overrides,
  };
  return Object.fromEntries(Object.entries(base).filter(([, value]) => value !== undefined));
}

/** A credential signed by `key` (header `kid` = the key's unless overridden). */
export function issue(
  key: SigningKey,
  payload: JWTPayload = claims(),
  header: { typ?: string; kid?: string } = {},
): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'ES256', typ: 'agentpin-credential+jwt', kid: key.kid, ...header })
    .sign(key.privateKey);
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A hand-made compact token with any header at all (for `alg: none` and friends). */
export function craft(header: Record<string, unknown>, payload: JWTPayload, signature = ''): string {
  return `${base64url(header)}.${base64url(payload)}.${signature}`;
}

/** A resolver serving documents from a map that tests may change, counting its lookups. */
export class MapDiscovery implements DiscoveryResolver {
  readonly name = 'map';
  lookups = 0;
  constructor(readonly documents: Map<string, unknown> = new Map()) {}
  async resolve(domain: string): Promise<unknown> {
    this.lookups += 1;
    return this.documents.get(domain) ?? null;
  }
}
