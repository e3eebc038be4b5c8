/**
 * Time as every module sees it: a clock with one-shot timers and a random
 * source, passed in so unit tests drive renewals, back-offs and BGP timers
 * with the one FakeClock (test/support/fake-clock.ts) instead of waiting.
 * Only main.ts and the defaults of option objects use `realClock`.
 */

/** An opaque timer handle of a Clock. */
export type TimerHandle = { readonly id: number } | NodeJS.Timeout;

/** Timers, time and randomness, injectable. */
export interface Clock {
  /** Milliseconds since an arbitrary epoch, monotonic for the real clock: for durations and deadlines. */
  now(): number;
  /** Milliseconds since the Unix epoch: for timestamps written down (lease renewedAt, state files). */
  wallNow(): number;
  /** Calls `fn` once after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /** A number in [0, 1), for jitter. */
  random(): number;
}

/**
 * The real clock: performance.now, Date.now, Node timers and Math.random.
 * Timers are unref'd: a pending renewal, retry or BGP timer alone never
 * keeps knitd alive.
 */
export const realClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
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

  /** Arms the timer only if it is not armed already (a pending deadline is kept). */
  armIfIdle(ms: number): void {
    if (this.handle === undefined) this.arm(ms);
  }

  cancel(): void {
    if (this.handle !== undefined) this.clock.clearTimeout(this.handle);
    this.handle = undefined;
  }

  get armed(): boolean {
    return this.handle !== undefined;
  }
}

/** A timer that fires every `ms` until stopped (re-armed after each firing, like setInterval). */
export class Ticker {
  private readonly timer: Timer;
  private running = false;

  constructor(clock: Clock, private readonly ms: number, fire: () => void) {
    this.timer = new Timer(clock, () => {
      this.timer.arm(this.ms);
      fire();
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.timer.arm(this.ms);
  }

  stop(): void {
    this.running = false;
    this.timer.cancel();
  }
}
