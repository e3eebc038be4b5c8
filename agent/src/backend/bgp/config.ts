/**
 * The bgp backend's section of the network config. Every field is optional
 * and kept exactly as written, so the stored document stays what the
 * operator wrote; options.ts fills the defaults, docs/bgp.md documents them.
 * The peers' protection fields (import filter, max-prefix, MD5, GTSM) are
 * in peer-options.ts.
 *
 * The session family follows the cluster: IPv4 sessions (IPv6 routes ride
 * MP-BGP over them) in IPv4-only and dual-stack clusters, IPv6 sessions in an
 * IPv6-only one, where there is no IPv4 address to run them on. So peer and
 * listen addresses must be of that family, and an IPv6-only cluster may not
 * advertise IPv4 prefixes (it has no IPv4 AFI).
 */
import { configFields, NetworkConfigError, type BackendSection } from '../../store';
import { isObject, errorMessage } from '../../base';
import { formatIpv4, mustParseIpv4 } from '../../net/ipv4';
import { formatIp, parseIp } from '../../net/ip';
import { notUnicastReason } from '../../net/special-ranges';
import { BGP_PEER_PROTECTION_FIELDS, parsePeerProtection, PeerFieldError, type BgpPeerProtection } from './peer-options';

type Obj = Record<string, unknown>;
const { refuseUnknown, intIn, bool } = configFields;

/** A BGP neighbour (a top-of-rack router, an external peer or a route reflector); protection fields in peer-options.ts. */
export type BgpPeerConfig = BgpPeerProtection & {
  /** Address of the peer: IPv4 (IPv6 routes travel in MP_REACH_NLRI over the session), IPv6 in an IPv6-only cluster. */
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
};

/**
 * BGP: every field is optional here and keeps exactly what was written, so
 * the stored document stays what the operator wrote; the backend fills the
 * defaults (agent/src/backend/bgp/options.ts) and documents them (docs/bgp.md).
 */
export type BgpBackendConfig = {
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
  /** Address to accept BGP connections on (default 0.0.0.0; :: in an IPv6-only cluster). */
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
};
const BGP_FIELDS = [
  'type', 'asn', 'nodeAsns', 'peers', 'nodeMesh', 'routeReflectors', 'listenAddress', 'listenPort', 'holdTime',
  'gracefulRestart', 'restartTime', 'advertiseClusterCidr', 'advertise', 'ipv6NextHop',
] as const;
const ASN_MAX = 4294967295;

/** The address family BGP sessions run over: 6 only in an IPv6-only cluster. */
export type SessionFamily = 4 | 6;

function ipv4Field(v: unknown, path: string): string {
  if (typeof v !== 'string') throw new NetworkConfigError(path, `must be an IPv4 address string, got ${JSON.stringify(v)}`);
  try {
    return formatIpv4(mustParseIpv4(v));
  } catch (err) {
    throw new NetworkConfigError(path, errorMessage(err), { cause: err });
  }
}

/**
 * An IPv6 address (canonical form kept, so it matches the address a socket
 * reports). A peer's must be global unicast; a listen address is one of the
 * node's own (:: for all, ::1 in tests), as 0.0.0.0 and 127.0.0.1 are for IPv4.
 */
function ipv6Field(v: unknown, path: string, listen: boolean): string {
  const a = typeof v === 'string' ? parseIp(v) : undefined;
  if (typeof v !== 'string' || a?.family !== 6) {
    throw new NetworkConfigError(path, `must be an IPv6 address string (BGP sessions run over IPv6 in an IPv6-only cluster), got ${JSON.stringify(v)}`);
  }
  const text = formatIp(a);
  if (listen && !text.startsWith('ff')) return text;
  const why = notUnicastReason(text) ?? (text.startsWith('fe80:') ? 'a link-local address (sessions need a global one)' : undefined);
  if (why !== undefined) throw new NetworkConfigError(path, `must be a unicast IPv6 address: ${why}`);
  return text;
}

/** A peer or listen address of the session family. */
function addressField(v: unknown, path: string, family: SessionFamily, listen = false): string {
  if (family === 6) return ipv6Field(v, path, listen);
  if (typeof v === 'string' && v.includes(':')) {
    throw new NetworkConfigError(path, `must be an IPv4 address: BGP sessions run over IPv4 unless the cluster is IPv6-only (IPv6 routes travel over them), got ${JSON.stringify(v)}`);
  }
  return ipv4Field(v, path);
}

/** Hold time: 0 (no keepalives) or 3..65535; RFC 4271 forbids 1 and 2. */
function holdTimeField(o: Obj, path: string): number | undefined {
  const h = intIn(o, 'holdTime', path, 0, 65535);
  if (h === 1 || h === 2) throw new NetworkConfigError(path, `must be 0 or 3..65535 (RFC 4271 forbids 1 and 2), got ${h}`);
  return h;
}

function parseBgpPeers(v: unknown, path: string, asnRequired: boolean, family: SessionFamily): BgpPeerConfig[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw new NetworkConfigError(path, `must be a list of peers, got ${JSON.stringify(v)}`);
  const seen = new Set<string>();
  return v.map((p: unknown, i) => {
    const at = `${path}.${i}`;
    if (!isObject(p)) throw new NetworkConfigError(at, `must be an object like {"address": "192.168.1.1", "asn": 65000}, got ${JSON.stringify(p)}`);
    refuseUnknown(p, ['address', 'asn', 'port', 'passive', 'multihop', 'holdTime', ...BGP_PEER_PROTECTION_FIELDS], at);
    const out: BgpPeerConfig = { address: addressField(p.address, `${at}.address`, family) };
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

/**
 * Validates a bgp section (every field optional; the backend's defaults are
 * in options.ts). `family` is the session family: 6 in an IPv6-only cluster.
 */
export function parseBgpConfig(v: BackendSection, family: SessionFamily = 4): BgpBackendConfig {
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
  const peers = parseBgpPeers(v.peers, 'backend.peers', true, family);
  if (peers) out.peers = peers;
  const rrs = parseBgpPeers(v.routeReflectors, 'backend.routeReflectors', false, family);
  if (rrs) out.routeReflectors = rrs;
  if (v.nodeMesh !== undefined) out.nodeMesh = bool(v, 'nodeMesh', 'backend.nodeMesh', false);
  if (v.listenAddress !== undefined) out.listenAddress = addressField(v.listenAddress, 'backend.listenAddress', family, true);
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
    const advertise = v.advertise as string[];
    const v4 = family === 6 ? advertise.find((p) => !p.includes(':')) : undefined;
    if (v4 !== undefined) throw new NetworkConfigError('backend.advertise', `${v4} is IPv4: an IPv6-only cluster speaks only IPv6 unicast (no IPv4 address family)`);
    out.advertise = [...advertise];
  }
  if (v.ipv6NextHop !== undefined) {
    if (typeof v.ipv6NextHop !== 'string' || !v.ipv6NextHop.includes(':')) {
      throw new NetworkConfigError('backend.ipv6NextHop', `must be an IPv6 address string, got ${JSON.stringify(v.ipv6NextHop)}`);
    }
    out.ipv6NextHop = v.ipv6NextHop;
  }
  return out;
}
