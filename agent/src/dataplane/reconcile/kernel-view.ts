/**
 * What the kernel holds, kept between runs: rebuilt from every full run's
 * dump, then kept current by netlink events and by the outcome of the
 * reconciler's own writes. A run triggered by a peer change or a repair
 * diffs against this view instead of dumping routes, neighbours and FDB
 * again (issue 17: a lease reaches the kernel in about the time etcd takes
 * to tell us). The view is trusted only while nothing says it may be wrong:
 *
 *   - it starts untrusted, and a full run's dump makes it trusted, unless a
 *     relevant event arrived while that dump was in flight (the dump may or
 *     may not include it);
 *   - lost events (ENOBUFS) and anything it cannot follow exactly (a second
 *     remote appearing for an FDB MAC) make it untrusted again;
 *   - the periodic resync, retries and explicit runs always dump, so a wrong
 *     view lives at most one resync interval.
 *
 * It holds exactly what a dump would give the diff: main-table routes of
 * both families that the reconciler may see (its own protocol only inside
 * its scope), and neighbours and FDB entries on the owned devices.
 */
import type { FdbEntry, Neighbour, NetlinkEvent, Route } from '../../netlink';
import type { CurrentObjects, DiffOp } from './diff';
import { fdbKey, neighbourKey, routeKey } from './diff';

const RT_TABLE_MAIN = 254;

const sameRemote = (a: Pick<FdbEntry, 'dst'>, b: Pick<FdbEntry, 'dst'>): boolean => (a.dst ?? '') === (b.dst ?? '');

export class KernelView {
  private readonly routes = new Map<string, Route>();
  private readonly neighbours = new Map<string, Neighbour>();
  /** per device and MAC (fdbKey), its remotes: one MAC may have several */
  private readonly fdb = new Map<string, FdbEntry[]>();
  private owned = new Set<number>();
  private trusted = false;
  private dumping = false;
  private changedWhileDumping = false;

  /** `visible`: whether a main-table route is one the reconciler's dump keeps (its scope). */
  constructor(private readonly visible: (r: Route) => boolean) {}

  /** The view can stand in for a dump. */
  get fresh(): boolean {
    return this.trusted;
  }

  /** Stop trusting the view until the next full run (events were lost). */
  invalidate(): void {
    this.trusted = false;
  }

  /** A full run starts dumping: events from now on may or may not be in the dump. */
  beginDump(): void {
    this.dumping = true;
    this.changedWhileDumping = false;
  }

  /** A full run's dump arrived: it becomes the view (trusted unless something changed meanwhile). */
  reset(current: CurrentObjects, owned: readonly number[]): void {
    this.dumping = false;
    this.owned = new Set(owned);
    this.routes.clear();
    this.neighbours.clear();
    this.fdb.clear();
    for (const r of current.routes) this.routes.set(routeKey(r), r);
    for (const n of current.neighbours) if (this.owned.has(n.index)) this.neighbours.set(neighbourKey(n), n);
    for (const e of current.fdb) if (this.owned.has(e.index)) this.addRemote(e);
    this.trusted = !this.changedWhileDumping;
  }

  /** A dump failed: nothing known. */
  abortDump(): void {
    this.dumping = false;
    this.trusted = false;
  }

  /** The view as the diff takes a dump; undefined when it is not trusted. */
  snapshot(): CurrentObjects | undefined {
    if (!this.trusted) return undefined;
    return { routes: [...this.routes.values()], neighbours: [...this.neighbours.values()], fdb: [...this.fdb.values()].flat() };
  }

  /** One netlink event from the node's namespace. */
  onEvent(ev: NetlinkEvent): void {
    switch (ev.type) {
      case 'route-added':
      case 'route-deleted': {
        const r = ev.route;
        if ((r.table ?? RT_TABLE_MAIN) !== RT_TABLE_MAIN || !this.visible(r)) return;
        this.touched();
        if (ev.type === 'route-added') this.routes.set(routeKey(r), r);
        else this.routes.delete(routeKey(r));
        return;
      }
      case 'neigh-added':
      case 'neigh-deleted': {
        const n = ev.neighbour;
        if (!this.owned.has(n.index)) return;
        this.touched();
        if (ev.type === 'neigh-added') this.neighbours.set(neighbourKey(n), n);
        else this.neighbours.delete(neighbourKey(n));
        return;
      }
      case 'fdb-added':
      case 'fdb-deleted': {
        const e = ev.entry;
        if (!this.owned.has(e.index)) return;
        this.touched();
        if (ev.type === 'fdb-deleted') {
          this.deleteRemote(e);
          return;
        }
        // An entry for a MAC that has another remote here: an append, or a
        // replace of that remote from outside? The event cannot say, so
        // the next run dumps. (Our own replaces were applied at their ack.)
        const remotes = this.fdb.get(fdbKey(e));
        if (remotes && !remotes.some((o) => sameRemote(o, e))) this.trusted = false;
        this.addRemote(e);
        return;
      }
      case 'link-deleted':
      case 'link-changed':
        // a device of ours changed under us: the reconciler sets it up again with a full run
        if (this.owned.has(ev.link.index)) this.touched(true);
        return;
      default:
        return;
    }
  }

  /** One of the reconciler's own writes succeeded (its ack came): apply it now, the event may come later. */
  applied(op: DiffOp): void {
    const o = op.object;
    if (o.kind === 'route') {
      if (op.action === 'delete') this.routes.delete(routeKey(o.value));
      else this.routes.set(routeKey(o.value), o.value);
    } else if (o.kind === 'neighbour') {
      if (op.action === 'delete') this.neighbours.delete(neighbourKey(o.value));
      else this.neighbours.set(neighbourKey(o.value), o.value);
    } else if (op.action === 'delete') {
      this.deleteRemote(o.value);
    } else {
      this.fdb.set(fdbKey(o.value), [o.value]); // fdbSet replaces the MAC's remote in place
    }
  }

  /** Add or update one remote of a MAC. */
  private addRemote(e: FdbEntry): void {
    const k = fdbKey(e);
    const remotes = this.fdb.get(k);
    if (!remotes) {
      this.fdb.set(k, [e]);
      return;
    }
    const i = remotes.findIndex((o) => sameRemote(o, e));
    if (i >= 0) remotes[i] = e;
    else remotes.push(e);
  }

  private deleteRemote(e: Pick<FdbEntry, 'index' | 'mac' | 'dst'>): void {
    const k = fdbKey(e);
    const rest = (this.fdb.get(k) ?? []).filter((o) => !sameRemote(o, e));
    if (rest.length > 0) this.fdb.set(k, rest);
    else this.fdb.delete(k);
  }

  private touched(untrust = false): void {
    if (this.dumping) this.changedWhileDumping = true;
    if (untrust) this.trusted = false;
  }
}
