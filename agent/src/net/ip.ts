/**
 * Family-generic address and prefix math for IPv4 and IPv6, on bigint
 * values, through ip-num (the project's address library) for IPv6 parsing
 * and canonical formatting.
 *
 * Parsing is strict for the same reason as net/ipv4.ts: a value read from
 * etcd, a state file or a config file must mean exactly one thing. IPv4 goes
 * through `parseIpv4` (no octal-looking octets, no inet_aton shorthand);
 * IPv6 through ip-num with zone ids ("fe80::1%eth0") and surrounding blanks
 * refused, and is always written back in RFC 5952 form (lowercase, longest
 * zero run compressed), so two spellings of one address compare equal as text.
 * Special-use ranges (loopback, multicast, link-local …) are
 * net/special-ranges.ts.
 */
import { collapseIPv6Number, IPv6 } from 'ip-num';
import { formatIpv4, parseIpv4 } from './ipv4';

import type { IpFamily } from './special-ranges';

export type { IpFamily };

/** An address of either family. */
export interface IpAddress {
  readonly family: IpFamily;
  readonly value: bigint;
}

/** A prefix of either family in canonical form: host bits of `network` are zero. */
export interface Cidr {
  readonly family: IpFamily;
  readonly network: bigint;
  readonly prefixLength: number;
}

/** Address width in bits. */
export function familyBits(family: IpFamily): number {
  return family === 4 ? 32 : 128;
}

const V6_CHARS = /^[0-9a-fA-F:.]+$/;

/**
 * ip-num parses and formats IPv6 through regular expressions and binary
 * strings: about 10 µs an address, which made every IPv6 peer change cost
 * milliseconds (each run plans every peer; the CPU profile of an IPv6-only
 * join showed ip-num first). Both are pure, and knitd meets the same few
 * thousand addresses again and again, so the answers are remembered; a
 * cache that fills up starts over rather than growing.
 */
const MEMO_LIMIT = 8192;
const parsed6 = new Map<string, bigint | undefined>();
const formatted6 = new Map<bigint, string>();

function remember<K, V>(memo: Map<K, V>, key: K, value: V): V {
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(key, value);
  return value;
}

/** Parses an IPv6 address; undefined when `text` is not exactly one (no zone id, no blanks). */
export function parseIpv6(text: string): bigint | undefined {
  if (!text.includes(':') || !V6_CHARS.test(text) || text.length > 45) return undefined;
  if (parsed6.has(text)) return parsed6.get(text);
  let value: bigint | undefined;
  try {
    value = IPv6.fromString(text).value;
  } catch {
    value = undefined;
  }
  return remember(parsed6, text, value);
}

/** Formats a 128-bit value in RFC 5952 form ("fd00:10:244::1"). */
export function formatIpv6(value: bigint): string {
  if (value < 0n || value >= 1n << 128n) throw new RangeError(`not an IPv6 address value: ${value}`);
  return formatted6.get(value) ?? remember(formatted6, value, collapseIPv6Number(IPv6.fromBigInt(value).toString()));
}

/** True when `text` is exactly one IPv6 address. */
export function isIpv6(text: string): boolean {
  return parseIpv6(text) !== undefined;
}

/** Parses an address of either family (strictly, see the module comment). */
export function parseIp(text: string): IpAddress | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { family: 4, value: BigInt(v4) };
  const v6 = parseIpv6(text);
  return v6 === undefined ? undefined : { family: 6, value: v6 };
}

/** Formats an address of either family. */
export function formatIp(a: IpAddress): string {
  return a.family === 4 ? formatIpv4(Number(a.value)) : formatIpv6(a.value);
}

/** The canonical text of an address ("FD00:0::1" → "fd00::1"); undefined when it is none. */
export function canonicalIp(text: string): string | undefined {
  const a = parseIp(text);
  return a === undefined ? undefined : formatIp(a);
}

/** Number of addresses in a prefix of this length and family. */
export function cidrBlockSize(family: IpFamily, prefixLength: number): bigint {
  return 1n << BigInt(familyBits(family) - prefixLength);
}

/**
 * Parses "addr/len" of either family, throwing an error that says what is
 * wrong. With `strict` (the default) host bits must be zero, because a
 * config that says fd00:10:244::1/56 is almost always a typo; without it
 * they are cleared.
 */
export function mustParseCidrAny(text: string, strict = true): Cidr {
  const slash = text.indexOf('/');
  if (slash < 0) throw new Error(`not a CIDR (missing /len): ${JSON.stringify(text)}`);
  const addr = parseIp(text.slice(0, slash));
  if (addr === undefined) throw new Error(`not an IPv4 or IPv6 address: ${JSON.stringify(text.slice(0, slash))} (in ${JSON.stringify(text)})`);
  const bits = familyBits(addr.family);
  const lenText = text.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(lenText) || Number(lenText) > bits) {
    throw new Error(`not a CIDR (prefix length must be 0..${bits}): ${JSON.stringify(text)}`);
  }
  const prefixLength = Number(lenText);
  const size = cidrBlockSize(addr.family, prefixLength);
  const network = addr.value - (addr.value % size);
  if (strict && network !== addr.value) {
    throw new Error(`CIDR ${text} has host bits set (network address is ${formatCidrAny({ family: addr.family, network, prefixLength })})`);
  }
  return { family: addr.family, network, prefixLength };
}

/** Parses "addr/len" of either family; undefined when it is not one with zero host bits. */
export function parseCidrAny(text: string): Cidr | undefined {
  try {
    return mustParseCidrAny(text);
  } catch {
    return undefined;
  }
}

/** "addr/len" of a prefix. */
export function formatCidrAny(c: Cidr): string {
  return `${formatIp({ family: c.family, value: c.network })}/${c.prefixLength}`;
}

/** True when `inner` lies entirely inside `outer` (same family). */
export function cidrCoversAny(outer: Cidr, inner: Cidr): boolean {
  if (outer.family !== inner.family || inner.prefixLength < outer.prefixLength) return false;
  return inner.network >= outer.network
    && inner.network + cidrBlockSize(inner.family, inner.prefixLength) <= outer.network + cidrBlockSize(outer.family, outer.prefixLength);
}

/** True when the two prefixes share any address. */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return cidrCoversAny(a, b) || cidrCoversAny(b, a);
}

/** True when `address` lies inside `cidr`. */
export function cidrContainsAddress(cidr: Cidr, address: IpAddress): boolean {
  if (cidr.family !== address.family) return false;
  return address.value >= cidr.network && address.value < cidr.network + cidrBlockSize(cidr.family, cidr.prefixLength);
}

/** How many subnets of length `subnetLength` fit in `outer` (2^(subnetLength − outer length)). */
export function subnetCount(outer: Cidr, subnetLength: number): bigint {
  return 1n << BigInt(subnetLength - outer.prefixLength);
}

/** The `index`-th subnet of length `subnetLength` inside `outer`. */
export function nthSubnet(outer: Cidr, subnetLength: number, index: bigint): Cidr {
  if (index < 0n || index >= subnetCount(outer, subnetLength)) {
    throw new RangeError(`subnet index ${index} is outside ${formatCidrAny(outer)} cut into /${subnetLength}`);
  }
  return { family: outer.family, network: outer.network + index * cidrBlockSize(outer.family, subnetLength), prefixLength: subnetLength };
}

/** The position of `inner` among the subnets of its length inside `outer` (inverse of nthSubnet). */
export function subnetIndex(outer: Cidr, inner: Cidr): bigint {
  if (!cidrCoversAny(outer, inner)) throw new RangeError(`${formatCidrAny(inner)} is outside ${formatCidrAny(outer)}`);
  return (inner.network - outer.network) / cidrBlockSize(inner.family, inner.prefixLength);
}

/** The address `offset` places after the prefix's network address ("fd00::/64", 1 → fd00::1). */
export function addressInCidr(c: Cidr, offset: bigint): IpAddress {
  if (offset < 0n || offset >= cidrBlockSize(c.family, c.prefixLength)) {
    throw new RangeError(`offset ${offset} is outside ${formatCidrAny(c)}`);
  }
  return { family: c.family, value: c.network + offset };
}

