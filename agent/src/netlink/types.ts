/**
 * The contract of knit's netlink layer: typed, iproute2-shaped verbs over the
 * `netlink` package, bound to one network namespace per handle (like
 * vishvananda/netlink's `NewHandleAt`). Every other module codes against these
 * types; only agent/src/netlink/ knows how they are put on the wire.
 *
 * Addresses are strings ("10.244.1.1", "fd00::1"), prefixes are CIDR strings
 * ("10.244.1.0/24"), MACs are lower-case "aa:bb:cc:dd:ee:ff".
 */

/** Route protocol numbers knit marks its own routes with (rtnetlink RTPROT_*). */
export const RTPROT_KNIT = 89;
export const RTPROT_KNIT_BGP = 90;

export type LinkKind = 'bridge' | 'veth' | 'vxlan' | 'ipip' | 'device' | string;

export interface VxlanAttrs {
  vni: number;
  /** UDP destination port (IFLA_VXLAN_PORT), e.g. 8472 */
  port: number;
  /** local (source) IPv4 address of the VTEP */
  local?: string;
  /** ifindex of the underlay device (IFLA_VXLAN_LINK) */
  underlayIndex?: number;
  /** MAC learning; knit always creates with learning off */
  learning: boolean;
}

export interface IpipAttrs {
  local?: string;
  remote?: string;
  underlayIndex?: number;
  ttl?: number;
}

export interface Link {
  index: number;
  name: string;
  /** IFLA_INFO_KIND, or 'device' for links without one (lo, physical NICs) */
  kind: LinkKind;
  mtu: number;
  /** absent for links without a link-layer address (ipip, lo) */
  mac?: string;
  /** administratively up (IFF_UP) */
  up: boolean;
  /** ifindex of the master (bridge) this link is enslaved to */
  masterIndex?: number;
  /** for veth: the peer's ifindex (may be in another namespace) */
  peerIndex?: number;
  vxlan?: VxlanAttrs;
  ipip?: IpipAttrs;
  /** for bridge ports: hairpin mode (IFLA_BRPORT_MODE) */
  hairpin?: boolean;
}

export interface Addr {
  index: number;
  /** "10.244.1.1/24" */
  cidr: string;
  family: 4 | 6;
}

export type RouteScope = 'universe' | 'link' | 'host';

export interface Route {
  /** destination prefix; "0.0.0.0/0" / "::/0" for the default route */
  dst: string;
  gateway?: string;
  /** output interface index */
  index?: number;
  onlink?: boolean;
  /** rtnetlink protocol number; knit's own routes carry RTPROT_KNIT* */
  protocol?: number;
  /** routing table id; default main (254) */
  table?: number;
  scope?: RouteScope;
  /** preferred source address */
  src?: string;
  metric?: number;
  /**
   * nexthop object id (RTA_NH_ID): the route goes where nexthop `nhid`
   * says, and carries no gateway, index or onlink of its own (the kernel
   * rejects both). Dumps list only the id: the kernel's compat mode also
   * reports the nexthop's gateway and device, which decode.ts leaves out.
   */
  nhid?: number;
}

/**
 * A nexthop object (`ip nexthop`, kernel ≥ 5.3): one gateway on one device,
 * named by a u32 id that routes refer to (Route.nhid). Routes through
 * distinct gateways each need a fib_info of their own, and the kernel's IPv4
 * fib_info hash leaves the gateway out, so every such insert walks a chain of
 * all the others; a route through a nexthop object hashes by the id instead
 * (docs/benchmarks.md).
 */
export interface Nexthop {
  /** 1..2^32-1 */
  id: number;
  /** "" in a dump for a group or blackhole nexthop (listed so its id counts as taken) */
  gateway: string;
  /** output interface index; 0 in a dump for a group or blackhole nexthop */
  index: number;
  onlink?: boolean;
  /** rtnetlink protocol number; knit's own nexthops carry RTPROT_KNIT */
  protocol?: number;
}

/**
 * For a caller that holds most of what a dump will list (the reconciler's
 * kernel view at a resync): `reuse` sees each object as it is decoded and
 * returns what to list in its place, an object it holds that is the same to
 * it, so the decoded one dies young instead of outliving the dump's
 * young-generation collections with 30 000 others. Optional to honour: a
 * list without it is the same list to the caller.
 */
export interface DumpReuse<T> {
  reuse?: (decoded: T) => T;
}

/** Only unicast routes are listed (no local/broadcast/multicast/blackhole). */
export interface RouteFilter {
  family?: 4 | 6;
  /** default: main (254), like `ip route show`; 0 = every table except local (255) */
  table?: number;
  protocol?: number;
  index?: number;
}

export interface Neighbour {
  index: number;
  ip: string;
  mac: string;
  /** NUD_PERMANENT; knit only writes permanent entries */
  permanent: boolean;
}

/** A bridge forwarding database entry (AF_BRIDGE neighbour), e.g. a VXLAN peer. */
export interface FdbEntry {
  index: number;
  mac: string;
  /** remote VTEP IP (NDA_DST) for VXLAN entries */
  dst?: string;
  permanent: boolean;
}

/** Any link kind that needs no kind-specific data (e.g. 'ifb'); the kind is named in errors. */
export interface CreateLink {
  name: string;
  kind: string;
  mtu?: number;
  mac?: string;
}

export interface CreateBridge {
  name: string;
  mtu?: number;
  mac?: string;
}

export interface CreateVeth {
  /** name of the end created in this handle's namespace */
  name: string;
  /** name of the peer end, created directly in `peerNetns` (never renamed after) */
  peerName: string;
  /** path of the namespace for the peer (/var/run/netns/X, /proc/PID/ns/net); default: this handle's */
  peerNetns?: string;
  mtu?: number;
  mac?: string;
  peerMac?: string;
  /** `master BR` at creation: the local end is enslaved by the same request (no separate `link set master`) */
  masterIndex?: number;
  /** the local end is created up (the peer cannot be: see vethInfo) */
  up?: boolean;
}

export interface CreateVxlan extends VxlanAttrs {
  name: string;
  mtu?: number;
  mac?: string;
}

export interface CreateIpip extends IpipAttrs {
  name: string;
  mtu?: number;
}

export type LinkEvent = { type: 'link-added' | 'link-changed' | 'link-deleted'; link: Link };
export type RouteEvent = { type: 'route-added' | 'route-deleted'; route: Route };
/** On 'neigh-deleted' the kernel may send no link-layer address: `mac` is then "". */
export type NeighbourEvent = { type: 'neigh-added' | 'neigh-deleted'; neighbour: Neighbour };
export type FdbEvent = { type: 'fdb-added' | 'fdb-deleted'; entry: FdbEntry };
/** On 'nexthop-deleted' the kernel has also removed every route that used it, without a route event for them. */
export type NexthopEvent = { type: 'nexthop-added' | 'nexthop-deleted'; nexthop: Nexthop };
export type NetlinkEvent = LinkEvent | RouteEvent | NeighbourEvent | FdbEvent | NexthopEvent;

export interface Subscription {
  close(): void;
  /**
   * From now on deliver link, neighbour and FDB events of these devices only,
   * and route events of the main table only (nexthop events all): a socket
   * filter in the kernel, so the subscriber is not woken for the rest (a
   * container's veth brings about twenty events to its node). Replaces any
   * earlier narrowing. Throws when no filter can be attached; events then
   * keep coming unfiltered, as before.
   */
  narrow?(devices: readonly number[]): void;
}

/**
 * The multicast groups an event subscription joins (all of them by default).
 * 'link-deleted' joins the link group for its deletions only: a socket filter
 * drops every other link message in the kernel, so the subscriber is not
 * woken for them.
 */
export type EventGroup = 'link' | 'link-deleted' | 'neigh' | 'route' | 'nexthop';

/**
 * A netlink handle bound to one network namespace. All verbs are idempotent
 * only where stated; otherwise the kernel's EEXIST/ENOENT surface as
 * NetlinkError so callers choose (ensureX accepts EEXIST and re-reads).
 */
export interface Handle {
  /** the namespace path this handle is bound to; null = knitd's own */
  readonly netns: string | null;
  close(): void;

  linkList(): Promise<Link[]>;
  /** undefined when no such link */
  linkByName(name: string): Promise<Link | undefined>;
  linkByIndex(index: number): Promise<Link | undefined>;
  /** ip link add NAME type KIND (kinds without kind-specific data); EOPNOTSUPP names the kind */
  linkAdd(opts: CreateLink): Promise<Link>;
  /** ip link add NAME type bridge */
  bridgeAdd(opts: CreateBridge): Promise<Link>;
  /** ip link add NAME type veth peer name PEER netns NS */
  vethAdd(opts: CreateVeth): Promise<Link>;
  /** ip link add NAME type vxlan id VNI dstport PORT local IP dev UNDERLAY nolearning */
  vxlanAdd(opts: CreateVxlan): Promise<Link>;
  /** ip link add NAME type ipip local IP dev UNDERLAY */
  ipipAdd(opts: CreateIpip): Promise<Link>;
  linkSetUp(index: number): Promise<void>;
  linkSetDown(index: number): Promise<void>;
  linkSetMtu(index: number, mtu: number): Promise<void>;
  linkSetMac(index: number, mac: string): Promise<void>;
  /** ip link set dev X master BR; masterIndex 0 = nomaster */
  linkSetMaster(index: number, masterIndex: number): Promise<void>;
  /** ip link set dev X name NEW (set it down first: kernels before 6.x refuse with EBUSY while up) */
  linkRename(index: number, name: string): Promise<void>;
  /** bridge link set dev X hairpin on|off */
  linkSetHairpin(index: number, on: boolean): Promise<void>;
  /** ip link del; tolerates nothing: ENODEV surfaces */
  linkDel(index: number): Promise<void>;
  /** ip link set dev X group G (G ≥ 1) */
  linkSetGroup(index: number, group: number): Promise<void>;
  /** ip link del group G: all links of group G (≥ 1) in one request, one teardown wait for all */
  linkDelGroup(group: number): Promise<void>;

  addrList(filter?: { index?: number; family?: 4 | 6 }): Promise<Addr[]>;
  /**
   * ip addr add CIDR dev X [nodad]. `noDad` skips IPv6 duplicate address
   * detection, so the address is usable at once instead of tentative for ~1 s
   * (knit hands out unique addresses from its own IPAM; DAD has nothing to find).
   */
  addrAdd(index: number, cidr: string, opts?: { noDad?: boolean }): Promise<void>;
  addrDel(index: number, cidr: string): Promise<void>;

  routeList(filter?: RouteFilter & DumpReuse<Route>): Promise<Route[]>;
  routeAdd(route: Route): Promise<void>;
  routeReplace(route: Route): Promise<void>;
  routeDel(route: Route): Promise<void>;

  neighList(filter?: { index?: number; family?: 4 | 6 } & DumpReuse<Neighbour>): Promise<Neighbour[]>;
  /** ip neigh replace IP lladdr MAC dev X nud permanent */
  neighSet(n: Neighbour): Promise<void>;
  neighDel(n: Pick<Neighbour, 'index' | 'ip'>): Promise<void>;

  fdbList(filter?: { index?: number } & DumpReuse<FdbEntry>): Promise<FdbEntry[]>;
  /** bridge fdb replace MAC dev X dst IP self permanent */
  fdbSet(e: FdbEntry): Promise<void>;
  /** bridge fdb append MAC dev X dst IP self permanent (one more remote for the same MAC) */
  fdbAppend(e: FdbEntry): Promise<void>;
  fdbDel(e: Pick<FdbEntry, 'index' | 'mac' | 'dst'>): Promise<void>;

  /**
   * ip nexthop show: every nexthop object of the namespace. A kernel without
   * nexthop objects fails it with a NetlinkError that nexthopsUnsupported()
   * recognises.
   */
  nexthopList(filter?: DumpReuse<Nexthop>): Promise<Nexthop[]>;
  /** ip nexthop replace id N via GW dev X [onlink] [proto P] */
  nexthopReplace(nh: Nexthop): Promise<void>;
  /** ip nexthop del id N (ENOENT when absent); the kernel also deletes the routes that use it */
  nexthopDel(nh: Pick<Nexthop, 'id'>): Promise<void>;

  /**
   * link, route, neighbour and nexthop change events in this namespace. The socket
   * does not keep the process alive. `onError` hears socket errors (ENOBUFS:
   * events were lost, re-list) and listener exceptions; default: ignored.
   * `groups` narrows what the socket hears (a link-only listener is not
   * woken by every route of a full table); default: all four.
   */
  subscribe(listener: (ev: NetlinkEvent) => void, onError?: (err: Error) => void, groups?: readonly EventGroup[]): Subscription;
}
