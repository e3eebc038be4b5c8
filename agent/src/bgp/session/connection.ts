/**
 * One TCP connection of a session and its per-connection state: the stream
 * splitter, the codec context, the negotiated parameters and the hold and
 * keepalive timers. A session has one of these normally and two during a
 * connection collision (RFC 4271 §6.8).
 */
import { MessageSplitter, type DecodeContext } from '../codec';
import { Timer, type Clock } from '../../base';
import type { BgpConn } from '../conn';
import type { ConnectionState } from '../fsm';
import type { Negotiated } from './negotiate';

/** A connection being opened or in use. */
export class Connection {
  state: ConnectionState = 'OpenSent';
  readonly splitter = new MessageSplitter();
  readonly ctx: DecodeContext;
  negotiated: Negotiated | undefined;
  closed = false;
  readonly hold: Timer;
  readonly keepalive: Timer;

  constructor(
    readonly conn: BgpConn,
    /** True when we dialed it; false when the peer connected to us. */
    readonly outgoing: boolean,
    clock: Clock,
    ctx: DecodeContext,
    onHoldExpired: (c: Connection) => void,
    onKeepalive: (c: Connection) => void,
  ) {
    this.ctx = { ...ctx };
    this.hold = new Timer(clock, () => onHoldExpired(this));
    this.keepalive = new Timer(clock, () => onKeepalive(this));
  }

  /** Restart the hold timer after any message (no-op when the negotiated hold time is 0). */
  touch(): void {
    const n = this.negotiated;
    if (n && n.holdTime > 0 && this.state !== 'OpenSent') this.hold.arm(n.holdTime * 1000);
  }

  stopTimers(): void {
    this.hold.cancel();
    this.keepalive.cancel();
  }

  /** "outgoing 10.0.0.1:179" for logs. */
  describe(): string {
    return `${this.outgoing ? 'outgoing' : 'incoming'} ${this.conn.remoteAddress}:${this.conn.remotePort}`;
  }
}
