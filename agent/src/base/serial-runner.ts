/**
 * Run one job at a time and coalesce requests: a request while the job runs
 * causes exactly one more run after it, however many requests came in. This
 * is the shape of every level-triggered loop in knit (the reconciler, the
 * BGP IPv6 route sync, the lease renewal): each run reads the whole desired
 * state, so N requests need one run, never N.
 */

/** Options of a SerialRunner. */
export interface SerialRunnerOptions {
  /**
   * Start a loop on the next turn of the event loop (setImmediate) instead of
   * at once, so every request of the current tick lands in the same run.
   */
  deferStart?: boolean;
  /** While this returns false, requests are remembered but no run starts. */
  ready?: () => boolean;
  /** Hears a job that threw (the loop goes on with the next pending run); must not throw. */
  onError?: (err: unknown) => void;
}

export class SerialRunner {
  private dirty = false;
  private running = false;
  private stopped = false;
  private done: Promise<void> = Promise.resolve();

  constructor(private readonly job: () => Promise<void>, private readonly opts: SerialRunnerOptions = {}) {}

  /** A run was requested and has not started yet. */
  get pending(): boolean {
    return this.dirty;
  }

  /** A loop is running (or about to start). */
  get busy(): boolean {
    return this.running;
  }

  /** Asks for a run; see the module comment. Ignored after stop(). */
  request(): void {
    if (this.stopped) return;
    this.dirty = true;
    if (this.running || (this.opts.ready !== undefined && !this.opts.ready())) return;
    this.running = true;
    this.done = this.opts.deferStart
      ? new Promise((resolve) => setImmediate(() => { void this.loop().finally(resolve); }))
      : this.loop();
  }

  /**
   * Joins the loop in flight, or starts one when none runs; resolves when the
   * loop is idle. Unlike request(), a call during a run does not cause
   * another run.
   */
  join(): Promise<void> {
    if (!this.running) this.request();
    return this.done;
  }

  /** Resolves when the loop in flight (if any) has finished. */
  idle(): Promise<void> {
    return this.done;
  }

  /** No more runs; waits for the one in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  private async loop(): Promise<void> {
    try {
      while (this.dirty && !this.stopped) {
        this.dirty = false;
        try {
          await this.job();
        } catch (err) {
          this.opts.onError?.(err);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
