/**
 * The VXLAN backend: one device `knit.<VNI>` per node (nolearning, local =
 * public IP, dev = underlay, a derived stable VTEP MAC, address <subnet .0>/32
 * so the node can source overlay traffic from it, MTU = underlay − 50, or −70
 * over the IPv6 underlay of an IPv6-only cluster), and
 * per peer a permanent neighbour, an FDB entry and an onlink route (see
 * vxlan-plan.ts).
 *
 * Not implemented: `backend.disableTxChecksumOffload`. Turning tx checksum
 * offload off needs the ethtool ioctl (SIOCETHTOOL), which rtnetlink cannot
 * do, and knit never shells out to `ethtool`; a config that asks for it is
 * refused at setup() rather than silently ignored.
 */
import type { Logger } from '../../log/logger';
import type { Handle, Link } from '../../netlink';
import type { Ipv4Cidr } from '../../net/ipv4';
import type { Cidr } from '../../net/ip';
import type { Lease } from '../../store';
import { parseVxlanConfig, vxlanConfig, type VxlanBackendConfig } from './config';
import type { Backend, BackendContext, BackendDescription, BackendFactory, DesiredDataplane, SetupResult } from '../types';
import { ensureMtuUp, ensureOnlyAddress, readUnderlay } from '../device-ensure';
import { subnetZeroHostCidr } from '../peer-checks';
import { planVxlan, VxlanPlanCache } from './vxlan-plan';
import { vtepMac } from './vtep-mac';
import { NexthopSupport } from '../nexthop-routes';

/** Bytes VXLAN adds on an IPv4 underlay: outer IP 20 + UDP 8 + VXLAN 8 + inner Ethernet 14. */
export const VXLAN_OVERHEAD = 50;
/** On an IPv6 underlay (IPv6-only cluster) the outer header is 40 bytes: 70. */
export const VXLAN_OVERHEAD_IPV6 = 70;

/** The device name for a VNI. */
export function vxlanDeviceName(vni: number): string {
  return `knit.${vni}`;
}

export class VxlanBackend implements Backend {
  readonly type = 'vxlan' as const;
  readonly deviceName: string;
  readonly mac: string;
  private readonly cfg: VxlanBackendConfig;
  private readonly nl: Handle;
  private readonly log: Logger;
  private device: Link | undefined;
  private underlayIndex: number;
  private prefixes: Ipv4Cidr[] = [];
  private prefixes6: Cidr[] = [];
  /** Plans of unchanged leases, kept between runs (vxlan-plan.ts). */
  private readonly plans = new VxlanPlanCache();
  private readonly nexthops: NexthopSupport;

  constructor(private readonly ctx: BackendContext) {
    this.cfg = vxlanConfig(ctx.network);
    this.nl = ctx.nl;
    this.log = ctx.logger;
    this.deviceName = vxlanDeviceName(this.cfg.vni);
    this.mac = vtepMac(ctx.node.name, this.cfg.vni);
    this.underlayIndex = ctx.node.underlay.index;
    this.nexthops = new NexthopSupport(ctx.nl, ctx.logger);
  }

  describe(): BackendDescription {
    return { device: this.deviceName, vni: this.cfg.vni, port: this.cfg.port };
  }

  async setup(): Promise<SetupResult> {
    if (this.cfg.disableTxChecksumOffload) {
      throw new Error('backend.disableTxChecksumOffload is not supported by this knit build (it needs the ethtool ioctl); remove it from the network config');
    }
    const name = this.deviceName;
    await this.nexthops.check();
    const under = await readUnderlay(this.nl, this.ctx.node.underlay);
    this.underlayIndex = under.link.index;
    this.prefixes = under.prefixes;
    this.prefixes6 = under.prefixes6;
    const devMtu = under.link.mtu - (this.ctx.node.publicIp.includes(':') ? VXLAN_OVERHEAD_IPV6 : VXLAN_OVERHEAD);
    let writes = 0;
    let link = await this.nl.linkByName(name);
    if (link && link.kind !== 'vxlan') {
      throw new Error(`link ${name} exists with kind ${link.kind}; refusing to touch a link knit did not make`);
    }
    if (link && !this.compatible(link, under.link.index)) {
      this.log.warn('vxlan device has other parameters; recreating it', { device: name, have: link.vxlan });
      await this.nl.linkDel(link.index);
      writes++;
      link = undefined;
    }
    if (!link) {
      try {
        link = await this.nl.vxlanAdd({
          name, vni: this.cfg.vni, port: this.cfg.port, local: this.ctx.node.publicIp,
          underlayIndex: under.link.index, learning: false, mtu: devMtu, mac: this.mac,
        });
      } catch (err) {
        throw new Error(`create vxlan device ${name} (vni ${this.cfg.vni}, port ${this.cfg.port}, local ${this.ctx.node.publicIp}, dev ${under.link.name})`, { cause: err });
      }
      writes++;
      this.log.info('created vxlan device', { device: name, vni: this.cfg.vni, port: this.cfg.port, mac: this.mac, mtu: devMtu });
    }
    if (link.mac !== this.mac) {
      await this.nl.linkSetMac(link.index, this.mac);
      writes++;
    }
    // IPv4: <subnet .0>/32 sources the node's own overlay traffic. IPv6-only (as
    // dual-stack's IPv6): no address; the bridge's global address sources it,
    // and <subnet ::> stays the subnet-router anycast the kernel keeps for it.
    if (!this.ctx.node.subnet.includes(':')) writes += await ensureOnlyAddress(this.nl, link.index, subnetZeroHostCidr(this.ctx.node.subnet));
    writes += await ensureMtuUp(this.nl, link, devMtu);
    this.device = link;
    const mtu = this.ctx.network.mtu ?? devMtu;
    if (mtu > devMtu) {
      this.log.warn('network MTU is larger than the vxlan device MTU; cross-node packets above it will need fragmentation', { mtu, deviceMtu: devMtu });
    }
    return { leaseData: { vtepMac: this.mac }, mtu, writes };
  }

  desired(peers: readonly Lease[]): DesiredDataplane {
    if (!this.device) throw new Error(`vxlan backend: desired() before setup() made ${this.deviceName}`);
    return planVxlan(peers, {
      deviceIndex: this.device.index,
      underlayIndex: this.underlayIndex,
      underlayPrefixes: this.prefixes,
      directRouting: this.cfg.directRouting,
      ownVtepMac: this.mac,
      ipv6: this.ctx.node.subnet6 !== undefined,
      underlayPrefixes6: this.prefixes6,
      nexthops: this.nexthops.supported,
    }, this.plans);
  }

  ownedDevices(): number[] {
    return this.device ? [this.device.index] : [];
  }

  private compatible(link: Link, underlayIndex: number): boolean {
    const v = link.vxlan;
    return v !== undefined && v.vni === this.cfg.vni && v.port === this.cfg.port && v.local === this.ctx.node.publicIp
      && v.underlayIndex === underlayIndex && v.learning === false;
  }
}

/** Registry entry for the VXLAN backend. */
export const vxlanFactory: BackendFactory = {
  type: 'vxlan',
  parseConfig: (section) => parseVxlanConfig(section),
  leaseData: (network, nodeName) => ({ vtepMac: vtepMac(nodeName, vxlanConfig(network).vni) }),
  create: (ctx) => new VxlanBackend(ctx),
};
