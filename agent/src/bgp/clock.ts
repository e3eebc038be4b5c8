/**
 * Time as the BGP sessions see it: a clock with timers and a random source,
 * passed in so unit tests drive hold, keepalive and connect-retry timers
 * with a fake clock instead of waiting for them.
 */

/** An opaque timer handle. */
export type TimerHandle = { readonly id: number } | NodeJS.Timeout;

/** Timers, time and randomness, injectable. */
export interface Clock {
  /** Milliseconds since an arbitrary epoch (monotonic for the real clock). */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /** A number in [0, 1), for jitter. */
  random(): number;
}

/** The real clock: performance.now, Node timers (unref'd: a BGP timer alone never keeps knitd alive), Math.random. */
export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  random: () => Math.random(),
};

/** A one-shot timer that can be (re)armed and cancelled; arming again replaces the previous deadline. */
export class Timer {
  private handle: TimerHandle | undefined;

  constructor(private readonly clock: Clock, private readonly fire: () => void) {}

  /** Arms the timer for `ms` milliseconds from now, cancelling any pending deadline. */
  arm(ms: number): void {
    this.cancel();
    this.handle = this.clock.setTimeout(() => {
      this.handle = undefined;
      this.fire();
    }, ms);
  }

  cancel(): void {
    if (this.handle !== undefined) this.clock.clearTimeout(this.handle);
    this.handle = undefined;
  }

  get armed(): boolean {
    return this.handle !== undefined;
  }
}
