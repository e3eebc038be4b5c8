/**
 * When the reconciler runs: on request (coalesced, one run at a time, a
 * burst of one tick is one run), every resync interval (which also re-checks
 * the devices), and after failed writes on a doubling retry delay (from
 * retryMs up to the resync interval, no jitter: one node's retries, not a
 * fleet's). No run before `ready()` (the first peer set).
 */
import { Backoff, SerialRunner, Ticker, Timer, type Clock } from '../../base';

export interface RunSchedulerOptions {
  clock: Clock;
  resyncMs: number;
  retryMs: number;
  /** One run; must not reject. */
  run: () => Promise<void>;
  /** False until a run makes sense. */
  ready: () => boolean;
  /** Called at every resync tick, before the run it requests. */
  onResync: () => void;
}

export class RunScheduler {
  private readonly runner: SerialRunner;
  private readonly resync: Ticker;
  private readonly retryTimer: Timer;
  private readonly retryBackoff: Backoff;
  private stopped = false;

  constructor(opts: RunSchedulerOptions) {
    this.runner = new SerialRunner(opts.run, { deferStart: true, ready: opts.ready });
    this.resync = new Ticker(opts.clock, opts.resyncMs, () => {
      opts.onResync();
      this.request();
    });
    this.retryTimer = new Timer(opts.clock, () => this.request());
    this.retryBackoff = new Backoff({ minMs: opts.retryMs, maxMs: Math.max(opts.resyncMs, opts.retryMs) });
  }

  /** A run was requested and has not started yet. */
  get pending(): boolean {
    return this.runner.pending;
  }

  /** Starts the periodic resync. */
  start(): void {
    this.resync.start();
  }

  /** Asks for a run (coalesced). */
  request(): void {
    if (this.stopped) return;
    this.runner.request();
  }

  /** A run failed (as a whole or some writes): run again after the current retry delay, unless a retry is already due. */
  retry(): void {
    if (this.stopped || this.retryTimer.armed) return;
    this.retryTimer.arm(this.retryBackoff.next());
  }

  /** A run succeeded completely: the next retry delay starts from retryMs again. */
  succeeded(): void {
    this.retryBackoff.reset();
  }

  /** No more runs; waits for the one in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.resync.stop();
    this.retryTimer.cancel();
    await this.runner.stop();
  }
}
