/**
 * Domain objects (state-source.ts) to wire messages (the types generated from
 * proto/knit/v1/knit.proto). Pure functions: times become RFC 3339 strings,
 * absent values the proto3 defaults, sync states the enum names.
 */
import type { BgpRoute } from './gen/knit/v1/BgpRoute';
import type { BgpSession } from './gen/knit/v1/BgpSession';
import type { ChangeType } from './gen/knit/v1/ChangeType';
import type { Endpoint } from './gen/knit/v1/Endpoint';
import type { Network } from './gen/knit/v1/Network';
import type { Policy } from './gen/knit/v1/Policy';
import type { PolicyVerdict } from './gen/knit/v1/PolicyVerdict';
import type { TracePolicyResponse } from './gen/knit/v1/TracePolicyResponse';
import type { Node } from './gen/knit/v1/Node';
import type { Peer } from './gen/knit/v1/Peer';
import type { SubnetLease } from './gen/knit/v1/SubnetLease';
import type { SyncState } from './gen/knit/v1/SyncState';
import type { WatchEvent } from './gen/knit/v1/WatchEvent';
import type { AgentState } from './gen/knit/v1/AgentState';
import type {
  AgentInfo, BgpRouteInfo, BgpSessionInfo, ChangeKind, EndpointInfo, NetworkInfo, NodeInfo, PeerInfo, PolicyInfo, PolicyTraceInfo,
  PolicyVerdictInfo, StateChange, SubnetLeaseInfo, SyncState as DomainSyncState,
} from './state-source';
import { API_VERSION } from '../base';

/** The API version string reported in Node.versions.api (one home: base/version.ts). */
export { API_VERSION };

function time(d: Date | undefined): string {
  return d === undefined || Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

const SYNC: Record<DomainSyncState, SyncState> = {
  'in-sync': 'SYNC_STATE_IN_SYNC',
  missing: 'SYNC_STATE_MISSING',
  differs: 'SYNC_STATE_DIFFERS',
  stale: 'SYNC_STATE_STALE',
};

const AGENT: Record<AgentInfo['state'], AgentState> = {
  alive: 'AGENT_STATE_ALIVE',
  down: 'AGENT_STATE_DOWN',
  unknown: 'AGENT_STATE_UNKNOWN',
};

const CHANGE: Record<ChangeKind, ChangeType> = {
  added: 'CHANGE_TYPE_ADDED',
  updated: 'CHANGE_TYPE_UPDATED',
  removed: 'CHANGE_TYPE_REMOVED',
};

export function nodeToWire(n: NodeInfo, grpcJsVersion: string): Node {
  return {
    name: n.name,
    publicIp: n.publicIp,
    subnet: n.subnet ?? '',
    leaseExpiresAt: time(n.leaseExpiresAt),
    leaseRenewedAt: time(n.leaseRenewedAt),
    clusterCidr: n.clusterCidr ?? '',
    backend: {
      type: n.backend.type,
      device: n.backend.device ?? '',
      vni: n.backend.vni ?? 0,
      port: n.backend.port ?? 0,
      vtepMac: n.backend.vtepMac ?? '',
      underlayDevice: n.backend.underlayDevice ?? '',
      details: { ...(n.backend.details ?? {}) },
    },
    mtu: n.mtu,
    bridge: n.bridge,
    mode: n.mode,
    health: { ok: n.health.ok, reasons: [...n.health.reasons] },
    readiness: { ok: n.readiness.ok, reasons: [...n.readiness.reasons] },
    versions: {
      knitd: n.versions.knitd,
      node: n.versions.node ?? process.versions.node,
      grpcJs: n.versions.grpcJs ?? grpcJsVersion,
      api: API_VERSION,
    },
    startedAt: time(n.startedAt),
    peersTotal: n.peers?.total ?? 0,
    peersAlive: n.peers?.alive ?? 0,
    leaseRemainingSeconds: n.leaseRemainingSeconds ?? 0,
    uptimeSeconds: n.uptimeSeconds ?? 0,
    masquerade: n.masquerade ?? false,
    metricsAddress: n.metricsAddress ?? '',
    ipamUsed: n.ipam?.used ?? 0,
    ipamTotal: n.ipam?.total ?? 0,
    netlinkErrors: { ...(n.netlinkErrors ?? {}) },
    ipv6Subnet: n.ipv6Subnet ?? '',
    ipv6ClusterCidr: n.ipv6ClusterCidr ?? '',
    publicIpv6: n.publicIpv6 ?? '',
  };
}

export function leaseToWire(l: SubnetLeaseInfo): SubnetLease {
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(l.backendData)) data[k] = String(v);
  return {
    subnet: l.subnet,
    nodeName: l.nodeName,
    publicIp: l.publicIp,
    backendType: l.backendType,
    backendData: data,
    renewedAt: time(l.renewedAt),
    expiresAt: time(l.expiresAt),
    own: l.own,
    ipv6Subnet: l.ipv6Subnet ?? '',
    publicIpv6: l.publicIpv6 ?? '',
  };
}

/** The source's verdict when it gives one; else true when every kernel object of the peer is in sync. */
export function peerInSync(p: PeerInfo): boolean {
  if (p.inSync !== undefined) return p.inSync;
  const all = [...p.routes, ...p.neighbours, ...p.fdbEntries, ...p.nexthops];
  return all.every((o) => o.state === 'in-sync');
}

export function peerToWire(p: PeerInfo): Peer {
  return {
    nodeName: p.nodeName,
    subnet: p.subnet,
    publicIp: p.publicIp,
    backendType: p.backendType,
    routes: p.routes.map((r) => ({
      destination: r.destination,
      gateway: r.gateway ?? '',
      device: r.device ?? '',
      onlink: r.onlink ?? false,
      state: SYNC[r.state],
      detail: r.detail ?? '',
      nhid: r.nhid ?? 0,
    })),
    neighbours: p.neighbours.map((n) => ({ ip: n.ip, mac: n.mac, device: n.device, state: SYNC[n.state], detail: n.detail ?? '' })),
    fdbEntries: p.fdbEntries.map((f) => ({
      mac: f.mac, destination: f.destination, device: f.device, state: SYNC[f.state], detail: f.detail ?? '',
    })),
    nexthops: p.nexthops.map((n) => ({
      id: n.id, gateway: n.gateway, device: n.device, onlink: n.onlink ?? false, state: SYNC[n.state], detail: n.detail ?? '',
    })),
    inSync: peerInSync(p),
    lastReconciledAt: time(p.lastReconciledAt),
    agent: p.agent ? AGENT[p.agent.state] : 'AGENT_STATE_UNSPECIFIED',
    agentSince: time(p.agent?.since),
    agentVersion: p.agent?.version ?? '',
    lastChangeAt: time(p.lastChangeAt),
    ipv6Subnet: p.ipv6Subnet ?? '',
    publicIpv6: p.publicIpv6 ?? '',
  };
}

export function endpointToWire(e: EndpointInfo): Endpoint {
  return {
    containerId: e.containerId,
    ifname: e.ifname,
    netns: e.netns,
    address: e.address,
    mac: e.mac,
    hostVeth: e.hostVeth,
    portMappings: e.portMappings.map((m) => ({
      hostPort: m.hostPort, containerPort: m.containerPort, protocol: m.protocol, hostIp: m.hostIp ?? '',
    })),
    // The record's text, normalised (an unreadable time reads as unknown).
    createdAt: time(new Date(e.createdAt)),
    ipv6Address: e.ipv6Address ?? '',
  };
}

export function bgpSessionToWire(s: BgpSessionInfo): BgpSession {
  return {
    peerAddress: s.peerAddress,
    peerAsn: s.peerAsn,
    localAsn: s.localAsn,
    state: s.state,
    uptimeSeconds: s.uptimeSeconds,
    prefixesSent: s.prefixesSent,
    prefixesReceived: s.prefixesReceived,
    lastError: s.lastError ?? '',
    prefixesAccepted: s.prefixesAccepted ?? 0,
    prefixesRejected: Object.fromEntries(Object.entries(s.prefixesRejected ?? {}).filter((e): e is [string, number] => typeof e[1] === 'number' && e[1] > 0)),
    maxPrefixHits: s.maxPrefixHits ?? 0,
  };
}

export function bgpRouteToWire(r: BgpRouteInfo): BgpRoute {
  return { prefix: r.prefix, nextHop: r.nextHop, peerAddress: r.peerAddress, asPath: [...r.asPath], installed: r.installed };
}

/** A change as a Watch event (without sequence and time, which the stream adds). */
export function changeToWire(c: StateChange, grpcJsVersion: string): WatchEvent {
  switch (c.kind) {
    case 'subnet':
      return { subnet: { change: CHANGE[c.change], lease: leaseToWire(c.lease) } };
    case 'peer':
      return { peer: { change: CHANGE[c.change], peer: peerToWire(c.peer) } };
    case 'endpoint':
      return { endpoint: { change: CHANGE[c.change], endpoint: endpointToWire(c.endpoint) } };
    case 'bgpSession':
      return { bgpSession: { change: CHANGE[c.change], session: bgpSessionToWire(c.session) } };
    case 'node':
      return { node: { node: nodeToWire(c.node, grpcJsVersion) } };
    case 'peerLiveness':
      return { peerLiveness: { nodeName: c.nodeName, subnet: c.subnet ?? '', agent: AGENT[c.agent.state], since: time(c.agent.since) } };
    case 'network':
      return { network: { change: CHANGE[c.change], network: networkToWire(c.network) } };
    case 'policy':
      return { policy: { change: CHANGE[c.change], policy: policyToWire(c.policy) } };
  }
}

export function policyToWire(p: PolicyInfo): Policy {
  return { network: p.network, name: p.name, documentJson: Object.keys(p.document).length === 0 ? '' : JSON.stringify(p.document), selector: { ...p.selector } };
}

function verdictToWire(v: PolicyVerdictInfo): PolicyVerdict {
  return { allowed: v.allowed, reason: v.reason, policy: v.policy ?? '', rule: v.rule ?? 0 };
}

export function policyTraceToWire(t: PolicyTraceInfo): TracePolicyResponse {
  return { allowed: t.allowed, from: t.from, to: t.to, egress: verdictToWire(t.egress), ingress: verdictToWire(t.ingress) };
}

export function networkToWire(n: NetworkInfo): Network {
  return {
    name: n.name,
    configJson: n.config === undefined ? '' : JSON.stringify(n.config),
    bridge: n.bridge ?? '',
    subnets: n.subnets.map((s) => ({ subnet: s.subnet, nodeName: s.node, publicIp: s.publicIp, ipv6Subnet: s.ipv6Subnet ?? '', publicIpv6: s.publicIpv6 ?? '' })),
    attached: n.attached.map((a) => ({ nodeName: a.node, endpoints: a.endpoints })),
  };
}
