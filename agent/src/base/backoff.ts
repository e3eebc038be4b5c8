/**
 * The one exponential back-off with jitter. Retries of many nodes that failed
 * together (etcd came back, a BGP peer restarted) must not come back in
 * lockstep, so every delay is spread by ±`jitter` around the current step;
 * the step doubles after each delay up to a ceiling and drops back to the
 * floor on `reset()` (a success).
 */

/** `ms` spread uniformly over ±`jitter` (a fraction: 0.2 = ±20 %), rounded; `random` is in [0, 1). */
export function jittered(ms: number, jitter: number, random: number): number {
  return Math.round(ms * (1 - jitter + 2 * jitter * random));
}

/** Options of a Backoff. */
export interface BackoffOptions {
  /** First delay (and the delay after reset), ms. */
  minMs: number;
  /** Ceiling of the (un-jittered) delay, ms. */
  maxMs: number;
  /** Spread as a fraction, 0 (none) … 1; default 0. */
  jitter?: number;
  /** [0, 1) source for the jitter; default Math.random (not called when jitter is 0). */
  random?: () => number;
}

/** Doubling delays from minMs up to maxMs, each jittered; see the module comment. */
export class Backoff {
  private step: number;
  private readonly jitter: number;
  private readonly random: () => number;

  constructor(private readonly opts: BackoffOptions) {
    this.step = opts.minMs;
    this.jitter = opts.jitter ?? 0;
    this.random = opts.random ?? Math.random;
  }

  /** The un-jittered delay the next `next()` is based on. */
  get currentMs(): number {
    return this.step;
  }

  /** The delay to wait now; the step doubles (up to maxMs) for the one after. */
  next(): number {
    const delay = this.jitter === 0 ? this.step : jittered(this.step, this.jitter, this.random());
    this.step = Math.min(this.opts.maxMs, this.step * 2);
    return delay;
  }

  /** Back to minMs (after a success). */
  reset(): void {
    this.step = this.opts.minMs;
  }
}

/**
 * The delay after `failures` failures in a row, without state: `baseMs`
 * doubled per failure (at most 2^20), capped at `maxMs`, jittered.
 */
export function backoffDelay(failures: number, baseMs: number, maxMs: number, jitter: number, random: number): number {
  const raw = Math.min(baseMs * 2 ** Math.min(failures, 20), maxMs);
  return jitter === 0 ? raw : jittered(raw, jitter, random);
}
