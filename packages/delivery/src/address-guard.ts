import { promises as dns } from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { isIP } from 'node:net';

/** One address a host name resolves to. */
export interface ResolvedAddress {
  /** IPv4 or IPv6 address text. */
  address: string;
  /** Address family. */
  family: 4 | 6;
}

/**
 * Resolves a host name to its addresses. The default uses the system resolver (`dns.lookup`);
 * tests pass their own to point a name at an address without touching DNS.
 */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

/** The system resolver. */
export const systemResolver: HostResolver = async (hostname) => {
  const addresses = await dns.lookup(hostname, { all: true, verbatim: true });
  return addresses.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};

/** An address and port the scheduler itself listens on (its HTTP API). */
export interface NetworkEndpoint {
  /** IP address (or `0.0.0.0` / `::` for every interface, already expanded by the caller). */
  address: string;
  /** TCP port. */
  port: number;
}

/**
 * What kind of network an address belongs to. Everything but `public` is refused for a
 * destination that came with a job, unless an operator allow-listed the host.
 */
export type AddressKind = 'public' | 'loopback' | 'private' | 'link-local' | 'metadata' | 'unspecified' | 'reserved';

/**
 * Who wrote a destination URL. `operator`: the configuration (Slack URLs, SMTP host); only
 * link-local and metadata addresses are refused, unless `allow_link_local`. `job`: a job's
 * `webhook_url`, which anyone allowed to write jobs through the API can set; only public
 * addresses, not the scheduler's own, unless the host is in `allow_hosts`.
 */
export type DestinationTrust = 'operator' | 'job';

/** Names of cloud instance-metadata services, refused before any lookup. */
const METADATA_HOSTS = new Set(['metadata.google.internal', 'metadata.goog']);

/** Metadata addresses outside the link-local ranges (AWS's IPv6 endpoint). */
const METADATA_IPV6 = [parseIpv6('fd00:ec2::254')!];

/** Where to point an operator who needs a refused destination. */
const HINT = {
  operator: 'set scheduler.delivery.allow_link_local to permit',
  job: 'an operator can permit the host with scheduler.delivery.allow_hosts',
} as const;

/** A destination refused by the outbound policy. */
export class RefusedAddressError extends Error {
  constructor(
    readonly hostname: string,
    readonly address: string | null,
    readonly kind: AddressKind | 'self',
    trust: DestinationTrust,
  ) {
    const what = kind === 'self' ? "the scheduler's own API" : `a ${kind === 'metadata' ? 'cloud metadata' : kind} address`;
    const hint = kind === 'self' ? 'a job may never deliver to the scheduler itself' : HINT[trust];
    super(
      address && address !== hostname
        ? `refusing ${hostname}: it resolves to ${address}, ${what} (${hint})`
        : `refusing ${hostname}: ${what} (${hint})`,
    );
    this.name = 'RefusedAddressError';
  }
}

/** Host of a URL without IPv6 brackets and trailing dot, lower-cased. */
export function bareHostname(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
}

/** The port a URL connects to. */
export function portOf(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

/** Settings of an {@link OutboundPolicy}. */
export interface OutboundPolicyOptions {
  /**
   * Hosts a job's URL may reach although they are not public (`allow_hosts`): a name or address,
   * optionally with `:port` (`[v6]:port` for IPv6), or `*.suffix` for every name under a domain.
   * A name matches the URL's host; an address also matches what a name resolves to.
   */
  allowHosts?: readonly string[];
  /** Permit link-local and metadata destinations for operator-written URLs (`allow_link_local`). */
  allowLinkLocal?: boolean;
  /** The scheduler's own listening endpoints, never a job's destination; read at each request. */
  selfEndpoints?: () => readonly NetworkEndpoint[];
}

/**
 * Decides whether an HTTP destination may be contacted: first on the URL's host (names such as
 * `localhost` and literal addresses are decided without any lookup), then on every address the
 * name resolves to, inside the connection's own lookup so DNS rebinding has no window.
 */
export class OutboundPolicy {
  readonly #allow: readonly HostPattern[];
  readonly #allowLinkLocal: boolean;
  readonly #self: () => readonly NetworkEndpoint[];

  constructor(options: OutboundPolicyOptions = {}) {
    this.#allow = (options.allowHosts ?? []).map((entry) => hostPattern(entry));
    this.#allowLinkLocal = options.allowLinkLocal ?? false;
    this.#self = options.selfEndpoints ?? (() => []);
  }

  /** Throws {@link RefusedAddressError} when `url`'s host alone decides a refusal. */
  checkUrl(url: URL, trust: DestinationTrust): void {
    const host = bareHostname(url);
    if (isIP(host) !== 0) {
      this.checkAddress(url, host, trust);
      return;
    }
    if (METADATA_HOSTS.has(host) && !(trust === 'operator' && this.#allowLinkLocal) && !this.#allowed(host, portOf(url))) {
      throw new RefusedAddressError(host, null, 'metadata', trust);
    }
    if (trust === 'job' && (host === 'localhost' || host.endsWith('.localhost')) && !this.#allowed(host, portOf(url))) {
      throw new RefusedAddressError(host, null, 'loopback', trust);
    }
  }

  /** Throws {@link RefusedAddressError} when `url` may not be reached at `address`. */
  checkAddress(url: URL, address: string, trust: DestinationTrust): void {
    const host = bareHostname(url);
    const port = portOf(url);
    const kind = classifyAddress(address);
    if (trust === 'job' && this.#isSelf(address, port)) throw new RefusedAddressError(host, address, 'self', trust);
    if (kind === 'public') return;
    if (trust === 'operator') {
      if ((kind === 'link-local' || kind === 'metadata') && !this.#allowLinkLocal) throw new RefusedAddressError(host, address, kind, trust);
      return;
    }
    if (this.#allowed(host, port) || this.#allowed(unmapped(address), port)) return;
    throw new RefusedAddressError(host, address, kind, trust);
  }

  /**
   * A `lookup` for `http.request` that resolves with `resolve` and applies {@link checkAddress} to
   * every answer, so the check covers the very address the socket connects to.
   */
  lookup(url: URL, trust: DestinationTrust, resolve: HostResolver) {
    return (
      hostname: string,
      options: LookupOptions,
      callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
    ): void => {
      resolve(hostname).then(
        (resolved) => {
          const candidates = options.family ? resolved.filter((entry) => entry.family === options.family) : resolved;
          const first = candidates[0];
          if (!first) {
            const error: NodeJS.ErrnoException = new Error(`no address found for ${hostname}`);
            error.code = 'ENOTFOUND';
            callback(error, '', 4);
            return;
          }
          try {
            // One bad address refuses the host: which one a connection would use is not ours to pick.
            for (const entry of candidates) this.checkAddress(url, entry.address, trust);
          } catch (error) {
            callback(error as NodeJS.ErrnoException, '', 4);
            return;
          }
          if (options.all) callback(null, candidates);
          else callback(null, first.address, first.family);
        },
        (error: NodeJS.ErrnoException) => callback(error, '', 4),
      );
    };
  }

  /** Whether `host` (a name or an address) and `port` match an `allow_hosts` entry. */
  #allowed(host: string, port: number): boolean {
    return this.#allow.some((pattern) => pattern.matches(host, port));
  }

  #isSelf(address: string, port: number): boolean {
    const target = canonicalAddress(address);
    return this.#self().some((endpoint) => endpoint.port === port && canonicalAddress(endpoint.address) === target);
  }
}

/** A host (name or address, `*.suffix` for a domain's names) and an optional port. */
export interface HostPattern {
  /** Whether `host` (bare, lower-case) at `port` matches. */
  matches(host: string, port: number): boolean;
}

/**
 * Reads one entry of a host list (`allow_hosts`, `webhook_auth_hosts`): `name`, `name:port`,
 * `*.domain`, an IPv4 address, or an IPv6 address bare or as `[v6]:port`. Throws a `RangeError`
 * quoting the entry when it is none of those.
 */
export function hostPattern(entry: string): HostPattern {
  const text = entry.trim().toLowerCase();
  const bracketed = /^\[([0-9a-f:.]+)\](?::(\d{1,5}))?$/.exec(text);
  const plain = /^(\*\.)?([a-z0-9._-]+)(?::(\d{1,5}))?$/.exec(text);
  let host: string;
  let port: number | null = null;
  let wildcard = false;
  if (bracketed && isIP(bracketed[1]!) === 6) {
    host = canonicalAddress(bracketed[1]!);
    port = bracketed[2] === undefined ? null : Number(bracketed[2]);
  } else if (isIP(text) === 6) {
    host = canonicalAddress(text);
  } else if (plain) {
    wildcard = plain[1] !== undefined;
    host = plain[2]!.replace(/\.$/, '');
    port = plain[3] === undefined ? null : Number(plain[3]);
  } else {
    throw new RangeError(`${JSON.stringify(entry)} is not a host, host:port, [IPv6]:port or *.domain`);
  }
  if (port !== null && (port < 1 || port > 65_535)) throw new RangeError(`${JSON.stringify(entry)} has an invalid port`);
  return {
    matches(candidate, candidatePort) {
      if (port !== null && port !== candidatePort) return false;
      const name = isIP(candidate) === 6 ? canonicalAddress(candidate) : candidate.replace(/\.$/, '').toLowerCase();
      return wildcard ? name.endsWith(`.${host}`) : name === host;
    },
  };
}

/** The kind of network `address` (IPv4 or IPv6 text, optionally with a zone) belongs to. */
export function classifyAddress(address: string): AddressKind {
  const text = address.replace(/%.*$/, '');
  if (isIP(text) === 4) return classifyIpv4(parseIpv4(text)!);
  const groups = parseIpv6(text);
  if (!groups) return 'reserved';
  if (METADATA_IPV6.some((blocked) => blocked.every((group, i) => group === groups[i]))) return 'metadata';
  const embedded = embeddedIpv4(groups);
  if (embedded) return classifyIpv4(embedded);
  if (groups.every((group) => group === 0)) return 'unspecified';
  if (groups.slice(0, 7).every((group) => group === 0) && groups[7] === 1) return 'loopback';
  // The deprecated IPv4-compatible block (`::a.b.c.d`) routes nowhere a job needs.
  if (groups.slice(0, 6).every((group) => group === 0)) return 'reserved';
  if ((groups[0]! & 0xffc0) === 0xfe80) return 'link-local';
  if ((groups[0]! & 0xfe00) === 0xfc00 || (groups[0]! & 0xffc0) === 0xfec0) return 'private';
  if ((groups[0]! & 0xff00) === 0xff00) return 'reserved';
  return 'public';
}

/** True for link-local and cloud metadata addresses, which even operator-written URLs may not reach by default. */
export function isBlockedAddress(address: string): boolean {
  const kind = classifyAddress(address);
  return kind === 'link-local' || kind === 'metadata';
}

function classifyIpv4([a, b]: number[]): AddressKind {
  if (a === 169 && b === 254) return 'link-local';
  if (a === 127) return 'loopback';
  if (a === 0) return 'unspecified';
  if (a === 10 || (a === 172 && b! >= 16 && b! <= 31) || (a === 192 && b === 168)) return 'private';
  // Carrier-grade NAT (100.64/10) and benchmarking (198.18/15) networks are private in practice.
  if ((a === 100 && b! >= 64 && b! <= 127) || (a === 198 && (b === 18 || b === 19))) return 'private';
  if (a! >= 224) return 'reserved';
  return 'public';
}

/** An IPv4-mapped IPv6 address as its IPv4 text; any other address as given. */
function unmapped(address: string): string {
  const groups = parseIpv6(address.replace(/%.*$/, ''));
  const embedded = groups?.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff ? embeddedIpv4(groups) : null;
  return embedded ? embedded.join('.') : address.toLowerCase();
}

/** One text per address: IPv4 dotted, IPv6 as its eight groups (so `::1` equals `0:0::1`). */
function canonicalAddress(address: string): string {
  const plain = unmapped(address);
  const groups = parseIpv6(plain);
  return groups ? groups.map((group) => group.toString(16)).join(':') : plain;
}

function parseIpv4(text: string): number[] | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const octets = parts.map((part) => (/^\d{1,3}$/.test(part) ? Number(part) : Number.NaN));
  return octets.every((octet) => octet >= 0 && octet <= 255) ? octets : null;
}

/** The eight 16-bit groups of an IPv6 address, or null when it is not one. */
function parseIpv6(text: string): number[] | null {
  if (isIP(text) !== 6) return null;
  // A trailing dotted quad (`::ffff:1.2.3.4`) is the last two groups written in decimal.
  const body = text.toLowerCase().replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_match, a: string, b: string, c: string, d: string) =>
    [(Number(a) << 8) | Number(b), (Number(c) << 8) | Number(d)].map((group) => group.toString(16)).join(':'),
  );
  const toGroups = (part: string) => (part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16)));
  const [head, rest] = body.split('::') as [string, string | undefined];
  const headGroups = toGroups(head);
  const restGroups = rest === undefined ? [] : toGroups(rest);
  const missing = 8 - headGroups.length - restGroups.length;
  if (missing < 0 || (rest === undefined && missing !== 0)) return null;
  return [...headGroups, ...new Array<number>(missing).fill(0), ...restGroups];
}

/** The IPv4 address inside an IPv4-mapped (`::ffff:0:0/96`) or NAT64 (`64:ff9b::/96`) address. */
function embeddedIpv4(groups: number[]): number[] | null {
  const mapped = groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff;
  const nat64 = groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((group) => group === 0);
  if (!mapped && !nat64) return null;
  return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff];
}
