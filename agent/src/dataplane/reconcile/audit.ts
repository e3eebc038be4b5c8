/**
 * Read-only comparison of what the kernel holds with what the backend wants,
 * per peer: the operator API's "peers as programmed" view. Pure; the
 * reconciler supplies a fresh dump, so the answer is the kernel's truth, not
 * a memory of the last run.
 */
import type { FdbEntry, Neighbour, Nexthop, Route } from '../../netlink';
import { fdbKey, fdbMatches, neighbourKey, neighbourMatches, nexthopMatches, routeKey, routeMatches, type CurrentObjects } from './diff';
import type { DesiredDataplane, PeerPlan } from './types';

/** in-sync: present and equal; missing: absent; differs: present but not equal; stale: knit's, not wanted. */
export type AuditState = 'in-sync' | 'missing' | 'differs' | 'stale';

export interface AuditedObject<T> {
  want: T;
  have?: T;
  state: AuditState;
}

export interface PeerAudit {
  plan: PeerPlan;
  routes: AuditedObject<Route>[];
  neighbours: AuditedObject<Neighbour>[];
  fdb: AuditedObject<FdbEntry>[];
  nexthops: AuditedObject<Nexthop>[];
}

export interface DataplaneAudit {
  peers: PeerAudit[];
  /** knit-owned kernel objects no peer wants (removed at the next reconcile) */
  stale: { routes: Route[]; neighbours: Neighbour[]; fdb: FdbEntry[]; nexthops: Nexthop[] };
}

function compare<T, K>(wanted: readonly T[], have: ReadonlyMap<K, T>, key: (x: T) => K, same: (w: T, h: T) => boolean): AuditedObject<T>[] {
  return wanted.map((want) => {
    const h = have.get(key(want));
    if (!h) return { want, state: 'missing' as const };
    return { want, have: h, state: same(want, h) ? 'in-sync' as const : 'differs' as const };
  });
}

export function auditDataplane(desired: DesiredDataplane, current: CurrentObjects, opts: { protocol: number; ownedDevices: readonly number[] }): DataplaneAudit {
  const owned = new Set(opts.ownedDevices);
  const routes = new Map(current.routes.map((r) => [routeKey(r), r]));
  const neighbours = new Map(current.neighbours.filter((n) => owned.has(n.index)).map((n) => [neighbourKey(n), n]));
  const fdb = new Map(current.fdb.filter((e) => owned.has(e.index)).map((e) => [fdbKey(e), e]));
  const nexthops = new Map((current.nexthops ?? []).map((nh) => [nh.id, nh]));
  const peers = desired.peers.map((plan) => ({
    plan,
    routes: compare(plan.routes, routes, routeKey, routeMatches),
    neighbours: compare(plan.neighbours, neighbours, neighbourKey, neighbourMatches),
    fdb: compare(plan.fdb, fdb, fdbKey, fdbMatches),
    // a foreign nexthop with a wanted id differs (its protocol is not knit's)
    nexthops: compare(plan.nexthops ?? [], nexthops, (nh) => nh.id, nexthopMatches),
  }));
  const wantedRoutes = new Set(desired.peers.flatMap((p) => p.routes.map(routeKey)));
  const wantedNeigh = new Set(desired.peers.flatMap((p) => p.neighbours.map(neighbourKey)));
  const wantedFdb = new Set(desired.peers.flatMap((p) => p.fdb.map(fdbKey)));
  const wantedNexthops = new Set(desired.peers.flatMap((p) => (p.nexthops ?? []).map((nh) => nh.id)));
  return {
    peers,
    stale: {
      routes: current.routes.filter((r) => r.protocol === opts.protocol && !wantedRoutes.has(routeKey(r))),
      neighbours: [...neighbours.values()].filter((n) => n.permanent && !wantedNeigh.has(neighbourKey(n))),
      fdb: [...fdb.values()].filter((e) => e.permanent && !wantedFdb.has(fdbKey(e))),
      nexthops: [...nexthops.values()].filter((nh) => nh.protocol === opts.protocol && !wantedNexthops.has(nh.id)),
    },
  };
}
