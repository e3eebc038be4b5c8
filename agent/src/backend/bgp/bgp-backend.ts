/**
 * The bgp backend: knitd as a BGP speaker. It originates this node's leased
 * subnet (and, when configured, the cluster CIDR aggregate and extra
 * prefixes such as an IPv6 pod range), and the best paths it learns become
 * the desired routes, marked with RTPROT_KNIT_BGP (90), that the reconciler
 * installs — it never touches a route it does not own. IPv6 routes (learned
 * over MP-BGP) are desired routes like the IPv4 ones: the one reconciler
 * diffs, writes, repairs and audits both families. A dual-stack node also
 * originates its own IPv6 pod subnet.
 *
 * IPv6-only cluster: there is no IPv4 on the node to run sessions on, so
 * they run over IPv6 (peers, mesh and listener are IPv6 addresses), OPENs
 * offer IPv6 unicast only, the next hop is the node's IPv6 underlay address
 * (its lease's publicIp), and the BGP Identifier, still 32 bits (RFC 6286),
 * is the operator's `bgp.routerId` or one derived from the node name.
 *
 * `desired()` is pure. Peers, level-triggered from `peersChanged(leases)`
 * (called by the wiring on every peer-set change): the configured external
 * peers (a top-of-rack router), the route reflectors this node is a client
 * of, and with nodeMesh every other bgp node from its lease (its public IP
 * and the AS it published). No device, no encapsulation: MTU = underlay MTU.
 *
 * Graceful restart (when configured): a planned stop closes the sessions
 * without a Cease so peers keep our routes as stale, and at start the
 * kernel's BGP routes from the previous run stay until every peer sent
 * End-of-RIB or the restart time passed, so forwarding never stops.
 */
import { RTPROT_KNIT_BGP, type Handle, type Link, type Route } from '../../netlink';
import { networkFamilies, type Lease } from '../../store';
import {
  connectedPrefix, parsePrefix, prefixKey, realClock, Speaker, Timer,
  type Candidate, type Clock, type Dialer, type ImportContext, type NextHop6, type Path, type Prefix, type RejectReason,
} from '../../bgp';
import type { Backend, BackendBgpView, BackendContext, BackendDescription, BackendFactory, BgpRouteView, BgpSessionView, DesiredDataplane, PeerPlan, SetupResult } from '../types';

export type { BgpRouteView, BgpSessionView };
import { readUnderlay } from '../device-ensure';
import { LEASE_ASN_KEY, peerSpecs, resolveBgpOptions, resolveRouterId, type BgpOptions, type ResolvedRouterId } from './options';
import { parseBgpConfig } from './config';

const IPV6_DEFAULT_METRIC = 1024;

/** Test seams: the clock and dialer the speaker uses. */
export interface BgpBackendDeps {
  clock?: Clock;
  dial?: Dialer;
}

/**
 * The netlink verbs the bgp backend uses itself: it reads the underlay and
 * its own routes, and writes nothing (the reconciler writes its routes).
 */
export type BgpBackendNetlink = Pick<Handle, 'linkByIndex' | 'addrList' | 'routeList'>;

/** The bgp backend (see the module comment); `sessions()` and `routes()` feed the operator surface. */
export class BgpBackend implements Backend {
  readonly type = 'bgp' as const;
  /** the operator's view: sessions and learned routes */
  readonly bgp: BackendBgpView = { sessions: () => this.sessions(), routes: () => this.routes() };

  /** No device of its own: routes go straight to the underlay. */
  describe(): BackendDescription {
    return {};
  }
  readonly routeProtocol = RTPROT_KNIT_BGP;
  private readonly nl: BgpBackendNetlink;
  private readonly opts: BgpOptions;
  private readonly routerId: ResolvedRouterId;
  private readonly clock: Clock;
  private speaker: Speaker | undefined;
  private underlay: Link | undefined;
  private nextHop6: NextHop6 | undefined;
  private readonly listeners: (() => void)[] = [];
  /** The last peer set from peersChanged(), applied to the speaker once it runs. */
  private leases: readonly Lease[] | undefined;
  /** Kernel BGP routes found at start with graceful restart on, kept until the RIB converged. */
  private preserved: Route[] = [];
  private preserveTimer: Timer | undefined;
  /** desired() has handed the speaker its peer set at least once. */
  private peersKnown = false;
  /** The node's addresses and connected prefixes (import policy), read at every setup(). */
  private interfaces: ImportContext['interfaces'] = [];
  private leaseOwners: ReadonlyMap<string, string> = new Map();
  private ownSubnet6: string | undefined;
  /** desired()'s route and plan per learned path, valid for one underlay and IPv6 next hop (`plansContext`). */
  private plans = new WeakMap<Path, { route: Route | undefined; source: string; plan?: PeerPlan }>();
  private plansContext = '';
  /** "bgp <peer>" per peer, one string shared by all its paths' plans (100 000 copies were ~16 MB). */
  private readonly sourceNames = new Map<string, string>();

  constructor(private readonly ctx: Omit<BackendContext, 'nl'> & { nl: BgpBackendNetlink }, private readonly deps: BgpBackendDeps = {}) {
    this.nl = ctx.nl;
    this.opts = resolveBgpOptions(ctx.network, ctx.node.name);
    this.routerId = resolveRouterId(ctx.node);
    this.clock = deps.clock ?? realClock;
    this.ownSubnet6 = ctx.node.subnet6;
  }

  /** Reads the underlay (MTU, IPv6 next hop); the first call also starts the speaker. Never writes. */
  async setup(): Promise<SetupResult> {
    if ((this.opts.sessionFamily === 6) !== this.ctx.node.publicIp.includes(':')) {
      // Dual-stack sessions are IPv4 (IPv4 next hops need an IPv4 session address); IPv6-only has no IPv4 to use.
      throw new Error(this.opts.sessionFamily === 6
        ? `bgp in an IPv6-only cluster needs an IPv6 publicIp (its session address and next hop), got ${this.ctx.node.publicIp}`
        : `bgp needs an IPv4 publicIp in an IPv4 or dual-stack cluster (its session address and IPv4 next hop), got ${this.ctx.node.publicIp}; IPv6 routes travel over the IPv4 sessions`);
    }
    const under = await readUnderlay(this.nl, this.ctx.node.underlay);
    this.underlay = under.link;
    this.nextHop6 = await this.discoverNextHop6(under.link.index);
    this.interfaces = await this.readInterfaces(under.link.index);
    if (!this.speaker) await this.startSpeaker();
    else this.speaker.setImportContext(this.importContext());
    return { leaseData: { [LEASE_ASN_KEY]: this.opts.localAsn }, mtu: this.ctx.network.mtu ?? under.link.mtu, writes: 0 };
  }

  /**
   * The peer set changed: hand the speaker its peers (the mesh follows the
   * leases) and the import policy the lease owners. The side effects that
   * desired() must not have; before the speaker runs the set is kept for it.
   */
  peersChanged(leases: readonly Lease[]): void {
    this.leases = leases;
    const speaker = this.speaker;
    if (!speaker) return;
    speaker.setPeers(peerSpecs(this.opts, leases, { publicIp: this.ctx.node.publicIp }));
    // A route for another node's subnet from the mesh or a reflector needs that node's lease (import-policy.ts).
    const owners = new Map<string, string>();
    for (const l of leases) {
      if (l.nodeName === this.ctx.node.name || l.publicIp === this.ctx.node.publicIp) continue;
      owners.set(l.subnet, l.publicIp);
      if (l.ipv6Subnet && l.publicIpv6) owners.set(l.ipv6Subnet, l.publicIpv6);
    }
    this.leaseOwners = owners;
    speaker.setImportContext(this.importContext());
    this.peersKnown = true;
    // With no peer at all there is nobody to wait for.
    if (this.preserved.length > 0 && speaker.converged()) this.releasePreserved('every peer sent End-of-RIB');
  }

  /** Pure: the kernel routes (both families) wanted for the best learned paths and the routes preserved across a restart. */
  desired(leases: readonly Lease[]): DesiredDataplane {
    const speaker = this.speaker;
    const underlay = this.underlay;
    if (!speaker || !underlay) throw new Error('bgp backend: desired() before setup()');
    const byPrefix = new Map<string, Lease>();
    for (const l of leases) {
      byPrefix.set(l.subnet, l);
      if (l.ipv6Subnet) byPrefix.set(l.ipv6Subnet, l);
    }
    const out: DesiredDataplane = { peers: [], refused: [] };
    const covered = new Set<string>();
    // A path's route and plan are made once and reused while the path stands
    // (paths are immutable; a change is a new path): with 100 000 learned
    // prefixes, rebuilding them on every run was most of each run's garbage.
    const context = `${underlay.index}|${this.nextHop6?.global ?? ''}|${this.nextHop6?.linkLocal ?? ''}`;
    if (context !== this.plansContext) {
      this.plans = new WeakMap();
      this.plansContext = context;
    }
    for (const c of speaker.bestLearned()) {
      let made = this.plans.get(c.path);
      if (made === undefined) {
        // (plan in the literal: added later it would cost every entry an out-of-object property store)
        made = { route: this.routeFor(c, underlay.index), source: this.sourceName(c.source.kind === 'peer' ? c.source.peerAddress : 'local'), plan: undefined };
        this.plans.set(c.path, made);
      }
      const route = made.route;
      if (!route) continue;
      covered.add(route.dst);
      const nodeName = byPrefix.get(route.dst)?.nodeName ?? made.source;
      if (made.plan === undefined || made.plan.nodeName !== nodeName) made.plan = plan(route, nodeName, c.path.nextHop);
      out.peers.push(made.plan);
    }
    for (const r of this.preserved) {
      if (covered.has(r.dst)) continue;
      out.peers.push(plan(r, 'bgp (preserved across restart)', r.gateway ?? ''));
    }
    return out;
  }

  private sourceName(peer: string): string {
    let name = this.sourceNames.get(peer);
    if (name === undefined) this.sourceNames.set(peer, (name = `bgp ${peer}`));
    return name;
  }

  ownedDevices(): number[] {
    return [];
  }

  watch(onChange: () => void): void {
    this.listeners.push(onChange);
  }

  /** Stops the sessions: Cease to every peer, or silently with graceful restart so peers keep our routes. */
  async close(): Promise<void> {
    this.preserveTimer?.cancel();
    await this.speaker?.stop({ graceful: this.opts.gracefulRestart });
  }

  /** Sessions for the operator surface. */
  sessions(): BgpSessionView[] {
    return (this.speaker?.sessions() ?? []).map((s) => {
      const v: BgpSessionView = {
        peerAddress: s.peerAddress, peerAsn: s.peerAsn, localAsn: s.localAsn, state: s.state,
        uptimeSeconds: s.uptimeSeconds, prefixesSent: s.prefixesSent, prefixesReceived: s.prefixesReceived,
        prefixesAccepted: s.prefixesAccepted, prefixesRejected: s.prefixesRejected, maxPrefixHits: s.maxPrefixHits,
      };
      if (s.lastError !== undefined) v.lastError = s.lastError;
      return v;
    });
  }

  /** Learned routes for the operator surface. */
  routes(): BgpRouteView[] {
    const own = new Set([this.ctx.node.publicIp, this.nextHop6?.global, this.nextHop6?.linkLocal]);
    // Installed = the best path for its prefix with a next hop that is not this node (see routeFor).
    return (this.speaker?.routes() ?? []).map((r) => ({
      prefix: r.prefix, nextHop: r.nextHop, peerAddress: r.peerAddress, asPath: r.asPath, installed: r.best && !own.has(r.nextHop),
    }));
  }

  private routeFor(c: Candidate, index: number): Route | undefined {
    const p = c.path;
    const gateway = p.prefix.afi === 6 ? (p.nextHopLinkLocal ?? p.nextHop) : p.nextHop;
    // Our own address as next hop (a reflector echoing us) or none: nothing to install.
    if (!gateway || gateway === this.ctx.node.publicIp || gateway === '0.0.0.0' || gateway === '::') return undefined;
    if (gateway === this.nextHop6?.global || gateway === this.nextHop6?.linkLocal) return undefined;
    // The kernel gives IPv6 routes metric 1024 when none is set; say so, or the diff never matches.
    // (In the literal: a property added later costs every route an out-of-object property store.)
    return p.prefix.afi === 6
      ? { dst: prefixKey(p.prefix), gateway, index, protocol: RTPROT_KNIT_BGP, metric: IPV6_DEFAULT_METRIC }
      : { dst: prefixKey(p.prefix), gateway, index, protocol: RTPROT_KNIT_BGP };
  }

  /** What the import policy checks learned routes against (see agent/src/bgp/import-policy.ts). */
  private importContext(): ImportContext {
    const prefixes = (texts: readonly string[]): Prefix[] => texts.map((t) => parsePrefix(t)).filter((p): p is Prefix => p !== undefined);
    return {
      ownSubnets: prefixes([this.ctx.node.subnet, ...(this.ownSubnet6 ? [this.ownSubnet6] : [])]),
      interfaces: this.interfaces,
      clusterPrefixes: prefixes([this.ctx.network.clusterCidr, ...(this.ctx.network.ipv6ClusterCidr ? [this.ctx.network.ipv6ClusterCidr] : []), ...this.opts.advertise]),
      leases: this.leaseOwners,
    };
  }

  /** Every address of the node but loopback's, with its connected prefix; the underlay link's are where next hops may be. */
  private async readInterfaces(underlayIndex: number): Promise<ImportContext['interfaces']> {
    const out: { address: string; prefix: Prefix; onLink: boolean }[] = [];
    for (const a of await this.nl.addrList()) {
      const [address, len] = a.cidr.split('/');
      const prefix = connectedPrefix(address, Number(len));
      if (!prefix || address === '127.0.0.1' || address === '::1') continue;
      out.push({ address, prefix, onLink: a.index === underlayIndex });
    }
    return out;
  }

  private async discoverNextHop6(index: number): Promise<NextHop6 | undefined> {
    const addrs = await this.nl.addrList({ index, family: 6 });
    const ips = addrs.map((a) => a.cidr.split('/')[0]);
    const linkLocal = ips.find((ip) => ip.toLowerCase().startsWith('fe80:'));
    // IPv6-only: the node's underlay address (its lease's publicIp, which peers and the lease rule of import-policy.ts know it by).
    const fromLink = this.opts.sessionFamily === 6 ? this.ctx.node.publicIp : ips.find((ip) => !ip.toLowerCase().startsWith('fe80:'));
    const global = this.opts.ipv6NextHop ?? fromLink;
    if (!global) return undefined;
    return linkLocal ? { global, linkLocal } : { global };
  }

  private localPaths(): Path[] {
    // A dual-stack node originates its own IPv6 pod subnet next to its IPv4 one.
    const texts = [
      this.ctx.node.subnet, ...(this.ctx.node.subnet6 ? [this.ctx.node.subnet6] : []),
      ...(this.opts.advertiseClusterCidr ? [this.ctx.network.clusterCidr, ...(this.ctx.network.ipv6ClusterCidr ? [this.ctx.network.ipv6ClusterCidr] : [])] : []),
      ...this.opts.advertise,
    ];
    const out: Path[] = [];
    for (const t of texts) {
      const prefix = parsePrefix(t);
      if (!prefix) {
        this.ctx.logger.warn('bgp: prefix to advertise is not a valid CIDR; skipped', { prefix: t });
        continue;
      }
      out.push({ prefix, nextHop: '', attrs: { origin: 0, asPath: [] } });
    }
    return out;
  }

  private async startSpeaker(): Promise<void> {
    const log = this.ctx.logger;
    if (this.opts.gracefulRestart) {
      const [r4, r6] = await Promise.all([this.nl.routeList({ family: 4, protocol: RTPROT_KNIT_BGP }), this.nl.routeList({ family: 6, protocol: RTPROT_KNIT_BGP })]);
      this.preserved = [...r4, ...r6];
      if (this.preserved.length > 0) {
        log.info('graceful restart: keeping the BGP routes of the previous run until the peers resent theirs', { routes: this.preserved.length, restartTime: this.opts.restartTime });
        this.preserveTimer = new Timer(this.clock, () => this.releasePreserved('restart time passed'));
        this.preserveTimer.arm(this.opts.restartTime * 1000);
      }
    }
    const speaker = new Speaker({
      localAsn: this.opts.localAsn,
      routerId: this.routerId.routerId,
      // No IPv4 AFI in an IPv6-only cluster: nothing of it to announce, and no IPv4 next hop to give.
      afis: this.opts.sessionFamily === 6 ? [6] : [4, 6],
      holdTime: this.opts.holdTime,
      listen: { address: this.opts.listenAddress, port: this.opts.listenPort },
      ...(this.opts.gracefulRestart ? { gracefulRestart: { restartTime: this.opts.restartTime, restarting: this.preserved.length > 0 } } : {}),
      importContext: this.importContext(),
      nextHop6: (_local, peer) => {
        const nh = this.nextHop6;
        if (!nh) return undefined;
        // RFC 2545: a link-local next hop only makes sense on a shared segment.
        return peer.multihop ? { global: nh.global } : nh;
      },
      onRoutesChanged: () => {
        // Before the first desired() the speaker has no peers yet, and "every peer converged" would be vacuously true.
        if (this.peersKnown && this.preserved.length > 0 && this.speaker?.converged()) this.releasePreserved('every peer sent End-of-RIB');
        for (const l of this.listeners) l();
      },
      clock: this.clock,
      ...(this.deps.dial ? { dial: this.deps.dial } : {}),
      logger: log,
    });
    speaker.setLocal(this.localPaths());
    await speaker.start();
    this.speaker = speaker;
    // Peers that arrived before the speaker ran.
    if (this.leases !== undefined) this.peersChanged(this.leases);
    log.info('BGP speaker started', {
      asn: this.opts.localAsn, routerId: this.routerId.routerId, routerIdFrom: this.routerId.source, sessionFamily: `IPv${this.opts.sessionFamily}`, peers: this.opts.peers.length,
      routeReflectors: this.opts.routeReflectors.length, nodeMesh: this.opts.nodeMesh, gracefulRestart: this.opts.gracefulRestart,
    });
  }

  private releasePreserved(why: string): void {
    if (this.preserved.length === 0) return;
    this.ctx.logger.info(`graceful restart: preserved BGP routes released (${why})`, { routes: this.preserved.length });
    this.preserved = [];
    this.preserveTimer?.cancel();
    for (const l of this.listeners) l();
  }
}

/** A BGP route has no neighbours or FDB entries: one shared (frozen) empty list, not two per learned route. */
const NO_NEIGHBOURS = Object.freeze([]) as unknown as PeerPlan['neighbours'];
const NO_FDB = Object.freeze([]) as unknown as PeerPlan['fdb'];
const NO_NEXTHOPS = Object.freeze([]) as unknown as PeerPlan['nexthops'];

function plan(route: Route, nodeName: string, publicIp: string): PeerPlan {
  return { subnet: route.dst, nodeName, publicIp, mode: 'bgp', routes: [route], neighbours: NO_NEIGHBOURS, fdb: NO_FDB, nexthops: NO_NEXTHOPS };
}

/** Registry entry for bgp. */
export const bgpFactory: BackendFactory = {
  type: 'bgp',
  // IPv4-only and dual-stack: sessions over IPv4 (IPv6 rides MP-BGP beside IPv4); IPv6-only: sessions over IPv6.
  parseConfig: (section, network) => parseBgpConfig(section, networkFamilies(network).stack === 'ipv6' ? 6 : 4),
  leaseData: (network, nodeName) => ({ [LEASE_ASN_KEY]: resolveBgpOptions(network, nodeName).localAsn }),
  create: (ctx) => new BgpBackend(ctx),
};
