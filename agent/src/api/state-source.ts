/**
 * What the operator API reads: a narrow, read-only view of knitd that
 * main.ts implements from its modules (lease manager, peer tracker,
 * reconciler, endpoint store, BGP speaker) and passes to `ApiServer`.
 *
 * The API never reaches into those modules: everything it reports comes
 * through this interface, so the server is tested against a fake and the
 * modules stay free to change. Times are `Date`s here; the server turns them
 * into RFC 3339 strings on the wire.
 */
import type { Endpoint } from '../records';
import type { NetworkDetail, NetworkSpec } from '../store';

/** A verdict with the reasons it is not OK (empty when OK). */
export interface ConditionInfo {
  ok: boolean;
  reasons: string[];
}

/** This node's backend device. */
export interface BackendInfo {
  /** "vxlan", "host-gw", "ipip", "bgp", or "none" in single-node mode. */
  type: string;
  device?: string;
  vni?: number;
  port?: number;
  vtepMac?: string;
  underlayDevice?: string;
  details?: Record<string, string>;
}

/** This node as GetNode reports it. */
export interface NodeInfo {
  name: string;
  publicIp: string;
  /** "10.244.1.0/24"; absent before a lease is held. */
  subnet?: string;
  leaseExpiresAt?: Date;
  leaseRenewedAt?: Date;
  clusterCidr?: string;
  backend: BackendInfo;
  mtu: number;
  bridge: string;
  mode: 'cluster' | 'single-node';
  health: ConditionInfo;
  readiness: ConditionInfo;
  versions: { knitd: string; node?: string; grpcJs?: string };
  startedAt?: Date;
  /** Peers known from their leases, and how many of their agents are alive. */
  peers?: { total: number; alive: number };
  /** Seconds left on the subnet lease's etcd TTL. */
  leaseRemainingSeconds?: number;
  uptimeSeconds?: number;
  masquerade?: boolean;
  /** "" when /metrics is disabled. */
  metricsAddress?: string;
  ipam?: { used: number; total: number };
  /** Failed netlink requests since start, by errno code. */
  netlinkErrors?: Record<string, number>;
  /** Dual-stack: this node's IPv6 subnet, the IPv6 cluster CIDR, and its IPv6 underlay address. */
  ipv6Subnet?: string;
  ipv6ClusterCidr?: string;
  publicIpv6?: string;
}

/** Whether a node's agent runs (its liveness key), since when. */
export interface AgentInfo {
  state: 'alive' | 'down' | 'unknown';
  since?: Date;
  version?: string;
}

/** One subnet lease as known from etcd. */
export interface SubnetLeaseInfo {
  subnet: string;
  nodeName: string;
  publicIp: string;
  backendType: string;
  backendData: Record<string, string | number | boolean>;
  renewedAt?: Date;
  expiresAt?: Date;
  own: boolean;
  /** Dual-stack: the node's IPv6 subnet and IPv6 underlay address. */
  ipv6Subnet?: string;
  publicIpv6?: string;
}

/** All leases plus the count of entries that were skipped as invalid. */
export interface SubnetList {
  leases: SubnetLeaseInfo[];
  invalidSkipped: number;
}

/** How a kernel object compares with the desired one. */
export type SyncState = 'in-sync' | 'missing' | 'differs' | 'stale';

export interface RouteObjectInfo {
  destination: string;
  /** the nexthop object the route goes through (then no gateway or device of its own) */
  nhid?: number;
  gateway?: string;
  device?: string;
  onlink?: boolean;
  state: SyncState;
  /** What differs, e.g. "kernel has via 192.168.0.9". */
  detail?: string;
}

export interface NeighbourObjectInfo {
  ip: string;
  mac: string;
  device: string;
  state: SyncState;
  detail?: string;
}

export interface NexthopObjectInfo {
  id: number;
  gateway: string;
  device: string;
  onlink?: boolean;
  state: SyncState;
  detail?: string;
}

export interface FdbObjectInfo {
  mac: string;
  destination: string;
  device: string;
  state: SyncState;
  detail?: string;
}

/** One peer and what knit programmed for it, as read back from the kernel. */
export interface PeerInfo {
  nodeName: string;
  subnet: string;
  publicIp: string;
  backendType: string;
  routes: RouteObjectInfo[];
  neighbours: NeighbourObjectInfo[];
  fdbEntries: FdbObjectInfo[];
  nexthops: NexthopObjectInfo[];
  lastReconciledAt?: Date;
  /**
   * Whether the peer is programmed, when the source knows it without the
   * objects (Watch events carry no kernel dump); else derived from them.
   */
  inSync?: boolean;
  /** The peer's agent, from its liveness key (informational: routes never depend on it). */
  agent?: AgentInfo;
  /** The last change this node saw for the peer: lease, programming or liveness. */
  lastChangeAt?: Date;
  /** Dual-stack: the peer's IPv6 subnet and IPv6 underlay address. */
  ipv6Subnet?: string;
  publicIpv6?: string;
}

/** One container attachment: the endpoint store's record itself (records/endpoint.ts). */
export type EndpointInfo = Endpoint;

export interface BgpSessionInfo {
  peerAddress: string;
  peerAsn: number;
  localAsn: number;
  state: string;
  uptimeSeconds: number;
  prefixesSent: number;
  prefixesReceived: number;
  /** Received prefixes that passed the import policy. */
  prefixesAccepted?: number;
  /** Received prefixes refused, by reason. */
  prefixesRejected?: Partial<Record<string, number>>;
  /** Times the session ended for exceeding max-prefix. */
  maxPrefixHits?: number;
  lastError?: string;
}

export interface BgpRouteInfo {
  prefix: string;
  nextHop: string;
  peerAddress: string;
  asPath: number[];
  installed: boolean;
}

/** Present only when knitd runs a BGP speaker. */
export interface BgpStateSource {
  sessions(): BgpSessionInfo[] | Promise<BgpSessionInfo[]>;
  routes(): BgpRouteInfo[] | Promise<BgpRouteInfo[]>;
}

export type ChangeKind = 'added' | 'updated' | 'removed';

/**
 * One change, as the modules notice it. For `removed`, the object carries at
 * least its identity (subnet; nodeName + subnet; containerId + ifname;
 * peerAddress); other fields may be empty.
 */
export type StateChange =
  | { kind: 'subnet'; change: ChangeKind; lease: SubnetLeaseInfo }
  | { kind: 'peer'; change: ChangeKind; peer: PeerInfo }
  | { kind: 'endpoint'; change: ChangeKind; endpoint: EndpointInfo }
  | { kind: 'bgpSession'; change: ChangeKind; session: BgpSessionInfo }
  | { kind: 'node'; node: NodeInfo }
  | { kind: 'peerLiveness'; nodeName: string; subnet?: string; agent: AgentInfo }
  | { kind: 'network'; change: ChangeKind; network: NetworkInfo }
  | { kind: 'policy'; change: ChangeKind; policy: PolicyInfo };

/** A network of the cluster as the API shows it: the store's detail, the config as a document (undefined once removed). */
export interface NetworkInfo extends Omit<NetworkDetail, 'config'> {
  config: unknown;
}

/** What CreateNetwork asks for (unset: knit's default); a CIDR is required. */
export type NetworkRequest = NetworkSpec & { cidr: string; internal: boolean; noMasquerade: boolean };

/**
 * Why a network or policy call was refused: `invalid` (a bad option or
 * document), `conflict` (with another network, or endpoints still attached),
 * `not-found`.
 */
export class RequestError extends Error {
  constructor(readonly reason: 'invalid' | 'conflict' | 'not-found', message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RequestError';
  }
}

/** A network policy as the API shows it: its file form (docs/policy.md) and what it selects. */
export interface PolicyInfo {
  network: string;
  name: string;
  /** The file form, as `knitctl policy inspect -o json` prints it. */
  document: Record<string, unknown>;
  selector: Record<string, string>;
}

/** One direction of a trace: allowed or not, and the policy (its name) and rule that decided, if a rule did. */
export interface PolicyVerdictInfo {
  allowed: boolean;
  reason: string;
  policy?: string;
  rule?: number;
}

export interface PolicyTraceInfo {
  allowed: boolean;
  from: string;
  to: string;
  egress: PolicyVerdictInfo;
  ingress: PolicyVerdictInfo;
}

/** The cluster's network policies (they live in etcd, so any knitd answers for all). */
export interface PolicySource {
  /** Of one network, or of all when `network` is undefined; `invalid` lists stored records that do not validate. */
  list(network?: string): Promise<{ policies: PolicyInfo[]; invalid: string[] }>;
  /** undefined when absent */
  get(network: string, name: string): Promise<PolicyInfo | undefined>;
  /** A policy file (YAML or JSON): all of it in one transaction; RequestError 'invalid' names what is wrong. */
  apply(document: string): Promise<PolicyInfo[]>;
  /** false when absent */
  remove(network: string, name: string): Promise<boolean>;
  /** from/to: an endpoint id or an address; port "tcp/8080" … "icmp". RequestError 'invalid' for a query it cannot answer. */
  trace(q: { from: string; to: string; port: string }): Promise<PolicyTraceInfo>;
}

/** The cluster's named networks (they live in etcd, so any knitd answers for all). */
export interface NetworkSource {
  list(): Promise<{ networks: NetworkInfo[]; invalid: Array<{ name: string; error: string }> }>;
  /** undefined when absent */
  get(name: string): Promise<NetworkInfo | undefined>;
  create(name: string, req: NetworkRequest): Promise<NetworkInfo>;
  /** false when absent */
  remove(name: string): Promise<boolean>;
}

/** The read-only view of knitd that main.ts gives the API server. */
export interface KnitStateSource {
  getNode(): NodeInfo | Promise<NodeInfo>;
  /** Throw `StateUnavailableError` when etcd cannot be read. */
  listSubnets(): SubnetList | Promise<SubnetList>;
  /** Reads the kernel, hence usually async. */
  listPeers(): PeerInfo[] | Promise<PeerInfo[]>;
  listEndpoints(): EndpointInfo[] | Promise<EndpointInfo[]>;
  /**
   * Optional: a number that changes whenever the endpoint set changes
   * (undefined: unknown right now). With it the server answers ListEndpoints
   * from an encoded snapshot instead of converting and encoding every
   * endpoint per call.
   */
  endpointsVersion?(): number | undefined;
  /** Absent when BGP is not enabled: the BGP calls answer FAILED_PRECONDITION. */
  bgp?: BgpStateSource;
  /** Absent in single-node mode: the network calls answer FAILED_PRECONDITION. */
  networks?: NetworkSource;
  /** Absent in single-node mode: the policy calls answer FAILED_PRECONDITION. */
  policies?: PolicySource;
  /**
   * Calls `listener` for every change, synchronously or soon after it
   * happens, until the returned function is called. The listener never
   * throws and never blocks (the server queues per client).
   */
  subscribe(listener: (change: StateChange) => void): () => void;
}

/**
 * Thrown by a source when the data behind a call cannot be read right now
 * (etcd down, the kernel dump failed): the API answers UNAVAILABLE.
 */
export class StateUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StateUnavailableError';
  }
}
