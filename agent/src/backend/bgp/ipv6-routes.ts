/**
 * IPv6 routes learned over BGP, kept in the kernel by a small level-triggered
 * loop of their own: the shared reconciler dumps IPv4 routes only, so IPv6
 * would be re-written on every run and never cleaned up there. This uses the
 * reconciler's pure diff with the same ownership rules (only routes with
 * knit's BGP protocol are ours; a foreign route in the slot is a conflict,
 * left alone). When the reconciler learns IPv6 this file can go.
 */
import { realClock, SerialRunner, Timer, type Clock } from '../../base';
import type { Logger } from '../../log/logger';
import { isNetlinkError, type Handle, type Route } from '../../netlink';
import { diffDataplane } from '../../dataplane/reconcile/diff';

const RETRY_MS = 2000;

/** Keeps the kernel's IPv6 protocol-90 routes equal to the last `set()`, coalescing runs. */
export class Ipv6RouteSync {
  private want: Route[] = [];
  private readonly runner = new SerialRunner(() => this.runOrRetry());
  /** a failed run is retried after a fixed delay (the periodic resync also asks again) */
  private readonly retry: Timer;

  constructor(private readonly nl: Handle, private readonly protocol: number, private readonly log: Logger, clock: Clock = realClock) {
    this.retry = new Timer(clock, () => this.request());
  }

  /** The IPv6 routes wanted now (full set). */
  set(routes: readonly Route[]): void {
    this.want = [...routes];
    this.request();
  }

  /** Run again (e.g. at the periodic resync). */
  request(): void {
    this.runner.request();
  }

  async stop(): Promise<void> {
    const stopping = this.runner.stop();
    this.retry.cancel();
    await stopping;
  }

  private async runOrRetry(): Promise<void> {
    try {
      await this.runOnce();
    } catch (err) {
      this.log.warn('IPv6 BGP route sync failed; retrying', { error: (err as Error).message });
      this.retry.armIfIdle(RETRY_MS);
    }
  }

  private async runOnce(): Promise<void> {
    const current = await this.nl.routeList({ family: 6 });
    const diff = diffDataplane({ routes: this.want, neighbours: [], fdb: [] }, { routes: current, neighbours: [], fdb: [] }, { protocol: this.protocol, ownedDevices: [] });
    for (const c of diff.conflicts) this.log.warn('IPv6 BGP route not installed: a foreign route holds its slot', { dst: c.want.dst, foreignProtocol: c.foreign.protocol ?? 0 });
    let failed = 0;
    for (const op of diff.ops) {
      if (op.object.kind !== 'route') continue;
      try {
        if (op.action === 'delete') await this.nl.routeDel(op.object.value);
        else await this.nl.routeReplace(op.object.value);
      } catch (err) {
        if (op.action === 'delete' && isNetlinkError(err, 'ENOENT', 'ESRCH')) continue;
        failed++;
        this.log.warn('IPv6 BGP route write failed', { action: op.action, dst: op.object.value.dst, error: (err as Error).message });
      }
    }
    if (diff.ops.length > 0) this.log.info('IPv6 BGP routes reconciled', { writes: diff.ops.length, failed });
    if (failed > 0) throw new Error(`${failed} IPv6 route write(s) failed`);
  }
}
