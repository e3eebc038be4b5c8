/**
 * Pure checks every backend applies to a peer lease before planning objects
 * for it. A refused peer is reported (and logged once by the reconciler),
 * never half-programmed.
 */
import { cidrContains, formatCidr, mustParseCidr, mustParseIpv4, type Ipv4Cidr } from '../net/ipv4';
import { cidrContainsAddress, formatCidrAny, formatIp, mustParseCidrAny, parseCidrAny, parseIp, type Cidr } from '../net/ip';
import type { Lease } from '../store';

/**
 * The subnet's network address ("10.244.2.0/24" → "10.244.2.0",
 * "fd00:10:244:2::/64" → "fd00:10:244:2::"): the peer's VTEP/tunnel address
 * (its IPv6 next hop on the overlay), as in flannel.
 */
export function subnetZero(subnet: string): string {
  const c = mustParseCidrAny(subnet);
  return formatIp({ family: c.family, value: c.network });
}

/** `${subnet .0}/32`: the address a tunnel device of this node carries (IPv4 subnets only: an IPv6 one gets none). */
export function subnetZeroHostCidr(subnet: string): string {
  return `${subnetZero(subnet)}/32`;
}

/** The connected prefixes of an address list ("192.168.77.11/24" → 192.168.77.0/24); bad entries are skipped. */
export function connectedPrefixes(cidrs: readonly string[]): Ipv4Cidr[] {
  const out: Ipv4Cidr[] = [];
  for (const c of cidrs) {
    try {
      const p = mustParseCidr(c, false);
      if (p.prefixLength < 32) out.push(p);
    } catch {
      // not IPv4: not an L2 segment knit routes over
    }
  }
  return out;
}

/** True when `ip` is inside one of the underlay's connected prefixes: the same L2 segment. */
export function onSegment(ip: string, prefixes: readonly Ipv4Cidr[]): boolean {
  const v = mustParseIpv4(ip);
  return prefixes.some((p) => cidrContains(p, v));
}

/** True when the IPv6 address is inside one of the underlay's connected IPv6 prefixes. */
export function onSegment6(ip: string | undefined, prefixes6: readonly Cidr[]): boolean {
  const a = ip === undefined ? undefined : parseIp(ip);
  return a !== undefined && prefixes6.some((p) => cidrContainsAddress(p, a));
}

/** On the underlay's segment, in the address's own family (an IPv6-only cluster's peers have IPv6 public IPs). */
export function onSegmentAny(ip: string, prefixes: readonly Ipv4Cidr[], prefixes6: readonly Cidr[]): boolean {
  return ip.includes(':') ? onSegment6(ip, prefixes6) : onSegment(ip, prefixes);
}

/** Describes prefixes for messages: "192.168.77.0/24, 10.0.0.0/8" or "none". */
export function describePrefixes(prefixes: readonly Ipv4Cidr[], prefixes6: readonly Cidr[] = []): string {
  const all = [...prefixes.map(formatCidr), ...prefixes6.map(formatCidrAny)];
  return all.length === 0 ? 'none' : all.join(', ');
}

/** Reason to refuse a lease of another backend type, or whose subnet does not parse; undefined when fine. */
export function refuseForType(lease: Lease, type: string): string | undefined {
  if (lease.backend.type !== type) {
    return `peer lease uses backend ${lease.backend.type} but this network uses ${type}`;
  }
  if (!parseCidrAny(lease.subnet)) return `peer subnet ${JSON.stringify(lease.subnet)} is not a CIDR`;
  return undefined;
}
