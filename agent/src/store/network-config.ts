/**
 * The cluster-wide network config stored at `/knit/v1/network`: what every
 * knitd and `knitctl network init` agree on. `parseNetworkConfig` is pure and
 * validates everything up front (the CNI reference plugins' `loadNetConf`
 * lesson): a bad config is refused with an error naming the field, before any
 * lease is taken or any kernel object is made. Unknown fields are refused too,
 * so a typo such as `"VNI"` does not silently fall back to the default.
 */
import { isObject } from '../base';
import { BGP_PEER_PROTECTION_FIELDS, parsePeerProtection, PeerFieldError, type BgpPeerProtection } from './bgp-peer-options';
import { formatIpv4, mustParseIpv4 } from '../net/ipv4';
import { containerCidrProblem } from '../net/special-ranges';
import {
  cidrCoversAny, formatCidrAny, mustParseCidrAny, nthSubnet, parseIp, subnetCount, subnetIndex, type Cidr,
} from '../net/ip';

/** Backend kinds knit knows. */
export const BACKEND_TYPES = ['vxlan', 'host-gw', 'ipip', 'bgp'] as const;
export type BackendType = (typeof BACKEND_TYPES)[number];

/** VXLAN options (defaults: VNI 1, UDP port 8472, no direct routing, offload untouched). */
export interface VxlanBackendConfig {
  type: 'vxlan';
  /** VXLAN network identifier, 1 … 16777215. The device is named `knit.<vni>`. */
  vni: number;
  /** UDP destination port, 1 … 65535 (8472: the Linux kernel's historical default, as flannel). */
  port: number;
  /** Use plain routes (no encapsulation) for peers on the same L2 segment. */
  directRouting: boolean;
  /**
   * Turn tx checksum offload off on the VXLAN device: the workaround for an
   * old kernel bug. Off by default because on fixed kernels it costs ~5× throughput.
   */
  disableTxChecksumOffload: boolean;
}
/** host-gw: routes via the peer's public IP; peers must share the L2 segment. */
export interface HostGwBackendConfig {
  type: 'host-gw';
}
/** IPIP tunnel, routes onlink via the peer's public IP. */
export interface IpipBackendConfig {
  type: 'ipip';
}
/** A BGP neighbour (a top-of-rack router, an external peer or a route reflector); protection fields in bgp-peer-options.ts. */
export interface BgpPeerConfig extends BgpPeerProtection {
  /** IPv4 address of the peer (sessions run over IPv4; IPv6 routes travel in MP_REACH_NLRI). */
  address: string;
  /** The peer's AS; for route reflectors it defaults to the node's own AS (iBGP). */
  asn?: number;
  /** TCP port, default 179. */
  port?: number;
  /** Wait for the peer to connect instead of dialing. */
  passive?: boolean;
  /** The peer is not directly connected (eBGP multihop). */
  multihop?: boolean;
  /** Hold time proposed to this peer, seconds: 0 (no keepalives) or 3..65535. */
  holdTime?: number;
}

/**
 * BGP: every field is optional here and keeps exactly what was written, so
 * the stored document stays what the operator wrote; the backend fills the
 * defaults (agent/src/backend/bgp/options.ts) and documents them (docs/bgp.md).
 */
export interface BgpBackendConfig {
  type: 'bgp';
  /** Cluster-wide AS number, 1 … 4294967295 (iBGP full mesh: every node uses it). */
  asn?: number;
  /** Per-node AS numbers by node name; a node not listed uses `asn`. */
  nodeAsns?: Record<string, number>;
  /** External peers every node sessions with (e.g. top-of-rack routers). */
  peers?: BgpPeerConfig[];
  /** iBGP full mesh among knitd nodes, discovered from the subnet leases (default: true when no peers and no reflectors). */
  nodeMesh?: boolean;
  /** Route reflectors this node is a client of (iBGP unless `asn` says otherwise). */
  routeReflectors?: BgpPeerConfig[];
  /** Address to accept BGP connections on (default 0.0.0.0). */
  listenAddress?: string;
  /** Port to listen on and to dial mesh peers at (default 179). */
  listenPort?: number;
  /** Hold time proposed by default, seconds: 0 or 3..65535 (default 90). */
  holdTime?: number;
  /** Advertise the graceful restart capability and restart without a Cease (default false). */
  gracefulRestart?: boolean;
  /** Restart time announced with graceful restart, seconds 1..4095 (default 120). */
  restartTime?: number;
  /** Also advertise the cluster CIDR as one aggregate (default false). */
  advertiseClusterCidr?: boolean;
  /** Extra prefixes to originate (IPv4 or IPv6 CIDRs), e.g. a node's IPv6 pod range. */
  advertise?: string[];
  /** Global IPv6 next hop for IPv6 routes (default: discovered on the underlay link). */
  ipv6NextHop?: string;
}
export type BackendConfig = VxlanBackendConfig | HostGwBackendConfig | IpipBackendConfig | BgpBackendConfig;

/**
 * A validated network config with every default filled in.
 *
 * Address families (docs/subnet-leases.md): `clusterCidr` is the family the
 * subnet leases are keyed by. IPv4-only: an IPv4 `clusterCidr`. Dual-stack:
 * an IPv4 `clusterCidr` plus `ipv6ClusterCidr`; each node's IPv6 subnet is
 * the one at the same index as its IPv4 subnet, so leasing the IPv4 subnet
 * (a create-if-absent transaction) also makes the IPv6 one unique, and
 * turning IPv6 on in a running IPv4 cluster renumbers nothing. IPv6-only: an
 * IPv6 `clusterCidr` (the leases are then keyed by IPv6 subnets). Use
 * `networkFamilies()` instead of reading the fields to find out which.
 */
export interface NetworkConfig {
  /** The cluster CIDR of the lease family, normalised ("10.244.0.0/16", or "fd00:10:244::/56" when IPv6-only). */
  clusterCidr: string;
  /** Prefix length of each node's subnet (e.g. 24; default 24 for IPv4, 64 for IPv6). */
  subnetLength: number;
  /** Lowest subnet that may be leased, "addr/len" (default: the first one). */
  subnetMin: string;
  /** Highest subnet that may be leased, "addr/len" (default: the last one). */
  subnetMax: string;
  /** Dual-stack: the IPv6 cluster CIDR next to an IPv4 `clusterCidr` (absent when IPv4-only or IPv6-only). */
  ipv6ClusterCidr?: string;
  /** Dual-stack: prefix length of each node's IPv6 subnet (default 64). */
  ipv6SubnetLength?: number;
  backend: BackendConfig;
  /** Container MTU override; absent = derived from the underlay MTU by the backend. */
  mtu?: number;
  /** Masquerade IPv4 traffic leaving the cluster CIDR (default true). */
  masquerade: boolean;
  /** Masquerade IPv6 traffic leaving the IPv6 cluster CIDR (default false, as flannel: IPv6 pods usually have routable addresses). Present only when IPv6 is on. */
  ipv6Masquerade?: boolean;
  /**
   * No traffic in or out of the network's CIDR other than among its own
   * containers, and no masquerade (Docker's --internal). Absent = false, so
   * documents written before it existed stay byte-identical.
   */
  internal?: true;
}

/** One address family of a network: its cluster CIDR and per-node subnet length. */
export interface FamilyNetwork {
  clusterCidr: string;
  subnetLength: number;
}

/** The families a network config turns on; at least one is present. */
export interface NetworkFamilies {
  ipv4?: FamilyNetwork;
  ipv6?: FamilyNetwork;
  /** 'ipv4' (IPv4-only), 'dual-stack', or 'ipv6' (IPv6-only). */
  stack: 'ipv4' | 'dual-stack' | 'ipv6';
}

/** Which families a (validated) network config turns on, and their CIDRs. */
export function networkFamilies(cfg: Pick<NetworkConfig, 'clusterCidr' | 'subnetLength' | 'ipv6ClusterCidr' | 'ipv6SubnetLength'>): NetworkFamilies {
  const primary = { clusterCidr: cfg.clusterCidr, subnetLength: cfg.subnetLength };
  if (cfg.clusterCidr.includes(':')) return { ipv6: primary, stack: 'ipv6' };
  if (cfg.ipv6ClusterCidr !== undefined) {
    return { ipv4: primary, ipv6: { clusterCidr: cfg.ipv6ClusterCidr, subnetLength: cfg.ipv6SubnetLength ?? 64 }, stack: 'dual-stack' };
  }
  return { ipv4: primary, stack: 'ipv4' };
}

/**
 * Dual-stack: the IPv6 subnet paired with a node's IPv4 subnet, the one at
 * the same index in the IPv6 cluster CIDR (parseNetworkConfig checks that
 * there are enough). Undefined when the config is not dual-stack.
 * pairedIpv6Subnet(10.244.3.0/24 in 10.244.0.0/16, fd00:10:244::/56 cut into /64) = fd00:10:244:3::/64.
 */
export function pairedIpv6Subnet(cfg: Pick<NetworkConfig, 'clusterCidr' | 'ipv6ClusterCidr' | 'ipv6SubnetLength'>, ipv4Subnet: string): string | undefined {
  if (cfg.ipv6ClusterCidr === undefined || cfg.clusterCidr.includes(':')) return undefined;
  const index = subnetIndex(mustParseCidrAny(cfg.clusterCidr), mustParseCidrAny(ipv4Subnet));
  return formatCidrAny(nthSubnet(mustParseCidrAny(cfg.ipv6ClusterCidr), cfg.ipv6SubnetLength ?? 64, index));
}

/** A config that does not validate; `field` is the dotted path of the offending field. */
export class NetworkConfigError extends Error {
  constructor(
    /** Dotted path of the field, e.g. "backend.vni" ("" for the whole document). */
    readonly field: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`network config: ${field === '' ? '' : `field "${field}": `}${detail}`, options);
    this.name = 'NetworkConfigError';
  }
}

type Obj = Record<string, unknown>;

function refuseUnknown(o: Obj, allowed: readonly string[], path: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) {
      throw new NetworkConfigError(path === '' ? k : `${path}.${k}`, `unknown field (allowed: ${allowed.join(', ')})`);
    }
  }
}

function intIn(o: Obj, key: string, path: string, min: number, max: number, dflt?: number): number | undefined {
  const v = o[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new NetworkConfigError(path, `must be an integer ${min}..${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function bool(o: Obj, key: string, path: string, dflt: boolean): boolean {
  const v = o[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new NetworkConfigError(path, `must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function parseBackend(v: unknown): BackendConfig {
  if (v === undefined) throw new NetworkConfigError('backend', 'is required (e.g. {"type": "vxlan"})');
  if (!isObject(v)) throw new NetworkConfigError('backend', `must be an object, got ${JSON.stringify(v)}`);
  const type = v.type;
  if (typeof type !== 'string' || !(BACKEND_TYPES as readonly string[]).includes(type)) {
    throw new NetworkConfigError('backend.type', `unknown backend ${JSON.stringify(type)} (known: ${BACKEND_TYPES.join(', ')})`);
  }
  switch (type as BackendType) {
    case 'vxlan':
      refuseUnknown(v, ['type', 'vni', 'port', 'directRouting', 'disableTxChecksumOffload'], 'backend');
      return {
        type: 'vxlan',
        vni: intIn(v, 'vni', 'backend.vni', 1, 16777215, 1) as number,
        port: intIn(v, 'port', 'backend.port', 1, 65535, 8472) as number,
        directRouting: bool(v, 'directRouting', 'backend.directRouting', false),
        disableTxChecksumOffload: bool(v, 'disableTxChecksumOffload', 'backend.disableTxChecksumOffload', false),
      };
    case 'host-gw':
      refuseUnknown(v, ['type'], 'backend');
      return { type: 'host-gw' };
    case 'ipip':
      refuseUnknown(v, ['type'], 'backend');
      return { type: 'ipip' };
    case 'bgp':
      return parseBgp(v);
  }
}

const BGP_FIELDS = [
  'type', 'asn', 'nodeAsns', 'peers', 'nodeMesh', 'routeReflectors', 'listenAddress', 'listenPort', 'holdTime',
  'gracefulRestart', 'restartTime', 'advertiseClusterCidr', 'advertise', 'ipv6NextHop',
] as const;
const ASN_MAX = 4294967295;

function ipv4Field(v: unknown, path: string): string {
  if (typeof v !== 'string') throw new NetworkConfigError(path, `must be an IPv4 address string, got ${JSON.stringify(v)}`);
  try {
    return formatIpv4(mustParseIpv4(v));
  } catch (err) {
    throw new NetworkConfigError(path, (err as Error).message, { cause: err });
  }
}

/** Hold time: 0 (no keepalives) or 3..65535; RFC 4271 forbids 1 and 2. */
function holdTimeField(o: Obj, path: string): number | undefined {
  const h = intIn(o, 'holdTime', path, 0, 65535);
  if (h === 1 || h === 2) throw new NetworkConfigError(path, `must be 0 or 3..65535 (RFC 4271 forbids 1 and 2), got ${h}`);
  return h;
}

function parseBgpPeers(v: unknown, path: string, asnRequired: boolean): BgpPeerConfig[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw new NetworkConfigError(path, `must be a list of peers, got ${JSON.stringify(v)}`);
  const seen = new Set<string>();
  return v.map((p: unknown, i) => {
    const at = `${path}.${i}`;
    if (!isObject(p)) throw new NetworkConfigError(at, `must be an object like {"address": "192.168.1.1", "asn": 65000}, got ${JSON.stringify(p)}`);
    refuseUnknown(p, ['address', 'asn', 'port', 'passive', 'multihop', 'holdTime', ...BGP_PEER_PROTECTION_FIELDS], at);
    const out: BgpPeerConfig = { address: ipv4Field(p.address, `${at}.address`) };
    if (seen.has(out.address)) throw new NetworkConfigError(`${at}.address`, `${out.address} is listed twice`);
    seen.add(out.address);
    const asn = intIn(p, 'asn', `${at}.asn`, 1, ASN_MAX);
    if (asn === undefined && asnRequired) throw new NetworkConfigError(`${at}.asn`, 'is required');
    if (asn !== undefined) out.asn = asn;
    const port = intIn(p, 'port', `${at}.port`, 1, 65535);
    if (port !== undefined) out.port = port;
    if (p.passive !== undefined) out.passive = bool(p, 'passive', `${at}.passive`, false);
    if (p.multihop !== undefined) out.multihop = bool(p, 'multihop', `${at}.multihop`, false);
    const hold = holdTimeField(p, `${at}.holdTime`);
    if (hold !== undefined) out.holdTime = hold;
    try {
      parsePeerProtection(p, at, out);
    } catch (err) {
      if (err instanceof PeerFieldError) throw new NetworkConfigError(err.field, err.message, { cause: err });
      throw err;
    }
    if (out.ttlSecurity && out.multihop) throw new NetworkConfigError(`${at}.ttlSecurity`, 'GTSM (TTL 255) is for directly connected peers; not with multihop');
    return out;
  });
}

function parseBgp(v: Obj): BgpBackendConfig {
  refuseUnknown(v, BGP_FIELDS, 'backend');
  const out: BgpBackendConfig = { type: 'bgp' };
  const asn = intIn(v, 'asn', 'backend.asn', 1, ASN_MAX);
  if (asn !== undefined) out.asn = asn;
  if (v.nodeAsns !== undefined) {
    if (!isObject(v.nodeAsns)) throw new NetworkConfigError('backend.nodeAsns', `must be an object of node name → AS number, got ${JSON.stringify(v.nodeAsns)}`);
    const nodeAsns: Record<string, number> = {};
    for (const name of Object.keys(v.nodeAsns)) nodeAsns[name] = intIn(v.nodeAsns, name, `backend.nodeAsns.${name}`, 1, ASN_MAX) as number;
    out.nodeAsns = nodeAsns;
  }
  const peers = parseBgpPeers(v.peers, 'backend.peers', true);
  if (peers) out.peers = peers;
  const rrs = parseBgpPeers(v.routeReflectors, 'backend.routeReflectors', false);
  if (rrs) out.routeReflectors = rrs;
  if (v.nodeMesh !== undefined) out.nodeMesh = bool(v, 'nodeMesh', 'backend.nodeMesh', false);
  if (v.listenAddress !== undefined) out.listenAddress = ipv4Field(v.listenAddress, 'backend.listenAddress');
  const port = intIn(v, 'listenPort', 'backend.listenPort', 1, 65535);
  if (port !== undefined) out.listenPort = port;
  const hold = holdTimeField(v, 'backend.holdTime');
  if (hold !== undefined) out.holdTime = hold;
  if (v.gracefulRestart !== undefined) out.gracefulRestart = bool(v, 'gracefulRestart', 'backend.gracefulRestart', false);
  const restart = intIn(v, 'restartTime', 'backend.restartTime', 1, 4095);
  if (restart !== undefined) out.restartTime = restart;
  if (v.advertiseClusterCidr !== undefined) out.advertiseClusterCidr = bool(v, 'advertiseClusterCidr', 'backend.advertiseClusterCidr', false);
  if (v.advertise !== undefined) {
    if (!Array.isArray(v.advertise) || v.advertise.some((p) => typeof p !== 'string' || !/^[0-9a-fA-F.:]+\/\d{1,3}$/.test(p))) {
      throw new NetworkConfigError('backend.advertise', `must be a list of CIDR strings, got ${JSON.stringify(v.advertise)}`);
    }
    out.advertise = [...(v.advertise as string[])];
  }
  if (v.ipv6NextHop !== undefined) {
    if (typeof v.ipv6NextHop !== 'string' || !v.ipv6NextHop.includes(':')) {
      throw new NetworkConfigError('backend.ipv6NextHop', `must be an IPv6 address string, got ${JSON.stringify(v.ipv6NextHop)}`);
    }
    out.ipv6NextHop = v.ipv6NextHop;
  }
  return out;
}

/** Parses subnetMin/subnetMax given as "addr" or "addr/len" (the cluster's family) and checks alignment and range. */
function parseBound(v: unknown, field: string, cluster: Cidr, subnetLength: number, dflt: bigint): bigint {
  if (v === undefined) return dflt;
  if (typeof v !== 'string') throw new NetworkConfigError(field, `must be a subnet address string, got ${JSON.stringify(v)}`);
  let addr: bigint;
  try {
    if (v.includes('/')) {
      const c = mustParseCidrAny(v, false);
      if (c.prefixLength !== subnetLength) throw new Error(`prefix length /${c.prefixLength} differs from subnetLength ${subnetLength}`);
      addr = mustParseCidrAny(`${v.slice(0, v.indexOf('/'))}/${c.family === 4 ? 32 : 128}`).network;
      if (c.family !== cluster.family) throw new Error(`is IPv${c.family}, clusterCidr is IPv${cluster.family}`);
    } else {
      const a = parseIp(v);
      if (a === undefined) throw new Error(`not an IP address: ${JSON.stringify(v)}`);
      if (a.family !== cluster.family) throw new Error(`is IPv${a.family}, clusterCidr is IPv${cluster.family}`);
      addr = a.value;
    }
  } catch (err) {
    throw new NetworkConfigError(field, `${(err as Error).message}`, { cause: err });
  }
  const sub: Cidr = { family: cluster.family, network: addr, prefixLength: subnetLength };
  if (mustParseCidrAny(formatCidrAny(sub), false).network !== addr) {
    throw new NetworkConfigError(field, `${v} is not aligned to a /${subnetLength} boundary`);
  }
  if (!cidrCoversAny(cluster, sub)) {
    throw new NetworkConfigError(field, `${v} is outside clusterCidr ${formatCidrAny(cluster)}`);
  }
  return addr;
}

/** Parses a cluster CIDR field of either family (IPv6: no special-use space). */
function clusterCidrField(v: unknown, field: string, example: string): Cidr {
  if (typeof v !== 'string') {
    throw new NetworkConfigError(field, `is required, a string like "${example}", got ${JSON.stringify(v)}`);
  }
  let c: Cidr;
  try {
    c = mustParseCidrAny(v);
  } catch (err) {
    throw new NetworkConfigError(field, (err as Error).message, { cause: err });
  }
  // 0.0.0.0/0 would lease public subnets and masquerade nothing; 127/8, 224/4,
  // 169.254/16, fe80::/10, ff00::/8 … would put containers on addresses the kernel treats specially.
  const special = containerCidrProblem(formatCidrAny(c));
  if (special !== undefined) throw new NetworkConfigError(field, `${special}; use a private range such as ${example}`);
  return c;
}

/**
 * The per-node subnet length of a family: default 24 (IPv4, when the cluster
 * is shorter than /24) or 64 (IPv6); longer than the cluster prefix; at most
 * /30 for IPv4 (a gateway and a container) and /126 for IPv6.
 */
function subnetLengthField(v: unknown, field: string, cluster: Cidr, clusterField: string): number {
  const longest = cluster.family === 4 ? 30 : 126;
  const dflt = cluster.family === 4 ? 24 : 64;
  const subnetLength = v === undefined ? (cluster.prefixLength < dflt ? dflt : undefined) : v;
  if (subnetLength === undefined) {
    throw new NetworkConfigError(field, `is required when ${clusterField} is /${cluster.prefixLength} (no room for the default /${dflt})`);
  }
  if (typeof subnetLength !== 'number' || !Number.isInteger(subnetLength)) {
    throw new NetworkConfigError(field, `must be an integer, got ${JSON.stringify(subnetLength)}`);
  }
  if (subnetLength <= cluster.prefixLength) {
    throw new NetworkConfigError(field, `must be longer than the ${clusterField} prefix /${cluster.prefixLength}, got ${subnetLength}`);
  }
  if (subnetLength > longest) {
    throw new NetworkConfigError(field, `must be at most ${longest} (a subnet needs a gateway and a container), got ${subnetLength}`);
  }
  // The node's IPAM hands out IPv6 addresses from a /64 or longer (SLAAC-sized and smaller).
  if (cluster.family === 6 && subnetLength < 64) {
    throw new NetworkConfigError(field, `must be 64..126 for IPv6, got ${subnetLength}`);
  }
  return subnetLength;
}

const TOP_FIELDS = [
  'clusterCidr', 'subnetLength', 'subnetMin', 'subnetMax', 'ipv6ClusterCidr', 'ipv6SubnetLength', 'backend', 'mtu', 'masquerade', 'ipv6Masquerade',
] as const;

/**
 * Validates a network config document (already JSON-parsed) and fills the
 * defaults. Throws NetworkConfigError naming the first bad field.
 */
export function parseNetworkConfig(json: unknown): NetworkConfig {
  if (!isObject(json)) throw new NetworkConfigError('', `must be a JSON object, got ${JSON.stringify(json)}`);
  refuseUnknown(json, [...TOP_FIELDS, 'internal'], '');

  const cluster = clusterCidrField(json.clusterCidr, 'clusterCidr', '10.244.0.0/16');
  // The longest IPv4 subnet is a /30 (two usable addresses: gateway + one container),
  // so a cluster must be at most a /29 to hold two of them.
  if (cluster.family === 4 && cluster.prefixLength > 29) {
    throw new NetworkConfigError('clusterCidr', `${formatCidrAny(cluster)} is too small for two subnets (the longest subnet is a /30)`);
  }
  if (cluster.family === 6 && cluster.prefixLength > 125) {
    throw new NetworkConfigError('clusterCidr', `${formatCidrAny(cluster)} is too small for two subnets (the longest subnet is a /126)`);
  }
  const subnetLength = subnetLengthField(json.subnetLength, 'subnetLength', cluster, 'clusterCidr');
  // The allocator counts subnets in a double: keep the count exact.
  if (subnetLength - cluster.prefixLength > 32) {
    throw new NetworkConfigError('subnetLength', `/${subnetLength} cuts ${formatCidrAny(cluster)} into more than 2^32 subnets; use a longer clusterCidr prefix`);
  }

  const size = 1n << BigInt((cluster.family === 4 ? 32 : 128) - subnetLength);
  const first = cluster.network;
  const last = cluster.network + subnetCount(cluster, subnetLength) * size - size;
  const min = parseBound(json.subnetMin, 'subnetMin', cluster, subnetLength, first);
  const max = parseBound(json.subnetMax, 'subnetMax', cluster, subnetLength, last);
  if (min > max) {
    throw new NetworkConfigError('subnetMax', `${formatCidrAny({ family: cluster.family, network: max, prefixLength: subnetLength })} is below subnetMin ${formatCidrAny({ family: cluster.family, network: min, prefixLength: subnetLength })}`);
  }

  let ipv6: { cidr: Cidr; subnetLength: number } | undefined;
  if (json.ipv6ClusterCidr !== undefined) {
    if (cluster.family === 6) {
      throw new NetworkConfigError('ipv6ClusterCidr', 'is only for dual-stack (an IPv4 clusterCidr); clusterCidr is already IPv6 (IPv6-only)');
    }
    const c6 = clusterCidrField(json.ipv6ClusterCidr, 'ipv6ClusterCidr', 'fd00:10:244::/56');
    if (c6.family !== 6) throw new NetworkConfigError('ipv6ClusterCidr', `must be an IPv6 CIDR, got ${JSON.stringify(json.ipv6ClusterCidr)}`);
    const len6 = subnetLengthField(json.ipv6SubnetLength, 'ipv6SubnetLength', c6, 'ipv6ClusterCidr');
    // Each node's IPv6 subnet sits at its IPv4 subnet's index: there must be one for every IPv4 subnet.
    if (len6 - c6.prefixLength < subnetLength - cluster.prefixLength) {
      const need = c6.prefixLength - (subnetLength - cluster.prefixLength - (len6 - c6.prefixLength));
      throw new NetworkConfigError('ipv6ClusterCidr', `${formatCidrAny(c6)} holds ${subnetCount(c6, len6)} /${len6} subnets, fewer than the ${subnetCount(cluster, subnetLength)} /${subnetLength} subnets of ${formatCidrAny(cluster)} (every node gets the IPv6 subnet at its IPv4 subnet's index): use a /${need} or shorter`);
    }
    ipv6 = { cidr: c6, subnetLength: len6 };
  } else if (json.ipv6SubnetLength !== undefined && cluster.family === 4) {
    throw new NetworkConfigError('ipv6SubnetLength', 'needs ipv6ClusterCidr');
  }

  const backend = parseBackend(json.backend);
  const mtu = intIn(json, 'mtu', 'mtu', 68, 65535);
  const internal = bool(json, 'internal', 'internal', false);
  const masquerade = bool(json, 'masquerade', 'masquerade', !internal);
  if (internal && masquerade) throw new NetworkConfigError('masquerade', 'an internal network has no outside access to masquerade to; drop "masquerade" or "internal"');
  const ipv6On = cluster.family === 6 || ipv6 !== undefined;
  if (!ipv6On && json.ipv6Masquerade !== undefined) throw new NetworkConfigError('ipv6Masquerade', 'needs IPv6 (ipv6ClusterCidr, or an IPv6 clusterCidr)');
  const ipv6Masquerade = bool(json, 'ipv6Masquerade', 'ipv6Masquerade', false);
  if (backend.type === 'ipip' && ipv6On) {
    throw new NetworkConfigError('backend.type', 'ipip carries IPv4 only (an IPv4-in-IPv4 tunnel); use vxlan, host-gw or bgp for IPv6 or dual-stack');
  }

  const cfg: NetworkConfig = {
    clusterCidr: formatCidrAny(cluster),
    subnetLength,
    subnetMin: formatCidrAny({ family: cluster.family, network: min, prefixLength: subnetLength }),
    subnetMax: formatCidrAny({ family: cluster.family, network: max, prefixLength: subnetLength }),
    backend,
    masquerade,
  };
  // IPv6 fields only when IPv6 is on: a stored IPv4-only config stays what
  // older knitd versions read (they refuse unknown fields).
  if (ipv6 !== undefined) {
    cfg.ipv6ClusterCidr = formatCidrAny(ipv6.cidr);
    cfg.ipv6SubnetLength = ipv6.subnetLength;
  }
  if (ipv6On) cfg.ipv6Masquerade = ipv6Masquerade;
  if (mtu !== undefined) cfg.mtu = mtu;
  if (internal) cfg.internal = true;
  return cfg;
}

/** Parses the JSON text stored in etcd (or a seed file), then validates it. */
export function parseNetworkConfigText(text: string): NetworkConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new NetworkConfigError('', `not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  return parseNetworkConfig(json);
}

/** Serialises a config for storage (stable field order, defaults explicit). */
export function formatNetworkConfig(cfg: NetworkConfig): string {
  return JSON.stringify(cfg);
}
