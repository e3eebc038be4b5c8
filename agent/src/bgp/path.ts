/**
 * A path: one prefix with its next hop and attributes, the unit the RIB
 * stores and the session advertises. Next hops are kept apart from the
 * attributes because IPv4 carries them in NEXT_HOP and IPv6 in MP_REACH_NLRI.
 */
import { prefixToString, type PathAttributes, type Prefix } from './codec';
import { addrToBytes, bytesToIpv4, bytesToIpv6 } from './codec/ip';

/** One route as learned from or advertised to a peer. */
export interface Path {
  prefix: Prefix;
  /** IPv4 NEXT_HOP, or the IPv6 global next hop of MP_REACH_NLRI. */
  nextHop: string;
  /** IPv6 link-local next hop (RFC 2545), when the sender put one. */
  nextHopLinkLocal?: string;
  /** Attributes without nextHop, mpReach and mpUnreach. */
  attrs: PathAttributes;
}

/** The map key of a prefix ("10.244.1.0/24"). */
export function prefixKey(p: Prefix): string {
  return prefixToString(p);
}

/** Parses "10.0.0.0/8" or "2001:db8::/32" into a canonical Prefix; undefined when malformed or host bits are set. */
export function parsePrefix(text: string): Prefix | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text.trim());
  if (!m) return undefined;
  const afi: 4 | 6 = m[1].includes(':') ? 6 : 4;
  const len = Number(m[2]);
  const bytes = addrToBytes(afi, m[1]);
  if (!bytes || len > bytes.length * 8) return undefined;
  for (let bit = len; bit < bytes.length * 8; bit++) {
    if ((bytes[bit >> 3] & (0x80 >> (bit & 7))) !== 0) return undefined;
  }
  return { afi, addr: afi === 4 ? bytesToIpv4(bytes) : bytesToIpv6(bytes), len };
}

/** The prefix an interface address is connected to: "192.168.77.11", 24 → 192.168.77.0/24 (either family). */
export function connectedPrefix(address: string, len: number): Prefix | undefined {
  const afi: 4 | 6 = address.includes(':') ? 6 : 4;
  const bytes = addrToBytes(afi, address);
  if (!bytes || !Number.isInteger(len) || len < 0 || len > bytes.length * 8) return undefined;
  for (let bit = len; bit < bytes.length * 8; bit++) bytes[bit >> 3] &= ~(0x80 >> (bit & 7));
  return { afi, addr: afi === 4 ? bytesToIpv4(bytes) : bytesToIpv6(bytes), len };
}

/** A stable text form of what a peer would receive for a path, to tell whether it changed. */
export function pathSignature(p: Path): string {
  return JSON.stringify([p.nextHop, p.nextHopLinkLocal ?? '', p.attrs]);
}
