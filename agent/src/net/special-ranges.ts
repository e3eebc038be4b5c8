/**
 * Address ranges no container network or node address may use, for both
 * families, and the overlap test behind every "does this CIDR touch that
 * one" check. Written over ip-num's bigints so IPv4 and IPv6 share one code
 * path: the same checks refuse 127.0.0.0/8 and ::1/128, 224.0.0.0/4 and
 * ff00::/8. Values reaching here come from etcd, config files and peers'
 * leases, so every function takes text and says what is wrong in words.
 */
import { IPv4, IPv4CidrRange, IPv6, IPv6CidrRange } from 'ip-num';

/** 4 or 6. */
export type IpFamily = 4 | 6;

/** A contiguous run of addresses of one family: [first, last] as integers. */
export interface AddressSpan {
  readonly family: IpFamily;
  readonly first: bigint;
  readonly last: bigint;
}

/** A named special-purpose range. */
export interface SpecialRange {
  /** "127.0.0.0/8" */
  readonly cidr: string;
  /** what it is, for messages: "loopback" */
  readonly what: string;
  readonly span: AddressSpan;
}

/** The family of an address or CIDR in text form (IPv6 text always has a ":"). */
export function familyOf(text: string): IpFamily {
  return text.includes(':') ? 6 : 4;
}

/** The span of "a.b.c.d/len" or "x::/len"; throws when the text is not a CIDR of either family. */
export function spanOfCidr(cidr: string): AddressSpan {
  const family = familyOf(cidr);
  try {
    const r = family === 4 ? IPv4CidrRange.fromCidr(cidr) : IPv6CidrRange.fromCidr(cidr);
    return { family, first: r.getFirst().getValue(), last: r.getLast().getValue() };
  } catch (cause) {
    throw new Error(`not an IPv${family} CIDR: ${JSON.stringify(cidr)}`, { cause });
  }
}

/** The one-address span of an address; throws when the text is not an address of either family. */
export function spanOfAddress(ip: string): AddressSpan {
  const family = familyOf(ip);
  try {
    const v = family === 4 ? IPv4.fromString(ip).getValue() : IPv6.fromString(ip).getValue();
    return { family, first: v, last: v };
  } catch (cause) {
    throw new Error(`not an IPv${family} address: ${JSON.stringify(ip)}`, { cause });
  }
}

/** True when the spans share at least one address (never across families). */
export function spansOverlap(a: AddressSpan, b: AddressSpan): boolean {
  return a.family === b.family && a.first <= b.last && b.first <= a.last;
}

/** True when `outer` holds every address of `inner`. */
export function spanCovers(outer: AddressSpan, inner: AddressSpan): boolean {
  return outer.family === inner.family && outer.first <= inner.first && inner.last <= outer.last;
}

function range(cidr: string, what: string): SpecialRange {
  return { cidr, what, span: spanOfCidr(cidr) };
}

/**
 * Ranges that never hold a node's or a peer's unicast address. The limited
 * broadcast address is listed before class E (which contains it) so an
 * address is named by its narrowest range.
 */
const NOT_UNICAST: readonly SpecialRange[] = [
  range('0.0.0.0/8', '"this network" (0.0.0.0/8)'),
  range('127.0.0.0/8', 'loopback'),
  range('224.0.0.0/4', 'multicast'),
  range('255.255.255.255/32', 'limited broadcast'),
  range('240.0.0.0/4', 'reserved (class E)'),
  range('::/128', 'unspecified'),
  range('::1/128', 'loopback'),
  range('ff00::/8', 'multicast'),
  range('::ffff:0:0/96', 'IPv4-mapped'),
];

/** Ranges a container network must not touch: the above plus link-local (the kernel and DHCP/NDP own those). */
const NOT_FOR_CONTAINERS: readonly SpecialRange[] = [
  ...NOT_UNICAST,
  range('169.254.0.0/16', 'link-local'),
  range('fe80::/10', 'link-local'),
];

/**
 * Why `ip` cannot be a node's unicast underlay address (unspecified,
 * loopback, multicast, broadcast, class E, IPv4-mapped), or undefined when
 * it can. Throws when `ip` is not an address.
 */
export function notUnicastReason(ip: string): string | undefined {
  const s = spanOfAddress(ip);
  return notUnicastReasonOf(s.family, s.first, ip);
}

/**
 * notUnicastReason for an address already parsed (family and value, as
 * net/ip's parseIp gives it; `ip` is its text for the message): no second
 * parse through ip-num, which cost more than the rest of a lease's checks
 * (10 000 peer leases: ~0.1 s, docs/benchmarks.md issue 17).
 */
export function notUnicastReasonOf(family: IpFamily, value: bigint, ip: string): string | undefined {
  const s: AddressSpan = { family, first: value, last: value };
  const hit = NOT_UNICAST.find((r) => spanCovers(r.span, s));
  return hit ? `${ip} is a ${hit.what} address (${hit.cidr}), not a unicast address` : undefined;
}

/**
 * Why `cidr` cannot hold containers: the whole address space, or any
 * overlap with a special range (loopback, multicast, link-local,
 * 0.0.0.0/8, class E, limited broadcast and their IPv6 counterparts).
 * Undefined when it can. Throws when `cidr` is not a CIDR.
 */
export function containerCidrProblem(cidr: string): string | undefined {
  const s = spanOfCidr(cidr);
  const all = s.family === 4 ? (1n << 32n) - 1n : (1n << 128n) - 1n;
  if (s.first === 0n && s.last === all) return `${cidr} is the whole IPv${s.family} address space`;
  const hit = NOT_FOR_CONTAINERS.find((r) => spansOverlap(r.span, s));
  return hit ? `${cidr} overlaps the ${hit.what} range ${hit.cidr}` : undefined;
}
