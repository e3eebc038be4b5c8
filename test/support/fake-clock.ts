/**
 * The one manual clock for unit tests (implements base/clock's Clock): time
 * moves only when the test says so, timers fire in deadline order (ties in
 * the order they were set), and `random()` returns `rand`.
 */
import type { Clock, TimerHandle } from '../../agent/src/base';

interface Pending {
  id: number;
  at: number;
  fn: () => void;
}

/** A clock that moves only when told to. */
export class FakeClock implements Clock {
  /** Monotonic time, ms (starts at 0). */
  t = 0;
  /** What `random()` answers, in [0, 1). */
  rand = 0.5;
  private seq = 0;
  private timers: Pending[] = [];

  /** `wallStart`: the wall-clock time (epoch ms) at t = 0. */
  constructor(private readonly wallStart = Date.parse('2026-01-01T00:00:00Z')) {}

  now(): number {
    return this.t;
  }

  wallNow(): number {
    return this.wallStart + this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq;
    this.timers.push({ id, at: this.t + ms, fn });
    return { id };
  }

  clearTimeout(h: TimerHandle): void {
    const id = (h as { id: number }).id;
    this.timers = this.timers.filter((x) => x.id !== id);
  }

  random(): number {
    return this.rand;
  }

  /** Delays of the pending timers from now, ascending. */
  pending(): number[] {
    return this.timers.map((x) => x.at - this.t).sort((a, b) => a - b);
  }

  /** The earliest due timer at or before `end`, removed from the queue. */
  private takeDue(end: number): Pending | undefined {
    let best: Pending | undefined;
    for (const x of this.timers) if (x.at <= end && (best === undefined || x.at < best.at)) best = x;
    if (best !== undefined) this.timers = this.timers.filter((x) => x !== best);
    return best;
  }

  /** Moves time forward by `ms`, firing due timers in order (synchronously). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (let due = this.takeDue(end); due !== undefined; due = this.takeDue(end)) {
      this.t = due.at;
      due.fn();
    }
    this.t = end;
  }

  /** Like advance, but lets the promises each timer started settle before the next one fires. */
  async advanceSettled(ms: number): Promise<void> {
    const end = this.t + ms;
    for (let due = this.takeDue(end); due !== undefined; due = this.takeDue(end)) {
      this.t = due.at;
      due.fn();
      await settle();
    }
    this.t = end;
    await settle();
  }
}

/** Lets queued promise callbacks and immediates run (a few rounds of setImmediate). */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}
