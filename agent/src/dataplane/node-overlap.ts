/**
 * Does a container CIDR collide with what the node already uses? A cluster
 * CIDR covering the node's underlay subnet (or a route the node depends on,
 * e.g. a VPN or a Docker bridge) would have knit's routes shadow them, and
 * the node would lose its own connectivity. Checked before knitd changes
 * anything, against a netlink dump of addresses and main-table routes.
 *
 * What knit made itself is not a conflict: on a restart the bridge carries
 * the node subnet's gateway and peer routes point into the overlay. Those
 * are recognised by link (the bridge, knit's tunnel devices `knit.*`, the
 * host veths `knv*`) and by route protocol (knit's and its BGP speaker's).
 */
import { RTPROT_KNIT, RTPROT_KNIT_BGP, type Handle, type Link } from '../netlink';
import { spanOfCidr, spansOverlap } from '../net/special-ranges';

/** One address or route of the node, with the link it is on. */
export interface NodePrefix {
  kind: 'address' | 'route';
  /** "192.168.77.11/24" (address) or "172.17.0.0/16" (route) */
  cidr: string;
  /** link name, or "" when the route has no output device */
  link: string;
}

/** True for links knit creates: the bridge, tunnel devices, container host veths. */
export function isKnitLink(name: string, bridge: string): boolean {
  return name === bridge || name.startsWith('knit.') || /^knv[0-9a-f]{12}$/.test(name);
}

/**
 * The node's own addresses and main-table routes of both families, minus
 * knit's own (see the module comment), default routes and host routes of
 * the local table (netlink's route dump already leaves those out).
 */
export async function readNodePrefixes(nl: Handle, bridge: string): Promise<NodePrefix[]> {
  const links = new Map<number, Link>((await nl.linkList()).map((l) => [l.index, l]));
  const name = (index: number | undefined) => (index === undefined ? '' : links.get(index)?.name ?? `#${index}`);
  const out: NodePrefix[] = [];
  for (const a of await nl.addrList()) {
    const link = name(a.index);
    if (!isKnitLink(link, bridge)) out.push({ kind: 'address', cidr: a.cidr, link });
  }
  for (const family of [4, 6] as const) {
    for (const r of await nl.routeList({ family, table: 254 })) {
      if (r.protocol === RTPROT_KNIT || r.protocol === RTPROT_KNIT_BGP) continue;
      if (r.dst.endsWith('/0')) continue; // the default route overlaps everything by design
      const link = name(r.index);
      if (!isKnitLink(link, bridge)) out.push({ kind: 'route', cidr: r.dst, link });
    }
  }
  return out;
}

/**
 * Pure: the first node address or route `cidr` overlaps, described for an
 * error message ("overlaps the node's address 192.168.77.11/24 on eth0"),
 * or undefined when there is none.
 */
export function nodeOverlap(cidr: string, prefixes: readonly NodePrefix[]): string | undefined {
  const span = spanOfCidr(cidr);
  for (const p of prefixes) {
    let other;
    try {
      other = spanOfCidr(p.cidr);
    } catch {
      continue; // a dump entry we cannot read is no evidence of a conflict
    }
    if (spansOverlap(span, other)) {
      return `${cidr} overlaps the node's ${p.kind} ${p.cidr}${p.link ? ` on ${p.link}` : ''}`;
    }
  }
  return undefined;
}
