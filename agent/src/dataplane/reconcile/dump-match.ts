/**
 * Does a dump say what the kernel view already holds? The periodic resync
 * dumps every route, neighbour and FDB entry (30 000 at 10 000 vxlan peers)
 * and, almost always, finds exactly what the view holds. Indexing the dump
 * anew then builds three maps of 30 000 entries that outlive several
 * young-generation collections (copied, promoted, collected later): the
 * largest part of a resync's time after the dumps themselves
 * (docs/benchmarks.md, issue 17). When the dump matches, the reconciler
 * keeps the view's index instead, and the dumped objects die young.
 *
 * "Matches" is what the diff can tell apart, and no less: the same keys
 * (routeKey; nexthop id; neighbour IP and FDB MAC per owned device), the
 * same side (knit's protocol or foreign), and per key the fields the diff
 * compares (routeMatches, nexthopMatches, neighbourMatches, fdbMatches; of a
 * foreign route or nexthop, its protocol: the diff only reports it as a
 * conflict). The view already stands in
 * for a dump on those terms between resyncs (kernel-view.ts holds the
 * desired objects that our acks confirmed), so a diff over the kept index
 * makes the same ops a diff over the new one would. Anything the index
 * could not hold the same way (two routes in one slot, a MAC with several
 * remotes) is a mismatch, and the dump is indexed as before.
 */
import type { FdbEntry, Neighbour, Nexthop, Route } from '../../netlink';
import { fdbMatches, neighbourMatches, nexthopMatches, perDeviceGet, routeKey, routeMatches } from './diff';
import type { CurrentObjects, DiffOptions, IndexedCurrent } from './diff';

/**
 * What the reuse callbacks saw, per kind: objects the index holds the same
 * (hits) and objects it does not (misses), counting only what dumpMatches
 * compares (knit's routes in scope, neighbours and FDB entries on owned
 * devices). With it dumpMatches needs no second lookup per object.
 */
export interface ReuseTally {
  ours: number;
  oursMissed: number;
  neighbours: number;
  neighboursMissed: number;
  fdb: number;
  fdbMissed: number;
  /** knit's nexthop objects */
  nexthops: number;
  nexthopsMissed: number;
}

/** Per kind, the object of `index` to list in place of a decoded one that is the same to a diff (the dump's `reuse`). */
export interface HeldReuse {
  route: (r: Route) => Route;
  neighbour: (n: Neighbour) => Neighbour;
  fdb: (e: FdbEntry) => FdbEntry;
  nexthop: (nh: Nexthop) => Nexthop;
  /** filled in as the dump runs; read once it has ended */
  readonly tally: ReuseTally;
}

/**
 * What a dump can list from `index` instead of what it decodes: the held
 * object when it matches as dumpMatches compares (so the decoded one dies
 * young, and a matching dump lists the held objects themselves).
 * `visible`: whether a route of knit's protocol is one the caller keeps
 * (its scope; the index holds no other): one that is not is no miss.
 */
export function reuseFrom(
  index: IndexedCurrent, opts: DiffOptions, visible: (r: Route) => boolean = () => true, visibleNexthop: (nh: Nexthop) => boolean = () => true,
): HeldReuse {
  const owned = new Set(opts.ownedDevices);
  const tally: ReuseTally = { ours: 0, oursMissed: 0, neighbours: 0, neighboursMissed: 0, fdb: 0, fdbMissed: 0, nexthops: 0, nexthopsMissed: 0 };
  return {
    tally,
    route: (r) => {
      if (r.protocol !== opts.protocol) {
        const held = index.foreign.get(routeKey(r));
        return held !== undefined && routeMatches(held, r) ? held : r;
      }
      const held = index.ours.get(routeKey(r));
      if (held !== undefined && routeMatches(held, r)) {
        tally.ours++;
        return held;
      }
      // (a held route is in scope: only a miss needs the check)
      if (visible(r)) tally.oursMissed++;
      return r;
    },
    neighbour: (n) => {
      if (!owned.has(n.index)) return n;
      const held = perDeviceGet(index.neighbours, n.index, n.ip);
      if (held !== undefined && neighbourMatches(held, n)) {
        tally.neighbours++;
        return held;
      }
      tally.neighboursMissed++;
      return n;
    },
    fdb: (e) => {
      if (!owned.has(e.index)) return e;
      const held = perDeviceGet(index.fdb, e.index, e.mac);
      if (held !== undefined && held.length === 1 && fdbMatches(held[0]!, e)) {
        tally.fdb++;
        return held[0]!;
      }
      tally.fdbMissed++;
      return e;
    },
    nexthop: (nh) => {
      if (nh.protocol !== opts.protocol) {
        const held = index.foreignNexthops.get(nh.id);
        return held !== undefined && nexthopMatches(held, nh) ? held : nh;
      }
      const held = index.nexthops.get(nh.id);
      if (held !== undefined && nexthopMatches(held, nh)) {
        tally.nexthops++;
        return held;
      }
      if (visibleNexthop(nh)) tally.nexthopsMissed++;
      return nh;
    },
  };
}

/**
 * True when indexCurrent(dumped, opts) would hold what `index` holds, as far
 * as a diff can tell. `tally`: what reuseFrom(index) counted while this very
 * dump was listed; then knit's routes, neighbours and FDB entries are judged
 * by its counts (the same verdict, no second lookup per object).
 */
export function dumpMatches(index: IndexedCurrent, dumped: CurrentObjects, opts: DiffOptions, given?: ReuseTally): boolean {
  // the tally stands only if the callbacks saw every object compared (reuse is optional to a netlink implementation)
  const tally = given && tallySawAll(given, dumped, opts) ? given : undefined;
  let ours = 0;
  // Foreign routes may share a slot (fe80::/64 on every IPv6 link, one
  // metric): the index holds one of them, and the diff reads only that the
  // slot is taken and by which protocol. So per foreign slot: taken, by the
  // same protocol as the dump's first route there.
  const foreignSlots = new Set<string>();
  for (const r of dumped.routes) {
    if (r.protocol === opts.protocol) {
      if (tally) continue;
      const held = index.ours.get(routeKey(r));
      if (held === undefined || (held !== r && !routeMatches(held, r))) return false;
      ours++;
      continue;
    }
    const k = routeKey(r);
    if (!foreignSlots.has(k)) {
      if (index.foreign.get(k)?.protocol !== r.protocol) return false;
      foreignSlots.add(k);
    }
  }
  if (tally) {
    if (tally.oursMissed > 0) return false;
    ours = tally.ours;
  }
  if (ours !== index.ours.size || foreignSlots.size !== index.foreign.size) return false;
  if (!nexthopsMatch(index, dumped.nexthops ?? [], opts.protocol, tally)) return false;
  if (tally) {
    return tally.neighboursMissed === 0 && tally.neighbours === neighbourCount(index)
      && tally.fdbMissed === 0 && tally.fdb === fdbCount(index);
  }
  const owned = new Set(opts.ownedDevices);
  return neighboursMatch(index, dumped.neighbours, owned) && fdbMatch(index, dumped.fdb, owned);
}

/** Whether the tally counted exactly the objects of `dumped` that dumpMatches compares. */
function tallySawAll(t: ReuseTally, dumped: CurrentObjects, opts: DiffOptions): boolean {
  const owned = new Set(opts.ownedDevices);
  let ours = 0;
  for (const r of dumped.routes) if (r.protocol === opts.protocol) ours++;
  let neighbours = 0;
  for (const n of dumped.neighbours) if (owned.has(n.index)) neighbours++;
  let fdb = 0;
  for (const e of dumped.fdb) if (owned.has(e.index)) fdb++;
  let nexthops = 0;
  for (const nh of dumped.nexthops ?? []) if (nh.protocol === opts.protocol) nexthops++;
  return ours === t.ours + t.oursMissed && neighbours === t.neighbours + t.neighboursMissed && fdb === t.fdb + t.fdbMissed
    && nexthops === t.nexthops + t.nexthopsMissed;
}

/** knit's nexthops by the tally (when it stands) or one lookup each; foreign ones by id and protocol (all a diff reads of them). */
function nexthopsMatch(index: IndexedCurrent, dumped: readonly Nexthop[], protocol: number, tally: ReuseTally | undefined): boolean {
  let ours = 0;
  let foreign = 0;
  for (const d of dumped) {
    if (d.protocol !== protocol) {
      if (index.foreignNexthops.get(d.id)?.protocol !== d.protocol) return false;
      foreign++;
      continue;
    }
    if (tally) continue;
    const held = index.nexthops.get(d.id);
    if (held === undefined || (held !== d && !nexthopMatches(held, d))) return false;
    ours++;
  }
  if (tally) {
    if (tally.nexthopsMissed > 0) return false;
    ours = tally.nexthops;
  }
  return ours === index.nexthops.size && foreign === index.foreignNexthops.size;
}

function neighbourCount(index: IndexedCurrent): number {
  let total = 0;
  for (const byIp of index.neighbours.values()) total += byIp.size;
  return total;
}

function fdbCount(index: IndexedCurrent): number {
  let total = 0;
  for (const byMac of index.fdb.values()) for (const remotes of byMac.values()) total += remotes.length;
  return total;
}

function neighboursMatch(index: IndexedCurrent, dumped: readonly Neighbour[], owned: ReadonlySet<number>): boolean {
  let n = 0;
  for (const d of dumped) {
    if (!owned.has(d.index)) continue;
    const held = perDeviceGet(index.neighbours, d.index, d.ip);
    if (held === undefined || (held !== d && !neighbourMatches(held, d))) return false;
    n++;
  }
  return n === neighbourCount(index);
}

function fdbMatch(index: IndexedCurrent, dumped: readonly FdbEntry[], owned: ReadonlySet<number>): boolean {
  let n = 0;
  for (const d of dumped) {
    if (!owned.has(d.index)) continue;
    const held = perDeviceGet(index.fdb, d.index, d.mac);
    // one remote per MAC only: with several, which one a diff keeps depends on their order
    if (held === undefined || held.length !== 1 || (held[0] !== d && !fdbMatches(held[0]!, d))) return false;
    n++;
  }
  return n === fdbCount(index);
}
