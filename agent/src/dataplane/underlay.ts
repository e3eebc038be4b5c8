/**
 * The node's underlay: the interface other nodes reach it through, its IPv4
 * address (IPv6 when the cluster is IPv6-only) and its MTU. Auto-detected from the interface of the default route
 * (what flannel does with no --iface), or pinned by name / address.
 */
import type { Handle, Link } from '../netlink';

export interface Underlay {
  link: Link;
  /** the node's public address on that link: IPv4, or IPv6 when the cluster is IPv6-only */
  ip: string;
  /** the node's first global (not link-local) IPv6 address on that link, when it has one: its IPv6 underlay address */
  ipv6?: string;
}

/** The first global IPv6 address of link `index` (link-local and host routes skipped), if any. */
export async function underlayIpv6(nl: Handle, index: number): Promise<string | undefined> {
  const addrs = await nl.addrList({ index, family: 6 });
  return addrs.map((a) => a.cidr.split('/')[0]!).find((ip) => !ip.startsWith('fe80:'));
}

export interface UnderlayHints {
  interfaceName?: string;
  publicIp?: string;
}

/**
 * Finds the underlay. `family` is the address family of the node's public
 * address: 4, or 6 for an IPv6-only cluster (whose leases and VXLAN/host-gw
 * next hops are IPv6 underlay addresses). A pinned publicIp of the other
 * family is refused: the cluster could not reach the node through it.
 */
export async function detectUnderlay(nl: Handle, hints: UnderlayHints = {}, family: 4 | 6 = 4): Promise<Underlay> {
  const links = await nl.linkList();
  // IPv6: global addresses only (a link-local address is no next hop for another segment's view, nor a VXLAN source).
  const addrs = (await nl.addrList({ family })).filter((a) => family === 4 || !a.cidr.startsWith('fe80:'));
  const ipsOf = (index: number) => addrs.filter((a) => a.index === index).map((a) => a.cidr.split('/')[0]!);
  const v = family === 4 ? 'IPv4' : 'IPv6';

  if (hints.publicIp) {
    if (hints.publicIp.includes(':') !== (family === 6)) {
      throw new Error(`public IP ${hints.publicIp} is not ${v}; this network's leases need an ${v} underlay address (${family === 6 ? 'the cluster is IPv6-only' : 'the cluster is IPv4-only; an IPv6 publicIp needs an IPv6 or dual-stack network'})`);
    }
    const holder = addrs.find((a) => a.cidr.split('/')[0] === hints.publicIp);
    if (!holder) throw new Error(`public IP ${hints.publicIp} is not assigned to any interface of this node`);
    const link = links.find((l) => l.index === holder.index)!;
    if (hints.interfaceName && link.name !== hints.interfaceName) {
      throw new Error(`public IP ${hints.publicIp} is on ${link.name}, not on the configured interface ${hints.interfaceName}`);
    }
    return { link, ip: hints.publicIp };
  }
  let link: Link | undefined;
  if (hints.interfaceName) {
    link = links.find((l) => l.name === hints.interfaceName);
    if (!link) throw new Error(`public interface ${hints.interfaceName} does not exist`);
  } else {
    const any = family === 4 ? '0.0.0.0/0' : '::/0';
    const defaults = (await nl.routeList({ family, table: 254 })).filter((r) => r.dst === any && r.index !== undefined);
    defaults.sort((a, b) => (a.metric ?? 0) - (b.metric ?? 0));
    const via = defaults[0];
    if (!via) throw new Error(`no ${v} default route to find the public interface from; set publicInterface or publicIp`);
    link = links.find((l) => l.index === via.index);
    if (!link) throw new Error(`default route points at ifindex ${via.index}, which does not exist`);
  }
  const ip = ipsOf(link.index)[0];
  if (!ip) throw new Error(`public interface ${link.name} has no ${family === 6 ? 'global IPv6' : 'IPv4'} address`);
  return { link, ip };
}

/**
 * The underlay of one more network on the node's underlay link (named
 * networks), by the default network's rules for the families it has:
 * an IPv6-only network's public address is the link's IPv6 address (its
 * VXLAN source and host-gw next hop, as in an IPv6-only cluster); a
 * network with IPv4 uses the link's IPv4 one, with the IPv6 one next to it
 * when the network is dual-stack (host-gw's IPv6 next hop). `found` is what
 * the link carries besides `node.ip`. Pure; throws naming what is missing.
 */
export function underlayForFamilies(
  node: Underlay, families: { ipv4: boolean; ipv6: boolean }, found: { ipv4?: string; ipv6?: string },
): Underlay {
  const v4 = node.ip.includes(':') ? found.ipv4 : node.ip;
  const v6 = node.ip.includes(':') ? node.ip : node.ipv6 ?? found.ipv6;
  if (!families.ipv4) {
    if (v6 === undefined) throw new Error(`underlay ${node.link.name} has no global IPv6 address: an IPv6-only network needs one (its VXLAN source and host-gw next hop)`);
    return { link: node.link, ip: v6 };
  }
  if (v4 === undefined) throw new Error(`underlay ${node.link.name} has no IPv4 address: a network with an IPv4 CIDR needs one`);
  return { link: node.link, ip: v4, ...(families.ipv6 && v6 !== undefined ? { ipv6: v6 } : {}) };
}
