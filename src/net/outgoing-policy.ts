/**
 * Which network destinations Tarn itself may call (back-channel logout today; webhooks and
 * upstream identity providers later). The deployment decides, with OUTGOING_NETWORKS, a
 * comma-separated list of:
 * - `public`   every globally routable address (the default, and the only thing allowed by default);
 * - `private`  RFC 1918 (10/8, 172.16/12, 192.168/16), RFC 6598 shared space (100.64/10), IPv6 ULA (fc00::/7);
 * - `loopback` 127/8 and ::1;
 * - a CIDR such as `10.20.0.0/16` or `fd00:1::/64`: that range, whatever it is. Link-local
 *   (169.254/16, fe80::/10, where cloud metadata services live) and the other special-use
 *   ranges are never reached by a name: only a CIDR that names them opens them.
 * A destination is judged by the address actually connected to (outgoing-fetch.ts), so a
 * name that resolves to a forbidden address (DNS rebinding included) is refused at delivery.
 * Registration judges what it can see without resolving: IP literals and `localhost` names.
 */
import { BlockList, isIP } from 'node:net';

export interface OutgoingPolicy {
  /** What the deployment configured, for logs and errors: e.g. "public,private". */
  readonly description: string;
  /** Milliseconds an outgoing request may take, connection to last byte. */
  readonly timeoutMs: number;
  /** Undefined when Tarn may connect to this IP address; otherwise why not. */
  refusalFor(address: string): string | undefined;
  /** Undefined when a URL may be registered as a destination; otherwise why not (literals and localhost only). */
  refusalForUrl(url: string): string | undefined;
}

type Family = 'ipv4' | 'ipv6';
type Range = [address: string, prefix: number, family: Family];

const LOOPBACK: Range[] = [
  ['127.0.0.0', 8, 'ipv4'],
  ['::1', 128, 'ipv6'],
];

const PRIVATE: Range[] = [
  ['10.0.0.0', 8, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['fc00::', 7, 'ipv6'],
];

/** IANA special-purpose registries (RFC 6890 and updates): never "public". */
const SPECIAL_USE: Range[] = [
  ...LOOPBACK,
  ...PRIVATE,
  ['0.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.0.2.0', 24, 'ipv4'],
  ['192.88.99.0', 24, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['198.51.100.0', 24, 'ipv4'],
  ['203.0.113.0', 24, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'],
  ['240.0.0.0', 4, 'ipv4'],
  ['::', 128, 'ipv6'],
  // NAT64 and 6to4 embed an IPv4 address that may be anything.
  ['64:ff9b::', 96, 'ipv6'],
  ['64:ff9b:1::', 48, 'ipv6'],
  ['100::', 64, 'ipv6'],
  ['2001::', 23, 'ipv6'],
  ['2001:db8::', 32, 'ipv6'],
  ['2002::', 16, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
];

function blockListOf(ranges: Range[]): BlockList {
  const list = new BlockList();
  for (const [address, prefix, family] of ranges) list.addSubnet(address, prefix, family);
  return list;
}

/** `::ffff:10.0.0.1` is 10.0.0.1: judge the IPv4 address an IPv4-mapped one carries. */
function normalise(address: string): { address: string; family: Family } | undefined {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped) return { address: mapped[1]!, family: 'ipv4' };
  const version = isIP(bare);
  if (version === 4) return { address: bare, family: 'ipv4' };
  if (version === 6) return { address: bare, family: 'ipv6' };
  return undefined;
}

export class OutgoingPolicyError extends Error {
  override name = 'OutgoingPolicyError';
}

function parseCidr(entry: string): Range {
  const [address, prefixText, extra] = entry.split('/');
  const normalised = address ? normalise(address) : undefined;
  const prefix = Number(prefixText);
  const max = normalised?.family === 'ipv4' ? 32 : 128;
  if (extra !== undefined || !normalised || !/^\d{1,3}$/.test(prefixText ?? '') || prefix > max) {
    throw new OutgoingPolicyError(`"${entry}" is not public, private, loopback or a CIDR such as 10.0.0.0/8`);
  }
  return [normalised.address, prefix, normalised.family];
}

const isLocalhostName = (host: string) => host === 'localhost' || host.endsWith('.localhost');

/** Parses OUTGOING_NETWORKS (see the file comment); throws OutgoingPolicyError on a bad entry. */
export function createOutgoingPolicy(networks: string, timeoutMs: number): OutgoingPolicy {
  const entries = networks
    .split(',')
    .map((entry) => entry.trim().toLowerCase())
    .filter(Boolean);
  if (entries.length === 0) throw new OutgoingPolicyError('name at least one network (public, private, loopback or a CIDR)');
  let allowPublic = false;
  const allowed: Range[] = [];
  for (const entry of entries) {
    if (entry === 'public') allowPublic = true;
    else if (entry === 'private') allowed.push(...PRIVATE);
    else if (entry === 'loopback') allowed.push(...LOOPBACK);
    else allowed.push(parseCidr(entry));
  }
  const special = blockListOf(SPECIAL_USE);
  const opened = blockListOf(allowed);
  const description = entries.join(',');

  function refusalFor(address: string): string | undefined {
    const ip = normalise(address);
    if (!ip) return `"${address}" is not an IP address`;
    if (opened.check(ip.address, ip.family)) return undefined;
    if (allowPublic && !special.check(ip.address, ip.family)) return undefined;
    return `${ip.address} is outside the networks Tarn may reach (OUTGOING_NETWORKS=${description})`;
  }

  return {
    description,
    timeoutMs,
    refusalFor,
    refusalForUrl(url) {
      const host = new URL(url).hostname.toLowerCase();
      if (isLocalhostName(host))
        return refusalFor('127.0.0.1') && `${host} is a loopback name, outside the networks Tarn may reach (OUTGOING_NETWORKS=${description})`;
      return normalise(host) ? refusalFor(host) : undefined;
    },
  };
}
