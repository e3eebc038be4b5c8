/**
 * Per-peer log rate limiting: a peer decides how often its malformed
 * UPDATEs, rejected routes and flaps happen, so it must not decide how much
 * knitd writes to disk. Each (peer, kind) may log `burst` lines per
 * interval; the rest are counted, and when the interval ends one summary
 * line says how many were suppressed. Memory is one small record per
 * (peer, kind) that logged in the current interval.
 */
import type { Logger } from '../log/logger';
import { Timer, type Clock } from '../base';

/** The kinds of repeating per-peer events. */
export type PeerEventKind = 'rejected' | 'malformed' | 'flap' | 'refused';

interface Window {
  logged: number;
  suppressed: number;
}

/** Rate limiter for per-peer log lines (see the module comment). */
export class PeerEventLimiter {
  private windows = new Map<string, Window>();
  private readonly flushTimer: Timer;

  constructor(
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly opts: { burst: number; intervalMs: number } = { burst: 20, intervalMs: 60_000 },
  ) {
    this.flushTimer = new Timer(clock, () => this.flush());
  }

  /** Log `msg` at `level` unless this peer's `kind` used its burst in this interval (then count it). */
  event(peer: string, kind: PeerEventKind, level: 'info' | 'warn', msg: string, fields: Record<string, unknown> = {}): void {
    const key = `${peer}\u0000${kind}`;
    let w = this.windows.get(key);
    if (!w) {
      w = { logged: 0, suppressed: 0 };
      this.windows.set(key, w);
    }
    if (!this.flushTimer.armed) this.flushTimer.arm(this.opts.intervalMs);
    if (w.logged >= this.opts.burst) {
      w.suppressed++;
      return;
    }
    w.logged++;
    this.log[level](msg, { peer, event: kind, ...fields });
  }

  /** Ends the interval: one summary line per (peer, kind) that had lines suppressed. */
  flush(): void {
    const windows = this.windows;
    this.windows = new Map();
    this.flushTimer.cancel();
    for (const [key, w] of windows) {
      if (w.suppressed === 0) continue;
      const [peer, kind] = key.split('\u0000');
      this.log.warn(`peer ${peer}: ${w.suppressed} more '${kind}' event(s) not logged in the last ${Math.round(this.opts.intervalMs / 1000)} s`, {
        peer, event: kind, suppressed: w.suppressed, logged: w.logged,
      });
    }
  }

  stop(): void {
    this.flush();
  }
}
