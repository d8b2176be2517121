import { beforeAll, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { AgentPinError, AgentPinVerifier, InMemoryPinStore, type AgentPinVerifierOptions } from '@symbi/core';
import { VirtualClock } from '@symbi/core/testing';
import { AGENT, DOMAIN, MapDiscovery, NOW, NOW_SECONDS, claims, craft, documentOf, issue, newSigningKey, type SigningKey } from './issuer.js';

let key: SigningKey;
let other: SigningKey;

beforeAll(async () => {
  key = await newSigningKey('example-2026-01');
  other = await newSigningKey('example-2026-01');
});

const expected = { agentId: AGENT, domain: DOMAIN, now: NOW };

/** A verifier over a map of documents holding `DOMAIN`'s `document` (default: publishing `key`). */
function setup(document: unknown = documentOf([key]), options: Partial<AgentPinVerifierOptions> = {}) {
  const discovery = new MapDiscovery(new Map([[DOMAIN, document]]));
  return { discovery, verifier: new AgentPinVerifier({ discovery, ...options }) };
}

/** The reason tag `promise` rejects with; fails the test when it resolves or throws anything else. */
async function reasonOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => {
      throw new Error('verification unexpectedly succeeded');
    },
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(AgentPinError);
  return (error as AgentPinError).reason;
}

describe('AgentPinVerifier', () => {
  it('accepts a valid credential and returns its claims', async () => {
    const { verifier } = setup();
    const result = await verifier.verify(await issue(key), expected);
    expect(result).toMatchObject({
      issuer: DOMAIN,
      subject: AGENT,
      kid: 'example-2026-01',
      credentialId: 'cred-0001',
      issuedAt: new Date((NOW_SECONDS - 60) * 1000),
      notBefore: null,
      expiresAt: new Date((NOW_SECONDS + 3600) * 1000),
      capabilities: ['read:reports'],
    });
    expect(result.payload.sub).toBe(AGENT);
  });

  it('accepts the agent written as an AgentPin URN, typ with application/ prefix, and a padded token', async () => {
    const { verifier } = setup();
    const urn = await issue(key, claims({ sub: `urn:agentpin:${DOMAIN}:${AGENT}` }), { typ: 'application/AgentPin-Credential+JWT' });
    await expect(verifier.verify(`  ${urn}\n`, expected)).resolves.toMatchObject({ subject: `urn:agentpin:${DOMAIN}:${AGENT}` });
  });

  it('rejects a signature made by another key under the same kid', async () => {
    const { verifier } = setup();
    expect(await reasonOf(verifier.verify(await issue(other), expected))).toBe('bad_signature');
  });

  it('rejects a token whose payload was altered after signing', async () => {
    const { verifier } = setup();
    const [header, , signature] = (await issue(key)).split('.');
    const tampered = `${header}.${Buffer.from(JSON.stringify(claims({ sub: 'root-agent' }))).toString('base64url')}.${signature}`;
    expect(await reasonOf(verifier.verify(tampered, { ...expected, agentId: 'root-agent' }))).toBe('bad_signature');
  });

  describe('refuses every algorithm but ES256 before looking up any key', () => {
    it('alg none', async () => {
      const { verifier, discovery } = setup();
      const token = craft({ alg: 'none', typ: 'agentpin-credential+jwt', kid: key.kid }, claims());
      expect(await reasonOf(verifier.verify(token, expected))).toBe('bad_alg');
      expect(discovery.lookups).toBe(0);
    });

    it('HS256 signed with the public key as the secret (key confusion)', async () => {
      const { verifier, discovery } = setup();
      const token = await new SignJWT(claims())
        .setProtectedHeader({ alg: 'HS256', typ: 'agentpin-credential+jwt', kid: key.kid })
        .sign(new TextEncoder().encode(JSON.stringify(key.publicJwk)));
      expect(await reasonOf(verifier.verify(token, expected))).toBe('bad_alg');
      expect(discovery.lookups).toBe(0);
    });

    it('RS256, ES384 and a missing alg', async () => {
      const { verifier, discovery } = setup();
      for (const alg of ['RS256', 'ES384', undefined]) {
        const token = craft({ alg, typ: 'agentpin-credential+jwt', kid: key.kid }, claims(), 'c2lnbmF0dXJl');
        expect(await reasonOf(verifier.verify(token, expected))).toBe('bad_alg');
      }
      expect(discovery.lookups).toBe(0);
    });
  });

  it('requires typ agentpin-credential+jwt', async () => {
    const { verifier, discovery } = setup();
    expect(await reasonOf(verifier.verify(await issue(key, claims(), { typ: 'JWT' }), expected))).toBe('bad_typ');
    const untyped = await new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', kid: key.kid }).sign(key.privateKey);
    expect(await reasonOf(verifier.verify(untyped, expected))).toBe('bad_typ');
    expect(discovery.lookups).toBe(0);
  });

  it('rejects what is not a compact JWS with decodable parts', async () => {
    const { verifier } = setup();
    for (const token of ['', 'not-a-jwt', 'a.b', 'a.b.c.d', '!!!.@@@.###', craft({ alg: 'ES256' }, claims()).replace(/\.[^.]*\./, '.bm90IGpzb24.')]) {
      expect(await reasonOf(verifier.verify(token, expected))).toBe('malformed');
    }
    const noKid = await new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', typ: 'agentpin-credential+jwt' }).sign(key.privateKey);
    expect(await reasonOf(verifier.verify(noKid, expected))).toBe('malformed');
    expect(await reasonOf(verifier.verify(await issue(key, claims({ exp: 'tomorrow' })), expected))).toBe('malformed');
    expect(await reasonOf(verifier.verify(await issue(key, claims({ sub: 42 })), expected))).toBe('malformed');
  });

  describe('time', () => {
    it('rejects an expired credential, and one without exp', async () => {
      const { verifier } = setup();
      expect(await reasonOf(verifier.verify(await issue(key, claims({ exp: NOW_SECONDS - 61 })), expected))).toBe('expired');
      expect(await reasonOf(verifier.verify(await issue(key, claims({ exp: undefined })), expected))).toBe('expired');
    });

    it('tolerates the default 60 s of clock skew, and exactly the configured skew', async () => {
      const { verifier } = setup();
      await expect(verifier.verify(await issue(key, claims({ exp: NOW_SECONDS - 59 })), expected)).resolves.toBeDefined();
      await expect(verifier.verify(await issue(key, claims({ nbf: NOW_SECONDS + 60 })), expected)).resolves.toBeDefined();
      const strict = setup(undefined, { clockSkewSeconds: 0 }).verifier;
      expect(await reasonOf(strict.verify(await issue(key, claims({ exp: NOW_SECONDS })), expected))).toBe('expired');
      await expect(strict.verify(await issue(key, claims({ exp: NOW_SECONDS + 1 })), expected)).resolves.toBeDefined();
    });

    it('rejects nbf or iat in the future beyond the skew', async () => {
      const { verifier } = setup();
      expect(await reasonOf(verifier.verify(await issue(key, claims({ nbf: NOW_SECONDS + 61 })), expected))).toBe('not_yet_valid');
      expect(await reasonOf(verifier.verify(await issue(key, claims({ iat: NOW_SECONDS + 3000 })), expected))).toBe('not_yet_valid');
    });

    it('verifies at its clock when no time is given', async () => {
      const clock = new VirtualClock(NOW);
      const { verifier } = setup(undefined, { clock });
      const token = await issue(key, claims({ exp: NOW_SECONDS + 600 }));
      await expect(verifier.verify(token, { agentId: AGENT, domain: DOMAIN })).resolves.toBeDefined();
      await clock.advance('11m');
      expect(await reasonOf(verifier.verify(token, { agentId: AGENT, domain: DOMAIN }))).toBe('expired');
    });
  });

  it('requires iss to be the expected domain anchor', async () => {
    const { verifier } = setup();
    expect(await reasonOf(verifier.verify(await issue(key, claims({ iss: 'evil.example.net' })), expected))).toBe('wrong_issuer');
    expect(await reasonOf(verifier.verify(await issue(key, claims({ iss: undefined })), expected))).toBe('wrong_issuer');
    await expect(verifier.verify(await issue(key, claims({ iss: 'Agents.Example.COM' })), expected)).resolves.toBeDefined();
  });

  it('refuses a credential whose aud names another verifier, and accepts one addressed to us', async () => {
    const { verifier } = setup();
    const elsewhere = await issue(key, claims({ aud: 'someone-else.example.com' }));
    expect(await reasonOf(verifier.verify(elsewhere, expected))).toBe('wrong_audience');
    expect(await reasonOf(verifier.verify(await issue(key, claims({ aud: ['a.example', 'b.example'] })), expected))).toBe('wrong_audience');
    expect(await reasonOf(verifier.verify(await issue(key, claims({ aud: 42 })), expected))).toBe('malformed');
    // aud is optional; when present, the domain anchor (the default audience) or a configured one is accepted
    await expect(verifier.verify(await issue(key, claims({ aud: undefined })), expected)).resolves.toBeDefined();
    await expect(verifier.verify(await issue(key, claims({ aud: ['x.example', DOMAIN.toUpperCase()] })), expected)).resolves.toBeDefined();
    await expect(verifier.verify(elsewhere, { ...expected, audience: ['scheduler.example.org', 'someone-else.example.com'] })).resolves.toBeDefined();
    expect(await reasonOf(verifier.verify(await issue(key, claims({ aud: DOMAIN })), { ...expected, audience: ['scheduler.example.org'] }))).toBe(
      'wrong_audience',
    );
  });

  it("requires sub to be the job's agent", async () => {
    const { verifier } = setup();
    expect(await reasonOf(verifier.verify(await issue(key), { ...expected, agentId: 'deploy-agent' }))).toBe('wrong_agent');
    expect(await reasonOf(verifier.verify(await issue(key, claims({ sub: undefined })), expected))).toBe('wrong_agent');
    const otherDomainUrn = claims({ sub: `urn:agentpin:elsewhere.example:${AGENT}` });
    expect(await reasonOf(verifier.verify(await issue(key, otherDomainUrn), expected))).toBe('wrong_agent');
  });

  it('honours the agents the document declares', async () => {
    const declared = setup(documentOf([key], { agents: [AGENT, { agent_id: 'paused-agent', status: 'suspended' }] })).verifier;
    await expect(declared.verify(await issue(key), expected)).resolves.toBeDefined();
    const paused = { ...expected, agentId: 'paused-agent' };
    expect(await reasonOf(declared.verify(await issue(key, claims({ sub: 'paused-agent' })), paused))).toBe('revoked');
    const undeclared = { ...expected, agentId: 'ghost-agent' };
    expect(await reasonOf(declared.verify(await issue(key, claims({ sub: 'ghost-agent' })), undeclared))).toBe('wrong_agent');
  });

  it('rejects a kid the domain does not publish', async () => {
    const { verifier } = setup();
    expect(await reasonOf(verifier.verify(await issue(key, claims(), { kid: 'example-2099-01' }), expected))).toBe('unknown_kid');
  });

  it('rejects a revoked kid, even one still published, and a revoked credential id', async () => {
    const revokedKey = setup(documentOf([key], { revoked_kids: [key.kid] })).verifier;
    expect(await reasonOf(revokedKey.verify(await issue(key), expected))).toBe('revoked');
    const revokedCredential = setup(documentOf([key], { revoked_credentials: ['cred-0001'] })).verifier;
    expect(await reasonOf(revokedCredential.verify(await issue(key), expected))).toBe('revoked');
    await expect(revokedCredential.verify(await issue(key, claims({ jti: 'cred-0002' })), expected)).resolves.toBeDefined();
  });

  it('pins the first key seen for a (domain, kid) and rejects a different one later', async () => {
    const pins = new InMemoryPinStore();
    const discovery = new MapDiscovery(new Map([[DOMAIN, documentOf([key])]]));
    const verifier = new AgentPinVerifier({ discovery, pins });
    await verifier.verify(await issue(key), expected);
    expect(await pins.get(DOMAIN, key.kid)).toMatch(/^[A-Za-z0-9_-]{43}$/);

    discovery.documents.set(DOMAIN, documentOf([other]));
    // A credential from the swapped-in key, and one from the original key, are both refused.
    expect(await reasonOf(verifier.verify(await issue(other), expected))).toBe('key_changed');
    expect(await reasonOf(verifier.verify(await issue(key), expected))).toBe('key_changed');

    // A verifier that never saw the first key trusts the new one, and an operator can re-pin.
    await expect(new AgentPinVerifier({ discovery }).verify(await issue(other), expected)).resolves.toBeDefined();
    await pins.delete(DOMAIN, key.kid);
    await expect(verifier.verify(await issue(other), expected)).resolves.toBeDefined();
  });

  it('does not pin a key until a signature has verified with it', async () => {
    const pins = new InMemoryPinStore();
    const { verifier } = setup(undefined, { pins });
    await reasonOf(verifier.verify(await issue(other), expected));
    expect(await pins.get(DOMAIN, key.kid)).toBeNull();
  });

  describe('discovery', () => {
    it('asks resolvers in order until one knows the domain', async () => {
      const empty = new MapDiscovery();
      const full = new MapDiscovery(new Map([[DOMAIN, documentOf([key])]]));
      const verifier = new AgentPinVerifier({ discovery: [empty, full] });
      await expect(verifier.verify(await issue(key), expected)).resolves.toBeDefined();
      expect([empty.lookups, full.lookups]).toEqual([1, 1]);
    });

    it('fails when no resolver knows the domain, or a resolver breaks', async () => {
      const nobody = new AgentPinVerifier({ discovery: [new MapDiscovery()] });
      expect(await reasonOf(nobody.verify(await issue(key), expected))).toBe('discovery_failed');
      const broken = new AgentPinVerifier({
        discovery: { name: 'broken', resolve: () => Promise.reject(new Error('disk on fire')) },
      });
      await expect(broken.verify(await issue(key), expected)).rejects.toThrow(/broken could not resolve agents\.example\.com: disk on fire/);
    });

    it('fails on a document for another domain, or with an invalid key or shape', async () => {
      const invalid: unknown[] = [
        { ...documentOf([key]), domain: 'evil.example.net' },
        { public_keys: [key.publicJwk] },
        { domain: DOMAIN, public_keys: [{ ...key.publicJwk, crv: 'P-384' }] },
        { domain: DOMAIN, public_keys: [{ ...key.publicJwk, x: 'AAAA' }] },
        { domain: DOMAIN, public_keys: 'none' },
        { ...documentOf([key]), revoked_kids: 'all' },
        { ...documentOf([key]), agents: [{ name: 'no id' }] },
        ['not', 'an', 'object'],
      ];
      for (const document of invalid) {
        expect(await reasonOf(setup(document).verifier.verify(await issue(key), expected))).toBe('discovery_failed');
      }
    });

    it('accepts AgentPin’s entity field in place of domain', async () => {
      const { domain: _unused, ...rest } = documentOf([key]);
      await expect(setup({ ...rest, entity: DOMAIN, agentpin_version: '0.1' }).verifier.verify(await issue(key), expected)).resolves.toBeDefined();
    });

    it('refuses a domain anchor that is not a host name before asking any resolver', async () => {
      const { verifier, discovery } = setup();
      for (const domain of ['../../etc/passwd', 'a/b', '', 'exa mple.com']) {
        expect(await reasonOf(verifier.verify(await issue(key), { ...expected, domain }))).toBe('discovery_failed');
      }
      expect(discovery.lookups).toBe(0);
    });
  });
});
