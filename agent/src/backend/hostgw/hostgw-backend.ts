/**
 * The host-gw backend: no device, no encapsulation; each peer subnet is a
 * plain kernel route via the peer's public IP on the underlay, through a
 * nexthop object of its own (id: the subnet's network address as a u32;
 * backend/nexthop-routes.ts says why):
 *   nexthop id <N> via <peer public IP> dev <underlay> proto 89
 *   route <peer subnet> nhid <N> proto 89
 * (on a kernel without nexthop objects: route <peer subnet> via <peer public IP> dev <underlay> proto 89)
 * That only works when the peer is on the same L2 segment (its public IP is
 * inside one of the underlay's connected prefixes); other peers are refused
 * with a reason, never given a route the kernel would send to the default
 * gateway. Container MTU = underlay MTU (no overhead).
 *
 * Dual-stack: a peer's IPv6 subnet is routed the same way via its IPv6
 * underlay address (the lease's publicIpv6), which must be on the underlay's
 * IPv6 segment:
 *   route <peer IPv6 subnet> via <peer publicIpv6> dev <underlay> proto 89
 * (IPv6 routes name their gateway: no nexthop object needed there).
 * A peer whose IPv6 side cannot be routed keeps its IPv4 route; its IPv6
 * subnet is refused with the reason.
 *
 * IPv6-only: the lease's subnet and publicIp are IPv6; the one route per peer
 * is an IPv6 route via that address, which must be on the IPv6 segment.
 */
import type { Ipv4Cidr } from '../../net/ipv4';
import type { Cidr } from '../../net/ip';
import { RTPROT_KNIT, type Handle, type Link } from '../../netlink';
import type { Lease } from '../../store';
import type { Backend, BackendContext, BackendDescription, BackendFactory, DesiredDataplane, PeerPlan, RefusedPeer, SetupResult } from '../types';
import { readUnderlay } from '../device-ensure';
import { cachedPlan, PlanCache, prefixesKey } from '../plan-cache';
import { describePrefixes, onSegment6, onSegmentAny, refuseForType } from '../peer-checks';
import { parseHostGwConfig } from './config';
import { NexthopSupport, peerRoutes, type GatewayRoute } from '../nexthop-routes';
import { peerPlan, refusedPeer } from '../peer-plan';

/** What host-gw planning needs to know about this node. */
export interface HostGwPlanEnv {
  underlayIndex: number;
  underlayName: string;
  underlayPrefixes: readonly Ipv4Cidr[];
  /** connected IPv6 prefixes of the underlay: an IPv6-only lease's publicIp, or dual-stack's publicIpv6, must be on one */
  underlayPrefixes6: readonly Cidr[];
  /** Dual-stack: route peers' IPv6 subnets too, via their publicIpv6. */
  ipv6: boolean;
  /** the kernel has nexthop objects: IPv4 peer routes go through one each */
  nexthops: boolean;
}

/** One lease's planning outcome: its plan (if any) and what of it is refused. */
interface HostGwOutcome {
  plan?: PeerPlan;
  refused: RefusedPeer[];
}

/** Plans of unchanged leases, kept between runs (backend/plan-cache.ts). */
export class HostGwPlanCache extends PlanCache<HostGwOutcome> {}

/** Everything planning reads from the environment, as a cache key. */
function envKey(env: HostGwPlanEnv): string {
  return [env.underlayIndex, env.underlayName, env.ipv6, env.nexthops, prefixesKey(env.underlayPrefixes, env.underlayPrefixes6)].join('|');
}

/** One lease on its own (host-gw has no check across peers). */
function planPeer(lease: Lease, env: HostGwPlanEnv): HostGwOutcome {
  const typeReason = refuseForType(lease, 'host-gw');
  if (typeReason) return { refused: [refusedPeer(lease, typeReason)] };
  if (lease.publicIp.includes(':') !== lease.subnet.includes(':')) {
    // A dual-stack node with an IPv6 underlay address: an IPv4 subnet has no IPv4 next hop there.
    return { refused: [refusedPeer(lease, `peer public IP ${lease.publicIp} is not of its subnet's family; host-gw routes a subnet via a next hop of the same family (give that node a publicIp of it, or use vxlan)`)] };
  }
  if (!onSegmentAny(lease.publicIp, env.underlayPrefixes, env.underlayPrefixes6)) {
    return {
      refused: [refusedPeer(lease, `peer public IP ${lease.publicIp} is not on the L2 segment of underlay ${env.underlayName} `
        + `(${describePrefixes(env.underlayPrefixes, env.underlayPrefixes6)}); host-gw needs every node on one segment (use vxlan with directRouting instead)`)],
    };
  }
  const refused: RefusedPeer[] = [];
  const routes: GatewayRoute[] = [{ dst: lease.subnet, gateway: lease.publicIp, index: env.underlayIndex, protocol: RTPROT_KNIT }];
  const v6 = env.ipv6 ? lease.ipv6Subnet : undefined;
  if (v6 !== undefined) {
    if (onSegment6(lease.publicIpv6, env.underlayPrefixes6)) {
      routes.push({ dst: v6, gateway: lease.publicIpv6!, index: env.underlayIndex, protocol: RTPROT_KNIT });
    } else {
      refused.push({
        subnet: v6, nodeName: lease.nodeName, publicIp: lease.publicIpv6 ?? lease.publicIp,
        reason: lease.publicIpv6 === undefined
          ? 'peer lease has no IPv6 underlay address (publicIpv6): its IPv6 subnet cannot be routed by host-gw'
          : `peer IPv6 address ${lease.publicIpv6} is not on the IPv6 segment of underlay ${env.underlayName} `
            + `(${env.underlayPrefixes6.length === 0 ? 'none' : 'another prefix'}); host-gw needs every node on one segment`,
      });
    }
  }
  const { routes: kernelRoutes, nexthops } = peerRoutes(routes, env.nexthops);
  return { plan: peerPlan(lease, 'host-gw', { routes: kernelRoutes, neighbours: [], fdb: [], nexthops }), refused };
}

/**
 * Pure: peer leases → one route each; peers off the segment are refused.
 * With `cache`, a lease object planned before in the same environment is not
 * planned again (and keeps its plan object).
 */
export function planHostGw(peers: readonly Lease[], env: HostGwPlanEnv, cache?: HostGwPlanCache): DesiredDataplane {
  const out: DesiredDataplane = { peers: [], refused: [] };
  const outcomes = cache?.forEnv(envKey(env));
  for (const lease of peers) {
    const o = cachedPlan(outcomes, lease, (l) => planPeer(l, env));
    // the refused IPv6 side of a routed peer comes first, as it always did
    for (const r of o.refused) out.refused.push(r);
    if (o.plan) out.peers.push(o.plan);
  }
  return out;
}

export class HostGwBackend implements Backend {
  readonly type = 'host-gw' as const;

  /** No device of its own: plain routes via the peers' node IPs. */
  describe(): BackendDescription {
    return {};
  }
  private readonly nl: Handle;
  private underlay: Link | undefined;
  private prefixes: Ipv4Cidr[] = [];
  private prefixes6: Cidr[] = [];
  /** Plans of unchanged leases, kept between runs. */
  private readonly plans = new HostGwPlanCache();
  private readonly nexthops: NexthopSupport;

  constructor(private readonly ctx: BackendContext) {
    if (ctx.network.backend.type !== 'host-gw') throw new Error(`host-gw backend built for a ${ctx.network.backend.type} network`);
    this.nl = ctx.nl;
    this.nexthops = new NexthopSupport(ctx.nl, ctx.logger);
  }

  /** Reads the underlay (MTU, connected prefixes); host-gw makes no device, so never writes. */
  async setup(): Promise<SetupResult> {
    if (this.ctx.node.publicIp.includes(':') !== this.ctx.node.subnet.includes(':')) {
      throw new Error(`host-gw routes this node's subnet ${this.ctx.node.subnet} via its publicIp, which must be of the same family (got ${this.ctx.node.publicIp}); use vxlan for a dual-stack cluster on an IPv6 underlay`);
    }
    await this.nexthops.check();
    const under = await readUnderlay(this.nl, this.ctx.node.underlay);
    this.underlay = under.link;
    this.prefixes = under.prefixes;
    this.prefixes6 = under.prefixes6;
    const ipv6Only = this.ctx.node.publicIp.includes(':');
    if ((ipv6Only ? this.prefixes6 : this.prefixes).length === 0) {
      this.ctx.logger.warn(`underlay has no ${ipv6Only ? 'global IPv6' : 'IPv4'} prefix: every host-gw peer will be refused`, { underlay: under.link.name });
    }
    return { leaseData: {}, mtu: this.ctx.network.mtu ?? under.link.mtu, writes: 0 };
  }

  desired(peers: readonly Lease[]): DesiredDataplane {
    if (!this.underlay) throw new Error('host-gw backend: desired() before setup()');
    return planHostGw(peers, {
      underlayIndex: this.underlay.index, underlayName: this.underlay.name, underlayPrefixes: this.prefixes,
      underlayPrefixes6: this.prefixes6, ipv6: this.ctx.node.subnet6 !== undefined, nexthops: this.nexthops.supported,
    }, this.plans);
  }

  ownedDevices(): number[] {
    return [];
  }
}

/** Registry entry for host-gw. */
export const hostGwFactory: BackendFactory = {
  type: 'host-gw',
  parseConfig: (section) => parseHostGwConfig(section),
  leaseData: () => ({}),
  create: (ctx) => new HostGwBackend(ctx),
};
