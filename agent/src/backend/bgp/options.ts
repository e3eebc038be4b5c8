/**
 * The bgp backend's settings with every default filled in, and the peer set
 * for one moment (configured peers, route reflectors, and the full mesh from
 * the subnet leases). Pure, so the rules are unit-tested without sockets.
 */
import { parsePrefix, type PeerSpec, type PrefixRule } from '../../bgp';
import { networkFamilies, type Lease, type NetworkConfig } from '../../store';
import { isIpv4 } from '../../net/ipv4';
import { deriveRouterId } from '../../net/router-id';
import { parseBgpConfig, type BgpBackendConfig, type BgpPeerConfig, type SessionFamily } from './config';
import type { BgpPrefixRuleConfig } from './peer-options';

/** Resolved bgp backend settings for one node. */
export interface BgpOptions {
  /** What the sessions run over and the only unicast family offered when 6: IPv6-only cluster. */
  sessionFamily: SessionFamily;
  localAsn: number;
  /** Cluster AS (for mesh peers that publish none). */
  clusterAsn: number;
  peers: BgpPeerConfig[];
  routeReflectors: BgpPeerConfig[];
  nodeMesh: boolean;
  listenAddress: string;
  listenPort: number;
  holdTime: number;
  gracefulRestart: boolean;
  restartTime: number;
  advertiseClusterCidr: boolean;
  advertise: string[];
  ipv6NextHop?: string;
}

/** The lease data key carrying a node's AS. */
export const LEASE_ASN_KEY = 'bgpAsn';

/** Defaults applied to a network's bgp section for `nodeName`; throws when the node has no AS. */
export function resolveBgpOptions(network: NetworkConfig, nodeName: string): BgpOptions {
  const b = network.backend;
  if (b.type !== 'bgp') throw new Error(`bgp backend built for a ${b.type} network`);
  // An IPv6-only cluster has no IPv4 address to run sessions on: they run over IPv6 (RFC 4760 carries the routes).
  const sessionFamily: SessionFamily = networkFamilies(network).stack === 'ipv6' ? 6 : 4;
  const cfg: BgpBackendConfig = parseBgpConfig(b, sessionFamily);
  const localAsn = cfg.nodeAsns?.[nodeName] ?? cfg.asn;
  if (localAsn === undefined) {
    throw new Error(`bgp backend: no AS number for node ${nodeName} (set backend.asn, or backend.nodeAsns.${nodeName})`);
  }
  const peers = cfg.peers ?? [];
  const routeReflectors = cfg.routeReflectors ?? [];
  const out: BgpOptions = {
    sessionFamily,
    localAsn,
    clusterAsn: cfg.asn ?? localAsn,
    peers,
    routeReflectors,
    nodeMesh: cfg.nodeMesh ?? (peers.length === 0 && routeReflectors.length === 0),
    listenAddress: cfg.listenAddress ?? (sessionFamily === 6 ? '::' : '0.0.0.0'),
    listenPort: cfg.listenPort ?? 179,
    holdTime: cfg.holdTime ?? 90,
    gracefulRestart: cfg.gracefulRestart ?? false,
    restartTime: cfg.restartTime ?? 120,
    advertiseClusterCidr: cfg.advertiseClusterCidr ?? false,
    advertise: cfg.advertise ?? [],
  };
  if (cfg.ipv6NextHop !== undefined) out.ipv6NextHop = cfg.ipv6NextHop;
  return out;
}

/** A node's BGP Identifier and where it came from (logged at start). */
export interface ResolvedRouterId {
  routerId: string;
  source: 'config' | 'publicIp' | 'derived';
}

/**
 * The BGP Identifier: the operator's (knitd's bgp.routerId, already
 * validated), else the node's IPv4 publicIp (as before IPv6-only existed),
 * else, on an IPv6-only node, one derived from the node name
 * (net/router-id.ts: stable, but two nodes may collide).
 */
export function resolveRouterId(node: { name: string; publicIp: string; routerId?: string }): ResolvedRouterId {
  if (node.routerId !== undefined) return { routerId: node.routerId, source: 'config' };
  if (isIpv4(node.publicIp)) return { routerId: node.publicIp, source: 'publicIp' };
  return { routerId: deriveRouterId(node.name), source: 'derived' };
}

function spec(p: BgpPeerConfig, asn: number, origin: string): PeerSpec {
  const s: PeerSpec = { address: p.address, asn: p.asn ?? asn, origin };
  if (p.port !== undefined) s.port = p.port;
  if (p.passive !== undefined) s.passive = p.passive;
  if (p.multihop !== undefined) s.multihop = p.multihop;
  if (p.holdTime !== undefined) s.holdTime = p.holdTime;
  if (p.import !== undefined) s.import = p.import === 'all' || p.import === 'cluster' ? p.import : p.import.map(prefixRule);
  if (p.allowDefault !== undefined) s.allowDefault = p.allowDefault;
  if (p.enforceFirstAs !== undefined) s.enforceFirstAs = p.enforceFirstAs;
  if (p.maxPrefixes !== undefined) s.maxPrefixes = p.maxPrefixes;
  if (p.maxPrefixRestart !== undefined) s.maxPrefixRestart = p.maxPrefixRestart;
  if (p.password !== undefined) s.password = p.password;
  if (p.ttlSecurity !== undefined) s.ttlSecurity = p.ttlSecurity;
  // Route reflectors relay other nodes' subnets: those need the owner's lease, as in the mesh.
  if (origin === 'reflector') s.requireLease = true;
  return s;
}

function prefixRule(r: BgpPrefixRuleConfig): PrefixRule {
  const prefix = parsePrefix(r.prefix);
  // The config parser checked the CIDR; a failure here is a bug, not input.
  if (!prefix) throw new Error(`bgp import rule: invalid prefix ${r.prefix}`);
  const out: PrefixRule = { prefix, action: r.action ?? 'accept' };
  if (r.ge !== undefined) out.ge = r.ge;
  if (r.le !== undefined) out.le = r.le;
  return out;
}

/**
 * Every peer this node should have now: configured peers, route reflectors
 * (iBGP by default), and with nodeMesh one peer per other bgp lease, at its
 * public IP and published AS. The node's own address never appears, and a
 * configured peer wins over a mesh peer at the same address.
 */
export function peerSpecs(opts: BgpOptions, leases: readonly Lease[], self: { publicIp: string }): PeerSpec[] {
  const out = new Map<string, PeerSpec>();
  for (const p of opts.peers) out.set(p.address, spec(p, opts.localAsn, 'config'));
  for (const p of opts.routeReflectors) if (!out.has(p.address)) out.set(p.address, spec(p, opts.localAsn, 'reflector'));
  if (opts.nodeMesh) {
    for (const l of leases) {
      if (l.backend.type !== 'bgp' || out.has(l.publicIp)) continue;
      const published = l.backend.data[LEASE_ASN_KEY];
      const asn = typeof published === 'number' && Number.isInteger(published) && published > 0 ? published : opts.clusterAsn;
      out.set(l.publicIp, { address: l.publicIp, asn, port: opts.listenPort, origin: `mesh ${l.nodeName}`, requireLease: true });
    }
  }
  out.delete(self.publicIp);
  return [...out.values()];
}
