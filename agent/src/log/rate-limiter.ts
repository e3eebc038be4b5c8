/**
 * Log rate limiting for events an outsider controls (a BGP peer's malformed
 * UPDATEs, rejected routes and flaps; the reconcile runs its route churn
 * causes): the outsider decides how often they happen, so it must not decide
 * how much knitd writes to disk. Each key may log `burst` lines per
 * interval; the rest are counted, and when the interval ends one summary
 * line per key says how many were not logged. Memory: one small record per
 * key that logged in the current interval.
 */
import { realClock, Timer, type Clock } from '../base';
import type { Logger } from './logger';

/** Limits and the time source (injectable for tests). */
export interface RateLimitOptions {
  /** Lines per key and interval (default 20). */
  burst?: number;
  /** Interval, ms (default 60 000). */
  intervalMs?: number;
  /** Default the real clock. */
  clock?: Clock;
}

interface Window {
  logged: number;
  suppressed: number;
  label: string;
}

/** Rate limiter for repeating log lines (see the module comment). */
export class LogRateLimiter {
  private windows = new Map<string, Window>();
  private readonly timer: Timer;
  private readonly burst: number;
  private readonly intervalMs: number;

  constructor(private readonly log: Logger, opts: RateLimitOptions = {}) {
    this.burst = opts.burst ?? 20;
    this.intervalMs = opts.intervalMs ?? 60_000;
    this.timer = new Timer(opts.clock ?? realClock, () => this.flush());
  }

  /**
   * Log `msg` at `level` unless `key` used its burst in this interval (then
   * count it). `label` names the key in the summary ("peer 10.0.0.2 'rejected'").
   */
  event(key: string, label: string, level: 'info' | 'warn', msg: string, fields: Record<string, unknown> = {}): void {
    let w = this.windows.get(key);
    if (!w) {
      w = { logged: 0, suppressed: 0, label };
      this.windows.set(key, w);
    }
    if (!this.timer.armed) this.timer.arm(this.intervalMs);
    if (w.logged >= this.burst) {
      w.suppressed++;
      return;
    }
    w.logged++;
    this.log[level](msg, fields);
  }

  /** Ends the interval: one summary line per key that had lines suppressed. */
  flush(): void {
    const windows = this.windows;
    this.windows = new Map();
    this.timer.cancel();
    for (const w of windows.values()) {
      if (w.suppressed === 0) continue;
      this.log.warn(`${w.label}: ${w.suppressed} more line(s) not logged in the last ${Math.round(this.intervalMs / 1000)} s`, { suppressed: w.suppressed, logged: w.logged });
    }
  }

  /** Flushes and stops the interval timer. */
  stop(): void {
    this.flush();
  }
}
