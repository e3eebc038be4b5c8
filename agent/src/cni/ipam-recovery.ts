/**
 * IPAM truth is not one file. ipam.json may be lost, stale or rolled back
 * while containers run; handing out an address a live container holds is
 * the one thing IPAM must never do. So before the CNI socket opens, the
 * allocations are cross-checked against every other source knitd has, and
 * whatever any of them shows in use is adopted into IPAM (each family's pool
 * on its own):
 *
 *  1. the endpoint records (endpoints.json): each names its addresses;
 *  2. the kernel, inside each recorded container namespace: the addresses of
 *     the subnet the container's interface really has;
 *  3. the kernel, for host veths no record explains: the namespace holding
 *     the peer is found among the node's namespaces (bind mounts under
 *     /run/netns and /var/run/netns, /run/docker/netns, /proc/<pid>/ns/net)
 *     by the veth pair's ifindexes, and its addresses of the subnet are held
 *     under a key derived from the host veth (`recovered:<veth>`). A CNI DEL
 *     of the attachment that veth belongs to releases them (the veth name is
 *     derived from container ID and ifname), and so does the vanished-
 *     attachment reaper once the veth is gone.
 *
 * Adopting is one-way: nothing is released here. An address two sources
 * give to different containers is reported at error level (knitd cannot
 * know which one is right; both stay out of the pool).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sameNetns, type Addr, type Handle, type Link, type NetnsInspector } from '../netlink';
import type { Logger } from '../log/logger';
import type { Ipam } from '../ipam';
import { cidrContainsAddress, mustParseCidrAny, parseIp, type Cidr } from '../net/ip';
import { hostVethName, isHostVethName } from '../dataplane/veth-name';
import type { OpenNetns } from '../dataplane/container-link';
import { endpointIps, type EndpointStore } from './endpoints';

const RECOVERED_PREFIX = 'recovered:';

/** The IPAM container ID of an address recovered from host veth `veth` (':' cannot occur in a CNI container ID). */
export function recoveredContainerId(veth: string): string {
  return RECOVERED_PREFIX + veth;
}

/** The host veth of a recovered allocation's container ID, undefined for ordinary IDs. */
export function recoveredVethName(containerId: string): string | undefined {
  return containerId.startsWith(RECOVERED_PREFIX) ? containerId.slice(RECOVERED_PREFIX.length) : undefined;
}

/** Directories where runtimes bind-mount network namespaces. */
export const NETNS_DIRS = ['/run/netns', '/var/run/netns', '/run/docker/netns', '/var/run/docker/netns'];

export interface RecoveryDeps {
  nl: Handle;
  openNetns: OpenNetns;
  /** Every pool: one per family (IPv4, and IPv6 on dual-stack nodes) of every network. */
  pools: Ipam[];
  endpoints: EndpointStore;
  netns: NetnsInspector;
  log: Logger;
  /** Namespace paths to search for the peers of unexplained host veths (default: NETNS_DIRS and /proc). */
  candidateNamespaces?: () => string[];
}

export interface RecoveryReport {
  /** "containerId/ifname=ip" adopted into IPAM */
  adopted: string[];
  /** addresses in use that IPAM could not take, with why */
  conflicts: string[];
  /** host veths whose container namespace was not found */
  unresolvedVeths: string[];
}

/** Cross-checks IPAM against endpoint records and the kernel; see the module comment. */
export async function recoverAllocations(d: RecoveryDeps): Promise<RecoveryReport> {
  const report: RecoveryReport = { adopted: [], conflicts: [], unresolvedVeths: [] };
  const own = d.netns.own();
  const explained = new Set(d.endpoints.list().map((e) => hostVethName(e.containerId, e.ifname)));
  for (const pool of d.pools) {
    for (const a of pool.list()) explained.add(recoveredVethName(a.containerId) ?? hostVethName(a.containerId, a.ifname));
  }
  const unexplained = (await d.nl.linkList()).filter((l) => isHostVethName(l.name) && !explained.has(l.name));

  for (const pool of d.pools) {
    const subnet = mustParseCidrAny(pool.subnet);
    const found: Array<{ containerId: string; ifname: string; ip: string; createdAt?: string }> = [];
    for (const e of d.endpoints.list()) {
      const ips = endpointIps(e);
      const recordedText = subnet.family === 4 ? ips.ipv4 : ips.ipv6;
      const parsed = recordedText === undefined ? undefined : parseIp(recordedText);
      // Another network's address belongs to another pool.
      const recorded = parsed !== undefined && cidrContainsAddress(subnet, parsed) ? recordedText : undefined;
      if (recorded !== undefined) found.push({ containerId: e.containerId, ifname: e.ifname, ip: recorded, createdAt: e.createdAt });
      const ns = d.netns.lookup(e.netns);
      if (ns.kind !== 'netns' || sameNetns(ns.id, own)) continue;
      for (const ip of await addressesIn(d.openNetns, e.netns, subnet, (l) => l.name === e.ifname).catch(() => [])) {
        if (ip !== recorded) found.push({ containerId: recoveredContainerId(hostVethName(e.containerId, e.ifname)), ifname: e.ifname, ip });
      }
    }
    if (unexplained.length > 0) {
      const peers = await findPeers(d, unexplained, subnet);
      for (const host of unexplained) {
        const hit = peers.get(host.index);
        if (hit) for (const ip of hit.ips) found.push({ containerId: recoveredContainerId(host.name), ifname: hit.ifname, ip });
        else if (!report.unresolvedVeths.includes(host.name)) report.unresolvedVeths.push(host.name);
      }
    }
    const { adopted, refused } = await pool.adopt(found);
    report.adopted.push(...adopted.map((a) => `${a.containerId}/${a.ifname}=${a.ip}`));
    report.conflicts.push(...refused
      // The same address found twice for one attachment (record and kernel agree) is no conflict, nor is a
      // Docker endpoint's address held under the key its IPAM request got (both ifname "@docker").
      .filter((r) => {
        const holder = r.reason.startsWith(`${r.allocation.ip} is held by`) ? pool.byIp(r.allocation.ip) : undefined;
        return !(holder && (holder.containerId === r.allocation.containerId || (holder.ifname.startsWith('@') && holder.ifname === r.allocation.ifname)));
      })
      .map((r) => `${r.allocation.containerId}/${r.allocation.ifname}=${r.allocation.ip}: ${r.reason}`));
  }
  if (report.adopted.length > 0) {
    d.log.warn('IPAM state did not list addresses in use; adopted them from endpoint records and the kernel', { adopted: report.adopted });
  }
  if (report.conflicts.length > 0) d.log.error('addresses in use that IPAM cannot account for', { conflicts: report.conflicts });
  if (report.unresolvedVeths.length > 0) {
    d.log.warn('host veths whose container namespace was not found; their addresses cannot be protected', { veths: report.unresolvedVeths });
  }
  return report;
}

/** Addresses inside `subnet` on the links of namespace `path` that `pick` accepts. */
async function addressesIn(openNetns: OpenNetns, path: string, subnet: Cidr, pick: (l: Link) => boolean): Promise<string[]> {
  const h = openNetns(path);
  try {
    const links = new Set((await h.linkList()).filter(pick).map((l) => l.index));
    return inSubnet((await h.addrList({ family: subnet.family })).filter((a) => links.has(a.index)), subnet);
  } finally {
    h.close();
  }
}

/** The addresses (without prefix length) of `addrs` that lie in `subnet`. */
function inSubnet(addrs: Addr[], subnet: Cidr): string[] {
  return addrs.map((a) => a.cidr.split('/')[0] ?? '').filter((ip) => {
    const p = parseIp(ip);
    return p !== undefined && cidrContainsAddress(subnet, p);
  });
}

/**
 * For each host veth, the container end's name and its addresses in
 * `subnet`, searched in every candidate namespace: the container end is the
 * veth whose ifindex is the host end's peer and whose peer is the host end.
 */
async function findPeers(d: RecoveryDeps, hosts: Link[], subnet: Cidr): Promise<Map<number, { ifname: string; ips: string[] }>> {
  const own = d.netns.own();
  const wanted = new Map(hosts.filter((h) => h.peerIndex !== undefined).map((h) => [h.index, h.peerIndex!]));
  const out = new Map<number, { ifname: string; ips: string[] }>();
  const seen = new Set<string>();
  for (const path of (d.candidateNamespaces ?? defaultCandidates)()) {
    if (out.size === wanted.size) break;
    const ns = d.netns.lookup(path);
    if (ns.kind !== 'netns' || sameNetns(ns.id, own)) continue;
    const id = `${ns.id.dev}:${ns.id.ino}`;
    if (seen.has(id)) continue;
    seen.add(id);
    let h: Handle;
    try {
      h = d.openNetns(path);
    } catch {
      continue; // not a network namespace after all, or gone meanwhile
    }
    try {
      const links = await h.linkList();
      const matches = links.filter((l) => l.kind === 'veth' && l.peerIndex !== undefined && wanted.get(l.peerIndex) === l.index);
      if (matches.length === 0) continue;
      const addrs = await h.addrList({ family: subnet.family });
      for (const m of matches) out.set(m.peerIndex!, { ifname: m.name, ips: inSubnet(addrs.filter((a) => a.index === m.index), subnet) });
    } catch {
      // a namespace that vanished mid-scan holds nothing of ours
    } finally {
      h.close();
    }
  }
  return out;
}

function defaultCandidates(): string[] {
  const paths: string[] = [];
  for (const dir of NETNS_DIRS) {
    try {
      for (const name of readdirSync(dir)) paths.push(join(dir, name));
    } catch {
      // directory absent on this node
    }
  }
  try {
    for (const pid of readdirSync('/proc')) if (/^\d+$/.test(pid)) paths.push(`/proc/${pid}/ns/net`);
  } catch {
    // no /proc: nothing more to search
  }
  return paths;
}
