/**
 * The one constructor of a peer's plan and of a refused peer, for the
 * backends that plan per lease (vxlan, host-gw, ipip).
 *
 * Why a function and not `{ ...base, mode, ...objects }` at each backend:
 * in Node 20's V8 an object literal that starts with a spread and then adds
 * properties gets a hidden class (map) of its own for every object it
 * makes; objects built by one literal with the same properties in the same
 * order share one. Measured in knitd's heap at 10 000 vxlan peers: 9983
 * maps for 10 000 plans (≈ 3 MiB of maps and descriptor arrays), and every
 * reconciler loop reading `plan.routes` over them was a megamorphic lookup.
 * Plans live as long as their lease (backend/plan-cache.ts), so that cost
 * is held, not transient. Here every lease backend's plan comes from one
 * literal (bgp-backend.ts builds its learned routes' plans with an explicit
 * literal of the same properties).
 */
import type { FdbEntry, Neighbour, Nexthop, Route } from '../netlink';
import type { Lease } from '../store';
import type { PeerMode, PeerPlan, RefusedPeer } from './types';

/** The kernel objects a peer needs; empty lists where its mode has none. */
export interface PeerObjects {
  routes: Route[];
  neighbours: Neighbour[];
  fdb: FdbEntry[];
  nexthops: Nexthop[];
}

/** `lease`'s plan in `mode` with `objects`. */
export function peerPlan(lease: Pick<Lease, 'subnet' | 'nodeName' | 'publicIp'>, mode: PeerMode, objects: PeerObjects): PeerPlan {
  return {
    subnet: lease.subnet,
    nodeName: lease.nodeName,
    publicIp: lease.publicIp,
    mode,
    routes: objects.routes,
    neighbours: objects.neighbours,
    fdb: objects.fdb,
    nexthops: objects.nexthops,
  };
}

/** `lease` refused for `reason` (the reconciler logs it once and programs nothing of it). */
export function refusedPeer(lease: Pick<Lease, 'subnet' | 'nodeName' | 'publicIp'>, reason: string): RefusedPeer {
  return { subnet: lease.subnet, nodeName: lease.nodeName, publicIp: lease.publicIp, reason };
}
