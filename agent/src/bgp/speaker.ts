/**
 * The BGP speaker: one Session per configured peer, a TCP listener for
 * peers that connect to us, the RIB, and the glue between them. It is told
 * (level-triggered) which peers to have (`setPeers`) and which prefixes to
 * originate (`setLocal`); it tells its owner when the best learned paths
 * changed (`onRoutesChanged`), batched so a burst of UPDATEs costs one
 * re-export per peer and one notification.
 *
 * Graceful restart as the receiving speaker (RFC 4724 §4.2): when a peer
 * that announced the capability drops without a NOTIFICATION, its paths stay
 * (stale) until it comes back and sends End-of-RIB, or its restart time
 * passes; a peer that comes back without the capability, or without the
 * forwarding-state bit for a family, loses its stale paths at once.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../log/logger';
import { LogRateLimiter } from '../log/rate-limiter';
import { Afi, CeaseSubcode, ceaseNotification, encodeMessage, type AfiSafi, type NotificationMessage } from './codec';
import { realClock, Timer, type Clock } from '../base';
import { tcpDialer, unmapAddress, wrapSocket, type Dialer } from './conn';
import { acceptedSynTtl, keepListenerSyns, setTcpMd5 } from '../netlink';

/** GTSM (RFC 5082): a directly connected peer's packets arrive with TTL 255. */
const GTSM_TTL = 255;
import type { Candidate, RouteSource } from './decision';
import { exportPaths } from './export-policy';
import type { SessionState } from './fsm';
import { ImportPolicy, type ImportContext, type ImportFilter, type RejectReason } from './import-policy';
import type { Path } from './path';
import { Rib, type PeerCounts } from './rib';
import { IPV4_UNICAST, IPV6_UNICAST, type Negotiated } from './session/negotiate';
import { Session, type PeerEventKind, type SessionDown } from './session/session';

/** One peer to have a session with. */
export interface PeerSpec {
  address: string;
  asn: number;
  /** Default 179. */
  port?: number;
  passive?: boolean;
  /** The peer is not directly connected (eBGP multihop): no TTL 1. */
  multihop?: boolean;
  /** Our proposed hold time for this peer; default the speaker's. */
  holdTime?: number;
  /** Where the peer came from, for the operator ("config", "mesh", "reflector"). */
  origin?: string;
  /** Import filter; default "cluster" (see import-policy.ts). */
  import?: ImportFilter;
  /** Accept a default route from this peer (default false). */
  allowDefault?: boolean;
  /** A route inside the cluster space needs the owning node's lease (full mesh, route reflectors). */
  requireLease?: boolean;
  /** eBGP: the first AS of the AS_PATH must be the peer's (default true, FRR's enforce-first-as). */
  enforceFirstAs?: boolean;
  /** Most paths this peer may hold in our Adj-RIB-In; above it the session ends with Cease 6/1. Default the speaker's. */
  maxPrefixes?: number;
  /** How long the session stays idle after a max-prefix Cease, seconds; default the speaker's. */
  maxPrefixRestart?: number;
  /** TCP-MD5 key (RFC 2385); never logged. */
  password?: string;
  /** GTSM (RFC 5082): TTL 255 out, only TTL 255 in. */
  ttlSecurity?: boolean;
}

/** IPv6 next hop to announce on a session. */
export interface NextHop6 {
  global: string;
  linkLocal?: string;
}

/** What a Speaker is built with (the outside world passed in: clock, dialer, logger). */
export interface SpeakerOptions {
  localAsn: number;
  /** BGP identifier (dotted quad): the node's IPv4 address, or a configured or derived one (RFC 6286) on an IPv6-only node. */
  routerId: string;
  /**
   * Address families offered in every OPEN (unicast); default both. An
   * IPv6-only node offers only IPv6: it has no IPv4 next hop to give.
   */
  afis?: readonly (4 | 6)[];
  /** Default hold time proposed, seconds (0 or ≥ 3); default 90. */
  holdTime?: number;
  /** Listen for peers; omit to never accept connections. */
  listen?: { address: string; port: number };
  /**
   * Advertise graceful restart with this restart time (seconds); omit to not
   * advertise it. `restarting` sets the R bit (we restarted and kept our
   * forwarding state).
   */
  gracefulRestart?: { restartTime: number; restarting?: boolean };
  /** IPv6 next hop for a session (our address on it, the peer); undefined = no IPv6 next hop known. */
  nextHop6?: (localAddress: string, peer: PeerSpec) => NextHop6 | undefined;
  /** Called (batched) when best paths changed; `changed` holds prefix keys. */
  onRoutesChanged?: (changed: ReadonlySet<string>) => void;
  /** Coalescing delay for re-exports and notifications; default 10 ms. */
  batchMs?: number;
  connectRetryMs?: number;
  /**
   * What the import policy needs to know about the node (its subnets,
   * addresses, the leases). Without it only loops and first-AS are checked:
   * the backend always passes it (see import-policy.ts).
   */
  importContext?: ImportContext;
  /** Default max-prefix per peer (default 150 000: above the 100 000-route scale target). */
  maxPrefixes?: number;
  /** Default idle time after a max-prefix Cease, seconds (default 120). */
  maxPrefixRestart?: number;
  /** Per-peer log lines allowed per kind and interval before they are only counted (default 5 per 60 s). */
  eventLimit?: { burst: number; intervalMs: number };
  clock?: Clock;
  dial?: Dialer;
  logger: Logger;
}

/** Operator view of a session (matches the API's BgpSessionInfo). */
export interface SessionInfo {
  peerAddress: string;
  peerAsn: number;
  localAsn: number;
  state: SessionState;
  uptimeSeconds: number;
  prefixesSent: number;
  prefixesReceived: number;
  lastError?: string;
  origin: string;
  /** Paths in the Adj-RIB-In that passed the import policy. */
  prefixesAccepted: number;
  /** Paths in the Adj-RIB-In refused, by reason. */
  prefixesRejected: Partial<Record<RejectReason, number>>;
  /** Times the session was ended for exceeding max-prefix. */
  maxPrefixHits: number;
}

/** Operator view of a learned path (matches the API's BgpRouteInfo, `installed` = best here). */
export interface LearnedRouteInfo {
  prefix: string;
  nextHop: string;
  peerAddress: string;
  asPath: number[];
  best: boolean;
  stale: boolean;
}

interface PeerEntry {
  spec: PeerSpec;
  session: Session;
  localAddress?: string;
  negotiated?: Negotiated;
  staleTimer?: Timer;
  /** Families (4, 6) whose End-of-RIB arrived since the session came up. */
  endOfRib: Set<number>;
  maxPrefixHits: number;
}

/** Session parameters changed (a new session is needed); import rules alone are re-applied in place. */
const sameSpec = (a: PeerSpec, b: PeerSpec): boolean =>
  a.asn === b.asn && (a.port ?? 179) === (b.port ?? 179) && !!a.passive === !!b.passive && !!a.multihop === !!b.multihop && a.holdTime === b.holdTime
  && a.password === b.password && !!a.ttlSecurity === !!b.ttlSecurity;

const sameImport = (a: PeerSpec, b: PeerSpec): boolean =>
  JSON.stringify([a.import, a.allowDefault, a.requireLease, a.enforceFirstAs, a.maxPrefixes, a.maxPrefixRestart])
  === JSON.stringify([b.import, b.allowDefault, b.requireLease, b.enforceFirstAs, b.maxPrefixes, b.maxPrefixRestart]);

/** Default per-peer max-prefix: room above the 100 000-route scale target, a bound on memory. */
export const DEFAULT_MAX_PREFIXES = 150_000;
/** Inbound connections allowed beyond two per peer (refusals being flushed, a replaced connection closing). */
const MAX_INBOUND_SLACK = 32;
/** Default idle time after a max-prefix Cease, seconds. */
export const DEFAULT_MAX_PREFIX_RESTART_S = 120;

/** A BGP speaker: sessions, listener, RIB and the glue (see the module comment). */
export class Speaker {
  private readonly rib: Rib;
  private readonly peers = new Map<string, PeerEntry>();
  private readonly clock: Clock;
  private readonly log: Logger;
  private server: Server | undefined;
  private pendingChanged = new Set<string>();
  private readonly batch: Timer;
  private stopped = false;
  private readonly policy: ImportPolicy | undefined;
  private readonly limiter: LogRateLimiter;
  /** TCP-MD5 keys installed on the listener, by peer address. */
  private readonly md5Keys = new Map<string, string>();

  constructor(private readonly opts: SpeakerOptions) {
    this.clock = opts.clock ?? realClock;
    this.log = opts.logger;
    this.policy = opts.importContext ? new ImportPolicy(opts.importContext) : undefined;
    this.rib = new Rib(opts.localAsn, (source, path) => this.judge(source, path));
    this.batch = new Timer(this.clock, () => this.runBatch());
    this.limiter = new LogRateLimiter(this.log, { ...opts.eventLimit, clock: this.clock });
  }

  /**
   * The node's facts the import policy checks against changed (leases,
   * addresses): every learned path is judged again. Only for a speaker built
   * with `importContext`.
   */
  setImportContext(ctx: ImportContext): void {
    if (!this.policy) throw new Error('BGP speaker: setImportContext() on a speaker built without importContext');
    if (this.policy.setContext(ctx)) this.changed(this.rib.reimport());
  }

  /** A per-peer log line that a peer can make repeat: rate-limited per peer and kind. */
  private event(peer: string, kind: PeerEventKind, level: 'info' | 'warn', msg: string, fields: Record<string, unknown> = {}): void {
    this.limiter.event(`${peer} ${kind}`, `peer ${peer} '${kind}' events`, level, msg, { peer, event: kind, ...fields });
  }

  /** The import step: first-AS (eBGP), route-reflection loops (iBGP), then the import policy. */
  private judge(source: Extract<RouteSource, { kind: 'peer' }>, path: Path): RejectReason | undefined {
    const spec = this.peers.get(source.peerAddress)?.spec;
    if (!spec) return 'filter';
    // RFC 4456 §8: a reflected path carrying our own router ID as ORIGINATOR_ID
    // is our own route coming back; one whose CLUSTER_LIST holds our router ID
    // (a client's cluster ID, if it reflected) went round a loop. Ignore both.
    if (!source.ebgp) {
      const { originatorId, clusterList } = path.attrs;
      if (originatorId === this.opts.routerId || clusterList?.includes(this.opts.routerId)) return 'rr-loop';
    }
    if (source.ebgp && spec.enforceFirstAs !== false) {
      const first = path.attrs.asPath?.[0];
      // RFC 4271 §6.3 (optional check): a path from an eBGP peer starts with the peer's AS.
      if (!first || first.type !== 'sequence' || first.asns[0] !== source.peerAsn) return 'first-as';
    }
    return this.policy?.verdict(path, {
      filter: spec.import ?? 'cluster', allowDefault: spec.allowDefault === true, requireLease: spec.requireLease === true,
    });
  }

  /** The TTL of an accepted connection's SYN; -1 when unknown (the listener keeps no SYNs). */
  private synTtl(sock: Socket): number {
    try {
      return acceptedSynTtl(sock);
    } catch {
      return -1;
    }
  }

  /** Opens the listener (when configured). */
  async start(): Promise<void> {
    const l = this.opts.listen;
    if (!l) return;
    const server = createServer((sock) => {
      const remote = unmapAddress(sock.remoteAddress);
      const entry = this.peers.get(remote);
      if (!entry || this.stopped) {
        this.event(remote, 'refused', 'info', 'BGP connection from an unknown address refused', { remote });
        sock.on('error', () => undefined);
        sock.end(encodeMessage(ceaseNotification(CeaseSubcode.CONNECTION_REJECTED), { fourOctetAs: false }));
        // Do not wait for a peer that never closes its side.
        setTimeout(() => sock.destroy(), 1000).unref();
        return;
      }
      if (entry.spec.ttlSecurity) {
        // GTSM for an incoming connection: its minimum TTL can only be set
        // after accept(), when the peer's OPEN may already be queued; the SYN's
        // TTL, kept by the listener, says whether the peer is one hop away.
        const ttl = this.synTtl(sock);
        if (ttl !== GTSM_TTL) {
          this.event(remote, 'refused', 'warn', `peer ${remote}: connection refused (GTSM: its SYN arrived with TTL ${ttl < 0 ? 'unknown' : ttl}, not ${GTSM_TTL})`);
          sock.destroy();
          return;
        }
      }
      if (entry.spec.password !== undefined && this.md5Keys.get(remote) !== entry.spec.password) {
        // The listener could not be keyed for this peer: an unsigned connection must not become a session.
        this.event(remote, 'refused', 'warn', `peer ${remote}: connection refused (TCP-MD5 key not installed on the listener)`);
        sock.destroy();
        return;
      }
      entry.session.accept(wrapSocket(sock));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new Error(`BGP listen on ${l.address}:${l.port}`, { cause: err })));
      server.listen(l.port, l.address, () => resolve());
    });
    server.on('error', (err) => this.log.error('BGP listener error', { error: err.message }));
    try {
      keepListenerSyns(server);
    } catch (err) {
      // Without the SYN, an incoming GTSM connection cannot be checked: such peers are refused (synTtl -1).
      this.log.warn('BGP listener cannot keep SYNs (TCP_SAVE_SYN); incoming connections of GTSM peers are refused', { error: err instanceof Error ? err.message : String(err) });
    }
    this.server = server;
    this.capConnections();
    this.keyListener();
    this.log.info('BGP listening', { address: l.address, port: l.port });
  }

  /**
   * Stops every session: with a Cease NOTIFICATION (peers withdraw our paths
   * at once), or silently when `graceful` (peers that support graceful
   * restart keep our paths while we restart). Closes the listener.
   */
  async stop(opts: { graceful?: boolean } = {}): Promise<void> {
    this.stopped = true;
    for (const e of this.peers.values()) {
      e.staleTimer?.cancel();
      e.session.stop({ notify: !opts.graceful, reason: opts.graceful ? 'graceful restart' : 'knitd stopping' });
    }
    this.batch.cancel();
    this.limiter.stop();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The full set of peers (level-triggered): new ones start, removed ones get Cease 6/3, changed ones restart. */
  setPeers(specs: readonly PeerSpec[]): void {
    if (this.stopped) return;
    const want = new Map(specs.map((s) => [s.address, s]));
    for (const [addr, e] of this.peers) {
      const w = want.get(addr);
      if (w && sameSpec(w, e.spec)) {
        const rejudge = !sameImport(w, e.spec);
        e.spec = w;
        if (rejudge) this.changed(this.rib.reimport());
        continue;
      }
      e.session.stop({ subcode: w ? CeaseSubcode.OTHER_CONFIGURATION_CHANGE : CeaseSubcode.PEER_DECONFIGURED, reason: w ? 'peer reconfigured' : 'peer deconfigured' });
      e.staleTimer?.cancel();
      this.peers.delete(addr);
      this.changed(this.rib.forgetPeer(addr));
    }
    for (const [addr, spec] of want) {
      if (this.peers.has(addr)) continue;
      this.addPeer(spec);
    }
    this.capConnections();
    this.keyListener();
  }

  /**
   * TCP-MD5 keys on the listener, one per peer with a password (the kernel
   * then drops unsigned or wrongly signed segments from that address before
   * knitd sees them); keys of peers that are gone or changed are removed.
   */
  private keyListener(): void {
    const server = this.server;
    if (!server) return;
    for (const [addr, key] of [...this.md5Keys]) {
      if (this.peers.get(addr)?.spec.password === key) continue;
      try {
        setTcpMd5(server, addr, '');
      } catch (err) {
        this.log.warn(`peer ${addr}: cannot remove the TCP-MD5 key from the listener`, { error: err instanceof Error ? err.message : String(err) });
      }
      this.md5Keys.delete(addr);
    }
    for (const [addr, e] of this.peers) {
      const key = e.spec.password;
      if (key === undefined || this.md5Keys.get(addr) === key) continue;
      try {
        setTcpMd5(server, addr, key);
        this.md5Keys.set(addr, key);
      } catch (err) {
        this.log.error(`peer ${addr}: cannot install the TCP-MD5 key on the listener; its incoming connections are refused`, { error: err instanceof Error ? err.message : String(err) });
      }
    }
  }

  /**
   * Inbound connections overall: two per peer (a session and a §6.8
   * collision) plus room for refusals in flight. Beyond it the kernel's
   * accept queue holds them and Node closes what it accepts, so a flood
   * cannot exhaust knitd's file descriptors (its API and sessions need them).
   */
  private capConnections(): void {
    if (this.server) this.server.maxConnections = 2 * this.peers.size + MAX_INBOUND_SLACK;
  }

  /** The prefixes this node originates (its subnet, the cluster aggregate, configured extras). */
  setLocal(paths: readonly Path[]): void {
    this.changed(this.rib.setLocal(paths));
  }

  /** Best paths learned from peers (what the kernel should have). */
  bestLearned(): Candidate[] {
    const out: Candidate[] = [];
    for (const c of this.rib.bestPaths()) if (c.source.kind === 'peer') out.push(c);
    return out;
  }

  /**
   * True when every peer is Established and has sent End-of-RIB for every
   * negotiated family: the RIB holds all it will get (a restarting knitd may
   * now let go of the routes it preserved).
   */
  converged(): boolean {
    for (const e of this.peers.values()) {
      if (!e.negotiated || !e.localAddress) return false;
      for (const f of e.negotiated.families) if (!e.endOfRib.has(f.afi === Afi.IPV4 ? 4 : 6)) return false;
    }
    return true;
  }

  sessions(): SessionInfo[] {
    return [...this.peers.values()].map((e) => {
      const s = e.session.snapshot();
      const info: SessionInfo = {
        peerAddress: s.peerAddress, peerAsn: s.peerAsn, localAsn: s.localAsn, state: s.state,
        uptimeSeconds: Math.floor(s.uptimeMs / 1000), prefixesSent: s.prefixesSent,
        prefixesReceived: this.rib.received(s.peerAddress), origin: e.spec.origin ?? 'config',
        ...this.countsOf(this.rib.peerCounts(s.peerAddress)), maxPrefixHits: e.maxPrefixHits,
      };
      if (s.lastError !== undefined) info.lastError = s.lastError;
      return info;
    });
  }

  private countsOf(c: PeerCounts): Pick<SessionInfo, 'prefixesAccepted' | 'prefixesRejected'> {
    return { prefixesAccepted: c.accepted, prefixesRejected: c.rejected };
  }

  routes(): LearnedRouteInfo[] {
    const out: LearnedRouteInfo[] = [];
    for (const { candidate: c, best } of this.rib.learned()) {
      // Rejected paths are counted per peer (sessions()), not listed as routes.
      if (c.source.kind !== 'peer' || c.rejected) continue;
      out.push({
        prefix: `${c.path.prefix.addr}/${c.path.prefix.len}`,
        nextHop: c.path.nextHop,
        peerAddress: c.source.peerAddress,
        asPath: (c.path.attrs.asPath ?? []).flatMap((s) => s.asns),
        best,
        stale: c.stale === true,
      });
    }
    return out;
  }

  private addPeer(spec: PeerSpec): void {
    const ebgp = spec.asn !== this.opts.localAsn;
    const entry: PeerEntry = { spec, session: undefined as unknown as Session, endOfRib: new Set(), maxPrefixHits: 0 };
    const addr = spec.address;
    entry.session = new Session(
      {
        peerAddress: addr, peerPort: spec.port ?? 179, peerAsn: spec.asn, passive: spec.passive === true,
        local: {
          asn: this.opts.localAsn, routerId: this.opts.routerId, holdTime: spec.holdTime ?? this.opts.holdTime ?? 90,
          families: (this.opts.afis ?? [4, 6]).map((a) => (a === 4 ? IPV4_UNICAST : IPV6_UNICAST)),
          ...(this.opts.gracefulRestart ? { gracefulRestart: { restartTime: this.opts.gracefulRestart.restartTime, restarting: this.opts.gracefulRestart.restarting === true } } : {}),
        },
        // GTSM sends with 255 and accepts only 255; otherwise a directly connected eBGP session sends with TTL 1.
        ...(spec.ttlSecurity ? { ttl: 255, minTtl: 255 } : ebgp && !spec.multihop ? { ttl: 1 } : {}),
        ...(spec.password !== undefined ? { md5Key: spec.password } : {}),
        ...(this.opts.connectRetryMs !== undefined ? { connectRetryMs: this.opts.connectRetryMs } : {}),
      },
      { clock: this.clock, dial: this.opts.dial ?? tcpDialer, logger: this.log, events: (kind, level, msg, fields) => this.event(addr, kind, level, msg, fields) },
      {
        established: (neg, localAddress) => this.onEstablished(entry, neg, localAddress, ebgp),
        down: (info) => this.onDown(entry, info),
        update: (u) => this.onUpdate(entry, u.announced, u.withdrawn),
        endOfRib: (f) => this.onEndOfRib(entry, f),
      },
    );
    this.peers.set(addr, entry);
    entry.session.start();
  }

  private onUpdate(e: PeerEntry, announced: readonly Path[], withdrawn: Parameters<Rib['apply']>[2]): void {
    const addr = e.spec.address;
    if (e.negotiated && e.negotiated.peerAsn !== this.opts.localAsn) {
      // RFC 4271 §5.1.5: LOCAL_PREF from an external peer is ignored (it must not steer our decision).
      announced = announced.map((p) => (p.attrs.localPref === undefined ? p : { ...p, attrs: { ...p.attrs, localPref: undefined } }));
    }
    const r = this.rib.apply(addr, announced, withdrawn);
    for (const x of r.rejected) {
      this.event(addr, 'rejected', 'warn', `peer ${addr}: route ${x.prefix} via ${x.nextHop || '-'} not installed (${x.reason})`, { prefix: x.prefix, reason: x.reason, nextHop: x.nextHop });
    }
    this.changed(r.changed);
    const limit = e.spec.maxPrefixes ?? this.opts.maxPrefixes ?? DEFAULT_MAX_PREFIXES;
    if (this.rib.received(addr) > limit) {
      e.maxPrefixHits++;
      const idleS = e.spec.maxPrefixRestart ?? this.opts.maxPrefixRestart ?? DEFAULT_MAX_PREFIX_RESTART_S;
      const afi = announced.at(-1)?.prefix.afi === 6 ? Afi.IPV6 : Afi.IPV4;
      this.event(addr, 'flap', 'warn', `peer ${addr}: more than ${limit} prefixes; closing the session (Cease 6/1) and staying idle for ${idleS} s`, { limit, idleSeconds: idleS });
      e.session.shutdownFor(maxPrefixNotification(afi, limit), `maximum number of prefixes (${limit}) reached`, idleS * 1000);
    }
  }

  private onEstablished(e: PeerEntry, neg: Negotiated, localAddress: string, ebgp: boolean): void {
    e.localAddress = localAddress;
    e.negotiated = neg;
    e.endOfRib = new Set();
    const addr = e.spec.address;
    this.rib.peerUp({ kind: 'peer', peerAddress: addr, peerAsn: neg.peerAsn, peerBgpId: neg.peerBgpId, ebgp });
    // Stale paths from before a restart: flushed now for families the peer did not keep forwarding state for.
    const gr = neg.peerGracefulRestart;
    for (const afi of [4, 6] as const) {
      const kept = gr?.families.some((f) => f.afi === (afi === 4 ? Afi.IPV4 : Afi.IPV6) && f.forwardingPreserved);
      if (!kept) this.changed(this.rib.sweepStale(addr, afi));
    }
    if (e.staleTimer?.armed) {
      // Bound the wait for End-of-RIB by the restart time again (RFC 4724 leaves the value local).
      e.staleTimer.arm((gr?.restartTime ?? 0) * 1000);
    }
    e.session.set(this.exportFor(e));
  }

  private onDown(e: PeerEntry, info: SessionDown): void {
    const addr = e.spec.address;
    e.localAddress = undefined;
    const gr = info.peerGracefulRestart;
    // RFC 4724 §4.2: only the families the peer listed in its capability are retained.
    const afis = new Set<4 | 6>();
    for (const f of gr?.families ?? []) {
      if (f.afi === Afi.IPV4) afis.add(4);
      else if (f.afi === Afi.IPV6) afis.add(6);
    }
    if (info.silent && gr && gr.restartTime > 0 && afis.size > 0 && !this.stopped) {
      const kept = this.rib.markStale(addr, afis);
      this.changed(this.rib.dropFresh(addr));
      const timer = e.staleTimer ?? new Timer(this.clock, () => {
        this.log.info(`peer ${addr}: restart time passed; stale paths removed`);
        this.changed(this.rib.sweepStale(addr));
      });
      e.staleTimer = timer;
      timer.arm(gr.restartTime * 1000);
      this.log.info(`peer ${addr}: down (${info.reason}); keeping its ${kept} path(s) as stale for up to ${gr.restartTime} s`);
      this.changed(Array.from(this.stalePrefixes(addr)));
      return;
    }
    this.changed(this.rib.dropPeer(addr));
  }

  private *stalePrefixes(peer: string): IterableIterator<string> {
    for (const { candidate: c } of this.rib.learned()) {
      if (c.source.kind === 'peer' && c.source.peerAddress === peer && c.stale) yield `${c.path.prefix.addr}/${c.path.prefix.len}`;
    }
  }

  private onEndOfRib(e: PeerEntry, f: AfiSafi): void {
    const afi = f.afi === Afi.IPV4 ? 4 : f.afi === Afi.IPV6 ? 6 : undefined;
    if (afi === undefined) return;
    e.endOfRib.add(afi);
    // Notify even when nothing was stale: the owner may be waiting for convergence (see converged()).
    this.changed(this.rib.sweepStale(e.spec.address, afi), true);
  }

  private exportFor(e: PeerEntry): Path[] {
    if (!e.localAddress || !e.negotiated) return [];
    const nh6 = this.opts.nextHop6?.(e.localAddress, e.spec);
    return exportPaths(this.rib.bestPaths(), {
      peerAddress: e.spec.address, ebgp: e.negotiated.peerAsn !== this.opts.localAsn, localAsn: this.opts.localAsn,
      nextHop4: e.localAddress, ...(nh6 ? { nextHop6: nh6 } : {}),
    });
  }

  private changed(keys: readonly string[], notifyAnyway = false): void {
    if ((keys.length === 0 && !notifyAnyway) || this.stopped) return;
    for (const k of keys) this.pendingChanged.add(k);
    if (!this.batch.armed) this.batch.arm(this.opts.batchMs ?? 10);
  }

  private runBatch(): void {
    const changed = this.pendingChanged;
    this.pendingChanged = new Set();
    for (const e of this.peers.values()) if (e.localAddress) e.session.set(this.exportFor(e));
    this.opts.onRoutesChanged?.(changed);
  }
}

/** Cease 6/1 with RFC 4486's data: AFI (2 octets), SAFI (1), the prefix limit (4). */
function maxPrefixNotification(afi: number, limit: number): NotificationMessage {
  const data = Buffer.alloc(7);
  data.writeUInt16BE(afi, 0);
  data.writeUInt8(1, 2);
  data.writeUInt32BE(Math.min(limit, 0xffffffff), 3);
  return { ...ceaseNotification(CeaseSubcode.MAXIMUM_PREFIXES_REACHED), data };
}
