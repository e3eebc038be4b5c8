/**
 * The BGP Identifier (router ID): a 32-bit number written as a dotted quad,
 * also in an IPv6-only network (RFC 6286 §2.1). knitd uses the node's IPv4
 * underlay address when it has one; an IPv6-only node has none, so the
 * operator sets one (knitd's `bgp.routerId`) or knitd derives it from the
 * node name.
 *
 * The derived ID is a hash, so two nodes can get the same one (birthday
 * odds: about n²/2³³ for n nodes, 1 in 8 600 for 1 000 nodes). Two iBGP
 * speakers with the same ID refuse each other's OPEN (2/3), and a route
 * reflector cannot tell them apart: operators who care set `bgp.routerId`.
 * It is derived from the name, not the IPv6 address, so it stays the same
 * when the node is renumbered (a peer's view of the speaker does not change).
 */
import { createHash } from 'node:crypto';
import { formatIpv4, parseIpv4 } from './ipv4';

/** Why `text` cannot be a BGP Identifier, or undefined when it can. */
export function routerIdProblem(text: string): string | undefined {
  const v = parseIpv4(text);
  if (v === undefined) return 'must be a dotted-quad IPv4-style number (a.b.c.d): the BGP Identifier is 32 bits, also in an IPv6-only network';
  if (v === 0) return 'must not be 0.0.0.0 (RFC 6286: the BGP Identifier is non-zero)';
  if (v === 0xffffffff) return 'must not be the broadcast address 255.255.255.255';
  if (v >>> 28 === 0xe) return 'must not be a multicast address (224.0.0.0/4)';
  return undefined;
}

/** Not in the ranges a derived ID avoids: 0/8, 127/8, multicast and 240/4 (some routers refuse them). */
function derivable(v: number): boolean {
  const first = v >>> 24;
  return first !== 0 && first !== 127 && first < 224;
}

/**
 * A stable router ID for `nodeName`: the first 32 bits of SHA-256 over a
 * fixed label and the name that fall outside 0/8, 127/8 and 224/3 (re-hashed
 * with a counter until one does; about one try in 1.15 on average).
 */
export function deriveRouterId(nodeName: string): string {
  for (let i = 0; ; i++) {
    const h = createHash('sha256').update(`knit bgp router id\0${nodeName}\0${i}`).digest();
    const v = h.readUInt32BE(0);
    if (derivable(v)) return formatIpv4(v);
  }
}
