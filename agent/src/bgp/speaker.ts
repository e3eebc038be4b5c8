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
import { createServer, type Server } from 'node:net';
import type { Logger } from '../log/logger';
import { Afi, CeaseSubcode, ceaseNotification, encodeMessage, type AfiSafi } from './codec';
import { realClock, Timer, type Clock } from './clock';
import { tcpDialer, unmapAddress, wrapSocket, type Dialer } from './conn';
import type { Candidate } from './decision';
import { exportPaths } from './export-policy';
import type { SessionState } from './fsm';
import type { Path } from './path';
import { Rib } from './rib';
import { IPV4_UNICAST, IPV6_UNICAST, type Negotiated } from './session/negotiate';
import { Session, type SessionDown } from './session/session';

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
}

/** IPv6 next hop to announce on a session. */
export interface NextHop6 {
  global: string;
  linkLocal?: string;
}

/** What a Speaker is built with (the outside world passed in: clock, dialer, logger). */
export interface SpeakerOptions {
  localAsn: number;
  /** BGP identifier (dotted quad), usually the node's IPv4 address. */
  routerId: string;
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
  /** IPv6 next hop for a session (our IPv4 address on it, the peer); undefined = no IPv6 next hop known. */
  nextHop6?: (localAddress: string, peer: PeerSpec) => NextHop6 | undefined;
  /** Called (batched) when best paths changed; `changed` holds prefix keys. */
  onRoutesChanged?: (changed: ReadonlySet<string>) => void;
  /** Coalescing delay for re-exports and notifications; default 10 ms. */
  batchMs?: number;
  connectRetryMs?: number;
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
}

const sameSpec = (a: PeerSpec, b: PeerSpec): boolean =>
  a.asn === b.asn && (a.port ?? 179) === (b.port ?? 179) && !!a.passive === !!b.passive && !!a.multihop === !!b.multihop && a.holdTime === b.holdTime;

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

  constructor(private readonly opts: SpeakerOptions) {
    this.clock = opts.clock ?? realClock;
    this.log = opts.logger;
    this.rib = new Rib(opts.localAsn);
    this.batch = new Timer(this.clock, () => this.runBatch());
  }

  /** Opens the listener (when configured). */
  async start(): Promise<void> {
    const l = this.opts.listen;
    if (!l) return;
    const server = createServer((sock) => {
      const remote = unmapAddress(sock.remoteAddress);
      const entry = this.peers.get(remote);
      if (!entry || this.stopped) {
        this.log.info('BGP connection from an unknown address refused', { remote });
        sock.on('error', () => undefined);
        sock.end(encodeMessage(ceaseNotification(CeaseSubcode.CONNECTION_REJECTED), { fourOctetAs: false }));
        return;
      }
      entry.session.accept(wrapSocket(sock));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new Error(`BGP listen on ${l.address}:${l.port}`, { cause: err })));
      server.listen(l.port, l.address, () => resolve());
    });
    server.on('error', (err) => this.log.error('BGP listener error', { error: err.message }));
    this.server = server;
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
        e.spec = w;
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
      };
      if (s.lastError !== undefined) info.lastError = s.lastError;
      return info;
    });
  }

  routes(): LearnedRouteInfo[] {
    const out: LearnedRouteInfo[] = [];
    for (const { candidate: c, best } of this.rib.learned()) {
      if (c.source.kind !== 'peer') continue;
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
    const entry: PeerEntry = { spec, session: undefined as unknown as Session, endOfRib: new Set() };
    const addr = spec.address;
    entry.session = new Session(
      {
        peerAddress: addr, peerPort: spec.port ?? 179, peerAsn: spec.asn, passive: spec.passive === true,
        local: {
          asn: this.opts.localAsn, routerId: this.opts.routerId, holdTime: spec.holdTime ?? this.opts.holdTime ?? 90,
          families: [IPV4_UNICAST, IPV6_UNICAST],
          ...(this.opts.gracefulRestart ? { gracefulRestart: { restartTime: this.opts.gracefulRestart.restartTime, restarting: this.opts.gracefulRestart.restarting === true } } : {}),
        },
        ...(ebgp && !spec.multihop ? { ttl: 1 } : {}),
        ...(this.opts.connectRetryMs !== undefined ? { connectRetryMs: this.opts.connectRetryMs } : {}),
      },
      { clock: this.clock, dial: this.opts.dial ?? tcpDialer, logger: this.log },
      {
        established: (neg, localAddress) => this.onEstablished(entry, neg, localAddress, ebgp),
        down: (info) => this.onDown(entry, info),
        update: (u) => {
          const r = this.rib.apply(addr, u.announced, u.withdrawn);
          if (r.loops > 0) this.log.debug(`peer ${addr}: ${r.loops} path(s) with our AS ${this.opts.localAsn} in AS_PATH dropped`);
          this.changed(r.changed);
        },
        endOfRib: (f) => this.onEndOfRib(entry, f),
      },
    );
    this.peers.set(addr, entry);
    entry.session.start();
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
