/**
 * One container's attachment to the node bridge: a veth pair whose container
 * end is created directly inside the container's namespace under its final
 * name (no rename, no move: nothing can observe a half-named link), and whose
 * host end, named from (container ID, ifname), sits on the bridge with
 * hairpin on so a container can reach itself through a port mapping.
 *
 * attach undoes its own partial work; detach and the host-side lookups
 * tolerate "already gone", as CNI DEL must.
 */
import { hasErrorCode } from '../base';
import type { Handle, Link, Route } from '../netlink';
import type { Logger } from '../log/logger';
import { hostVethName } from './veth-name';
import { cidrContainsAddress, formatCidrAny, mustParseCidrAny, parseIp, type Cidr, type IpAddress } from '../net/ip';

export interface AttachSpec {
  containerId: string;
  ifname: string;
  /** path of the container's network namespace */
  netns: string;
  /**
   * The bridge's index, or the check of the bridge still under way: the
   * namespace's reads go on meanwhile, and the veth waits for it.
   */
  bridgeIndex: number | Promise<number>;
  /** container address with prefix length, e.g. "10.244.1.5/24" (IPv6 in an IPv6-only cluster, added with nodad) */
  addressCidr: string;
  /** the container end's MAC (default: the kernel's random one) */
  mac?: string;
  gateway: string;
  mtu: number;
  /** extra routes from the network config, installed via the gateway unless they name one */
  routes: Array<{ dst: string; gw?: string }>;
  /** Dual-stack: the container's IPv6 address and gateway (the bridge's), added with nodad and a ::/0 route. */
  ipv6?: ContainerIpv6;
  /**
   * The network's CIDR across the cluster. The container's first knit
   * interface gets the default route; a further one (another network) finds
   * the default route taken and gets a route to its network's CIDR instead.
   */
  networkCidr?: string;
}

/** The IPv6 side of an attachment. */
export interface ContainerIpv6 {
  /** e.g. "fd00:10:244:1::5/64" */
  addressCidr: string;
  /** e.g. "fd00:10:244:1::1" */
  gateway: string;
  /**
   * The network's IPv6 CIDR across the cluster: as `networkCidr` for IPv4, a
   * further interface finds ::/0 taken and gets a route to this CIDR instead.
   */
  networkCidr?: string;
}

export interface Attachment {
  hostVeth: Link;
  container: Link;
  routes: Route[];
}

/** Opens a netlink handle inside a namespace given by path; the caller closes it. */
export type OpenNetns = (path: string) => Handle;

/**
 * The namespace already has an address in this network's subnet: a second
 * interface on the same network would fight the first one over the default
 * route and the gateway.
 */
export class AlreadyOnNetworkError extends Error {
  constructor(readonly netns: string, readonly existingIfname: string, readonly existingCidr: string, readonly subnet: string) {
    super(`namespace ${netns} already has interface ${existingIfname} with ${existingCidr} on this network (${subnet}); ` +
      'a second interface on the same network would take over its default route');
    this.name = 'AlreadyOnNetworkError';
  }
}

/** The name the container end should get is taken inside the namespace (by a link knit did not make for this attachment). */
export class IfnameTakenError extends Error {
  constructor(readonly netns: string, readonly ifname: string) {
    super(`namespace ${netns} already has an interface named ${ifname}`);
    this.name = 'IfnameTakenError';
  }
}

/** The host end's name (derived from container ID and ifname) already exists: the attachment exists. */
export class HostVethExistsError extends Error {
  constructor(readonly hostVeth: string) {
    super(`host veth ${hostVeth} already exists`);
    this.name = 'HostVethExistsError';
  }
}

/** 127.0.0.0/8 and ::1: what a fresh namespace's loopback may hold. */
function isLoopback(ip: IpAddress): boolean {
  return ip.family === 4 ? ip.value >> 24n === 127n : ip.value === 1n;
}

/**
 * Creates the attachment. Refuses, creating nothing, when the namespace
 * already has an address inside `subnet` (AlreadyOnNetworkError, read before
 * the veth) or a link named `ifname` (IfnameTakenError, the kernel's refusal
 * of the veth); an existing host veth of the same name is never touched
 * (HostVethExistsError).
 */
export async function attachContainer(nl: Handle, openNetns: OpenNetns, spec: AttachSpec & { subnet: Cidr }, log: Logger): Promise<Attachment> {
  const hostName = hostVethName(spec.containerId, spec.ifname);
  const bridgeIndex = Promise.resolve(spec.bridgeIndex);
  // Its failure is reported where it is awaited; a refusal found first in the namespace must not leave it unhandled.
  bridgeIndex.catch(() => undefined);
  const inside = openNetns(spec.netns);
  try {
    const primaryV6 = spec.subnet.family === 6;
    // Everything read inside the namespace is read before the veth exists: the veth changes none of it (an
    // address gives its interface a connected route, never a default one). A taken CNI_IFNAME needs no read:
    // the kernel refuses the veth for it, creating neither end.
    const addrs = await inside.addrList();
    // The IPv6 subnet is the address's prefix with the host bits cleared.
    const net6 = spec.ipv6 === undefined ? undefined : mustParseCidrAny(spec.ipv6.addressCidr, false);
    let addressed = false;
    for (const a of addrs) {
      const ip = parseIp(a.cidr.split('/')[0] ?? '');
      const on = ip === undefined ? undefined : [spec.subnet, net6].find((n) => n !== undefined && cidrContainsAddress(n, ip));
      if (on !== undefined) {
        throw new AlreadyOnNetworkError(spec.netns, (await inside.linkByIndex(a.index))?.name ?? `#${a.index}`, a.cidr, formatCidrAny(on));
      }
      addressed ||= ip === undefined || !isLoopback(ip);
    }
    // Routes only where an interface has an address: a fresh container's namespace (loopback at most) has no
    // route a default could leave through. (A device-only default route on an interface with no address at
    // all, IPv6 off, is not looked for: the container's own default route then fails to add or sits beside it.)
    const defaults = addressed
      ? await Promise.all([primaryV6 ? 6 : 4, ...(spec.ipv6 ? [6] : [])].map((family) => inside.routeList({ family: family as 4 | 6 })))
      : [];
    const hasDefault = defaults[0]?.some((r) => r.dst === (primaryV6 ? '::/0' : '0.0.0.0/0')) === true;
    const hasDefault6 = spec.ipv6 !== undefined && defaults[defaults.length - 1]?.some((r) => r.dst === '::/0') === true;
    const masterIndex = await bridgeIndex;
    let hostVeth: Link;
    try {
      // The host end comes up on the bridge in the same request (the kernel does both before it answers).
      hostVeth = await nl.vethAdd({
        name: hostName, peerName: spec.ifname, peerNetns: spec.netns, mtu: spec.mtu, masterIndex, up: true,
        ...(spec.mac !== undefined ? { peerMac: spec.mac } : {}),
      });
    } catch (err) {
      // EEXIST: nothing was created; say which end exists, touch neither.
      if (hasErrorCode(err, 'EEXIST')) {
        if (await nl.linkByName(hostName)) throw new HostVethExistsError(hostName);
        throw new IfnameTakenError(spec.netns, spec.ifname);
      }
      throw err;
    }
    try {
      // The read-back names the peer's index in the container's namespace: no lookup there.
      const peerIndex = hostVeth.peerIndex;
      if (peerIndex === undefined) throw new Error(`veth ${hostName}: the kernel did not report its peer's index`);
      const container: Link = {
        index: peerIndex, name: spec.ifname, kind: 'veth', mtu: spec.mtu, up: true, ...(spec.mac !== undefined ? { mac: spec.mac.toLowerCase() } : {}),
      };
      // The host end's hairpin and the container end's addresses and up-state are set side by side (two sockets,
      // two namespaces). Addresses and up go in either order: an address on an up link, or a link coming up
      // with its address, gets its subnet's route either way.
      // nodad: usable the moment ADD returns, not tentative for a second (knit's IPAM made it unique).
      const settled = await Promise.allSettled([
        nl.linkSetHairpin(hostVeth.index, true),
        inside.addrAdd(peerIndex, spec.addressCidr, primaryV6 ? { noDad: true } : undefined),
        ...(spec.ipv6 ? [inside.addrAdd(peerIndex, spec.ipv6.addressCidr, { noDad: true })] : []),
        inside.linkSetUp(peerIndex),
      ]);
      for (const done of settled) if (done.status === 'rejected') throw done.reason;
      const any = primaryV6 ? '::/0' : '0.0.0.0/0';
      const first = hasDefault && spec.networkCidr !== undefined ? spec.networkCidr : any;
      const routes: Route[] = [{ dst: first, gateway: spec.gateway, index: container.index }];
      if (spec.ipv6) {
        // The same rule per family: one default route each, held by the first interface that has the family.
        const dst6 = hasDefault6 && spec.ipv6.networkCidr !== undefined ? spec.ipv6.networkCidr : '::/0';
        routes.push({ dst: dst6, gateway: spec.ipv6.gateway, index: container.index });
      }
      // The gateway of each family: the primary one's, or dual-stack's IPv6 one.
      const gatewayOf = (v6: boolean): string | undefined => (v6 === primaryV6 ? spec.gateway : v6 ? spec.ipv6?.gateway : undefined);
      for (const r of spec.routes) {
        if (r.dst === '0.0.0.0/0' || r.dst === '::/0') continue; // the default routes are always ours
        const familyGateway = gatewayOf(r.dst.includes(':'));
        if (familyGateway === undefined) continue; // no address of that family on this network: nothing to route it through
        routes.push({ dst: r.dst, gateway: r.gw ?? familyGateway, index: container.index });
      }
      // Independent of each other (each via its family's gateway on the connected subnet); the undo below removes them all with the veth.
      const added = await Promise.allSettled(routes.map((r) => inside.routeAdd(r)));
      for (const a of added) if (a.status === 'rejected') throw a.reason;
      return { hostVeth: { ...hostVeth, hairpin: true }, container, routes };
    } catch (err) {
      // Deleting the host end removes the container end with it.
      await nl.linkDel(hostVeth.index).catch((delErr: unknown) =>
        log.error('undo veth after failed attach', { veth: hostName, error: String(delErr) }));
      throw err;
    }
  } finally {
    inside.close();
  }
}

/**
 * Removes the container's veth pair; false when it was already gone.
 * `deleteLink` defaults to `nl.linkDel`; knitd passes its PoolLinkDeleter's
 * so that concurrent DELs share one kernel teardown wait, waited for on
 * the thread pool (see link-deleter.ts, link-delete-pool.ts).
 */
export async function detachContainer(
  nl: Handle, containerId: string, ifname: string,
  deleteLink: (index: number) => Promise<void> = (index) => nl.linkDel(index),
): Promise<boolean> {
  const link = await nl.linkByName(hostVethName(containerId, ifname));
  if (!link) return false;
  try {
    await deleteLink(link.index);
  } catch (err) {
    if (hasErrorCode(err, 'ENODEV', 'ENOENT')) return false;
    throw err;
  }
  return true;
}

export interface ExpectedAttachment {
  containerId: string;
  ifname: string;
  netns: string;
  bridgeIndex: number;
  addressCidr: string;
  gateway: string;
  /** the network's CIDR: its route via the gateway stands in for the default route on a second interface */
  networkCidr?: string;
  mtu: number;
  mac?: string;
  /** Dual-stack: the IPv6 address and default route that must be there too. */
  ipv6?: ContainerIpv6;
}

/**
 * Compares what the kernel holds for one attachment with what was promised;
 * returns one line per difference (empty = all good).
 */
export async function checkContainer(nl: Handle, openNetns: OpenNetns, want: ExpectedAttachment): Promise<string[]> {
  const problems: string[] = [];
  const hostName = hostVethName(want.containerId, want.ifname);
  const host = await nl.linkByName(hostName);
  if (!host) problems.push(`host veth ${hostName} is missing`);
  else {
    if (host.masterIndex !== want.bridgeIndex) problems.push(`host veth ${hostName} is not on the bridge (master ${host.masterIndex ?? 'none'}, want ${want.bridgeIndex})`);
    if (!host.up) problems.push(`host veth ${hostName} is down`);
  }
  const inside = openNetns(want.netns);
  try {
    const link = await inside.linkByName(want.ifname);
    if (!link) {
      problems.push(`interface ${want.ifname} is missing in ${want.netns}`);
      return problems;
    }
    if (link.mtu !== want.mtu) problems.push(`interface ${want.ifname} has MTU ${link.mtu}, want ${want.mtu}`);
    if (want.mac && link.mac !== want.mac.toLowerCase()) problems.push(`interface ${want.ifname} has MAC ${link.mac}, want ${want.mac}`);
    if (!link.up) problems.push(`interface ${want.ifname} is down`);
    const addrs = await inside.addrList({ index: link.index });
    if (!addrs.some((a) => a.cidr === want.addressCidr)) {
      problems.push(`interface ${want.ifname} lacks address ${want.addressCidr} (has ${addrs.map((a) => a.cidr).join(', ') || 'none'})`);
    }
    const primaryV6 = want.gateway.includes(':');
    const routes = await inside.routeList({ family: primaryV6 ? 6 : 4, index: link.index });
    if (!routes.some((r) => (r.dst === (primaryV6 ? '::/0' : '0.0.0.0/0') || r.dst === want.networkCidr) && r.gateway === want.gateway)) {
      problems.push(`default route via ${want.gateway} on ${want.ifname} is missing`);
    }
    if (want.ipv6) {
      if (!addrs.some((a) => a.cidr === want.ipv6!.addressCidr)) {
        problems.push(`interface ${want.ifname} lacks address ${want.ipv6.addressCidr}`);
      }
      const routes6 = await inside.routeList({ family: 6, index: link.index });
      if (!routes6.some((r) => (r.dst === '::/0' || r.dst === want.ipv6!.networkCidr) && r.gateway === want.ipv6!.gateway)) {
        problems.push(`default route ::/0 via ${want.ipv6.gateway} on ${want.ifname} is missing`);
      }
    }
  } finally {
    inside.close();
  }
  return problems;
}

