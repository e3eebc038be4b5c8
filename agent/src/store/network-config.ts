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
import { blockSize, cidrCovers, formatCidr, formatIpv4, mustParseCidr, mustParseIpv4, type Ipv4Cidr } from '../net/ipv4';
import { containerCidrProblem } from '../net/special-ranges';

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

/** A validated network config with every default filled in. */
export interface NetworkConfig {
  /** The cluster CIDR, normalised ("10.244.0.0/16"). */
  clusterCidr: string;
  /** Prefix length of each node's subnet (e.g. 24). */
  subnetLength: number;
  /** Lowest subnet that may be leased, "a.b.c.d/len" (default: the first one). */
  subnetMin: string;
  /** Highest subnet that may be leased, "a.b.c.d/len" (default: the last one). */
  subnetMax: string;
  backend: BackendConfig;
  /** Container MTU override; absent = derived from the underlay MTU by the backend. */
  mtu?: number;
  /** Masquerade traffic leaving the cluster CIDR (default true). */
  masquerade: boolean;
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

/** Parses subnetMin/subnetMax given as "a.b.c.d" or "a.b.c.d/len" and checks alignment and range. */
function parseBound(v: unknown, field: string, cluster: Ipv4Cidr, subnetLength: number, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'string') throw new NetworkConfigError(field, `must be a subnet address string, got ${JSON.stringify(v)}`);
  let addr: number;
  try {
    if (v.includes('/')) {
      const c = mustParseCidr(v, false);
      if (c.prefixLength !== subnetLength) throw new Error(`prefix length /${c.prefixLength} differs from subnetLength ${subnetLength}`);
      addr = mustParseIpv4(v.slice(0, v.indexOf('/')));
    } else {
      addr = mustParseIpv4(v);
    }
  } catch (err) {
    throw new NetworkConfigError(field, `${(err as Error).message}`, { cause: err });
  }
  if (addr % blockSize(subnetLength) !== 0) {
    throw new NetworkConfigError(field, `${v} is not aligned to a /${subnetLength} boundary`);
  }
  if (!cidrCovers(cluster, { network: addr, prefixLength: subnetLength })) {
    throw new NetworkConfigError(field, `${v} is outside clusterCidr ${formatCidr(cluster)}`);
  }
  return addr;
}

/**
 * Validates a network config document (already JSON-parsed) and fills the
 * defaults. Throws NetworkConfigError naming the first bad field.
 */
export function parseNetworkConfig(json: unknown): NetworkConfig {
  if (!isObject(json)) throw new NetworkConfigError('', `must be a JSON object, got ${JSON.stringify(json)}`);
  refuseUnknown(json, ['clusterCidr', 'subnetLength', 'subnetMin', 'subnetMax', 'backend', 'mtu', 'masquerade'], '');

  if (typeof json.clusterCidr !== 'string') {
    throw new NetworkConfigError('clusterCidr', `is required, a string like "10.244.0.0/16", got ${JSON.stringify(json.clusterCidr)}`);
  }
  let cluster: Ipv4Cidr;
  try {
    cluster = mustParseCidr(json.clusterCidr);
  } catch (err) {
    throw new NetworkConfigError('clusterCidr', (err as Error).message, { cause: err });
  }
  // 0.0.0.0/0 would lease public subnets and masquerade nothing; 127/8, 224/4,
  // 169.254/16 … would put containers on addresses the kernel treats specially.
  const special = containerCidrProblem(formatCidr(cluster));
  if (special !== undefined) throw new NetworkConfigError('clusterCidr', `${special}; use a private range such as 10.244.0.0/16`);
  // The longest subnet is a /30 (two usable addresses: gateway + one container),
  // so a cluster must be at most a /29 to hold two of them.
  if (cluster.prefixLength > 29) {
    throw new NetworkConfigError('clusterCidr', `${formatCidr(cluster)} is too small for two subnets (the longest subnet is a /30)`);
  }

  const defaultLen = cluster.prefixLength < 24 ? 24 : undefined;
  const subnetLength = json.subnetLength === undefined ? defaultLen : json.subnetLength;
  if (subnetLength === undefined) {
    throw new NetworkConfigError('subnetLength', `is required when clusterCidr is /${cluster.prefixLength} (no room for the default /24)`);
  }
  if (typeof subnetLength !== 'number' || !Number.isInteger(subnetLength)) {
    throw new NetworkConfigError('subnetLength', `must be an integer, got ${JSON.stringify(subnetLength)}`);
  }
  if (subnetLength <= cluster.prefixLength) {
    throw new NetworkConfigError('subnetLength', `must be longer than the clusterCidr prefix /${cluster.prefixLength}, got ${subnetLength}`);
  }
  if (subnetLength > 30) {
    throw new NetworkConfigError('subnetLength', `must be at most 30 (a subnet needs a gateway and a container), got ${subnetLength}`);
  }

  const size = blockSize(subnetLength);
  const first = cluster.network;
  const last = cluster.network + blockSize(cluster.prefixLength) - size;
  const min = parseBound(json.subnetMin, 'subnetMin', cluster, subnetLength, first);
  const max = parseBound(json.subnetMax, 'subnetMax', cluster, subnetLength, last);
  if (min > max) {
    throw new NetworkConfigError('subnetMax', `${formatIpv4(max)} is below subnetMin ${formatIpv4(min)}`);
  }

  const backend = parseBackend(json.backend);
  const mtu = intIn(json, 'mtu', 'mtu', 68, 65535);
  const masquerade = bool(json, 'masquerade', 'masquerade', true);

  const cfg: NetworkConfig = {
    clusterCidr: formatCidr(cluster),
    subnetLength,
    subnetMin: formatCidr({ network: min, prefixLength: subnetLength }),
    subnetMax: formatCidr({ network: max, prefixLength: subnetLength }),
    backend,
    masquerade,
  };
  if (mtu !== undefined) cfg.mtu = mtu;
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
