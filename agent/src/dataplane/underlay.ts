/**
 * The node's underlay: the interface other nodes reach it through, its IPv4
 * address and its MTU. Auto-detected from the interface of the default route
 * (what flannel does with no --iface), or pinned by name / address.
 */
import type { Handle, Link } from '../netlink';

export interface Underlay {
  link: Link;
  /** the node's public IPv4 address on that link */
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

export async function detectUnderlay(nl: Handle, hints: UnderlayHints = {}): Promise<Underlay> {
  const links = await nl.linkList();
  const addrs = await nl.addrList({ family: 4 });
  const ipsOf = (index: number) => addrs.filter((a) => a.index === index).map((a) => a.cidr.split('/')[0]!);

  if (hints.publicIp) {
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
    const defaults = (await nl.routeList({ family: 4, table: 254 })).filter((r) => r.dst === '0.0.0.0/0' && r.index !== undefined);
    defaults.sort((a, b) => (a.metric ?? 0) - (b.metric ?? 0));
    const via = defaults[0];
    if (!via) throw new Error('no IPv4 default route to find the public interface from; set publicInterface or publicIp');
    link = links.find((l) => l.index === via.index);
    if (!link) throw new Error(`default route points at ifindex ${via.index}, which does not exist`);
  }
  const ip = ipsOf(link.index)[0];
  if (!ip) throw new Error(`public interface ${link.name} has no IPv4 address`);
  return { link, ip };
}
