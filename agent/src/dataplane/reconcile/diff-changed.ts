/**
 * The diff of a run in which only some peers' plans changed (issue 17: a
 * join or leave costs work for that peer, not for every peer). It makes the
 * ops diffIndexed would make over the whole desired set, under what the
 * reconciler guarantees before it asks (reconciler.ts, `scopedOk`):
 *
 *   - the kernel (view) held exactly the last run's desired objects, no more
 *     (that run wrote without failures and had no conflicts), and nothing
 *     changed it from outside since that run's diff read it (the view
 *     counts such changes: KernelView.unexplainedChanges);
 *   - no two plans of the last run shared a key (its diff had no duplicates).
 *
 * Then every object of an unchanged plan is unchanged, and nothing of ours
 * is stale except what the changed plans no longer want: the full diff's ops
 * are the changed plans' adds/replaces/conflicts plus the deletes of their
 * old objects (per apply phase the same ops; the order inside a phase, which
 * apply.ts runs concurrently, may differ). When a changed plan's key is
 * shared with another plan the result could differ from the full diff, so
 * there is none (undefined) and the reconciler runs the full diff.
 *
 * The last run's wanted sets are updated in place into this run's (the
 * reconciler's event filter reads them).
 */
import type { FdbEntry, Neighbour, Nexthop, Route } from '../../netlink';
import type { PeerPlan } from './types';
import { addWanted as add, diffNexthop, diffRoute, fdbMatches, neighbourMatches, nexthopMatches, perDeviceGet, routeKey, routeMatches } from './diff';
import type { Conflict, DataplaneDiff, DesiredObjects, DiffOp, IndexedCurrent, MutableWanted } from './diff';

/** The plans that changed since the last run, by subnet: as the last run had them, and as they are now. */
export interface PlanChange {
  /** removed or replaced plans (the last run's objects) */
  before: readonly DesiredObjects[];
  /** added or replacing plans */
  after: readonly DesiredObjects[];
}

/** Keys of some plans' objects, per kind. */
interface Keys {
  routes: Set<string>;
  nexthops: Set<number>;
  neighbours: Map<number, Set<string>>;
  fdb: Map<number, Set<string>>;
}

const has = (m: ReadonlyMap<number, ReadonlySet<string>>, index: number, k: string): boolean => m.get(index)?.has(k) === true;

/** The plans' keys; undefined when two of their objects share one. */
function keysOf(plans: readonly DesiredObjects[]): Keys | undefined {
  const k: Keys = { routes: new Set(), nexthops: new Set(), neighbours: new Map(), fdb: new Map() };
  for (const p of plans) {
    for (const nh of p.nexthops ?? []) {
      if (k.nexthops.has(nh.id)) return undefined;
      k.nexthops.add(nh.id);
    }
    for (const r of p.routes) {
      const rk = routeKey(r);
      if (k.routes.has(rk)) return undefined;
      k.routes.add(rk);
    }
    for (const n of p.neighbours) if (!add(k.neighbours, n.index, n.ip)) return undefined;
    for (const e of p.fdb) if (!add(k.fdb, e.index, e.mac)) return undefined;
  }
  return k;
}

/** Every key of `before` is wanted, and no key of `after` is wanted by a plan that did not change. */
function provable(before: Keys, after: Keys, wanted: MutableWanted): boolean {
  for (const k of before.routes) if (!wanted.routes.has(k)) return false;
  for (const k of before.nexthops) if (!wanted.nexthops.has(k)) return false;
  for (const [i, d] of before.neighbours) for (const k of d) if (!has(wanted.neighbours, i, k)) return false;
  for (const [i, d] of before.fdb) for (const k of d) if (!has(wanted.fdb, i, k)) return false;
  for (const k of after.routes) if (wanted.routes.has(k) && !before.routes.has(k)) return false;
  for (const k of after.nexthops) if (wanted.nexthops.has(k) && !before.nexthops.has(k)) return false;
  for (const [i, d] of after.neighbours) for (const k of d) if (has(wanted.neighbours, i, k) && !has(before.neighbours, i, k)) return false;
  for (const [i, d] of after.fdb) for (const k of d) if (has(wanted.fdb, i, k) && !has(before.fdb, i, k)) return false;
  return true;
}

function wantedCount(w: MutableWanted): number {
  let n = w.routes.size + w.nexthops.size;
  for (const d of w.neighbours.values()) n += d.size;
  for (const d of w.fdb.values()) n += d.size;
  return n;
}

/**
 * diffIndexed's ops for a run where only `change` differs from the last run
 * (see the module note for what the caller guarantees); undefined when a
 * changed plan shares a key with another plan. Updates `wanted` in place.
 */
export function diffChanged(change: PlanChange, current: IndexedCurrent, wanted: MutableWanted): DataplaneDiff | undefined {
  const before = keysOf(change.before);
  const after = keysOf(change.after);
  if (!before || !after || !provable(before, after, wanted)) return undefined;

  // This run's wanted keys: the last run's, minus the old plans', plus the new ones'.
  for (const k of before.routes) wanted.routes.delete(k);
  for (const k of before.nexthops) wanted.nexthops.delete(k);
  for (const [i, d] of before.neighbours) for (const k of d) wanted.neighbours.get(i)?.delete(k);
  for (const [i, d] of before.fdb) for (const k of d) wanted.fdb.get(i)?.delete(k);
  for (const k of after.routes) wanted.routes.add(k);
  for (const k of after.nexthops) wanted.nexthops.add(k);
  for (const [i, d] of after.neighbours) for (const k of d) add(wanted.neighbours, i, k);
  for (const [i, d] of after.fdb) for (const k of d) add(wanted.fdb, i, k);

  // The same per-object rules as diffIndexed (shared: diffNexthop, diffRoute), in its op order (deletes, neighbours/FDB/nexthops, routes).
  const deletes: DiffOp[] = [];
  const neighOps: DiffOp[] = [];
  const fdbOps: DiffOp[] = [];
  const routeOps: DiffOp[] = [];
  const nexthopOps: DiffOp[] = [];
  const conflicts: Conflict[] = [];
  for (const part of change.after) {
    for (const want of part.nexthops ?? []) diffNexthop(want, current, nexthopOps, conflicts);
    for (const want of part.routes) diffRoute(want, routeKey(want), current, routeOps, conflicts);
    for (const want of part.neighbours) {
      const have = perDeviceGet(current.neighbours, want.index, want.ip);
      if (!have) neighOps.push({ action: 'add', object: { kind: 'neighbour', value: want } });
      else if (!neighbourMatches(want, have)) neighOps.push({ action: 'replace', object: { kind: 'neighbour', value: want } });
    }
    for (const want of part.fdb) {
      const have = perDeviceGet(current.fdb, want.index, want.mac) ?? [];
      const keep = have.find((e) => fdbMatches(want, e)) ?? have[0];
      for (const e of have) if (e !== keep) deletes.push({ action: 'delete', object: { kind: 'fdb', value: e } });
      if (!keep) fdbOps.push({ action: 'add', object: { kind: 'fdb', value: want } });
      else if (!fdbMatches(want, keep)) fdbOps.push({ action: 'replace', object: { kind: 'fdb', value: want } });
    }
  }
  // What the old plans had and nobody wants now: ours in the kernel, so stale.
  const routeDeletes: DiffOp[] = [];
  const neighDeletes: DiffOp[] = [];
  const fdbDeletes: DiffOp[] = [];
  const nexthopDeletes: DiffOp[] = [];
  for (const id of before.nexthops) {
    if (after.nexthops.has(id)) continue;
    const have: Nexthop | undefined = current.nexthops.get(id);
    if (have) nexthopDeletes.push({ action: 'delete', object: { kind: 'nexthop', value: have } });
  }
  for (const k of before.routes) {
    if (after.routes.has(k)) continue;
    const have: Route | undefined = current.ours.get(k);
    if (have) routeDeletes.push({ action: 'delete', object: { kind: 'route', value: have } });
  }
  for (const [i, d] of before.neighbours) {
    for (const ip of d) {
      if (has(after.neighbours, i, ip)) continue;
      const have: Neighbour | undefined = perDeviceGet(current.neighbours, i, ip);
      if (have?.permanent) neighDeletes.push({ action: 'delete', object: { kind: 'neighbour', value: have } });
    }
  }
  for (const [i, d] of before.fdb) {
    for (const mac of d) {
      if (has(after.fdb, i, mac)) continue;
      const have: readonly FdbEntry[] = perDeviceGet(current.fdb, i, mac) ?? [];
      for (const e of have) fdbDeletes.push({ action: 'delete', object: { kind: 'fdb', value: e } });
    }
  }
  const writes = neighOps.length + fdbOps.length + nexthopOps.length + routeOps.length;
  return {
    ops: [...routeDeletes, ...neighDeletes, ...deletes, ...fdbDeletes, ...nexthopDeletes, ...neighOps, ...fdbOps, ...nexthopOps, ...routeOps],
    conflicts,
    // every wanted key is unchanged, written or in conflict; those of unchanged plans are unchanged
    unchanged: wantedCount(wanted) - writes - conflicts.length,
    duplicates: 0,
    wanted,
  };
}

/**
 * Plans that differ between two runs, by subnet. An unchanged lease keeps
 * its plan object where the backend caches plans (vxlan); otherwise equal
 * objects (in what the diff compares) count as unchanged.
 */
export function planChange(last: ReadonlyMap<string, PeerPlan>, now: ReadonlyMap<string, PeerPlan>): { before: PeerPlan[]; after: PeerPlan[] } {
  const before: PeerPlan[] = [];
  const after: PeerPlan[] = [];
  for (const [subnet, p] of now) {
    const o = last.get(subnet);
    if (o === p || (o !== undefined && samePlan(o, p))) continue;
    if (o !== undefined) before.push(o);
    after.push(p);
  }
  if (last.size + after.length - before.length !== now.size) {
    for (const [subnet, o] of last) if (!now.has(subnet)) before.push(o);
  }
  return { before, after };
}

function samePlan(a: PeerPlan, b: PeerPlan): boolean {
  const an = a.nexthops ?? [];
  const bn = b.nexthops ?? [];
  return an.length === bn.length && an.every((nh, i) => nh.id === bn[i]!.id && nexthopMatches(nh, bn[i]!))
    && a.routes.length === b.routes.length && a.neighbours.length === b.neighbours.length && a.fdb.length === b.fdb.length
    && a.routes.every((r, i) => routeKey(r) === routeKey(b.routes[i]!) && routeMatches(r, b.routes[i]!))
    && a.neighbours.every((n, i) => n.index === b.neighbours[i]!.index && n.ip === b.neighbours[i]!.ip && neighbourMatches(n, b.neighbours[i]!))
    && a.fdb.every((e, i) => e.index === b.fdb[i]!.index && e.mac === b.fdb[i]!.mac && fdbMatches(e, b.fdb[i]!));
}
