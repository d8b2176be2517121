import { calculateJwkThumbprint, compactVerify, decodeJwt, decodeProtectedHeader, errors, importJWK } from 'jose';
import type { JWTPayload, ProtectedHeaderParameters } from 'jose';
import { AgentPinError } from '../errors.js';
import { systemClock, type Clock } from '../ports/clock.js';
import { agentPinFailure, messageOf, quote } from './agentpin-failure.js';
import { normalizeDomain, parseDiscoveryDocument, type DiscoveryDocument, type DiscoveryPublicKey } from './discovery-document.js';
import type { DiscoveryResolver } from './discovery-resolvers.js';
import { InMemoryPinStore, type PinStore } from './pin-store.js';

/** The only `typ` an AgentPin credential may carry (compared case-insensitively, `application/` optional). */
export const AGENTPIN_CREDENTIAL_TYP = 'agentpin-credential+jwt';

/** Options of {@link AgentPinVerifier}. */
export interface AgentPinVerifierOptions {
  /** Where discovery documents come from; several are asked in order until one knows the domain. */
  discovery: DiscoveryResolver | readonly DiscoveryResolver[];
  /** Key pins; default an {@link InMemoryPinStore}. */
  pins?: PinStore;
  /** Tolerance for `exp`, `nbf` and `iat` against the verifier's clock, in seconds; default 60. */
  clockSkewSeconds?: number;
  /** Clock used when `verify` is given no `now`; default the system clock. */
  clock?: Clock;
}

/** What {@link AgentPinVerifier.verify} expects of a credential. */
export interface AgentPinExpectation {
  /** The job's agent, which the credential's `sub` must name. */
  agentId: string;
  /** The domain anchor (e.g. `SYMBI_AGENTPIN_DOMAIN`) whose keys sign credentials and which `iss` must equal. */
  domain: string;
  /** The instant to verify at; default the verifier's clock. */
  now?: Date;
  /**
   * Audiences this verifier answers to: a credential with an `aud` claim must name one of them
   * (compared case-insensitively). Default: the domain anchor.
   */
  audience?: readonly string[];
}

/** The verified content of an AgentPin credential. */
export interface AgentPinClaims {
  /** `iss`: the issuing domain (lower-cased). */
  issuer: string;
  /** `sub`: the agent the credential speaks for, as written in it. */
  subject: string;
  /** Header `kid`: the key that signed it. */
  kid: string;
  /** `jti`, if present. */
  credentialId: string | null;
  /** `iat`, if present. */
  issuedAt: Date | null;
  /** `nbf`, if present. */
  notBefore: Date | null;
  /** `exp`. */
  expiresAt: Date;
  /** `capabilities`, if present; otherwise empty. */
  capabilities: string[];
  /** Every claim of the payload, verified. */
  payload: Readonly<Record<string, unknown>>;
}

/**
 * Verifies AgentPin credentials: compact JWS tokens signed with ES256 by a key that the agent's
 * domain publishes in its discovery document.
 *
 * Checks run in this order and the first failure throws `AgentPinError` with its reason tag
 * (see `AgentPinFailureReason`):
 * 1. structure: three base64url parts, JSON header and claims (`malformed`);
 * 2. header `alg` is `ES256` (`bad_alg`), checked before anything is looked up, so `none`, HMAC or
 *    RSA tokens can never steer key selection;
 * 3. header `typ` is `agentpin-credential+jwt` (`bad_typ`): explicit typing keeps other ES256 JWTs
 *    the same keys might sign from being replayed as credentials; and a `kid` is present (`malformed`);
 * 4. the expected domain's discovery document (`discovery_failed`);
 * 5. the `kid` is not in `revoked_kids` (`revoked`) and names a published key (`unknown_kid`);
 * 6. the key equals the one pinned for (domain, kid) on first use (`key_changed`);
 * 7. the signature (`bad_signature`); the key is pinned once a signature has verified with it;
 * 8. `exp` present and not past (`expired`); `nbf` and `iat` not in the future (`not_yet_valid`);
 *    each with the configured clock skew;
 * 9. `iss` equals the expected domain (`wrong_issuer`);
 * 10. `sub` names the job's agent, either exactly or as the AgentPin URN
 *     `urn:agentpin:<domain>:<agent>` (`wrong_agent`); when the document lists `agents`, it must
 *     list `sub` (`wrong_agent`) with status `active` (`revoked`);
 * 11. `jti` is not in `revoked_credentials` (`revoked`);
 * 12. `aud`, when present (a string or a list), names one of the expected audiences, by default
 *     the domain anchor (`wrong_audience`): a credential issued for another verifier is refused.
 *
 * Claims are judged only after the signature holds, so a forged token always reports
 * `bad_signature` and untrusted claim values never decide the outcome. Messages quote short
 * claim values (issuer, agent) but never the token. A failing {@link PinStore} throws its own error.
 */
export class AgentPinVerifier {
  readonly #resolvers: readonly DiscoveryResolver[];
  readonly #pins: PinStore;
  readonly #skewSeconds: number;
  readonly #clock: Clock;

  /** A verifier reading documents from `options.discovery`. */
  constructor(options: AgentPinVerifierOptions) {
    this.#resolvers = Array.isArray(options.discovery) ? [...options.discovery] : [options.discovery as DiscoveryResolver];
    this.#pins = options.pins ?? new InMemoryPinStore();
    this.#skewSeconds = options.clockSkewSeconds ?? 60;
    this.#clock = options.clock ?? systemClock;
  }

  /** Verifies `jwt` against `expected`; resolves to its claims or throws `AgentPinError`. */
  async verify(jwt: string, expected: AgentPinExpectation): Promise<AgentPinClaims> {
    const token = jwt.trim();
    const { header, payload } = decodeCredential(token);

    if (header.alg !== 'ES256') {
      throw agentPinFailure('bad_alg', `alg ${quote(header.alg ?? '(none given)')} is refused; AgentPin credentials use ES256`);
    }
    if (!isCredentialTyp(header.typ)) {
      throw agentPinFailure('bad_typ', `typ ${quote(header.typ ?? '(none given)')} is refused; expected ${AGENTPIN_CREDENTIAL_TYP}`);
    }
    const kid = header.kid;
    if (typeof kid !== 'string' || kid.length === 0) throw agentPinFailure('malformed', 'credential header has no kid');

    const domain = normalizeDomain(expected.domain);
    const document = await this.#discover(domain);
    if (document.revokedKids.includes(kid)) throw agentPinFailure('revoked', `key ${quote(kid)} of ${domain} is revoked`);
    const key = document.publicKeys.find((candidate) => candidate.kid === kid);
    if (!key) throw agentPinFailure('unknown_kid', `${domain} publishes no key ${quote(kid)}`);

    const thumbprint = await calculateJwkThumbprint(publicJwk(key));
    const pinned = await this.#pins.get(domain, kid);
    if (pinned !== null && pinned !== thumbprint) throw keyChanged(domain, kid);
    await verifySignature(token, key, domain);
    if ((await this.#pins.pinIfAbsent(domain, kid, thumbprint)) !== thumbprint) throw keyChanged(domain, kid);

    const claims = readClaims(payload);
    const now = expected.now ?? new Date(this.#clock.now());
    const expiresAt = this.#checkTimes(claims, now);
    if (claims.iss === null) throw agentPinFailure('wrong_issuer', 'credential has no iss claim');
    if (claims.iss.toLowerCase() !== domain) {
      throw agentPinFailure('wrong_issuer', `iss ${quote(claims.iss)} is not the domain anchor ${domain}`);
    }
    if (claims.sub === null) throw agentPinFailure('wrong_agent', 'credential has no sub claim naming its agent');
    checkAgent(claims.sub, expected.agentId, document);
    if (claims.jti !== null && document.revokedCredentials.includes(claims.jti)) {
      throw agentPinFailure('revoked', `credential ${quote(claims.jti)} is revoked by ${domain}`);
    }
    checkAudience(claims.aud, expected.audience ?? [domain]);
    return {
      issuer: domain,
      subject: claims.sub,
      kid,
      credentialId: claims.jti,
      issuedAt: claims.iat,
      notBefore: claims.nbf,
      expiresAt,
      capabilities: claims.capabilities,
      payload,
    };
  }

  async #discover(domain: string): Promise<DiscoveryDocument> {
    for (const resolver of this.#resolvers) {
      let raw: unknown;
      try {
        raw = await resolver.resolve(domain);
      } catch (error) {
        if (error instanceof AgentPinError) throw error;
        throw agentPinFailure('discovery_failed', `${resolver.name} could not resolve ${domain}: ${messageOf(error)}`, error);
      }
      if (raw !== null && raw !== undefined) return parseDiscoveryDocument(raw, domain, resolver.name);
    }
    const tried = this.#resolvers.map((resolver) => resolver.name).join(', ') || 'no resolver configured';
    throw agentPinFailure('discovery_failed', `no discovery document for ${domain} (tried ${tried})`);
  }

  /** Checks `exp`, `nbf` and `iat` against `now` with the skew; returns the expiry. */
  #checkTimes(claims: RawClaims, now: Date): Date {
    const skewMs = this.#skewSeconds * 1000;
    if (claims.exp === null) throw agentPinFailure('expired', 'credential has no exp claim; AgentPin credentials must expire');
    if (now.getTime() >= claims.exp.getTime() + skewMs) {
      throw agentPinFailure('expired', `credential expired at ${claims.exp.toISOString()}`);
    }
    if (claims.nbf && claims.nbf.getTime() > now.getTime() + skewMs) {
      throw agentPinFailure('not_yet_valid', `credential is not valid before ${claims.nbf.toISOString()}`);
    }
    if (claims.iat && claims.iat.getTime() > now.getTime() + skewMs) {
      throw agentPinFailure('not_yet_valid', `credential is issued in the future, at ${claims.iat.toISOString()}`);
    }
    return claims.exp;
  }
}

function decodeCredential(token: string): { header: ProtectedHeaderParameters; payload: JWTPayload } {
  if (token.split('.').length !== 3) throw agentPinFailure('malformed', 'credential is not a compact JWS of three parts');
  try {
    return { header: decodeProtectedHeader(token), payload: decodeJwt(token) };
  } catch (error) {
    throw agentPinFailure('malformed', `credential cannot be decoded: ${messageOf(error)}`, error);
  }
}

/** RFC 7515 §4.1.9: media type names are case-insensitive and `application/` may be left out. */
function isCredentialTyp(typ: unknown): boolean {
  return typeof typ === 'string' && typ.toLowerCase().replace(/^application\//, '') === AGENTPIN_CREDENTIAL_TYP;
}

function publicJwk(key: DiscoveryPublicKey) {
  return { kty: key.kty, crv: key.crv, x: key.x, y: key.y };
}

function keyChanged(domain: string, kid: string): AgentPinError {
  return agentPinFailure('key_changed', `key ${quote(kid)} of ${domain} differs from the key pinned on first use`);
}

async function verifySignature(token: string, key: DiscoveryPublicKey, domain: string): Promise<void> {
  let cryptoKey: Awaited<ReturnType<typeof importJWK>>;
  try {
    cryptoKey = await importJWK(publicJwk(key), 'ES256');
  } catch (error) {
    throw agentPinFailure('discovery_failed', `key ${quote(key.kid)} of ${domain} is not a valid P-256 public key`, error);
  }
  try {
    await compactVerify(token, cryptoKey, { algorithms: ['ES256'] });
  } catch (error) {
    if (error instanceof errors.JWSSignatureVerificationFailed) {
      throw agentPinFailure('bad_signature', `signature does not verify with key ${quote(key.kid)} of ${domain}`, error);
    }
    throw agentPinFailure('malformed', `credential cannot be verified: ${messageOf(error)}`, error);
  }
}

/** The registered claims of a payload, type-checked but not yet judged. */
interface RawClaims {
  exp: Date | null;
  nbf: Date | null;
  iat: Date | null;
  iss: string | null;
  sub: string | null;
  jti: string | null;
  /** `aud` as a list (a single string becomes a list of one); null when absent. */
  aud: string[] | null;
  capabilities: string[];
}

function readClaims(payload: JWTPayload): RawClaims {
  const time = (name: 'exp' | 'nbf' | 'iat'): Date | null => {
    const value = payload[name];
    if (value === undefined) return null;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw agentPinFailure('malformed', `claim ${name} is not a number`);
    return new Date(value * 1000);
  };
  const text = (name: 'iss' | 'sub' | 'jti'): string | null => {
    const value = payload[name];
    if (value === undefined) return null;
    if (typeof value !== 'string') throw agentPinFailure('malformed', `claim ${name} is not a string`);
    return value;
  };
  const audience: unknown = payload.aud;
  if (audience !== undefined && typeof audience !== 'string' && !(Array.isArray(audience) && audience.every((a) => typeof a === 'string'))) {
    throw agentPinFailure('malformed', 'claim aud is neither a string nor a list of strings');
  }
  const capabilities: unknown = payload['capabilities'] ?? [];
  if (!Array.isArray(capabilities) || !capabilities.every((c): c is string => typeof c === 'string')) {
    throw agentPinFailure('malformed', 'claim capabilities is not a list of strings');
  }
  return {
    exp: time('exp'),
    nbf: time('nbf'),
    iat: time('iat'),
    iss: text('iss'),
    sub: text('sub'),
    jti: text('jti'),
    aud: audience === undefined ? null : typeof audience === 'string' ? [audience] : (audience as string[]),
    capabilities,
  };
}

function checkAudience(audience: string[] | null, accepted: readonly string[]): void {
  if (audience === null) return;
  const wanted = new Set(accepted.map((name) => name.toLowerCase()));
  if (!audience.some((name) => wanted.has(name.toLowerCase()))) {
    throw agentPinFailure('wrong_audience', `credential is addressed to ${audience.map(quote).join(', ') || '(nobody)'}, not to ${[...wanted].join(', ')}`);
  }
}

function checkAgent(subject: string, agentId: string, document: DiscoveryDocument): void {
  if (subject !== agentId && subject !== `urn:agentpin:${document.domain}:${agentId}`) {
    throw agentPinFailure('wrong_agent', `credential is for agent ${quote(subject)}, the job runs ${quote(agentId)}`);
  }
  if (document.agents === null) return;
  const declared = document.agents.find((agent) => agent.agentId === subject);
  if (!declared) throw agentPinFailure('wrong_agent', `${document.domain} does not declare agent ${quote(subject)}`);
  if (declared.status !== 'active') {
    throw agentPinFailure('revoked', `agent ${quote(subject)} is ${quote(declared.status)} at ${document.domain}`);
  }
}
