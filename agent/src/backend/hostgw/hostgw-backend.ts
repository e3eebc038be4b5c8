/**
 * The host-gw backend: no device, no encapsulation; each peer subnet is a
 * plain kernel route via the peer's public IP on the underlay:
 *   route <peer subnet> via <peer public IP> dev <underlay> proto 89
 * That only works when the peer is on the same L2 segment (its public IP is
 * inside one of the underlay's connected prefixes); other peers are refused
 * with a reason, never given a route the kernel would send to the default
 * gateway. Container MTU = underlay MTU (no overhead).
 */
import type { Ipv4Cidr } from '../../net/ipv4';
import { RTPROT_KNIT, type Handle, type Link } from '../../netlink';
import type { Lease } from '../../store';
import type { Backend, BackendContext, BackendFactory, DesiredDataplane, SetupResult } from '../types';
import { readUnderlay } from '../device-ensure';
import { describePrefixes, onSegment, refuseForType } from '../peer-checks';

/** What host-gw planning needs to know about this node. */
export interface HostGwPlanEnv {
  underlayIndex: number;
  underlayName: string;
  underlayPrefixes: readonly Ipv4Cidr[];
}

/** Pure: peer leases → one route each; peers off the segment are refused. */
export function planHostGw(peers: readonly Lease[], env: HostGwPlanEnv): DesiredDataplane {
  const out: DesiredDataplane = { peers: [], refused: [] };
  for (const lease of peers) {
    const base = { subnet: lease.subnet, nodeName: lease.nodeName, publicIp: lease.publicIp };
    const typeReason = refuseForType(lease, 'host-gw');
    if (typeReason) {
      out.refused.push({ ...base, reason: typeReason });
      continue;
    }
    if (!onSegment(lease.publicIp, env.underlayPrefixes)) {
      out.refused.push({
        ...base,
        reason: `peer public IP ${lease.publicIp} is not on the L2 segment of underlay ${env.underlayName} `
          + `(${describePrefixes(env.underlayPrefixes)}); host-gw needs every node on one segment (use vxlan with directRouting instead)`,
      });
      continue;
    }
    out.peers.push({
      ...base, mode: 'host-gw', neighbours: [], fdb: [],
      routes: [{ dst: lease.subnet, gateway: lease.publicIp, index: env.underlayIndex, protocol: RTPROT_KNIT }],
    });
  }
  return out;
}

export class HostGwBackend implements Backend {
  readonly type = 'host-gw' as const;
  private readonly nl: Handle;
  private underlay: Link | undefined;
  private prefixes: Ipv4Cidr[] = [];

  constructor(private readonly ctx: BackendContext) {
    if (ctx.network.backend.type !== 'host-gw') throw new Error(`host-gw backend built for a ${ctx.network.backend.type} network`);
    this.nl = ctx.nl;
  }

  /** Reads the underlay (MTU, connected prefixes); host-gw makes no device, so never writes. */
  async setup(): Promise<SetupResult> {
    const under = await readUnderlay(this.nl, this.ctx.node.underlay);
    this.underlay = under.link;
    this.prefixes = under.prefixes;
    if (this.prefixes.length === 0) {
      this.ctx.logger.warn('underlay has no IPv4 prefix: every host-gw peer will be refused', { underlay: under.link.name });
    }
    return { leaseData: {}, mtu: this.ctx.network.mtu ?? under.link.mtu, writes: 0 };
  }

  desired(peers: readonly Lease[]): DesiredDataplane {
    if (!this.underlay) throw new Error('host-gw backend: desired() before setup()');
    return planHostGw(peers, { underlayIndex: this.underlay.index, underlayName: this.underlay.name, underlayPrefixes: this.prefixes });
  }

  ownedDevices(): number[] {
    return [];
  }
}

/** Registry entry for host-gw. */
export const hostGwFactory: BackendFactory = {
  type: 'host-gw',
  leaseData: () => ({}),
  create: (ctx) => new HostGwBackend(ctx),
};
