/**
 * What the reconciler tells operators per peer: which kernel objects knit
 * wants for it, and whether the kernel matched them after the last run. Pure
 * bookkeeping over the last run's desired set and per-object outcomes, so the
 * operator API can show it without any netlink call.
 */
import type { FdbEntry, Neighbour, Nexthop, Route } from '../../netlink';
import type { KernelObject, ObjectKind } from './diff';
import type { DesiredDataplane, PeerMode, PeerPlan } from './types';

/** Outcome of one desired object at the last run. */
export type ObjectState =
  /** present and equal before the run */
  | 'ok'
  /** written by the run */
  | 'programmed'
  /** the write failed (see `error`) */
  | 'failed'
  /** a route or nexthop knit does not own holds the slot; not written */
  | 'conflict';

export interface ObjectOutcome {
  state: ObjectState;
  error?: string;
}

/**
 * The last run's outcomes that are not 'ok', by desired object (the very
 * objects of that run's plans, compared by identity): at 10 000 peers a run
 * that wrote nothing records nothing, instead of a key string and an entry
 * for each of 30 000 objects.
 */
export type Outcomes = ReadonlyMap<DesiredObject, ObjectOutcome>;

/** Any object of a peer plan. */
export type DesiredObject = Route | Neighbour | FdbEntry | Nexthop;

const OK: ObjectOutcome = Object.freeze({ state: 'ok' as const });

/** A desired object's outcome at the last run: 'ok' unless recorded otherwise. */
export function outcomeOf(outcomes: Outcomes, o: DesiredObject): ObjectOutcome {
  return outcomes.get(o) ?? OK;
}

const good = (outcomes: Outcomes, o: DesiredObject): boolean => {
  const s = outcomeOf(outcomes, o).state;
  return s === 'ok' || s === 'programmed';
};

export interface ObjectStatus extends ObjectOutcome {
  kind: ObjectKind;
  /** iproute2-like text, e.g. "10.244.2.0/24 via 10.244.2.0 dev #7 onlink proto 89" */
  description: string;
}

export interface PeerStatus {
  subnet: string;
  nodeName: string;
  publicIp: string;
  mode: PeerMode | 'refused';
  /** why a peer is refused */
  reason?: string;
  /** every object of this peer is 'ok' or 'programmed' (false for refused peers) */
  inSync: boolean;
  objects: ObjectStatus[];
}

export interface ReconcilerStatus {
  /** epoch ms of the last finished run; undefined before the first */
  lastRunAt?: number;
  /** peers changed (or a repair is queued) since the last run */
  pending: boolean;
  peers: PeerStatus[];
}

export function describeRoute(r: Route): string {
  return `${r.dst}${r.nhid !== undefined ? ` nhid ${r.nhid}` : ''}${r.gateway ? ` via ${r.gateway}` : ''}${r.index !== undefined ? ` dev #${r.index}` : ''}`
    + `${r.onlink ? ' onlink' : ''}${r.protocol !== undefined ? ` proto ${r.protocol}` : ''}`;
}

export function describeNeighbour(n: Neighbour): string {
  return `${n.ip} lladdr ${n.mac} dev #${n.index}${n.permanent ? ' permanent' : ''}`;
}

export function describeFdb(e: FdbEntry): string {
  return `${e.mac}${e.dst ? ` dst ${e.dst}` : ''} dev #${e.index} self${e.permanent ? ' permanent' : ''}`;
}

/** As `ip nexthop show` prints it: "id 183763712 via 10.244.3.0 dev #7 onlink proto 89". */
export function describeNexthop(nh: Nexthop): string {
  return `id ${nh.id} via ${nh.gateway} dev #${nh.index}${nh.onlink ? ' onlink' : ''}${nh.protocol !== undefined ? ` proto ${nh.protocol}` : ''}`;
}

export function describeObject(o: KernelObject): string {
  switch (o.kind) {
    case 'route': return describeRoute(o.value);
    case 'neighbour': return describeNeighbour(o.value);
    case 'fdb': return describeFdb(o.value);
    case 'nexthop': return describeNexthop(o.value);
  }
}

/** Every object of the plan is 'ok' or 'programmed' at the last run. */
export function peerObjectsGood(p: PeerPlan, outcomes: Outcomes): boolean {
  return p.neighbours.every((n) => good(outcomes, n)) && p.fdb.every((e) => good(outcomes, e))
    && (p.nexthops ?? []).every((nh) => good(outcomes, nh)) && p.routes.every((r) => good(outcomes, r));
}

/**
 * Only the verdict of peerStatuses, per peer subnet: what Watch needs after
 * every run, without describing every object (at 10 000 peers, 30 000
 * strings per run for a boolean each).
 */
export function peersInSync(desired: DesiredDataplane, outcomes: Outcomes, anyBad = true): Map<string, boolean> {
  const out = new Map<string, boolean>();
  for (const p of desired.peers) {
    // without a failed or conflicting object (the caller counted them) every peer is in sync
    out.set(p.subnet, !anyBad || peerObjectsGood(p, outcomes));
  }
  for (const r of desired.refused) out.set(r.subnet, false);
  return out;
}

/** Per-peer status from the last run's desired set and outcomes. */
export function peerStatuses(desired: DesiredDataplane, outcomes: Outcomes): PeerStatus[] {
  const out: PeerStatus[] = [];
  for (const p of desired.peers) {
    const objects: ObjectStatus[] = [];
    const add = (o: KernelObject): void => {
      objects.push({ kind: o.kind, description: describeObject(o), ...outcomeOf(outcomes, o.value) });
    };
    for (const n of p.neighbours) add({ kind: 'neighbour', value: n });
    for (const e of p.fdb) add({ kind: 'fdb', value: e });
    for (const nh of p.nexthops ?? []) add({ kind: 'nexthop', value: nh });
    for (const r of p.routes) add({ kind: 'route', value: r });
    out.push({
      subnet: p.subnet, nodeName: p.nodeName, publicIp: p.publicIp, mode: p.mode,
      inSync: objects.every((o) => o.state === 'ok' || o.state === 'programmed'),
      objects,
    });
  }
  for (const r of desired.refused) {
    out.push({ subnet: r.subnet, nodeName: r.nodeName, publicIp: r.publicIp, mode: 'refused', reason: r.reason, inSync: false, objects: [] });
  }
  out.sort((a, b) => (a.subnet < b.subnet ? -1 : a.subnet > b.subnet ? 1 : 0));
  return out;
}
