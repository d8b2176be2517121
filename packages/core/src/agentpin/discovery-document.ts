import { agentPinFailure, quote } from './agentpin-failure.js';

/**
 * A domain's AgentPin discovery document as published, in JSON (snake_case), whether it is served
 * at `https://<domain>/.well-known/agent-identity.json`, kept as `<dir>/<domain>.json`, or held in
 * a trust bundle:
 *
 * ```json
 * {
 *   "domain": "agents.example.com",
 *   "public_keys": [{ "kid": "example-2026-01", "kty": "EC", "crv": "P-256", "x": "…", "y": "…" }],
 *   "revoked_kids": ["example-2025-01"],
 *   "revoked_credentials": ["3f1c…"],
 *   "agents": ["trusted-agent", { "agent_id": "urn:agentpin:agents.example.com:reporter", "status": "active" }]
 * }
 * ```
 *
 * `domain` (or `entity`, as AgentPin's own documents name it) must equal the domain it is looked up
 * for. Keys must be ES256 public keys (EC P-256); any private part is ignored. `revoked_kids`,
 * `revoked_credentials` and `agents` are optional; when `agents` is present, a credential is
 * accepted only for an agent it declares, and an agent declared with a `status` other than
 * `active` is treated as revoked. Other fields (AgentPin's `agentpin_version`, `updated_at`…) are
 * allowed and ignored.
 */
export interface AgentIdentityDocument {
  /** The domain this document speaks for. */
  domain?: string;
  /** AgentPin's name for `domain`; either may be used. */
  entity?: string;
  /** The domain's signing keys as public JWKs. */
  public_keys: Array<{ kid: string; kty: 'EC'; crv: 'P-256'; x: string; y: string }>;
  /** Key ids that must no longer be trusted. */
  revoked_kids?: string[];
  /** Credential ids (`jti`) that must no longer be trusted. */
  revoked_credentials?: string[];
  /** Agents the domain vouches for: ids, or declarations with an optional status. */
  agents?: Array<string | { agent_id: string; status?: string }>;
}

/** One signing key of a discovery document, as a public JWK. */
export interface DiscoveryPublicKey {
  /** Key id, matched against the credential header's `kid`. */
  kid: string;
  /** Always `EC`. */
  kty: 'EC';
  /** Always `P-256`. */
  crv: 'P-256';
  /** Base64url x coordinate. */
  x: string;
  /** Base64url y coordinate. */
  y: string;
}

/** An agent a discovery document vouches for. */
export interface DiscoveryAgent {
  /** The agent's id as the credential's `sub` names it. */
  agentId: string;
  /** `active` unless the document says otherwise. */
  status: string;
}

/** A discovery document after validation. */
export interface DiscoveryDocument {
  /** The domain it speaks for, lower-cased. */
  domain: string;
  /** Its signing keys. */
  publicKeys: DiscoveryPublicKey[];
  /** Revoked key ids. */
  revokedKids: string[];
  /** Revoked credential ids (`jti`). */
  revokedCredentials: string[];
  /** Declared agents, or null when the document does not restrict agents. */
  agents: DiscoveryAgent[] | null;
}

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const HOST = new RegExp(`^${LABEL}(?:\\.${LABEL})*(?::\\d{1,5})?$`, 'i');

/**
 * Lower-cases a domain anchor after checking it is a host name (with an optional port), since it
 * becomes part of file paths and URLs. Throws `discovery_failed` otherwise.
 */
export function normalizeDomain(domain: string): string {
  if (domain.length > 253 || !HOST.test(domain)) {
    throw agentPinFailure('discovery_failed', `domain anchor ${quote(domain)} is not a valid host name`);
  }
  return domain.toLowerCase();
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isNonEmptyString = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

/**
 * Validates a discovery document for `domain` obtained from `source` (named in errors). Throws
 * `AgentPinError` with reason `discovery_failed` naming the first problem.
 */
export function parseDiscoveryDocument(raw: unknown, domain: string, source: string): DiscoveryDocument {
  const expected = normalizeDomain(domain);
  const invalid = (problem: string) =>
    agentPinFailure('discovery_failed', `discovery document for ${expected} from ${source}: ${problem}`);

  if (!isRecord(raw)) throw invalid('not a JSON object');
  const declared = raw['domain'] ?? raw['entity'];
  if (!isNonEmptyString(declared)) throw invalid('has no domain');
  if (declared.toLowerCase() !== expected) throw invalid(`speaks for ${quote(declared)}`);

  const keys = raw['public_keys'];
  if (!Array.isArray(keys)) throw invalid('public_keys is not a list');
  const publicKeys = keys.map((key, index): DiscoveryPublicKey => {
    if (!isRecord(key)) throw invalid(`public_keys[${index}] is not an object`);
    const { kid, kty, crv, x, y } = key;
    if (!isNonEmptyString(kid)) throw invalid(`public_keys[${index}] has no kid`);
    if (kty !== 'EC' || crv !== 'P-256') throw invalid(`key ${quote(kid)} is not an EC P-256 key`);
    if (!isNonEmptyString(x) || !isNonEmptyString(y)) throw invalid(`key ${quote(kid)} lacks x or y`);
    return { kid, kty, crv, x, y };
  });

  const stringList = (field: string): string[] => {
    const value = raw[field] ?? [];
    if (!Array.isArray(value) || !value.every(isNonEmptyString)) throw invalid(`${field} is not a list of strings`);
    return value;
  };

  return {
    domain: expected,
    publicKeys,
    revokedKids: stringList('revoked_kids'),
    revokedCredentials: stringList('revoked_credentials'),
    agents: parseAgents(raw['agents'], invalid),
  };
}

function parseAgents(value: unknown, invalid: (problem: string) => Error): DiscoveryAgent[] | null {
  if (value === undefined) return null;
  if (!Array.isArray(value)) throw invalid('agents is not a list');
  return value.map((entry, index): DiscoveryAgent => {
    if (isNonEmptyString(entry)) return { agentId: entry, status: 'active' };
    if (isRecord(entry) && isNonEmptyString(entry['agent_id'])) {
      const status = entry['status'] ?? 'active';
      if (!isNonEmptyString(status)) throw invalid(`agents[${index}].status is not a string`);
      return { agentId: entry['agent_id'], status };
    }
    throw invalid(`agents[${index}] is neither an agent id nor an object with agent_id`);
  });
}
