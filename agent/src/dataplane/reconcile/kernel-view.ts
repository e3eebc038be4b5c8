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
 * its scope), every nexthop object, and neighbours and FDB entries on the
 * owned devices.
 *
 * A deleted nexthop takes every route through it along, and the kernel
 * sends no route event for them (only RTM_DELNEXTHOP; checked on 6.18 with
 * `ip monitor`): so the view keeps, per nexthop id, the keys of the routes
 * it holds through it, and drops them with the nexthop.
 */
import { RTPROT_KNIT, type FdbEntry, type Neighbour, type NetlinkEvent, type Nexthop, type Route } from '../../netlink';
import type { DiffOp, IndexedCurrent, MutableIndex } from './diff';
import { addWanted, emptyIndex, fdbMatches, neighbourMatches, nexthopMatches, perDeviceGet, perDeviceSet, routeKey, routeMatches } from './diff';

const RT_TABLE_MAIN = 254;

const sameRemote = (a: Pick<FdbEntry, 'dst'>, b: Pick<FdbEntry, 'dst'>): boolean => (a.dst ?? '') === (b.dst ?? '');

/**
 * Keys of objects that events changed, per kind, by the keys the index
 * uses (no "kind|key" string per event and per ack: at 10 000 peers the
 * echoes of 30 000 writes often come before their acks).
 */
class ChangedKeys {
  readonly routes = new Set<string>();
  readonly nexthops = new Set<number>();
  private readonly neighbours = new Map<number, Set<string>>();
  private readonly fdb = new Map<number, Set<string>>();

  get size(): number {
    let n = this.routes.size + this.nexthops.size;
    for (const d of this.neighbours.values()) n += d.size;
    for (const d of this.fdb.values()) n += d.size;
    return n;
  }

  neighbour(index: number, ip: string): void {
    addWanted(this.neighbours, index, ip);
  }

  fdbMac(index: number, mac: string): void {
    addWanted(this.fdb, index, mac);
  }

  /** The object's slot is accounted for (our own write decided it). */
  explain(o: DiffOp['object']): void {
    switch (o.kind) {
      case 'route': this.routes.delete(routeKey(o.value)); break;
      case 'nexthop': this.nexthops.delete(o.value.id); break;
      case 'neighbour': this.neighbours.get(o.value.index)?.delete(o.value.ip); break;
      case 'fdb': this.fdb.get(o.value.index)?.delete(o.value.mac); break;
    }
  }

  clear(): void {
    this.routes.clear();
    this.nexthops.clear();
    this.neighbours.clear();
    this.fdb.clear();
  }
}

/** The view's own index: what indexCurrent builds from a dump (FDB: every remote of a MAC), kept and changed in place. */
export type ViewIndex = MutableIndex;


/**
 * What the view holds: the diff's own index of the last dump (no second
 * copy of it), and what events and acks changed since. An event that only
 * confirms what the view holds (the event of our own write, after its ack)
 * keeps the object already there, usually the desired object itself, so the
 * 30 000 objects of 10 000 peers are not held twice.
 */
export class KernelView {
  private index: ViewIndex = emptyIndex();
  private owned = new Set<number>();
  private trusted = false;
  private dumping = false;
  private changedWhileDumping = false;
  /**
   * Objects (by kind and key) that events changed since the last settle()
   * and no ack of ours explained: changes from outside the reconciler.
   */
  private readonly unexplained = new ChangedKeys();
  /**
   * per nexthop id, the key of the route the view holds through it (ours or
   * foreign), or a set when several go through one (knit's own: one each;
   * no set per nexthop for 10 000 of them)
   */
  private nhUsers = new Map<number, string | Set<string>>();

  /**
   * `visible`: whether a main-table route is one the reconciler's dump keeps (its scope);
   * `protocol`: the one marking knit's routes (the diff's "ours").
   */
  constructor(
    private readonly visible: (r: Route) => boolean,
    private readonly protocol = RTPROT_KNIT,
    /** whether a nexthop is one the reconciler's dump keeps (its scope) */
    private readonly visibleNexthop: (nh: Nexthop) => boolean = () => true,
  ) {}

  /** The view can stand in for a dump. */
  get fresh(): boolean {
    return this.trusted;
  }

  /**
   * How many objects events changed since the last settle() that no ack of
   * ours explained. An event that only confirms what the view holds (the
   * echo of our own write after its ack) changes nothing; an echo that comes
   * before its ack is explained by the ack (applied). 0: nothing from outside
   * moved the kernel since the last diff read the view (the reconciler's
   * scoped runs rely on it).
   */
  get unexplainedChanges(): number {
    return this.unexplained.size;
  }

  /** A diff has just read the view: what events changed up to now is in it. */
  settle(): void {
    this.unexplained.clear();
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

  /**
   * A full run's dump arrived, indexed for its diff (indexCurrent, with the
   * same protocol and owned devices): it becomes the view, taken over as it
   * is (trusted unless something changed meanwhile).
   */
  reset(index: ViewIndex, owned: readonly number[]): void {
    this.dumping = false;
    this.owned = new Set(owned);
    // a resync whose dump matched keeps the view's own index (dump-match.ts), and its users with it
    if (index !== this.index) {
      this.index = index;
      this.nhUsers = new Map();
      for (const m of [index.ours, index.foreign]) for (const [k, r] of m) if (r.nhid !== undefined) this.use(r.nhid, k);
    }
    this.trusted = !this.changedWhileDumping;
  }

  /** A dump failed: nothing known. */
  abortDump(): void {
    this.dumping = false;
    this.trusted = false;
    this.index = emptyIndex();
    this.nhUsers = new Map();
  }

  /** The view as the diff takes it; undefined when it is not trusted. Runs that write change it (applied). */
  current(): IndexedCurrent | undefined {
    return this.trusted ? this.index : undefined;
  }

  /**
   * The index the view holds, trusted or not: a resync's dump that matches
   * it (dump-match.ts) keeps it instead of indexing the dump anew.
   */
  held(): ViewIndex {
    return this.index;
  }

  /** The view as flat lists, as a dump would list it (tests, debugging); undefined when not trusted. */
  snapshot(): { routes: Route[]; neighbours: Neighbour[]; fdb: FdbEntry[]; nexthops: Nexthop[] } | undefined {
    if (!this.trusted) return undefined;
    const { ours, foreign, neighbours, fdb } = this.index;
    return {
      routes: [...ours.values(), ...foreign.values()],
      nexthops: [...this.index.nexthops.values(), ...this.index.foreignNexthops.values()],
      neighbours: [...neighbours.values()].flatMap((d) => [...d.values()]),
      fdb: [...fdb.values()].flatMap((d) => [...d.values()].flat()),
    };
  }

  /** One netlink event from the node's namespace. */
  onEvent(ev: NetlinkEvent): void {
    switch (ev.type) {
      case 'route-added':
      case 'route-deleted': {
        const r = ev.route;
        if ((r.table ?? RT_TABLE_MAIN) !== RT_TABLE_MAIN || !this.visible(r)) return;
        this.touched();
        const k = routeKey(r);
        if (ev.type === 'route-deleted') {
          // (both deletes run: a slot holds one route, whichever map it is in)
          if (this.dropRoute(k)) this.unexplained.routes.add(k);
          return;
        }
        // one route per slot, as the events tell it: the new one replaces whichever was there
        const ours = r.protocol === this.protocol;
        const m = ours ? this.index.ours : this.index.foreign;
        const had = m.get(k);
        if (!had || had.protocol !== r.protocol || !routeMatches(had, r)) {
          this.setRoute(k, r);
          this.unexplained.routes.add(k);
        } else if ((ours ? this.index.foreign : this.index.ours).has(k)) {
          this.setRoute(k, had);
          this.unexplained.routes.add(k);
        }
        return;
      }
      case 'nexthop-added':
      case 'nexthop-deleted': {
        const nh = ev.nexthop;
        // (a deleted one's protocol is the kernel's word too: the event carries the whole nexthop)
        if (!this.visibleNexthop(nh)) return;
        this.touched();
        if (ev.type === 'nexthop-deleted') {
          if (this.dropNexthop(nh.id)) this.unexplained.nexthops.add(nh.id);
          return;
        }
        const ours = nh.protocol === this.protocol;
        const had = (ours ? this.index.nexthops : this.index.foreignNexthops).get(nh.id);
        if (!had || had.protocol !== nh.protocol || !nexthopMatches(had, nh) || (ours ? this.index.foreignNexthops : this.index.nexthops).has(nh.id)) {
          this.setNexthop(nh);
          this.unexplained.nexthops.add(nh.id);
        }
        return;
      }
      case 'neigh-added':
      case 'neigh-deleted': {
        const n = ev.neighbour;
        if (!this.owned.has(n.index)) return;
        this.touched();
        if (ev.type === 'neigh-deleted') {
          if (this.index.neighbours.get(n.index)?.delete(n.ip) === true) this.unexplained.neighbour(n.index, n.ip);
          return;
        }
        const had = perDeviceGet(this.index.neighbours, n.index, n.ip);
        if (!had || !neighbourMatches(had, n)) {
          perDeviceSet(this.index.neighbours, n.index, n.ip, n);
          this.unexplained.neighbour(n.index, n.ip);
        }
        return;
      }
      case 'fdb-added':
      case 'fdb-deleted': {
        const e = ev.entry;
        if (!this.owned.has(e.index)) return;
        this.touched();
        if (ev.type === 'fdb-deleted') {
          if (this.deleteRemote(e)) this.unexplained.fdbMac(e.index, e.mac);
          return;
        }
        // An entry for a MAC that has another remote here: an append, or a
        // replace of that remote from outside? The event cannot say, so
        // the next run dumps. (Our own replaces were applied at their ack.)
        const remotes = perDeviceGet(this.index.fdb, e.index, e.mac);
        if (remotes && !remotes.some((o) => sameRemote(o, e))) this.trusted = false;
        if (this.addRemote(e)) this.unexplained.fdbMac(e.index, e.mac);
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
    // our write decided what the kernel holds in this slot: an event of it that came before this ack is explained
    if (this.unexplained.size > 0) this.unexplained.explain(o);
    if (o.kind === 'route') {
      const k = routeKey(o.value);
      // a replace takes the slot, whoever held it
      if (op.action === 'delete') this.dropRoute(k);
      else this.setRoute(k, o.value);
    } else if (o.kind === 'nexthop') {
      if (op.action === 'delete') this.dropNexthop(o.value.id);
      else this.setNexthop(o.value);
    } else if (o.kind === 'neighbour') {
      if (op.action === 'delete') this.index.neighbours.get(o.value.index)?.delete(o.value.ip);
      else perDeviceSet(this.index.neighbours, o.value.index, o.value.ip, o.value);
    } else if (op.action === 'delete') {
      this.deleteRemote(o.value);
    } else {
      perDeviceSet(this.index.fdb, o.value.index, o.value.mac, [o.value]); // fdbSet replaces the MAC's remote in place
    }
  }

  /** Route `r` takes slot `k` (whichever map held it before); its nexthop, if any, counts it as a user. */
  private setRoute(k: string, r: Route): void {
    this.dropRoute(k);
    (r.protocol === this.protocol ? this.index.ours : this.index.foreign).set(k, r);
    if (r.nhid !== undefined) this.use(r.nhid, k);
  }

  /** Slot `k` is empty; whether a route held it. */
  private dropRoute(k: string): boolean {
    let had = false;
    for (const m of [this.index.ours, this.index.foreign]) {
      const r = m.get(k);
      if (r === undefined) continue;
      had = true;
      m.delete(k);
      if (r.nhid !== undefined) this.unuse(r.nhid, k);
    }
    return had;
  }

  private use(nhid: number, k: string): void {
    const users = this.nhUsers.get(nhid);
    if (users === undefined || users === k) this.nhUsers.set(nhid, k);
    else if (typeof users === 'string') this.nhUsers.set(nhid, new Set([users, k]));
    else users.add(k);
  }

  private unuse(nhid: number, k: string): void {
    const users = this.nhUsers.get(nhid);
    if (users === k) this.nhUsers.delete(nhid);
    else if (typeof users === 'object') users.delete(k);
  }

  /** A nexthop object takes its id (a replace keeps the routes through it). */
  private setNexthop(nh: Nexthop): void {
    this.index.nexthops.delete(nh.id);
    this.index.foreignNexthops.delete(nh.id);
    (nh.protocol === this.protocol ? this.index.nexthops : this.index.foreignNexthops).set(nh.id, nh);
  }

  /**
   * Nexthop `id` is gone, and the kernel took the routes through it along
   * (module note): they leave the view too, as changes no ack explains
   * unless ours were deleted first. Whether the view held the nexthop.
   */
  private dropNexthop(id: number): boolean {
    const had = Number(this.index.nexthops.delete(id)) + Number(this.index.foreignNexthops.delete(id)) > 0;
    const users = this.nhUsers.get(id);
    if (users !== undefined) {
      this.nhUsers.delete(id);
      for (const k of typeof users === 'string' ? [users] : users) {
        for (const m of [this.index.ours, this.index.foreign]) {
          if (m.get(k)?.nhid !== id) continue;
          m.delete(k);
          this.unexplained.routes.add(k);
        }
      }
    }
    return had;
  }

  /** Add or update one remote of a MAC (an equal one already there stays); whether that changed the view. */
  private addRemote(e: FdbEntry): boolean {
    const remotes = perDeviceGet(this.index.fdb, e.index, e.mac);
    if (!remotes) {
      perDeviceSet(this.index.fdb, e.index, e.mac, [e]);
      return true;
    }
    const i = remotes.findIndex((o) => sameRemote(o, e));
    if (i < 0) remotes.push(e);
    else if (!fdbMatches(remotes[i]!, e)) remotes[i] = e;
    else return false;
    return true;
  }

  /** Remove one remote of a MAC; whether it was there. */
  private deleteRemote(e: Pick<FdbEntry, 'index' | 'mac' | 'dst'>): boolean {
    const byMac = this.index.fdb.get(e.index);
    const had = byMac?.get(e.mac) ?? [];
    const rest = had.filter((o) => !sameRemote(o, e));
    if (rest.length > 0) byMac!.set(e.mac, rest);
    else byMac?.delete(e.mac);
    return rest.length !== had.length;
  }

  private touched(untrust = false): void {
    if (this.dumping) this.changedWhileDumping = true;
    if (untrust) this.trusted = false;
  }
}
