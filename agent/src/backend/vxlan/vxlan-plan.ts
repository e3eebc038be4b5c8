/**
 * Pure planning for the VXLAN backend: peer leases → the kernel objects each
 * peer needs. Kept apart from the device code so it is table-tested without
 * a kernel.
 *
 * Per peer reached through the overlay (what flannel's vxlan backend does,
 * without learning or multicast):
 *   neighbour  <peer subnet .0> lladdr <peer VTEP MAC> dev knit.<VNI> nud permanent
 *   fdb        <peer VTEP MAC> dst <peer public IP> dev knit.<VNI> self permanent
 *   route      <peer subnet> via <peer subnet .0> dev knit.<VNI> onlink proto 89
 * With directRouting, a peer whose public IP is inside one of the underlay's
 * connected prefixes (same L2 segment) gets only
 *   route      <peer subnet> via <peer public IP> dev <underlay> proto 89
 */
import type { Ipv4Cidr } from '../../net/ipv4';
import { RTPROT_KNIT } from '../../netlink';
import type { Lease } from '../../store';
import type { DesiredDataplane } from '../../dataplane/reconcile/types';
import { onSegment, refuseForType, subnetZero } from '../peer-checks';

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** What planning needs to know about this node (all from setup()). */
export interface VxlanPlanEnv {
  /** ifindex of knit.<VNI> */
  deviceIndex: number;
  /** ifindex of the underlay */
  underlayIndex: number;
  /** connected IPv4 prefixes of the underlay (for directRouting) */
  underlayPrefixes: readonly Ipv4Cidr[];
  directRouting: boolean;
  /** this node's own VTEP MAC: a peer claiming it is refused */
  ownVtepMac: string;
}

/** Peer leases → desired objects; refused peers carry the reason. Deterministic for a given input. */
export function planVxlan(peers: readonly Lease[], env: VxlanPlanEnv): DesiredDataplane {
  const out: DesiredDataplane = { peers: [], refused: [] };
  const macOwner = new Map<string, string>([[env.ownVtepMac, 'this node']]);
  for (const lease of peers) {
    const refuse = (reason: string): void => {
      out.refused.push({ subnet: lease.subnet, nodeName: lease.nodeName, publicIp: lease.publicIp, reason });
    };
    const typeReason = refuseForType(lease, 'vxlan');
    if (typeReason) { refuse(typeReason); continue; }
    const base = { subnet: lease.subnet, nodeName: lease.nodeName, publicIp: lease.publicIp };
    if (env.directRouting && onSegment(lease.publicIp, env.underlayPrefixes)) {
      out.peers.push({
        ...base, mode: 'direct', neighbours: [], fdb: [],
        routes: [{ dst: lease.subnet, gateway: lease.publicIp, index: env.underlayIndex, protocol: RTPROT_KNIT }],
      });
      continue;
    }
    const mac = lease.backend.data.vtepMac;
    if (typeof mac !== 'string' || !MAC_RE.test(mac) || (parseInt(mac.slice(0, 2), 16) & 1) === 1) {
      refuse(`peer lease has no valid backend.data.vtepMac (got ${JSON.stringify(mac)})`);
      continue;
    }
    const owner = macOwner.get(mac);
    if (owner !== undefined) {
      refuse(`peer VTEP MAC ${mac} is already used by ${owner}`);
      continue;
    }
    macOwner.set(mac, `node ${lease.nodeName} (${lease.subnet})`);
    const gw = subnetZero(lease.subnet);
    out.peers.push({
      ...base, mode: 'vxlan',
      neighbours: [{ index: env.deviceIndex, ip: gw, mac, permanent: true }],
      fdb: [{ index: env.deviceIndex, mac, dst: lease.publicIp, permanent: true }],
      routes: [{ dst: lease.subnet, gateway: gw, index: env.deviceIndex, onlink: true, protocol: RTPROT_KNIT }],
    });
  }
  return out;
}
