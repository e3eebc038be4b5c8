/**
 * The pure heart of the reconciler: desired kernel objects vs what netlink
 * dumped → the operations that make the kernel match, and nothing more.
 *
 * Ownership rules (so knit never touches what it does not own):
 *   - routes: only those carrying knit's protocol number are ours; a desired
 *     route whose slot (table, dst, metric) is held by a foreign route is a
 *     conflict, reported and NOT written (a replace would clobber it);
 *   - neighbours and FDB entries: only those on the backend's own devices;
 *     non-permanent neighbours there belong to the kernel (ARP) and are left
 *     alone unless a desired entry needs their slot.
 * Extras of ours are deleted, which also removes what peers that vanished
 * while knitd was down left behind (flannel #2554).
 */
import type { FdbEntry, Neighbour, Route } from '../../netlink';

const RT_TABLE_MAIN = 254;

/** A kernel object knit manages. */
export type KernelObject =
  | { kind: 'route'; value: Route }
  | { kind: 'neighbour'; value: Neighbour }
  | { kind: 'fdb'; value: FdbEntry };

export type ObjectKind = KernelObject['kind'];

/** One write: add (absent), replace (present but different) or delete (ours, not desired). */
export interface DiffOp {
  action: 'add' | 'replace' | 'delete';
  object: KernelObject;
}

/** A desired route whose slot a route knit does not own already holds. */
export interface RouteConflict {
  want: Route;
  foreign: Route;
}

/** The flat desired set the diff works on. */
export interface DesiredObjects {
  routes: readonly Route[];
  neighbours: readonly Neighbour[];
  fdb: readonly FdbEntry[];
}

/** What netlink dumped: every IPv4 and IPv6 main-table route, and neighbours (both families)/FDB of any device (filtered here). */
export interface CurrentObjects {
  routes: readonly Route[];
  neighbours: readonly Neighbour[];
  fdb: readonly FdbEntry[];
}

export interface DiffOptions {
  /** The route protocol number marking knit's routes (RTPROT_KNIT). */
  protocol: number;
  /** Devices whose neighbours and FDB entries knit owns. */
  ownedDevices: readonly number[];
}

/** The result: ops in a safe apply order (deletes, then neighbours/FDB, then routes). */
export interface DataplaneDiff {
  ops: DiffOp[];
  conflicts: RouteConflict[];
  /** Desired objects already present and equal. */
  unchanged: number;
}

/** The kernel gives an IPv6 route metric 1024 when none is set (IPv4: 0). */
const IPV6_DEFAULT_METRIC = 1024;

/** Identity of a route in the kernel (ignoring TOS, which knit never sets); an IPv6 route without a metric is the kernel's 1024. */
export function routeKey(r: Route): string {
  return `${r.table ?? RT_TABLE_MAIN}|${r.dst}|${r.metric ?? (r.dst.includes(':') ? IPV6_DEFAULT_METRIC : 0)}`;
}

export function neighbourKey(n: Pick<Neighbour, 'index' | 'ip'>): string {
  return `${n.index}|${n.ip}`;
}

export function fdbKey(e: Pick<FdbEntry, 'index' | 'mac'>): string {
  return `${e.index}|${e.mac}`;
}

/** Key of any object, unique across kinds (for status bookkeeping). */
export function objectKey(o: KernelObject): string {
  switch (o.kind) {
    case 'route': return `route|${routeKey(o.value)}`;
    case 'neighbour': return `neighbour|${neighbourKey(o.value)}`;
    case 'fdb': return `fdb|${fdbKey(o.value)}`;
  }
}

/** True when the kernel's route does what the desired one asks (fields knit sets). */
export function routeMatches(want: Route, have: Route): boolean {
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

/**
 * Compare desired with current. Pure: no I/O, deterministic op order
 * (deletes first so an FDB replace never races a delete of the same MAC,
 * then neighbours and FDB so routes resolve at once, then routes).
 */
export function diffDataplane(desired: DesiredObjects, current: CurrentObjects, opts: DiffOptions): DataplaneDiff {
  const owned = new Set(opts.ownedDevices);
  const deletes: DiffOp[] = [];
  const l2: DiffOp[] = [];
  const routes: DiffOp[] = [];
  const conflicts: RouteConflict[] = [];
  let unchanged = 0;

  // Routes.
  const ours = new Map<string, Route>();
  const foreign = new Map<string, Route>();
  for (const r of current.routes) {
    const k = routeKey(r);
    if (r.protocol === opts.protocol) {
      // two of ours in one slot cannot happen in the kernel; keep the first
      if (!ours.has(k)) ours.set(k, r);
    } else if (!foreign.has(k)) {
      foreign.set(k, r);
    }
  }
  const wantedRoutes = new Set<string>();
  for (const want of desired.routes) {
    const k = routeKey(want);
    if (wantedRoutes.has(k)) continue;
    wantedRoutes.add(k);
    const have = ours.get(k);
    if (have) {
      if (routeMatches(want, have)) unchanged++;
      else routes.push({ action: 'replace', object: { kind: 'route', value: want } });
      continue;
    }
    const other = foreign.get(k);
    if (other) {
      conflicts.push({ want, foreign: other });
      continue;
    }
    routes.push({ action: 'add', object: { kind: 'route', value: want } });
  }
  for (const [k, have] of ours) {
    if (!wantedRoutes.has(k)) deletes.push({ action: 'delete', object: { kind: 'route', value: have } });
  }

  // Neighbours on owned devices.
  const haveNeigh = new Map<string, Neighbour>();
  for (const n of current.neighbours) if (owned.has(n.index)) haveNeigh.set(neighbourKey(n), n);
  const wantedNeigh = new Set<string>();
  for (const want of desired.neighbours) {
    const k = neighbourKey(want);
    if (wantedNeigh.has(k)) continue;
    wantedNeigh.add(k);
    const have = haveNeigh.get(k);
    if (!have) l2.push({ action: 'add', object: { kind: 'neighbour', value: want } });
    else if (neighbourMatches(want, have)) unchanged++;
    else l2.push({ action: 'replace', object: { kind: 'neighbour', value: want } });
  }
  for (const [k, have] of haveNeigh) {
    if (!wantedNeigh.has(k) && have.permanent) deletes.push({ action: 'delete', object: { kind: 'neighbour', value: have } });
  }

  // FDB entries on owned devices: one remote per MAC; extra remotes of a wanted MAC are deleted.
  const haveFdb = new Map<string, FdbEntry[]>();
  for (const e of current.fdb) {
    if (!owned.has(e.index)) continue;
    const k = fdbKey(e);
    const list = haveFdb.get(k);
    if (list) list.push(e);
    else haveFdb.set(k, [e]);
  }
  const wantedFdb = new Set<string>();
  for (const want of desired.fdb) {
    const k = fdbKey(want);
    if (wantedFdb.has(k)) continue;
    wantedFdb.add(k);
    const have = haveFdb.get(k) ?? [];
    // keep the matching remote, else the first one (a replace rewrites it in place)
    const keep = have.find((e) => fdbMatches(want, e)) ?? have[0];
    for (const e of have) if (e !== keep) deletes.push({ action: 'delete', object: { kind: 'fdb', value: e } });
    if (!keep) l2.push({ action: 'add', object: { kind: 'fdb', value: want } });
    else if (fdbMatches(want, keep)) unchanged++;
    else l2.push({ action: 'replace', object: { kind: 'fdb', value: want } });
  }
  for (const [k, have] of haveFdb) {
    if (wantedFdb.has(k)) continue;
    for (const e of have) deletes.push({ action: 'delete', object: { kind: 'fdb', value: e } });
  }

  return { ops: [...deletes, ...l2, ...routes], conflicts, unchanged };
}
