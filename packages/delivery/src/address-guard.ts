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

/** Names of cloud instance-metadata services, refused before any lookup. */
const METADATA_HOSTS = new Set(['metadata.google.internal', 'metadata.goog']);

/** Metadata addresses outside the link-local ranges (AWS's IPv6 endpoint). */
const METADATA_IPV6 = [parseIpv6('fd00:ec2::254')!];

/** A destination refused because it is link-local or a cloud metadata service. */
export class RefusedAddressError extends Error {
  constructor(
    readonly hostname: string,
    readonly address: string | null,
  ) {
    super(
      address && address !== hostname
        ? `refusing ${hostname}: it resolves to the link-local or metadata address ${address} (set allow_link_local to permit)`
        : `refusing ${hostname}: a link-local or cloud metadata destination (set allow_link_local to permit)`,
    );
    this.name = 'RefusedAddressError';
  }
}

/** Host of a URL without IPv6 brackets and trailing dot, lower-cased. */
export function bareHostname(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
}

/**
 * Throws {@link RefusedAddressError} when `url` names a metadata host or a link-local or metadata
 * IP literal. Names that resolve to such addresses are caught later by {@link guardedLookup}.
 */
export function assertAllowedHost(url: URL): void {
  const host = bareHostname(url);
  if (METADATA_HOSTS.has(host)) throw new RefusedAddressError(host, null);
  if (isIP(host) !== 0 && isBlockedAddress(host)) throw new RefusedAddressError(host, host);
}

/**
 * True for 169.254.0.0/16, fe80::/10 and fd00:ec2::254, including IPv4 addresses embedded in IPv6
 * (`::ffff:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`).
 */
export function isBlockedAddress(address: string): boolean {
  const text = address.replace(/%.*$/, '');
  if (isIP(text) === 4) return isLinkLocalIpv4(parseIpv4(text)!);
  const groups = parseIpv6(text);
  if (!groups) return false;
  if ((groups[0]! & 0xffc0) === 0xfe80) return true;
  if (METADATA_IPV6.some((blocked) => blocked.every((group, i) => group === groups[i]))) return true;
  const embedded = embeddedIpv4(groups);
  return embedded !== null && isLinkLocalIpv4(embedded);
}

/**
 * A `lookup` for `http.request` that resolves with `resolve` and refuses blocked addresses, so the
 * check applies to the very address the socket connects to (no window for DNS rebinding).
 */
export function guardedLookup(resolve: HostResolver, allowLinkLocal: boolean) {
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
        // One bad address refuses the host: which one a connection would use is not ours to pick.
        const blocked = allowLinkLocal ? undefined : candidates.find((entry) => isBlockedAddress(entry.address));
        if (blocked) {
          callback(new RefusedAddressError(hostname, blocked.address), '', 4);
          return;
        }
        if (options.all) callback(null, candidates);
        else callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 4),
    );
  };
}

function isLinkLocalIpv4(octets: number[]): boolean {
  return octets[0] === 169 && octets[1] === 254;
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
