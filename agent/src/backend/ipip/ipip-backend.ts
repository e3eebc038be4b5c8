/**
 * The IPIP backend (Calico's IPIP mode, flannel's ipip backend): one
 * `knit.ipip` tunnel device (local = public IP, dev = underlay, no remote, so
 * one device serves every peer), address <subnet .0>/32, MTU = underlay − 20,
 * and per peer
 *   route <peer subnet> via <peer public IP> dev knit.ipip onlink proto 89
 * The kernel encapsulates to the route's gateway. No neighbours or FDB (IPIP
 * has no link layer). Works across L3 underlays, unlike host-gw.
 *
 * On a kernel without the ipip module, setup() fails with the netlink layer's
 * EOPNOTSUPP error naming the kind.
 */
import { RTPROT_KNIT, type Handle, type Link } from '../../netlink';
import type { Lease } from '../../store';
import type { Backend, BackendContext, BackendDescription, BackendFactory, DesiredDataplane, SetupResult } from '../types';
import { ensureMtuUp, ensureOnlyAddress, readUnderlay } from '../device-ensure';
import { refuseForType, subnetZeroHostCidr } from '../peer-checks';
import { peerPlan, refusedPeer } from '../peer-plan';
import { parseIpipConfig } from './config';

export const IPIP_DEVICE = 'knit.ipip';
/** Bytes IPIP adds: the outer IPv4 header. */
export const IPIP_OVERHEAD = 20;

/** Pure: peer leases → one onlink route each through the tunnel device. */
export function planIpip(peers: readonly Lease[], env: { deviceIndex: number }): DesiredDataplane {
  const out: DesiredDataplane = { peers: [], refused: [] };
  for (const lease of peers) {
    const typeReason = refuseForType(lease, 'ipip');
    if (typeReason) {
      out.refused.push(refusedPeer(lease, typeReason));
      continue;
    }
    const routes = [{ dst: lease.subnet, gateway: lease.publicIp, index: env.deviceIndex, onlink: true, protocol: RTPROT_KNIT }];
    out.peers.push(peerPlan(lease, 'ipip', { routes, neighbours: [], fdb: [], nexthops: [] }));
  }
  return out;
}

export class IpipBackend implements Backend {
  readonly type = 'ipip' as const;

  /** The API has shown no device for ipip so far; kept so (the device is always IPIP_DEVICE). */
  describe(): BackendDescription {
    return {};
  }
  private readonly nl: Handle;
  private device: Link | undefined;

  constructor(private readonly ctx: BackendContext) {
    if (ctx.network.backend.type !== 'ipip') throw new Error(`ipip backend built for a ${ctx.network.backend.type} network`);
    this.nl = ctx.nl;
  }

  async setup(): Promise<SetupResult> {
    const under = await readUnderlay(this.nl, this.ctx.node.underlay);
    const devMtu = under.link.mtu - IPIP_OVERHEAD;
    const local = this.ctx.node.publicIp;
    let writes = 0;
    let link = await this.nl.linkByName(IPIP_DEVICE);
    if (link && link.kind !== 'ipip') {
      throw new Error(`link ${IPIP_DEVICE} exists with kind ${link.kind}; refusing to touch a link knit did not make`);
    }
    if (link && (link.ipip?.local !== local || link.ipip.remote !== undefined || link.ipip.underlayIndex !== under.link.index)) {
      this.ctx.logger.warn('ipip device has other parameters; recreating it', { device: IPIP_DEVICE, have: link.ipip });
      await this.nl.linkDel(link.index);
      writes++;
      link = undefined;
    }
    if (!link) {
      try {
        link = await this.nl.ipipAdd({ name: IPIP_DEVICE, local, underlayIndex: under.link.index, mtu: devMtu });
      } catch (err) {
        throw new Error(`create ipip device ${IPIP_DEVICE} (local ${local}, dev ${under.link.name})`, { cause: err });
      }
      writes++;
      this.ctx.logger.info('created ipip device', { device: IPIP_DEVICE, local, mtu: devMtu });
    }
    writes += await ensureOnlyAddress(this.nl, link.index, subnetZeroHostCidr(this.ctx.node.subnet));
    writes += await ensureMtuUp(this.nl, link, devMtu);
    this.device = link;
    return { leaseData: {}, mtu: this.ctx.network.mtu ?? devMtu, writes };
  }

  desired(peers: readonly Lease[]): DesiredDataplane {
    if (!this.device) throw new Error(`ipip backend: desired() before setup() made ${IPIP_DEVICE}`);
    return planIpip(peers, { deviceIndex: this.device.index });
  }

  /** IPIP has no neighbours or FDB; the device is watched through its routes. */
  ownedDevices(): number[] {
    return this.device ? [this.device.index] : [];
  }
}

/** Registry entry for IPIP. */
export const ipipFactory: BackendFactory = {
  type: 'ipip',
  parseConfig: (section, network) => parseIpipConfig(section, network),
  leaseData: () => ({}),
  create: (ctx) => new IpipBackend(ctx),
};
