/**
 * One BGP session with one peer (MetalLB's native speaker shape): the
 * session owns its connections and timers, the codec stays pure, and the
 * boundary is `set(paths)`: the session diffs what it advertised against
 * what it is told and withdraws the rest.
 *
 * The FSM follows RFC 4271 §8: Idle → Connect (dialing) / Active (waiting
 * for the peer) → OpenSent → OpenConfirm → Established, every transition
 * logged as "peer X: A -> B (reason)". Errors answer with the NOTIFICATION
 * the RFCs assign and drop the connection; the session then retries with
 * back-off and jitter unless it was stopped. Incoming connections are
 * accepted in every state but Idle-after-stop, so a connection collision
 * (both sides dialing) is resolved by BGP identifiers as §6.8 says.
 */
import {
  CeaseSubcode, ceaseNotification, decodeMessage, encodeMessage, endOfRib, endOfRibFamily, ErrorCode, FsmErrorSubcode,
  isDecodeError, notificationFor,
  type AfiSafi, type BgpMessage, type NotificationMessage,
} from '../codec';
import { backoffDelay, describeError, Timer, type Clock } from '../../base';
import type { BgpConn, Dialer } from '../conn';
import { closeOutgoingOnCollision, sessionState, type SessionState } from '../fsm';
import { pathSignature, prefixKey, type Path } from '../path';
import type { Logger } from '../../log/logger';
import { Connection } from './connection';
import { buildOpen, negotiate, type LocalOpenParams, type Negotiated, type PeerGracefulRestart } from './negotiate';
import { buildUpdates, readUpdate, type UpdateEffect } from './updates';

/** How to reach and talk to one peer. */
export interface SessionConfig {
  peerAddress: string;
  /** Peer's TCP port; default 179. */
  peerPort?: number;
  peerAsn: number;
  local: LocalOpenParams;
  /** Never dial; wait for the peer to connect. */
  passive?: boolean;
  /** Source address for outgoing connections. */
  localAddress?: string;
  /** IP TTL for outgoing connections (1 for directly connected eBGP, 255 for GTSM). */
  ttl?: number;
  /** GTSM (RFC 5082): minimum TTL accepted on every connection (255). */
  minTtl?: number;
  /** TCP-MD5 key for outgoing connections (incoming ones: the speaker keys its listener); never logged. */
  md5Key?: string;
  /** First connect-retry delay; default 1000 ms, doubling to connectRetryMaxMs (30 000). */
  connectRetryMs?: number;
  connectRetryMaxMs?: number;
  /** Default 5000 ms. */
  connectTimeoutMs?: number;
  /**
   * How long a connection may wait in OpenSent for the peer's OPEN, ms.
   * RFC 4271 §8.2.2 suggests 4 minutes; default 30 s, so a connection that
   * never speaks cannot hold a socket (and a slot) for long.
   */
  openSentHoldMs?: number;
}

/** Why a session went down, for the RIB (graceful restart) and the operator. */
export interface SessionDown {
  reason: string;
  /** True when no NOTIFICATION was exchanged: the peer may be restarting gracefully (RFC 4724 §4.2). */
  silent: boolean;
  /** The peer's graceful restart capability from the OPEN of the session that went down. */
  peerGracefulRestart?: PeerGracefulRestart;
}

/** Kinds of per-peer log lines a peer can make repeat (the speaker rate-limits them per peer and kind). */
export type PeerEventKind = 'rejected' | 'malformed' | 'flap' | 'refused';

/** Where a session's repeating log lines go (the speaker rate-limits them per peer); default: the logger. */
export type SessionEvents = (kind: PeerEventKind, level: 'info' | 'warn', msg: string, fields?: Record<string, unknown>) => void;

/** What a session reports to its owner (the speaker). All optional. */
export interface SessionListener {
  stateChanged?(state: SessionState, previous: SessionState, reason: string): void;
  established?(negotiated: Negotiated, localAddress: string): void;
  down?(info: SessionDown): void;
  update?(effect: UpdateEffect): void;
  endOfRib?(family: AfiSafi): void;
}

/** A snapshot for the operator surface. */
export interface SessionSnapshot {
  peerAddress: string;
  peerAsn: number;
  localAsn: number;
  state: SessionState;
  /** ms since Established; 0 when not Established. */
  uptimeMs: number;
  prefixesSent: number;
  lastError?: string;
  negotiated?: Negotiated;
}

const OPEN_SENT_HOLD_MS = 30_000;

/** One peer's BGP session. */
export class Session {
  private readonly cfg: Required<Pick<SessionConfig, 'peerPort' | 'connectRetryMs' | 'connectRetryMaxMs' | 'connectTimeoutMs' | 'openSentHoldMs'>> & SessionConfig;
  private readonly log: Logger;
  private readonly events: SessionEvents;
  private connections: Connection[] = [];
  private state: SessionState = 'Idle';
  private stopped = true;
  private dialing = false;
  private failures = 0;
  private readonly retry: Timer;
  private establishedAt: number | undefined;
  private lastError: string | undefined;
  private desired = new Map<string, Path>();
  private advertised = new Map<string, string>();
  /** Clock time until which the session stays idle (after a max-prefix Cease). */
  private idleUntil = 0;

  constructor(
    config: SessionConfig,
    private readonly deps: { clock: Clock; dial: Dialer; logger: Logger; events?: SessionEvents },
    private readonly listener: SessionListener = {},
  ) {
    this.cfg = { peerPort: 179, connectRetryMs: 1000, connectRetryMaxMs: 30_000, connectTimeoutMs: 5000, openSentHoldMs: OPEN_SENT_HOLD_MS, ...config };
    this.log = deps.logger;
    this.events = deps.events ?? ((_kind, level, msg, fields) => this.log[level](msg, fields));
    this.retry = new Timer(deps.clock, () => this.onRetry());
  }

  get peerAddress(): string {
    return this.cfg.peerAddress;
  }

  get isPassive(): boolean {
    return this.cfg.passive === true;
  }

  /** Current FSM state. */
  get currentState(): SessionState {
    return this.state;
  }

  /** The established connection's negotiated parameters, if Established. */
  get negotiated(): Negotiated | undefined {
    return this.connections.find((c) => c.state === 'Established')?.negotiated;
  }

  /** Leave Idle: dial now (unless passive) and accept the peer's connections. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.failures = 0;
    if (this.cfg.passive) this.updateState('start (passive)');
    else this.dial('start');
  }

  /**
   * Planned stop: every connection gets a Cease NOTIFICATION (administrative
   * shutdown) so the peer withdraws our routes at once, unless `notify` is
   * false (a graceful restart: the peer keeps our routes as stale).
   */
  stop(opts: { notify?: boolean; subcode?: number; reason?: string } = {}): void {
    if (this.stopped) return;
    this.stopped = true;
    this.retry.cancel();
    const reason = opts.reason ?? 'administrative shutdown';
    for (const c of [...this.connections]) {
      if (opts.notify === false) this.drop(c, reason, { silent: true });
      else this.fail(c, ceaseNotification(opts.subcode ?? CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, reason), reason, false);
    }
    this.updateState(reason);
  }

  /**
   * End every connection with `n` and stay idle (no dialing, incoming
   * connections refused) for `idleMs` (RFC 4486 max-prefix: the peer gets
   * Cease 6/1 and time to fix itself).
   */
  shutdownFor(n: NotificationMessage, reason: string, idleMs: number): void {
    this.idleUntil = this.deps.clock.now() + idleMs;
    for (const c of [...this.connections]) this.fail(c, n, reason);
    this.retry.arm(idleMs);
    this.updateState(reason);
  }

  private get idle(): boolean {
    return this.idleUntil > this.deps.clock.now();
  }

  /**
   * A connection the peer opened to our listener (the speaker matched its
   * address). Besides an Established connection and the §6.8 collision
   * pair, at most one incoming connection waits for its OPEN: a newer one
   * replaces it, so a flood from the peer's address holds one socket here.
   */
  accept(conn: BgpConn): void {
    if (this.stopped || this.idle) {
      const why = this.stopped ? 'session stopped' : 'idle after max-prefix';
      this.events('refused', 'info', `peer ${this.cfg.peerAddress}: connection refused (${why})`);
      conn.write(encodeMessage(ceaseNotification(CeaseSubcode.CONNECTION_REJECTED), { fourOctetAs: false }));
      conn.end();
      return;
    }
    const pending = this.connections.find((c) => !c.outgoing && c.state === 'OpenSent');
    if (pending) this.fail(pending, ceaseNotification(CeaseSubcode.CONNECTION_REJECTED), 'replaced by a newer incoming connection', false);
    const est = this.connections.find((c) => c.state === 'Established');
    if (est?.negotiated?.peerGracefulRestart) {
      // RFC 4724 §4.2: a restarting peer reconnects while we still hold its old
      // session: close the old one as if it had dropped (its routes go stale).
      this.drop(est, 'peer reconnected (graceful restart)', { silent: true });
    } else if (est) {
      // §6.8: a collision with an Established session closes the newcomer.
      conn.write(encodeMessage(ceaseNotification(CeaseSubcode.CONNECTION_COLLISION_RESOLUTION), { fourOctetAs: false }));
      conn.end();
      this.events('refused', 'info', `peer ${this.cfg.peerAddress}: incoming connection closed (collision with the Established session)`);
      return;
    }
    this.open(conn, false);
  }

  /** The paths this peer should have; the session announces the difference and withdraws the rest. */
  set(paths: readonly Path[]): void {
    this.desired = new Map(paths.map((p) => [prefixKey(p.prefix), p]));
    const est = this.connections.find((c) => c.state === 'Established');
    if (est) this.flush(est);
  }

  snapshot(): SessionSnapshot {
    const s: SessionSnapshot = {
      peerAddress: this.cfg.peerAddress,
      peerAsn: this.cfg.peerAsn,
      localAsn: this.cfg.local.asn,
      state: this.state,
      uptimeMs: this.establishedAt === undefined ? 0 : this.deps.clock.now() - this.establishedAt,
      prefixesSent: this.advertised.size,
    };
    if (this.lastError !== undefined) s.lastError = this.lastError;
    const n = this.negotiated;
    if (n) s.negotiated = n;
    return s;
  }

  // ---- connection management ----

  private dial(reason: string): void {
    if (this.stopped || this.cfg.passive || this.dialing || this.connections.length > 0) return;
    if (this.idle) {
      this.retry.arm(this.idleUntil - this.deps.clock.now());
      return;
    }
    this.dialing = true;
    this.updateState(reason);
    this.deps.dial({
      host: this.cfg.peerAddress, port: this.cfg.peerPort, timeoutMs: this.cfg.connectTimeoutMs,
      ...(this.cfg.localAddress ? { localAddress: this.cfg.localAddress } : {}),
      ...(this.cfg.ttl !== undefined ? { ttl: this.cfg.ttl } : {}),
      ...(this.cfg.minTtl !== undefined ? { minTtl: this.cfg.minTtl } : {}),
      ...(this.cfg.md5Key !== undefined ? { md5Key: this.cfg.md5Key } : {}),
    }).then(
      (conn) => {
        this.dialing = false;
        if (this.stopped || this.connections.some((c) => c.state === 'Established')) {
          conn.destroy();
          this.updateState('connected, but no longer needed');
          return;
        }
        this.open(conn, true);
      },
      (err: unknown) => {
        this.dialing = false;
        this.failures++;
        const msg = describeError(err, 4);
        this.lastError = msg;
        this.scheduleRetry();
        this.updateState(msg);
      },
    );
  }

  private scheduleRetry(): void {
    if (this.stopped || this.cfg.passive || this.connections.length > 0 || this.dialing) return;
    if (this.idle) {
      this.retry.arm(this.idleUntil - this.deps.clock.now());
      return;
    }
    // exponential back-off with ±25 % jitter (RFC 4271 §10 asks for jitter)
    this.retry.arm(backoffDelay(Math.max(0, this.failures - 1), this.cfg.connectRetryMs, this.cfg.connectRetryMaxMs, 0.25, this.deps.clock.random()));
  }

  private onRetry(): void {
    this.dial('connect-retry timer');
  }

  private open(conn: BgpConn, outgoing: boolean): void {
    if (this.cfg.minTtl !== undefined) {
      // GTSM: without the minimum TTL the session must not run at all.
      try {
        if (!conn.setMinTtl) throw new Error('the connection cannot set a minimum TTL');
        conn.setMinTtl(this.cfg.minTtl);
      } catch (err) {
        this.lastError = `cannot set minimum TTL ${this.cfg.minTtl} (GTSM): ${describeError(err)}`;
        this.log.warn(`peer ${this.cfg.peerAddress}: ${this.lastError}; connection closed`);
        conn.destroy();
        this.failures++;
        this.scheduleRetry();
        return;
      }
    }
    if (this.cfg.ttl !== undefined && conn.setTtl) {
      // TTL 1 keeps a directly connected eBGP session from working across a router (RFC 4271 practice); 255 for GTSM.
      try {
        conn.setTtl(this.cfg.ttl);
      } catch (err) {
        this.log.warn(`peer ${this.cfg.peerAddress}: cannot set TTL ${this.cfg.ttl}: ${describeError(err)}`);
      }
    }
    const c = new Connection(
      conn, outgoing, this.deps.clock,
      { fourOctetAs: false, expectedPeerAs: this.cfg.peerAsn, localBgpId: this.cfg.local.routerId, localAs: this.cfg.local.asn },
      (x) => this.fail(x, { type: 'notification', code: ErrorCode.HOLD_TIMER_EXPIRED, subcode: 0, data: Buffer.alloc(0) }, 'hold timer expired'),
      (x) => this.sendKeepalive(x),
    );
    this.connections.push(c);
    conn.onData((chunk) => this.onData(c, chunk));
    conn.onClose((err) => this.drop(c, err ? `connection lost: ${err.message}` : 'connection closed by peer', { silent: true }));
    this.retry.cancel();
    conn.write(encodeMessage(buildOpen(this.cfg.local), c.ctx));
    c.hold.arm(this.cfg.openSentHoldMs);
    this.updateState(`${c.describe()} up, OPEN sent`);
  }

  private sendKeepalive(c: Connection): void {
    if (c.closed) return;
    c.conn.write(encodeMessage({ type: 'keepalive' }, c.ctx));
    if (c.negotiated && c.negotiated.keepaliveMs > 0) c.keepalive.arm(c.negotiated.keepaliveMs);
  }

  /** Send a NOTIFICATION and close the connection. */
  private fail(c: Connection, n: NotificationMessage, reason: string, isError = true): void {
    if (c.closed) return;
    this.events('flap', 'warn', `peer ${this.cfg.peerAddress}: sending NOTIFICATION ${n.code}/${n.subcode} on ${c.describe()} (${reason})`);
    c.conn.write(encodeMessage(n, c.ctx));
    // Forget the connection before closing it: the close callback must not report "closed by peer".
    this.drop(c, `sent NOTIFICATION ${n.code}/${n.subcode}: ${reason}`, { silent: false, isError });
    c.conn.end();
  }

  /** Forget a connection (already closed or being closed) and react. */
  private drop(c: Connection, reason: string, opts: { silent: boolean; isError?: boolean }): void {
    if (c.closed) return;
    c.closed = true;
    c.stopTimers();
    if (opts.silent) c.conn.destroy();
    this.connections = this.connections.filter((x) => x !== c);
    const wasEstablished = c.state === 'Established';
    if (opts.isError !== false) this.lastError = reason;
    if (wasEstablished) {
      this.establishedAt = undefined;
      this.advertised.clear();
      const info: SessionDown = { reason, silent: opts.silent };
      if (c.negotiated?.peerGracefulRestart) info.peerGracefulRestart = c.negotiated.peerGracefulRestart;
      this.listener.down?.(info);
    } else if (this.connections.length === 0) {
      this.failures++;
    }
    this.scheduleRetry();
    this.updateState(reason);
  }

  // ---- messages ----

  private onData(c: Connection, chunk: Buffer): void {
    for (const item of c.splitter.push(chunk)) {
      if (c.closed) return;
      if (isDecodeError(item)) {
        this.fail(c, notificationFor(item), item.message);
        return;
      }
      const m = decodeMessage(item, c.ctx);
      if (isDecodeError(m)) {
        if (m.action === 'session-reset') {
          this.fail(c, notificationFor(m), m.message);
          return;
        }
        if (c.state !== 'Established') {
          this.fail(c, fsmError(c.state), `UPDATE in ${c.state}`);
          return;
        }
        c.touch();
        this.events('malformed', 'warn', `peer ${this.cfg.peerAddress}: ${m.message}`, { action: m.action });
        if (m.action === 'treat-as-withdraw') this.listener.update?.({ announced: [], withdrawn: m.withdrawn });
        else if (m.update) this.onMessage(c, m.update);
        continue;
      }
      this.onMessage(c, m);
    }
  }

  private onMessage(c: Connection, m: BgpMessage): void {
    c.touch();
    if (m.type === 'notification') {
      const text = `received NOTIFICATION ${m.code}/${m.subcode}${m.data.length ? ` data ${m.data.toString('hex')}` : ''}`;
      this.events('flap', 'warn', `peer ${this.cfg.peerAddress}: ${text} on ${c.describe()}`);
      this.drop(c, text, { silent: false });
      c.conn.destroy();
      return;
    }
    switch (c.state) {
      case 'OpenSent':
        if (m.type !== 'open') return this.fail(c, fsmError(c.state), `${m.type} in OpenSent`);
        return this.onOpen(c, m);
      case 'OpenConfirm':
        if (m.type !== 'keepalive') return this.fail(c, fsmError(c.state), `${m.type} in OpenConfirm`);
        return this.onEstablished(c);
      case 'Established':
        if (m.type === 'open') return this.fail(c, fsmError(c.state), 'OPEN in Established');
        if (m.type === 'update') {
          const eor = endOfRibFamily(m);
          if (eor) {
            this.listener.endOfRib?.(eor);
          } else if (m.attributes.asPath?.some((seg) => seg.type === 'confed-sequence' || seg.type === 'confed-set')) {
            // RFC 5065 §5: confederation segments from a peer outside our (non-existent) confederation
            // make the AS_PATH malformed: treat-as-withdraw (RFC 7606 §7.2), never passed on.
            this.events('malformed', 'warn', `peer ${this.cfg.peerAddress}: AS_PATH with confederation segments (knit is in no confederation); UPDATE treated as withdraw`, { action: 'treat-as-withdraw' });
            const u = readUpdate(m);
            this.listener.update?.({ announced: [], withdrawn: [...u.withdrawn, ...u.announced.map((p) => p.prefix)] });
          } else {
            this.listener.update?.(readUpdate(m));
          }
        } else if (m.type === 'route-refresh') {
          this.advertised.clear();
          this.flush(c);
        }
        return;
    }
  }

  private onOpen(c: Connection, m: Extract<BgpMessage, { type: 'open' }>): void {
    const neg = negotiate(this.cfg.local, m);
    if ('type' in neg) return this.fail(c, neg, `OPEN refused (${neg.code}/${neg.subcode})`);
    // Collision (§6.8): another connection that already knows the peer's identifier.
    const other = this.connections.find((o) => o !== c && (o.state === 'OpenConfirm' || o.state === 'Established'));
    if (other) {
      if (other.state === 'Established') {
        return this.fail(c, ceaseNotification(CeaseSubcode.CONNECTION_COLLISION_RESOLUTION), 'collision with the Established connection', false);
      }
      const closeOutgoing = closeOutgoingOnCollision(this.cfg.local.routerId, m.bgpId);
      const loser = c.outgoing === other.outgoing ? other : (c.outgoing === closeOutgoing ? c : other);
      this.fail(loser, ceaseNotification(CeaseSubcode.CONNECTION_COLLISION_RESOLUTION), `connection collision: closing the ${loser.outgoing ? 'outgoing' : 'incoming'} connection`, false);
      if (loser === c) return;
    }
    c.negotiated = neg;
    c.ctx.fourOctetAs = neg.fourOctetAs;
    c.state = 'OpenConfirm';
    c.conn.write(encodeMessage({ type: 'keepalive' }, c.ctx));
    if (neg.holdTime > 0) c.hold.arm(neg.holdTime * 1000);
    else c.hold.cancel();
    if (neg.keepaliveMs > 0) c.keepalive.arm(neg.keepaliveMs);
    this.updateState(`OPEN from ${m.bgpId} AS ${m.asn}, hold time ${neg.holdTime} s`);
  }

  private onEstablished(c: Connection): void {
    c.state = 'Established';
    for (const o of [...this.connections]) {
      if (o !== c) this.fail(o, ceaseNotification(CeaseSubcode.CONNECTION_COLLISION_RESOLUTION), 'connection collision: the other connection is Established', false);
    }
    this.establishedAt = this.deps.clock.now();
    this.failures = 0;
    this.advertised.clear();
    this.updateState('KEEPALIVE received');
    const neg = c.negotiated as Negotiated;
    this.listener.established?.(neg, c.conn.localAddress);
    if (c.closed) return;
    this.flush(c);
    for (const f of neg.families) c.conn.write(encodeMessage(endOfRib(f), c.ctx));
  }

  /** Announce what changed since the last flush and withdraw what is no longer wanted. */
  private flush(c: Connection): void {
    const neg = c.negotiated;
    if (!neg || c.closed) return;
    const fam = (afi: 4 | 6): boolean => neg.families.some((f) => f.afi === (afi === 4 ? 1 : 2) && f.safi === 1);
    const withdraw = [];
    for (const key of this.advertised.keys()) {
      if (!this.desired.has(key)) {
        const [addr, len] = key.split('/');
        withdraw.push({ afi: (addr.includes(':') ? 6 : 4) as 4 | 6, addr, len: Number(len) });
        this.advertised.delete(key);
      }
    }
    const announce: Path[] = [];
    for (const [key, p] of this.desired) {
      if (!fam(p.prefix.afi)) continue;
      const sig = pathSignature(p);
      if (this.advertised.get(key) === sig) continue;
      announce.push(p);
      this.advertised.set(key, sig);
    }
    for (const u of buildUpdates(announce, withdraw, neg.families, c.ctx)) c.conn.write(encodeMessage(u, c.ctx));
  }

  private updateState(reason: string): void {
    const next = sessionState(this.connections.map((c) => c.state), {
      stopped: this.stopped, dialing: this.dialing, idleHold: this.retry.armed && !this.cfg.passive,
    });
    if (next === this.state) return;
    const prev = this.state;
    this.state = next;
    this.events('flap', 'info', `peer ${this.cfg.peerAddress}: ${prev} -> ${next} (${reason})`, { from: prev, to: next });
    this.listener.stateChanged?.(next, prev, reason);
  }
}

function fsmError(state: 'OpenSent' | 'OpenConfirm' | 'Established'): NotificationMessage {
  const subcode = state === 'OpenSent' ? FsmErrorSubcode.UNEXPECTED_MESSAGE_IN_OPENSENT
    : state === 'OpenConfirm' ? FsmErrorSubcode.UNEXPECTED_MESSAGE_IN_OPENCONFIRM
      : FsmErrorSubcode.UNEXPECTED_MESSAGE_IN_ESTABLISHED;
  return { type: 'notification', code: ErrorCode.FSM, subcode, data: Buffer.alloc(0) };
}
