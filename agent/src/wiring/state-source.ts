/**
 * The operator API's view of this knitd (KnitStateSource), assembled from the
 * modules main wires: the lease manager and peer tracker (cluster mode), the
 * reconciler's kernel audit, the endpoint store and IPAM. Subnets are read
 * from etcd and peers from a fresh kernel dump on every call, so the API says
 * what etcd and the kernel hold, not what knitd remembers.
 */
import { EventEmitter } from 'node:events';
import type {
  AgentInfo, BackendInfo, BgpStateSource, ChangeKind, ConditionInfo, EndpointInfo, KnitStateSource, NetworkSource, NodeInfo, PeerInfo, PolicyInfo, PolicySource, StateChange, SubnetLeaseInfo, SubnetList, SyncState,
} from '../api';
import { StateUnavailableError } from '../api';
import type { EndpointStore } from '../cni/endpoints';
import type { AuditState, AuditedObject } from '../dataplane/reconcile';
import { describeNeighbour } from '../dataplane/reconcile/status';
import type { Handle, Route } from '../netlink';
import type { Lease } from '../store';
import type { PeerSetDelta } from '../subnet';
import type { ClusterNode } from './cluster';
import { errorMessage } from '../base';

export interface NodeFacts {
  name: string;
  bridge: string;
  subnet: string;
  mtu: number;
  publicIp: string;
  versions: NodeInfo['versions'];
  startedAt: Date;
  masquerade: boolean;
  /** "" when disabled */
  metricsAddress: string;
  /** Dual-stack: this node's IPv6 subnet and IPv6 underlay address. */
  ipv6Subnet?: string;
  publicIpv6?: string;
}

/** Counters main keeps that status reports. */
export interface NodeRuntimeStats {
  ipam: { used: number; total: number };
  /** failed netlink requests since start, by errno code */
  netlinkErrors: Record<string, number>;
}

export interface StateSourceDeps {
  node: NodeFacts;
  nl: Handle;
  cluster?: ClusterNode;
  endpoints: EndpointStore;
  /** readiness beyond the lease (e.g. the CNI socket); null when fine */
  notReadyReason: () => string | null;
  stats: () => NodeRuntimeStats;
  /** epoch ms; injectable for tests */
  now?: () => number;
  /** the cluster's named networks (cluster mode) */
  networks?: NetworkSource;
  /** the cluster's network policies (cluster mode) */
  policies?: PolicySource;
}

const SYNC: Record<AuditState, SyncState> = { 'in-sync': 'in-sync', missing: 'missing', differs: 'differs', stale: 'stale' };

function differs<T>(o: AuditedObject<T>, show: (x: T) => string): string | undefined {
  return o.state === 'differs' && o.have ? `kernel has ${show(o.have)}` : undefined;
}

function leaseInfo(l: Lease, ownName: string): SubnetLeaseInfo {
  return {
    subnet: l.subnet, nodeName: l.nodeName, publicIp: l.publicIp, backendType: l.backend.type,
    backendData: l.backend.data, renewedAt: new Date(l.renewedAt), own: l.nodeName === ownName,
    ...dualStackOf(l),
  };
}

/** The lease's IPv6 fields, when it has them (API and Watch show both families). */
function dualStackOf(l: Lease | undefined): { ipv6Subnet?: string; publicIpv6?: string } {
  return {
    ...(l?.ipv6Subnet !== undefined ? { ipv6Subnet: l.ipv6Subnet } : {}),
    ...(l?.publicIpv6 !== undefined ? { publicIpv6: l.publicIpv6 } : {}),
  };
}

/** Field-wise equality: cheap enough to run over thousands of peers per change. */
function sameLease(a: Lease, b: Lease): boolean {
  if (a.nodeName !== b.nodeName || a.publicIp !== b.publicIp || a.renewedAt !== b.renewedAt || a.backend.type !== b.backend.type) return false;
  if (a.ipv6Subnet !== b.ipv6Subnet || a.publicIpv6 !== b.publicIpv6) return false;
  const ka = Object.keys(a.backend.data);
  return ka.length === Object.keys(b.backend.data).length && ka.every((k) => a.backend.data[k] === b.backend.data[k]);
}

/** What the state source keeps per peer subnet. */
interface PeerRecord {
  lease: Lease;
  /** the programmed verdict last announced on Watch; undefined before the first */
  announced: boolean | undefined;
  /** the last change seen (lease, programming, liveness), ms since the epoch; undefined before the first */
  changedAt: number | undefined;
}

/** A peer's lastChangeAt for the API, when one was seen. */
function changedAt(rec: PeerRecord | undefined): { lastChangeAt?: Date } {
  return rec?.changedAt !== undefined ? { lastChangeAt: new Date(rec.changedAt) } : {};
}

/** The state source plus the hooks main calls when things change. */
export class KnitdStateSource implements KnitStateSource {
  private readonly events = new EventEmitter<{ change: [change: StateChange] }>();
  /** per peer subnet: its lease, the programmed verdict last announced on Watch and the last change seen (one record, not a map each: 10 000 peers) */
  private peers = new Map<string, PeerRecord>();
  /** peers announced by onPeers since the last run's report: their verdict is looked at again then */
  private unsettled = new Set<string>();
  private readonly now: () => number;
  /** present when the backend is a BGP speaker (Backend.bgp) */
  readonly bgp?: BgpStateSource;
  /** present in cluster mode: the cluster's named networks */
  readonly networks?: NetworkSource;
  /** present in cluster mode: the cluster's network policies */
  readonly policies?: PolicySource;
  /** "network/name" → the policy's document as last enforced (JSON), for Watch's policy events */
  private policiesSeen: Map<string, string> | undefined;
  /** network name → its config as last seen (JSON), for Watch's network events */
  private networksSeen: Map<string, string> | undefined;

  constructor(private readonly deps: StateSourceDeps) {
    this.events.setMaxListeners(0);
    this.now = deps.now ?? Date.now;
    const c = deps.cluster;
    const bgp = c?.backend.bgp;
    if (bgp !== undefined) this.bgp = { sessions: () => bgp.sessions(), routes: () => bgp.routes() };
    if (deps.networks !== undefined) this.networks = deps.networks;
    if (deps.policies !== undefined) this.policies = deps.policies;
    if (c) {
      for (const p of c.tracker.peers()) this.peers.set(p.subnet, { lease: p, announced: undefined, changedAt: undefined });
      c.tracker.on('peers-changed', (_peers, delta) => this.onPeers(delta));
      // A new peer is announced "NOT in sync"; once a reconcile run has programmed it, an update says so.
      c.reconciler.subscribeRuns(() => this.onReconciled());
      c.liveness.subscribe((nodeName, agent) => this.onLiveness(nodeName, agent));
      c.manager.on('state', () => this.emit({ kind: 'node', node: this.nodeNow() }));
    }
  }

  getNode(): NodeInfo {
    return this.nodeNow();
  }

  async listSubnets(): Promise<SubnetList> {
    const c = this.deps.cluster;
    if (!c) return { leases: [], invalidSkipped: 0 };
    try {
      const list = await c.registry.listLeases();
      // Only our own etcd lease's expiry is known (from its last keep-alive); other nodes' are not read.
      const expiresAt = c.manager.timing()?.expiresAt;
      const leases = list.leases.map((r) => {
        const info = leaseInfo(r.lease, this.deps.node.name);
        return info.own && expiresAt ? { ...info, expiresAt } : info;
      });
      return { leases, invalidSkipped: list.invalid.length };
    } catch (cause) {
      throw new StateUnavailableError(`cannot read the subnet leases from etcd: ${errorMessage(cause)}`, { cause });
    }
  }

  async listPeers(): Promise<PeerInfo[]> {
    const c = this.deps.cluster;
    if (!c) return [];
    let audit;
    try {
      audit = await c.reconciler.audit();
    } catch (cause) {
      throw new StateUnavailableError(`cannot read the kernel's routes, neighbours and FDB: ${errorMessage(cause)}`, { cause });
    }
    const names = new Map((await this.deps.nl.linkList()).map((l) => [l.index, l.name]));
    const dev = (index?: number) => (index === undefined ? undefined : names.get(index) ?? `#${index}`);
    const lastRunAt = c.reconciler.stats.lastRunAt;
    const routeText = (r: Route): string => (r.nhid !== undefined ? `nhid ${r.nhid}` : `via ${r.gateway ?? '-'} dev ${dev(r.index)}`);
    return audit.peers.map(({ plan, routes, neighbours, fdb, nexthops }) => ({
      nodeName: plan.nodeName, subnet: plan.subnet, publicIp: plan.publicIp, backendType: plan.mode,
      ...dualStackOf(this.peers.get(plan.subnet)?.lease),
      routes: routes.map((o) => ({
        destination: o.want.dst, ...(o.want.nhid !== undefined ? { nhid: o.want.nhid } : {}), ...(o.want.gateway ? { gateway: o.want.gateway } : {}), ...(dev(o.want.index) ? { device: dev(o.want.index)! } : {}),
        onlink: o.want.onlink === true, state: SYNC[o.state],
        ...(differs(o, routeText) ? { detail: differs(o, routeText)! } : {}),
      })),
      nexthops: nexthops.map((o) => ({
        id: o.want.id, gateway: o.want.gateway, device: dev(o.want.index) ?? '', onlink: o.want.onlink === true, state: SYNC[o.state],
        ...(o.state === 'differs' && o.have ? { detail: `kernel has via ${o.have.gateway || '-'} dev ${dev(o.have.index) ?? '-'} proto ${o.have.protocol ?? 0}` } : {}),
      })),
      neighbours: neighbours.map((o) => ({
        ip: o.want.ip, mac: o.want.mac, device: dev(o.want.index) ?? '', state: SYNC[o.state],
        ...(differs(o, describeNeighbour) ? { detail: differs(o, describeNeighbour)! } : {}),
      })),
      fdbEntries: fdb.map((o) => ({
        mac: o.want.mac, destination: o.want.dst ?? '', device: dev(o.want.index) ?? '', state: SYNC[o.state],
        ...(o.state === 'differs' && o.have ? { detail: `kernel has dst ${o.have.dst ?? '-'}` } : {}),
      })),
      ...(lastRunAt ? { lastReconciledAt: new Date(lastRunAt) } : {}),
      agent: c.liveness.of(plan.nodeName),
      ...changedAt(this.peers.get(plan.subnet)),
    }));
  }

  endpointsVersion(): number {
    return this.deps.endpoints.version;
  }

  listEndpoints(): EndpointInfo[] {
    return this.deps.endpoints.list();
  }

  subscribe(listener: (change: StateChange) => void): () => void {
    this.events.on('change', listener);
    return () => this.events.off('change', listener);
  }

  /** main calls this after a CNI request changed an attachment. */
  endpointChanged(containerId: string, ifname: string, change: 'added' | 'removed'): void {
    const e = this.deps.endpoints.get(containerId, ifname);
    const endpoint: EndpointInfo = e
      ?? { containerId, ifname, netns: '', address: '', mac: '', hostVeth: '', portMappings: [], createdAt: '' };
    this.emit({ kind: 'endpoint', change, endpoint });
  }

  /** Health: the process works and its lease is not in conflict. Readiness: it can serve ADD now. */
  health(): ConditionInfo {
    const h = this.deps.cluster?.health();
    if (h && h.state === 'conflict') return { ok: false, reasons: [`subnet lease conflict: ${h.reason ?? 'held by another node'}`] };
    return { ok: true, reasons: [] };
  }

  readiness(): ConditionInfo {
    const reasons: string[] = [];
    const h = this.deps.cluster?.health();
    if (h && !h.healthy) reasons.push(`subnet lease ${h.state}${h.reason ? `: ${h.reason}` : ''}`);
    if (h?.degraded) reasons.push(`etcd unreachable: lease renewals failing${h.reason ? ` (${h.reason})` : ''}`);
    const other = this.deps.notReadyReason();
    if (other) reasons.push(other);
    return { ok: reasons.length === 0, reasons };
  }

  private nodeNow(): NodeInfo {
    const { node, cluster: c } = this.deps;
    const health = this.health();
    const stats = this.deps.stats();
    const timing = c?.manager.timing();
    return {
      name: node.name, publicIp: node.publicIp, subnet: node.subnet, mtu: node.mtu, bridge: node.bridge,
      mode: c ? 'cluster' : 'single-node',
      ...(c ? { clusterCidr: c.network.clusterCidr, peers: this.peerCounts(c) } : {}),
      ...(c?.network.ipv6ClusterCidr !== undefined ? { ipv6ClusterCidr: c.network.ipv6ClusterCidr } : {}),
      ...(node.ipv6Subnet !== undefined ? { ipv6Subnet: node.ipv6Subnet } : {}),
      ...(node.publicIpv6 !== undefined ? { publicIpv6: node.publicIpv6 } : {}),
      ...(timing ? { leaseRenewedAt: timing.renewedAt, leaseExpiresAt: timing.expiresAt, leaseRemainingSeconds: timing.remainingSeconds } : {}),
      backend: this.backendInfo(),
      health,
      readiness: this.readiness(),
      versions: node.versions,
      startedAt: node.startedAt,
      uptimeSeconds: Math.max(0, Math.floor((this.now() - node.startedAt.getTime()) / 1000)),
      masquerade: node.masquerade,
      metricsAddress: node.metricsAddress,
      ipam: stats.ipam,
      netlinkErrors: stats.netlinkErrors,
    };
  }

  private peerCounts(c: ClusterNode): { total: number; alive: number } {
    const peers = c.tracker.peers();
    return { total: peers.length, alive: peers.filter((p) => c.liveness.of(p.nodeName).state === 'alive').length };
  }

  private onLiveness(nodeName: string, agent: AgentInfo): void {
    const rec = [...this.peers.values()].find((r) => r.lease.nodeName === nodeName);
    if (rec) rec.changedAt = this.now();
    const lease = rec?.lease;
    if (nodeName === this.deps.node.name) return;
    this.emit({ kind: 'peerLiveness', nodeName, ...(lease ? { subnet: lease.subnet } : {}), agent });
    this.emit({ kind: 'node', node: this.nodeNow() }); // the alive count moved
  }

  private backendInfo(): BackendInfo {
    const c = this.deps.cluster;
    if (!c) return { type: 'none' };
    const info: BackendInfo = { type: c.backend.type, underlayDevice: c.underlay.link.name, ...c.backend.describe() };
    // what this node publishes to its peers (vxlan: its VTEP MAC)
    const mac = c.manager.lease?.backend.data.vtepMac;
    if (typeof mac === 'string') info.vtepMac = mac;
    return info;
  }

  /** Only what the tracker says changed: a join costs O(1) here, not a pass over every peer. */
  private onPeers(delta: PeerSetDelta): void {
    for (const l of delta.upserted) {
      const rec = this.peers.get(l.subnet);
      const before = rec?.lease;
      if (before === l || (before && sameLease(before, l))) continue;
      if (rec) {
        rec.lease = l;
        rec.changedAt = this.now();
      } else this.peers.set(l.subnet, { lease: l, announced: undefined, changedAt: this.now() });
      const change = before ? 'updated' : 'added';
      this.emit({ kind: 'subnet', change, lease: leaseInfo(l, this.deps.node.name) });
      // not programmed until the reconcile run this change triggers says so (onReconciled)
      this.emit({ kind: 'peer', change, peer: this.peerStub(l, false) });
      this.unsettled.add(l.subnet);
    }
    for (const gone of delta.removed) {
      const l = this.peers.get(gone.subnet)?.lease;
      if (!l) continue;
      this.peers.delete(gone.subnet);
      this.emit({ kind: 'subnet', change: 'removed', lease: leaseInfo(l, this.deps.node.name) });
      this.emit({ kind: 'peer', change: 'removed', peer: this.peerStub(l, false) });
    }
  }

  /** A peer for a Watch event: no kernel dump, the programmed verdict from the reconciler's last run. */
  private peerStub(l: Lease, inSync: boolean): PeerInfo {
    const rec = this.peers.get(l.subnet);
    if (rec) rec.announced = inSync;
    return {
      nodeName: l.nodeName, subnet: l.subnet, publicIp: l.publicIp, backendType: l.backend.type, routes: [], neighbours: [], fdbEntries: [], nexthops: [], inSync,
      ...dualStackOf(l),
    };
  }

  /** Per peer subnet: programmed and matching at the reconciler's last run (no netlink call). */
  private programmed(): Map<string, boolean> {
    return this.deps.cluster?.reconciler.inSync() ?? new Map<string, boolean>();
  }

  /**
   * After a run: announce the peers whose programmed verdict changed. After a
   * scoped run (only some peers' plans changed, all others were and stay in
   * sync) only those and the peers announced since (onPeers) can have
   * changed: O(changes); after any other run, every peer is looked at.
   */
  private onReconciled(): void {
    const rec = this.deps.cluster?.reconciler;
    const scope = rec?.lastRunScope();
    const unsettled = this.unsettled;
    this.unsettled = new Set();
    if (rec === undefined || scope === undefined) {
      const now = this.programmed();
      for (const [subnet, rec] of this.peers) this.announce(rec, now.get(subnet) ?? false);
      return;
    }
    for (const subnet of scope) unsettled.add(subnet);
    for (const subnet of unsettled) {
      const peer = this.peers.get(subnet);
      if (peer) this.announce(peer, rec.inSyncOf(subnet));
    }
  }

  private announce(rec: PeerRecord, inSync: boolean): void {
    if (rec.announced === inSync) return;
    rec.changedAt = this.now();
    this.emit({ kind: 'peer', change: 'updated', peer: this.peerStub(rec.lease, inSync) });
  }

  /**
   * The cluster's networks as a knitd read them from etcd (after each sync of
   * its named networks): Watch hears what was created, changed or removed
   * since the last call. The first call only records.
   */
  networksChanged(networks: ReadonlyArray<{ name: string; config: unknown }>): void {
    const byName = new Map(networks.map((n) => [n.name, n]));
    const { seen, changes } = changesSince(this.networksSeen, networks.map((n) => [n.name, JSON.stringify(n.config)]));
    this.networksSeen = seen;
    for (const [name, change] of changes) {
      const config = change === 'removed' ? undefined : byName.get(name)!.config;
      this.emit({ kind: 'network', change, network: { name, config, subnets: [], attached: [] } });
    }
  }

  /**
   * The policies this knitd enforces after each policy run: Watch hears what
   * was applied (added or changed) or removed since the last call. The first
   * call only records.
   */
  policiesChanged(policies: readonly PolicyInfo[]): void {
    const byKey = new Map(policies.map((p) => [`${p.network}/${p.name}`, p]));
    const { seen, changes } = changesSince(this.policiesSeen, [...byKey].map(([k, p]) => [k, JSON.stringify(p.document)]));
    this.policiesSeen = seen;
    for (const [key, change] of changes) {
      const slash = key.indexOf('/');
      const policy = byKey.get(key) ?? { network: key.slice(0, slash), name: key.slice(slash + 1), document: {}, selector: {} };
      this.emit({ kind: 'policy', change, policy });
    }
  }

  private emit(change: StateChange): void {
    this.events.emit('change', change);
  }
}

/**
 * What changed between two snapshots of keyed values (a value is compared as
 * text): the new snapshot, and per key added / updated / removed. Without an
 * earlier snapshot nothing counts as changed (the first one is the baseline).
 */
function changesSince(before: ReadonlyMap<string, string> | undefined, entries: ReadonlyArray<readonly [string, string]>): {
  seen: Map<string, string>; changes: Array<[string, ChangeKind]>;
} {
  const seen = new Map(entries);
  const changes: Array<[string, ChangeKind]> = [];
  if (before === undefined) return { seen, changes };
  for (const [key, value] of seen) {
    const old = before.get(key);
    if (old !== value) changes.push([key, old === undefined ? 'added' : 'updated']);
  }
  for (const key of before.keys()) if (!seen.has(key)) changes.push([key, 'removed']);
  return { seen, changes };
}
