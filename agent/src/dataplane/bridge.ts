/**
 * The node bridge (knit0): one per node, gateway address = first address of
 * the node subnet, like docker0. `ensureBridge` is idempotent and accepts a
 * bridge someone (a previous knitd) already made: it converges MTU, address
 * and up-state and never recreates a bridge that carries running containers.
 */
import type { Handle, Link } from '../netlink';
import type { Logger } from '../log/logger';

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
