/**
 * The node bridge (knit0): one per node, gateway address = first address of
 * the node subnet, like docker0. `ensureBridge` is idempotent and accepts a
 * bridge someone (a previous knitd) already made: it converges MTU, address
 * and up-state and never recreates a bridge that carries running containers.
 */
import type { Handle, Link } from '../netlink';
import type { Logger } from '../log/logger';
import { describeError } from '../base';
import { writeFileSync } from 'node:fs';

export interface BridgeSpec {
  name: string;
  /** gateway address with the subnet's prefix length, e.g. "10.244.1.1/24" */
  gatewayCidr: string;
  /** Dual-stack: the IPv6 gateway, e.g. "fd00:10:244:1::1/64" (added with nodad: usable at once) */
  gatewayCidr6?: string;
  mtu: number;
}

/** The bridge as it is after ensure, plus how many netlink writes it took. */
export interface EnsuredBridge {
  link: Link;
  writes: number;
}

/**
 * No duplicate address detection on knit's bridge: its link-local address
 * would otherwise stay tentative for a second or two after the first
 * container's veth brings carrier, and with no usable link-local the node
 * cannot resolve its containers' IPv6 neighbours, so the first IPv6 packets
 * from other nodes to them are lost (CI saw a node's fresh containers
 * unreachable over IPv6 this way). Its global addresses are added with
 * nodad already; the bridge is knit's own, nothing on it can hold a
 * duplicate. Set before the link comes up, for knitd's own namespace only
 * (/proc/sys is the namespace knitd runs in); a kernel without IPv6 has no
 * such file, which is fine.
 */
function noDadOnBridge(name: string, log: Logger): void {
  try {
    // The path, not a dotted sysctl key: an interface name may contain dots (never a slash).
    writeFileSync(`/proc/sys/net/ipv6/conf/${name}/accept_dad`, '0');
  } catch (err) {
    log.debug('could not turn DAD off on the bridge (no IPv6?)', { bridge: name, error: describeError(err) });
  }
}

export async function ensureBridge(nl: Handle, spec: BridgeSpec, log: Logger): Promise<EnsuredBridge> {
  let writes = 0;
  let link = await nl.linkByName(spec.name);
  if (link && link.kind !== 'bridge') {
    throw new Error(`ensure bridge ${spec.name}: a link of kind ${link.kind} already has that name; refusing to touch it`);
  }
  if (!link) {
    try {
      link = await nl.bridgeAdd({ name: spec.name, mtu: spec.mtu });
      writes++;
      log.info('created bridge', { bridge: spec.name, mtu: spec.mtu });
      if (nl.netns === null) noDadOnBridge(spec.name, log);
    } catch (err) {
      // Lost a race with another creator: take what is there.
      link = await nl.linkByName(spec.name);
      if (!link) throw new Error(`create bridge ${spec.name}`, { cause: err });
    }
  }
  if (link.mtu !== spec.mtu) {
    await nl.linkSetMtu(link.index, spec.mtu);
    writes++;
  }
  const addrs = await nl.addrList({ index: link.index });
  for (const cidr of spec.gatewayCidr6 === undefined ? [spec.gatewayCidr] : [spec.gatewayCidr, spec.gatewayCidr6]) {
    if (addrs.some((a) => a.cidr === cidr)) continue;
    await nl.addrAdd(link.index, cidr, { noDad: true });
    writes++;
    log.info('bridge gateway address added', { bridge: spec.name, address: cidr });
  }
  if (!link.up) {
    await nl.linkSetUp(link.index);
    writes++;
  }
  // Nothing changed (every ADD after the first): no need to read it back.
  if (writes === 0) return { link, writes };
  const now = await nl.linkByIndex(link.index);
  if (!now) throw new Error(`ensure bridge ${spec.name}: vanished while configuring it`);
  return { link: now, writes };
}
