import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentPinError, AgentPinVerifier, FilePinStore, InMemoryPinStore, StoreError, type PinStore } from '@symbi/core';
import { AGENT, DOMAIN, MapDiscovery, NOW, documentOf, issue, newSigningKey } from './issuer.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'symbi-pins-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const STORES: Array<{ name: string; create: () => PinStore }> = [
  { name: 'InMemoryPinStore', create: () => new InMemoryPinStore() },
  { name: 'FilePinStore', create: () => new FilePinStore(join(dir, 'nested', 'pins.json')) },
];

for (const { name, create } of STORES) {
  describe(name, () => {
    it('keeps the first thumbprint pinned for a (domain, kid)', async () => {
      const pins = create();
      expect(await pins.get(DOMAIN, 'k1')).toBeNull();
      expect(await pins.pinIfAbsent(DOMAIN, 'k1', 'first')).toBe('first');
      expect(await pins.pinIfAbsent(DOMAIN, 'k1', 'second')).toBe('first');
      expect(await pins.get(DOMAIN, 'k1')).toBe('first');
      expect(await pins.get(DOMAIN, 'k2')).toBeNull();
      expect(await pins.get('other.example', 'k1')).toBeNull();
    });

    it('agrees on one key when first uses race', async () => {
      const pins = create();
      const results = await Promise.all(['a', 'b', 'c', 'd'].map((thumbprint) => pins.pinIfAbsent(DOMAIN, 'k1', thumbprint)));
      expect(new Set(results).size).toBe(1);
      expect(await pins.get(DOMAIN, 'k1')).toBe(results[0]);
    });

    it('forgets a pin on delete', async () => {
      const pins = create();
      await pins.pinIfAbsent(DOMAIN, 'k1', 'first');
      await pins.pinIfAbsent(DOMAIN, 'k2', 'other');
      expect(await pins.delete(DOMAIN, 'k1')).toBe(true);
      expect(await pins.delete(DOMAIN, 'k1')).toBe(false);
      expect(await pins.get(DOMAIN, 'k1')).toBeNull();
      expect(await pins.get(DOMAIN, 'k2')).toBe('other');
    });

    it('treats kids named like Object properties as plain keys', async () => {
      const pins = create();
      expect(await pins.get(DOMAIN, '__proto__')).toBeNull();
      expect(await pins.get(DOMAIN, 'constructor')).toBeNull();
      expect(await pins.pinIfAbsent(DOMAIN, '__proto__', 'p')).toBe('p');
      expect(await pins.get(DOMAIN, '__proto__')).toBe('p');
    });
  });
}

describe('FilePinStore', () => {
  it('survives a restart in a readable JSON file', async () => {
    const path = join(dir, 'pins.json');
    await new FilePinStore(path).pinIfAbsent(DOMAIN, 'k1', 'thumb');
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ pins: { [DOMAIN]: { k1: 'thumb' } } });
    expect(await new FilePinStore(path).get(DOMAIN, 'k1')).toBe('thumb');
  });

  it('refuses a corrupt file instead of re-pinning', async () => {
    const path = join(dir, 'pins.json');
    await writeFile(path, '{ "pins": ');
    await expect(new FilePinStore(path).get(DOMAIN, 'k1')).rejects.toThrowError(StoreError);
    await writeFile(path, '{ "pins": { "a.example": { "k": 7 } } }');
    await expect(new FilePinStore(path).pinIfAbsent(DOMAIN, 'k1', 'x')).rejects.toThrow(/is not of the form/);
  });

  it('makes a verifier detect a key swapped while it was down', async () => {
    const path = join(dir, 'pins.json');
    const original = await newSigningKey('k-2026');
    const swapped = await newSigningKey('k-2026');
    const discovery = new MapDiscovery(new Map([[DOMAIN, documentOf([original])]]));
    const expected = { agentId: AGENT, domain: DOMAIN, now: NOW };
    await new AgentPinVerifier({ discovery, pins: new FilePinStore(path) }).verify(await issue(original), expected);

    discovery.documents.set(DOMAIN, documentOf([swapped]));
    const restarted = new AgentPinVerifier({ discovery, pins: new FilePinStore(path) });
    const error = await restarted.verify(await issue(swapped), expected).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(AgentPinError);
    expect((error as AgentPinError).reason).toBe('key_changed');
  });
});
