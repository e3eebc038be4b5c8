/**
 * The pure heart of the reconciler: desired kernel objects vs what netlink
 * dumped → the operations that make the kernel match, and nothing more.
 *
 * Ownership rules (so knit never touches what it does not own):
 *   - routes: only those carrying knit's protocol number are ours; a desired
 *     route whose slot (table, dst, metric) is held by a foreign route is a
 *     conflict, reported and NOT written (a replace would clobber it);
 *   - nexthop objects: only those carrying knit's protocol number are ours,
 *     keyed by id; a desired nexthop whose id a foreign one holds is a
 *     conflict, and so is every desired route through that id (written, it
 *     would send the peer's traffic where the foreign nexthop says);
 *   - neighbours and FDB entries: only those on the backend's own devices;
 *     non-permanent neighbours there belong to the kernel (ARP) and are left
 *     alone unless a desired entry needs their slot.
 * Extras of ours are deleted, which also removes what peers that vanished
 * while knitd was down left behind (flannel #2554).
 */
import type { FdbEntry, Neighbour, Nexthop, Route } from '../../netlink';

const RT_TABLE_MAIN = 254;

/** A kernel object knit manages. */
export type KernelObject =
  | { kind: 'route'; value: Route }
  | { kind: 'neighbour'; value: Neighbour }
  | { kind: 'fdb'; value: FdbEntry }
  | { kind: 'nexthop'; value: Nexthop };

export type ObjectKind = KernelObject['kind'];

/** One write: add (absent), replace (present but different) or delete (ours, not desired). */
export interface DiffOp {
  action: 'add' | 'replace' | 'delete';
  object: KernelObject;
}

/**
 * A desired object not written because something knit does not own holds
 * its slot: a foreign route in a route's slot, a foreign nexthop with a
 * nexthop's id, or a foreign nexthop with the id a desired route goes through.
 */
export interface Conflict {
  want: Route | Nexthop;
  foreign: Route | Nexthop;
  /** the slot as logged: a route's dst, or "nexthop id N" */
  slot: string;
}

function routeConflict(want: Route, foreign: Route): Conflict {
  return { want, foreign, slot: want.dst };
}

function nexthopConflict(want: Route | Nexthop, foreign: Nexthop): Conflict {
  return { want, foreign, slot: 'dst' in want ? `${want.dst} (nexthop id ${foreign.id})` : `nexthop id ${want.id}` };
}

/** The flat desired set the diff works on. */
export interface DesiredObjects {
  routes: readonly Route[];
  neighbours: readonly Neighbour[];
  fdb: readonly FdbEntry[];
  /** nexthop objects the routes go through (Route.nhid); none when absent */
  nexthops?: readonly Nexthop[];
}

/** What netlink dumped: every IPv4 and IPv6 main-table route, and neighbours (both families)/FDB of any device (filtered here). */
export interface CurrentObjects {
  routes: readonly Route[];
  neighbours: readonly Neighbour[];
  fdb: readonly FdbEntry[];
  /** every nexthop object (none when absent: a kernel without them) */
  nexthops?: readonly Nexthop[];
}

export interface DiffOptions {
  /** The route protocol number marking knit's routes (RTPROT_KNIT). */
  protocol: number;
  /** Devices whose neighbours and FDB entries knit owns. */
  ownedDevices: readonly number[];
}

/** The result: ops in a safe apply order (deletes, then neighbours/FDB/nexthops, then routes; apply.ts runs nexthop deletes last). */
export interface DataplaneDiff {
  ops: DiffOp[];
  conflicts: Conflict[];
  /** Desired objects already present and equal. */
  unchanged: number;
  /** Desired objects skipped because an earlier one had their key (the reconciler runs no scoped diff after such a run). */
  duplicates: number;
  /** The desired objects' keys (the first of duplicates counts); the reconciler's next scoped diff changes them in place */
  wanted: MutableWanted;
}

/** The kernel gives an IPv6 route metric 1024 when none is set (IPv4: 0). */
const IPV6_DEFAULT_METRIC = 1024;

/**
 * Identity of a route in the kernel: table, dst and metric (ignoring TOS,
 * which knit never sets); an IPv6 route without a metric is the kernel's
 * 1024. A main-table route with its family's default metric (every route
 * knit writes) is keyed by its dst string itself, so keying 10 000 routes
 * allocates nothing; any other slot gets "table|dst|metric", which a dst
 * (no '|') never equals.
 */
export function routeKey(r: Route): string {
  const table = r.table ?? RT_TABLE_MAIN;
  const def = r.dst.includes(':') ? IPV6_DEFAULT_METRIC : 0;
  const metric = r.metric ?? def;
  return table === RT_TABLE_MAIN && metric === def ? r.dst : `${table}|${r.dst}|${metric}`;
}

export function neighbourKey(n: Pick<Neighbour, 'index' | 'ip'>): string {
  return `${n.index}|${n.ip}`;
}

export function fdbKey(e: Pick<FdbEntry, 'index' | 'mac'>): string {
  return `${e.index}|${e.mac}`;
}

/** A nexthop object's identity is its id alone (the kernel's). */
export function nexthopKey(nh: Pick<Nexthop, 'id'>): number {
  return nh.id;
}

/** Key of any object, unique across kinds (for status bookkeeping). */
export function objectKey(o: KernelObject): string {
  switch (o.kind) {
    case 'route': return `route|${routeKey(o.value)}`;
    case 'neighbour': return `neighbour|${neighbourKey(o.value)}`;
    case 'fdb': return `fdb|${fdbKey(o.value)}`;
    case 'nexthop': return `nexthop|${o.value.id}`;
  }
}

/**
 * True when the kernel's route does what the desired one asks (fields knit
 * sets). A route through a nexthop object is compared by its id: where it
 * goes is the nexthop's business (nexthopMatches).
 */
export function routeMatches(want: Route, have: Route): boolean {
  if ((want.nhid ?? 0) !== (have.nhid ?? 0)) return false;
  if (want.nhid !== undefined) return (want.protocol ?? 0) === (have.protocol ?? 0) && (want.src ?? '') === (have.src ?? '');
  return (want.gateway ?? '') === (have.gateway ?? '')
    && (want.index ?? 0) === (have.index ?? 0)
    && (want.onlink === true) === (have.onlink === true)
    && (want.protocol ?? 0) === (have.protocol ?? 0)
    && (want.src ?? '') === (have.src ?? '');
}

export function neighbourMatches(want: Neighbour, have: Neighbour): boolean {
  return want.mac === have.mac && want.permanent === have.permanent;
}

export function fdbMatches(want: FdbEntry, have: FdbEntry): boolean {
  return (want.dst ?? '') === (have.dst ?? '') && want.permanent === have.permanent;
}

export function nexthopMatches(want: Nexthop, have: Nexthop): boolean {
  return want.gateway === have.gateway && want.index === have.index && (want.onlink === true) === (have.onlink === true)
    && (want.protocol ?? 0) === (have.protocol ?? 0);
}

/** Per owned device (ifindex), objects by their address on it (neighbour IP, FDB MAC): no key string per object. */
export type PerDevice<T> = Map<number, Map<string, T>>;

/**
 * The kernel's objects indexed the way the diff looks them up: routes by
 * routeKey split into knit's (its protocol) and foreign ones; neighbours and
 * FDB entries (all remotes of a MAC) on owned devices only. Built from a
 * dump (indexCurrent) or kept current between dumps (kernel-view.ts).
 */
export interface IndexedCurrent {
  ours: ReadonlyMap<string, Route>;
  foreign: ReadonlyMap<string, Route>;
  /** nexthop objects by id: knit's (its protocol) and the others */
  nexthops: ReadonlyMap<number, Nexthop>;
  foreignNexthops: ReadonlyMap<number, Nexthop>;
  neighbours: ReadonlyMap<number, ReadonlyMap<string, Neighbour>>;
  fdb: ReadonlyMap<number, ReadonlyMap<string, readonly FdbEntry[]>>;
}

/** An IndexedCurrent whose maps the owner changes in place (the kernel view). */
export interface MutableIndex extends IndexedCurrent {
  ours: Map<string, Route>;
  foreign: Map<string, Route>;
  nexthops: Map<number, Nexthop>;
  foreignNexthops: Map<number, Nexthop>;
  neighbours: PerDevice<Neighbour>;
  fdb: PerDevice<FdbEntry[]>;
}

/** What a diff wanted, by the same keys: the reconciler judges netlink events against it (event-filter.ts). */
export interface WantedIndex {
  routes: ReadonlySet<string>;
  /** nexthop ids */
  nexthops: ReadonlySet<number>;
  neighbours: ReadonlyMap<number, ReadonlySet<string>>;
  fdb: ReadonlyMap<number, ReadonlySet<string>>;
}

/** A WantedIndex its owner changes in place (diff-changed.ts). */
export interface MutableWanted extends WantedIndex {
  routes: Set<string>;
  nexthops: Set<number>;
  neighbours: Map<number, Set<string>>;
  fdb: Map<number, Set<string>>;
}

export function perDeviceGet<T>(m: ReadonlyMap<number, ReadonlyMap<string, T>>, index: number, k: string): T | undefined {
  return m.get(index)?.get(k);
}

export function perDeviceSet<T>(m: PerDevice<T>, index: number, k: string, v: T): void {
  let d = m.get(index);
  if (!d) {
    d = new Map();
    m.set(index, d);
  }
  d.set(k, v);
}

/** Adds key `k` under device `index`; false when it was there already (a duplicate). */
export function addWanted(m: Map<number, Set<string>>, index: number, k: string): boolean {
  let d = m.get(index);
  if (!d) {
    d = new Set();
    m.set(index, d);
  }
  if (d.has(k)) return false;
  d.add(k);
  return true;
}

/**
 * Index a dump for the diff: routes by routeKey (the first of ours and the
 * first foreign one per slot: two of ours in one slot cannot happen in the
 * kernel), neighbours and every FDB remote on the owned devices.
 */
export function indexCurrent(current: CurrentObjects, opts: DiffOptions): MutableIndex {
  const owned = new Set(opts.ownedDevices);
  const ours = new Map<string, Route>();
  const foreign = new Map<string, Route>();
  for (const r of current.routes) {
    const k = routeKey(r);
    const m = r.protocol === opts.protocol ? ours : foreign;
    if (!m.has(k)) m.set(k, r);
  }
  const nexthops = new Map<number, Nexthop>();
  const foreignNexthops = new Map<number, Nexthop>();
  for (const nh of current.nexthops ?? []) (nh.protocol === opts.protocol ? nexthops : foreignNexthops).set(nh.id, nh);
  const neighbours: PerDevice<Neighbour> = new Map();
  for (const n of current.neighbours) if (owned.has(n.index)) perDeviceSet(neighbours, n.index, n.ip, n);
  const fdb: PerDevice<FdbEntry[]> = new Map();
  for (const e of current.fdb) {
    if (!owned.has(e.index)) continue;
    const list = perDeviceGet(fdb, e.index, e.mac);
    if (list) list.push(e);
    else perDeviceSet(fdb, e.index, e.mac, [e]);
  }
  return { ours, foreign, nexthops, foreignNexthops, neighbours, fdb };
}

/** An empty index (nothing dumped yet). */
export function emptyIndex(): MutableIndex {
  return { ours: new Map(), foreign: new Map(), nexthops: new Map(), foreignNexthops: new Map(), neighbours: new Map(), fdb: new Map() };
}

/** Empty wanted sets. */
export function emptyWanted(): MutableWanted {
  return { routes: new Set(), nexthops: new Set(), neighbours: new Map(), fdb: new Map() };
}

/**
 * The diff of one desired nexthop against the kernel, pushed to `ops` (add
 * or replace) or `conflicts`; whether it was unchanged. Shared by the full
 * and the scoped diff.
 */
export function diffNexthop(want: Nexthop, current: IndexedCurrent, ops: DiffOp[], conflicts: Conflict[]): boolean {
  const have = current.nexthops.get(want.id);
  if (have) {
    if (nexthopMatches(want, have)) return true;
    ops.push({ action: 'replace', object: { kind: 'nexthop', value: want } });
    return false;
  }
  const other = current.foreignNexthops.get(want.id);
  if (other) conflicts.push(nexthopConflict(want, other));
  else ops.push({ action: 'add', object: { kind: 'nexthop', value: want } });
  return false;
}

/**
 * The diff of one desired route, as diffNexthop; a route through a nexthop
 * id that a foreign nexthop holds is a conflict (see the module note).
 */
export function diffRoute(want: Route, k: string, current: IndexedCurrent, ops: DiffOp[], conflicts: Conflict[]): boolean {
  const foreignNh = want.nhid !== undefined ? current.foreignNexthops.get(want.nhid) : undefined;
  if (foreignNh) {
    conflicts.push(nexthopConflict(want, foreignNh));
    return false;
  }
  const have = current.ours.get(k);
  if (have) {
    if (routeMatches(want, have)) return true;
    ops.push({ action: 'replace', object: { kind: 'route', value: want } });
    return false;
  }
  const other = current.foreign.get(k);
  if (other) conflicts.push(routeConflict(want, other));
  else ops.push({ action: 'add', object: { kind: 'route', value: want } });
  return false;
}

/**
 * Compare desired with current. Pure: no I/O, deterministic op order
 * (deletes first so an FDB replace never races a delete of the same MAC,
 * then neighbours and FDB so routes resolve at once, then routes).
 */
export function diffDataplane(desired: DesiredObjects, current: CurrentObjects, opts: DiffOptions): DataplaneDiff {
  return diffIndexed([desired], indexCurrent(current, opts), opts);
}

/**
 * diffDataplane over an indexed kernel and the desired objects in parts (the
 * reconciler passes its peer plans as they are: no flat copy per run). The
 * ops are those diffDataplane makes for the parts concatenated. Owned
 * devices are the index's (an IndexedCurrent holds nothing else).
 *
 * `known`: the wanted sets a diff of these same desired objects made before,
 * when it found no duplicates (the reconciler's periodic resync, when no
 * plan changed since). The wanted sets are then not built again (30 000 keys
 * added to fresh sets per resync at 10 000 vxlan peers, and their garbage);
 * `known` is returned as this diff's, and the ops are the same.
 */
export function diffIndexed(desired: readonly DesiredObjects[], current: IndexedCurrent, opts: DiffOptions, known?: MutableWanted): DataplaneDiff {
  const deletes: DiffOp[] = [];
  const l2: DiffOp[] = [];
  const routes: DiffOp[] = [];
  const conflicts: Conflict[] = [];
  let unchanged = 0;
  let duplicates = 0;

  // Routes, neighbours and FDB in one pass over the parts; the op lists keep the per-kind order.
  const wantedRoutes = known?.routes ?? new Set<string>();
  const wantedNexthops = known?.nexthops ?? new Set<number>();
  const wantedNeigh = known?.neighbours ?? new Map<number, Set<string>>();
  const wantedFdb = known?.fdb ?? new Map<number, Set<string>>();
  const build = known === undefined;
  const neighOps: DiffOp[] = [];
  const fdbOps: DiffOp[] = [];
  const fdbDeletes: DiffOp[] = [];
  const nexthopOps: DiffOp[] = [];
  for (const part of desired) {
    for (const want of part.nexthops ?? []) {
      if (build) {
        if (wantedNexthops.has(want.id)) {
          duplicates++;
          continue;
        }
        wantedNexthops.add(want.id);
      }
      if (diffNexthop(want, current, nexthopOps, conflicts)) unchanged++;
    }
    for (const want of part.routes) {
      const k = routeKey(want);
      if (build) {
        if (wantedRoutes.has(k)) {
          duplicates++;
          continue;
        }
        wantedRoutes.add(k);
      }
      if (diffRoute(want, k, current, routes, conflicts)) unchanged++;
    }
    for (const want of part.neighbours) {
      if (build && !addWanted(wantedNeigh, want.index, want.ip)) {
        duplicates++;
        continue;
      }
      const have = perDeviceGet(current.neighbours, want.index, want.ip);
      if (!have) neighOps.push({ action: 'add', object: { kind: 'neighbour', value: want } });
      else if (neighbourMatches(want, have)) unchanged++;
      else neighOps.push({ action: 'replace', object: { kind: 'neighbour', value: want } });
    }
    // FDB entries on owned devices: one remote per MAC; extra remotes of a wanted MAC are deleted.
    for (const want of part.fdb) {
      if (build && !addWanted(wantedFdb, want.index, want.mac)) {
        duplicates++;
        continue;
      }
      const have = perDeviceGet(current.fdb, want.index, want.mac) ?? [];
      // keep the matching remote, else the first one (a replace rewrites it in place)
      const keep = have.find((e) => fdbMatches(want, e)) ?? have[0];
      for (const e of have) if (e !== keep) fdbDeletes.push({ action: 'delete', object: { kind: 'fdb', value: e } });
      if (!keep) fdbOps.push({ action: 'add', object: { kind: 'fdb', value: want } });
      else if (fdbMatches(want, keep)) unchanged++;
      else fdbOps.push({ action: 'replace', object: { kind: 'fdb', value: want } });
    }
  }
  for (const [k, have] of current.ours) {
    if (!wantedRoutes.has(k)) deletes.push({ action: 'delete', object: { kind: 'route', value: have } });
  }
  // Neighbours on owned devices: a permanent one nobody wants is ours and stale (ARP's are the kernel's).
  for (const [index, byIp] of current.neighbours) {
    const wanted = wantedNeigh.get(index);
    for (const [ip, have] of byIp) {
      if (have.permanent && !wanted?.has(ip)) deletes.push({ action: 'delete', object: { kind: 'neighbour', value: have } });
    }
  }
  deletes.push(...fdbDeletes);
  for (const [index, byMac] of current.fdb) {
    const wanted = wantedFdb.get(index);
    for (const [mac, have] of byMac) {
      if (wanted?.has(mac)) continue;
      for (const e of have) deletes.push({ action: 'delete', object: { kind: 'fdb', value: e } });
    }
  }
  // Nexthops of ours nobody wants: deleted after the routes (the kernel would take any route still using one with it).
  const nexthopDeletes: DiffOp[] = [];
  for (const [id, have] of current.nexthops) {
    if (!wantedNexthops.has(id)) nexthopDeletes.push({ action: 'delete', object: { kind: 'nexthop', value: have } });
  }
  l2.push(...neighOps, ...fdbOps, ...nexthopOps);
  return {
    ops: [...deletes, ...nexthopDeletes, ...l2, ...routes],
    conflicts,
    unchanged,
    duplicates,
    wanted: known ?? { routes: wantedRoutes, nexthops: wantedNexthops, neighbours: wantedNeigh, fdb: wantedFdb },
  };
}
