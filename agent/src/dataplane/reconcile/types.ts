/**
 * The reconciler's contract with whatever produces desired state (a backend).
 * It lives here, below the backends, so dependencies point down: backends
 * implement `DataplaneSource`; the reconciler knows nothing of VXLAN or routes
 * via public IPs, only of routes, nexthop objects, neighbours and FDB entries
 * it owns.
 */
import type { FdbEntry, Handle, Neighbour, Nexthop, Route } from '../../netlink';
import type { Lease, LeaseBackendData } from '../../store';

/** How a peer is reached. */
export type PeerMode = 'vxlan' | 'direct' | 'host-gw' | 'ipip' | 'bgp';

/** The kernel objects wanted for one peer lease. */
export interface PeerPlan {
  subnet: string;
  nodeName: string;
  publicIp: string;
  mode: PeerMode;
  routes: Route[];
  neighbours: Neighbour[];
  fdb: FdbEntry[];
  /** nexthop objects this peer's routes go through (Route.nhid); [] when its routes name their gateways */
  nexthops: Nexthop[];
}

/** A peer lease the backend will not program, and why (logged once per peer and reason). */
export interface RefusedPeer {
  subnet: string;
  nodeName: string;
  publicIp: string;
  reason: string;
}

/** Everything a backend wants in the kernel for a peer set. */
export interface DesiredDataplane {
  peers: PeerPlan[];
  refused: RefusedPeer[];
}

/** What `setup()` reports. */
export interface SetupResult {
  /** What this node publishes in its lease's backend.data (e.g. `{ vtepMac }`). */
  leaseData: LeaseBackendData;
  /** MTU for the node bridge and container veths. */
  mtu: number;
  /** Netlink writes setup made (0 when everything was already in place). */
  writes: number;
}

/**
 * The netlink verbs a reconciler uses: dump, write and delete routes,
 * nexthop objects, neighbours and FDB entries, and follow the kernel's events. Narrow on
 * purpose, so a test's in-memory kernel implements exactly this.
 */
export type ReconcilerNetlink = Pick<Handle,
  'routeList' | 'neighList' | 'fdbList' | 'nexthopList' | 'routeReplace' | 'routeDel' | 'neighSet' | 'neighDel' | 'fdbSet' | 'fdbDel'
  | 'nexthopReplace' | 'nexthopDel' | 'subscribe'>;

/** The part of a backend the reconciler drives. */
export interface DataplaneSource {
  /** Ensure the backend's device(s) exist and are configured; idempotent. */
  setup(): Promise<SetupResult>;
  /** Pure: the kernel objects wanted for these peers (call after setup). */
  desired(peers: readonly Lease[]): DesiredDataplane;
  /** ifindexes whose neighbours and FDB entries this backend owns ([] when none). */
  ownedDevices(): number[];
}
