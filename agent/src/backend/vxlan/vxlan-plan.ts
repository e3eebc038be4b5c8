/**
 * Pure planning for the VXLAN backend: peer leases → the kernel objects each
 * peer needs. Kept apart from the device code so it is table-tested without
 * a kernel.
 *
 * Per peer reached through the overlay (what flannel's vxlan backend does,
 * without learning or multicast):
 *   neighbour  <peer subnet .0> lladdr <peer VTEP MAC> dev knit.<VNI> nud permanent
 *   fdb        <peer VTEP MAC> dst <peer public IP> dev knit.<VNI> self permanent
 *   nexthop    id <N> via <peer subnet .0> dev knit.<VNI> onlink proto 89
 *   route      <peer subnet> nhid <N> proto 89
 * With directRouting, a peer whose public IP is inside one of the underlay's
 * connected prefixes (same L2 segment) gets only
 *   nexthop    id <N> via <peer public IP> dev <underlay> proto 89
 *   route      <peer subnet> nhid <N> proto 89
 * N is the peer subnet's network address as a u32; on a kernel without
 * nexthop objects the route names the gateway itself
 * (`route <peer subnet> via <gw> dev <dev> [onlink] proto 89`), and IPv6
 * routes always do (backend/nexthop-routes.ts says why).
 *
 * Dual-stack (docs/dual-stack.md): the same device carries the peer's IPv6
 * pod traffic (VXLAN encapsulates Ethernet frames; the inner family does not
 * matter to it), so a peer needs one FDB entry and, besides the above,
 *   neighbour  <peer IPv6 subnet ::> lladdr <peer VTEP MAC> dev knit.<VNI> nud permanent
 *   route      <peer IPv6 subnet> via <peer IPv6 subnet ::> dev knit.<VNI> onlink proto 89
 * A directRouting peer routes IPv6 directly too (via its publicIpv6), and
 * goes through the overlay for both families when its IPv6 address is not on
 * the underlay's IPv6 segment.
 *
 * IPv6-only (docs/dual-stack.md): the lease's subnet and publicIp are IPv6,
 * so the same three objects are IPv6 ones (neighbour <subnet ::>, FDB dst
 * <peer IPv6 address>, route via <subnet ::> onlink) over a VXLAN device whose
 * local address is the node's IPv6 underlay address.
 */
import type { Ipv4Cidr } from '../../net/ipv4';
import type { Cidr } from '../../net/ip';
import { RTPROT_KNIT } from '../../netlink';
import type { Lease } from '../../store';
import type { DesiredDataplane, PeerPlan } from '../../dataplane/reconcile/types';
import { onSegment6, onSegmentAny, refuseForType, subnetZero } from '../peer-checks';
import { cachedPlan, PlanCache, prefixesKey } from '../plan-cache';
import { peerRoutes } from '../nexthop-routes';
import { peerPlan, refusedPeer } from '../peer-plan';

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** What planning needs to know about this node (all from setup()). */
export interface VxlanPlanEnv {
  /** ifindex of knit.<VNI> */
  deviceIndex: number;
  /** ifindex of the underlay */
  underlayIndex: number;
  /** connected IPv4 prefixes of the underlay (directRouting of an IPv4 lease) */
  underlayPrefixes: readonly Ipv4Cidr[];
  directRouting: boolean;
  /** this node's own VTEP MAC: a peer claiming it is refused */
  ownVtepMac: string;
  /** this node has an IPv6 subnet (dual-stack): program peers' IPv6 subnets too */
  ipv6: boolean;
  /** connected IPv6 prefixes of the underlay (directRouting of IPv6: dual-stack's second family, or an IPv6-only lease) */
  underlayPrefixes6: readonly Cidr[];
  /** the kernel has nexthop objects: IPv4 peer routes go through one each (backend/nexthop-routes.ts) */
  nexthops: boolean;
}

/** One peer's plan on its own (no check against the other peers), or why it is refused. */
type PeerOutcome = { plan: PeerPlan; mac?: string } | { refused: string };

/** Plans of unchanged leases, kept between runs (backend/plan-cache.ts). */
export class VxlanPlanCache extends PlanCache<PeerOutcome> {}

/** Everything planning reads from the environment, as a cache key. */
function envKey(env: VxlanPlanEnv): string {
  return [env.deviceIndex, env.underlayIndex, env.directRouting, env.ownVtepMac, env.ipv6, env.nexthops, prefixesKey(env.underlayPrefixes, env.underlayPrefixes6)].join('|');
}

function planPeer(lease: Lease, env: VxlanPlanEnv): PeerOutcome {
  const typeReason = refuseForType(lease, 'vxlan');
  if (typeReason) return { refused: typeReason };
  const v6 = env.ipv6 ? lease.ipv6Subnet : undefined;
  if (env.directRouting && onSegmentAny(lease.publicIp, env.underlayPrefixes, env.underlayPrefixes6) && (v6 === undefined || onSegment6(lease.publicIpv6, env.underlayPrefixes6))) {
    const { routes, nexthops } = peerRoutes([
      { dst: lease.subnet, gateway: lease.publicIp, index: env.underlayIndex, protocol: RTPROT_KNIT },
      ...(v6 !== undefined ? [{ dst: v6, gateway: lease.publicIpv6!, index: env.underlayIndex, protocol: RTPROT_KNIT }] : []),
    ], env.nexthops);
    return { plan: peerPlan(lease, 'direct', { routes, neighbours: [], fdb: [], nexthops }) };
  }
  const mac = lease.backend.data.vtepMac;
  if (typeof mac !== 'string' || !MAC_RE.test(mac) || (parseInt(mac.slice(0, 2), 16) & 1) === 1) {
    return { refused: `peer lease has no valid backend.data.vtepMac (got ${JSON.stringify(mac)})` };
  }
  const gw = subnetZero(lease.subnet);
  const gw6 = v6 === undefined ? undefined : subnetZero(v6);
  const { routes, nexthops } = peerRoutes([
    { dst: lease.subnet, gateway: gw, index: env.deviceIndex, onlink: true, protocol: RTPROT_KNIT },
    ...(v6 !== undefined && gw6 !== undefined ? [{ dst: v6, gateway: gw6, index: env.deviceIndex, onlink: true, protocol: RTPROT_KNIT }] : []),
  ], env.nexthops);
  const neighbours = [
    { index: env.deviceIndex, ip: gw, mac, permanent: true },
    ...(gw6 !== undefined ? [{ index: env.deviceIndex, ip: gw6, mac, permanent: true }] : []),
  ];
  const fdb = [{ index: env.deviceIndex, mac, dst: lease.publicIp, permanent: true }];
  return { mac, plan: peerPlan(lease, 'vxlan', { routes, neighbours, fdb, nexthops }) };
}

/**
 * Peer leases → desired objects; refused peers carry the reason. Deterministic
 * for a given input. With `cache`, a lease object planned before in the same
 * environment is not planned again (the check that no two peers claim one
 * VTEP MAC still runs over all of them).
 */
export function planVxlan(peers: readonly Lease[], env: VxlanPlanEnv, cache?: VxlanPlanCache): DesiredDataplane {
  const out: DesiredDataplane = { peers: [], refused: [] };
  // the lease that claimed each MAC (null: this node); its text is built only for a refusal, not per peer per run
  const macOwner = new Map<string, Lease | null>([[env.ownVtepMac, null]]);
  const outcomes = cache?.forEnv(envKey(env));
  for (const lease of peers) {
    const outcome = cachedPlan(outcomes, lease, (l) => planPeer(l, env));
    if ('refused' in outcome) {
      out.refused.push(refusedPeer(lease, outcome.refused));
      continue;
    }
    if (outcome.mac !== undefined) {
      const owner = macOwner.get(outcome.mac);
      if (owner !== undefined) {
        const by = owner === null ? 'this node' : `node ${owner.nodeName} (${owner.subnet})`;
        out.refused.push(refusedPeer(lease, `peer VTEP MAC ${outcome.mac} is already used by ${by}`));
        continue;
      }
      macOwner.set(outcome.mac, lease);
    }
    out.peers.push(outcome.plan);
  }
  return out;
}
