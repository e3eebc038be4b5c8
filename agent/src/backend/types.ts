/**
 * The backend boundary (flannel's pkg/backend shape, narrower): a backend
 * makes its device(s), says what this node publishes in its lease, and turns
 * the peer leases into desired kernel objects. Applying them is the
 * reconciler's job (agent/src/dataplane/reconcile), so a backend never diffs
 * or writes routes itself. `desired()` is pure (the API's audit calls it too);
 * a backend that must act on a new peer set (BGP: its sessions) does so in
 * `peersChanged()`, which the wiring calls before the reconciler runs.
 */
import type { Logger } from '../log/logger';
import type { Handle, Link } from '../netlink';
import type { DataplaneSource } from '../dataplane/reconcile/types';
import type { BackendSection, Lease, LeaseBackendData, NetworkConfig } from '../store';
import type { SessionInfo } from '../bgp';

export type { DataplaneSource, DesiredDataplane, PeerMode, PeerPlan, RefusedPeer, SetupResult } from '../dataplane/reconcile/types';

/** What a backend is built with. */
export interface BackendContext {
  /** Handle bound to the node's namespace. */
  nl: Handle;
  logger: Logger;
  network: NetworkConfig;
  node: {
    name: string;
    /** The node's underlay address (its lease's publicIp): IPv4, or IPv6 in an IPv6-only cluster. */
    publicIp: string;
    /** The underlay link (from detectUnderlay); re-read by index in setup(). */
    underlay: Link;
    /** This node's leased subnet, "10.244.1.0/24". */
    subnet: string;
    /** Dual-stack: this node's IPv6 subnet (its lease's ipv6Subnet). */
    subnet6?: string;
    /** The node's global IPv6 address on the underlay, when it has one (host-gw's IPv6 next hop for peers). */
    publicIpv6?: string;
    /** The BGP Identifier the operator set for this node (knitd's bgp.routerId); only a BGP speaker has one. */
    routerId?: string;
  };
}

/** What a backend says about itself on the operator surface (GetNode's backend). */
export interface BackendDescription {
  /** The backend's own device (e.g. "knit.1"), when it has one the operator should see. */
  device?: string;
  vni?: number;
  port?: number;
}

/**
 * A BGP session as the operator surface shows it (the API's BgpSessionInfo):
 * the speaker's own view without its internal `origin` tag, so the record is
 * defined once, in bgp/.
 */
export type BgpSessionView = Omit<SessionInfo, 'origin'>;

/** A learned route as the operator surface shows it (the API's BgpRouteInfo). */
export interface BgpRouteView {
  prefix: string;
  nextHop: string;
  peerAddress: string;
  asPath: number[];
  /** The best path for its prefix, hence wanted in the kernel. */
  installed: boolean;
}

/** The operator's view of a backend that is a BGP speaker. */
export interface BackendBgpView {
  sessions(): BgpSessionView[];
  routes(): BgpRouteView[];
}

/** A backend: the reconciler's source of desired state, plus its type. */
export interface Backend extends DataplaneSource {
  readonly type: string;
  /** Describes itself for the API, so the wiring never rebuilds device names from the config. */
  describe(): BackendDescription;
  /** Present when the backend speaks BGP: its sessions and learned routes for the API. */
  readonly bgp?: BackendBgpView;
  /** Route protocol number marking this backend's routes (the reconciler's `protocol`); default RTPROT_KNIT. */
  readonly routeProtocol?: number;
  /**
   * For backends whose desired state changes without a peer-set change (BGP:
   * learned routes): `onChange` is called then, and the wiring reconciles.
   */
  watch?(onChange: () => void): void;
  /**
   * The peer set changed (called by the wiring with every set the peer
   * tracker emits, before the reconciler runs): the place for side effects
   * such as BGP session changes, which desired() must not have.
   */
  peersChanged?(peers: readonly Lease[]): void;
  /** Stop background work (BGP sessions) at shutdown; kernel objects stay. */
  close?(): Promise<void>;
}

/** What a backend folder registers. */
export interface BackendFactory {
  /** The name `backend.type` selects it by (store's BACKEND_NAME syntax). */
  readonly type: string;
  /**
   * Pure: validates this backend's section of the network config and fills
   * its defaults; throws NetworkConfigError naming the field ("backend.vni").
   * `network` is the rest of the config, already checked (some backends
   * refuse an address family).
   */
  parseConfig(section: BackendSection, network: NetworkConfig): BackendSection;
  /**
   * Pure: what this node publishes in its lease, known BEFORE the lease is
   * acquired (the lease must carry it, and setup needs the leased subnet).
   */
  leaseData(network: NetworkConfig, nodeName: string): LeaseBackendData;
  create(ctx: BackendContext): Backend;
}
