import { AgentPinError } from '../errors.js';

/**
 * Stable reason tags carried by {@link AgentPinError.reason} when a credential is refused.
 *
 * - `missing`: the job has no `agent_pin_jwt`, or the variable it references is unset (gate only).
 * - `malformed`: not a compact JWS with a JSON header and claims, claims of the wrong type, or no `kid`.
 * - `bad_alg`: `alg` is not `ES256` (`none`, `HS256`, `RS256`… are refused before any key lookup).
 * - `bad_typ`: header `typ` is not `agentpin-credential+jwt`.
 * - `discovery_failed`: no resolver produced a valid discovery document for the domain.
 * - `unknown_kid`: the document has no public key with the credential's `kid`.
 * - `revoked`: the key (`revoked_kids`), the credential (`jti` in `revoked_credentials`) or the agent
 *   (declared with a `status` other than `active`) is revoked.
 * - `key_changed`: the document's key for this (domain, kid) differs from the key pinned on first use.
 * - `bad_signature`: the signature does not verify with the document's key.
 * - `expired`: `exp` is missing or past (beyond the clock skew).
 * - `not_yet_valid`: `nbf` or `iat` lies in the future (beyond the clock skew).
 * - `wrong_issuer`: `iss` is not the expected domain anchor.
 * - `wrong_agent`: `sub` is not the job's agent, or the document does not declare that agent.
 * - `wrong_audience`: `aud` is present and names none of the audiences this scheduler accepts.
 */
export type AgentPinFailureReason =
  | 'missing'
  | 'malformed'
  | 'bad_alg'
  | 'bad_typ'
  | 'discovery_failed'
  | 'unknown_kid'
  | 'revoked'
  | 'key_changed'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_issuer'
  | 'wrong_agent'
  | 'wrong_audience';

/** Every AgentPin failure reason tag. */
export const AGENTPIN_FAILURE_REASONS: readonly AgentPinFailureReason[] = [
  'missing',
  'malformed',
  'bad_alg',
  'bad_typ',
  'discovery_failed',
  'unknown_kid',
  'revoked',
  'key_changed',
  'bad_signature',
  'expired',
  'not_yet_valid',
  'wrong_issuer',
  'wrong_agent',
  'wrong_audience',
];

/** An {@link AgentPinError} whose reason is one of the documented tags. */
export function agentPinFailure(reason: AgentPinFailureReason, message: string, cause?: unknown): AgentPinError {
  return new AgentPinError(reason, message, cause === undefined ? undefined : { cause });
}

/**
 * A value from an untrusted credential or document, quoted and cut short so that it can go into a
 * message without flooding logs or smuggling line breaks.
 */
export function quote(value: unknown): string {
  const text = typeof value === 'string' ? value : String(value);
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}

/** The message of any thrown value, with its cause's (fetch hides the real problem there). */
export function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? `${error.message} (${error.cause.message})` : error.message;
}
