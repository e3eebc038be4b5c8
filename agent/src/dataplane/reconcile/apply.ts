/**
 * Applying a diff to the kernel: the ops in four phases, issued in that
 * order with a bound on writes in flight: deletes of routes, neighbours and
 * FDB entries; then neighbours, FDB entries and nexthop objects; then
 * routes (so a route never points at a missing neighbour or nexthop); then
 * deletes of nexthops (the kernel deletes every route still using a
 * nexthop with it, so one goes only once the routes have moved off it: a
 * route that changes its nexthop is never gone in between). Pure of
 * reconciler state: the caller hears every op's outcome.
 *
 * The phases are an order, not a wait: the kernel applies the requests of one
 * netlink socket one after another in the order they were sent, so a route
 * sent after its neighbour is applied after it, even in the same datagram
 * (the layer batches writes issued together, netlink/write-batch.ts). Waiting
 * for each phase's acks before sending the next cost a round trip per phase
 * (a vxlan join: neighbour + FDB, then the route).
 */
import { isNetlinkError } from '../../netlink';
import type { ReconcilerNetlink } from './types';
import type { DiffOp } from './diff';

/**
 * Writes of one phase in flight at a time: twice the netlink layer's window
 * (64), so its pipe stays full. Starting every write of a phase at once (5000
 * peers: 10 000 neighbour/FDB writes) parked thousands of pending closures
 * and promises behind that window; they outlived young-generation GCs, were
 * promoted, and the old generation grew by tens of MiB of garbage before a
 * full GC (cluster-scale bench, docs/benchmarks.md).
 */
export const WRITE_CONCURRENCY = 128;

/** The outcome of one op: `error` is set when it failed; `deviceGone` when the device went away under it. */
export interface OpOutcome {
  error?: string;
  /** ENODEV/ENETDOWN on a write: the backend's device must be set up again before the retry. */
  deviceGone: boolean;
}

const OK: OpOutcome = Object.freeze({ deviceGone: false });

/** Starts one op's write; the promise is the netlink layer's own (no async wrapper per op). */
function startOp(nl: ReconcilerNetlink, op: DiffOp): Promise<void> {
  const o = op.object;
  try {
    const del = op.action === 'delete';
    switch (o.kind) {
      case 'route': return del ? nl.routeDel(o.value) : nl.routeReplace(o.value);
      case 'neighbour': return del ? nl.neighDel(o.value) : nl.neighSet(o.value);
      case 'fdb': return del ? nl.fdbDel(o.value) : nl.fdbSet(o.value);
      case 'nexthop': return del ? nl.nexthopDel(o.value) : nl.nexthopReplace(o.value);
    }
  } catch (err) {
    return Promise.reject(err); // an implementation that throws instead of rejecting fails this op alone
  }
}

/** The op's phase (module comment): 0 deletes, 1 neighbours/FDB/nexthops, 2 routes, 3 nexthop deletes. */
export function phaseOf(op: DiffOp): number {
  if (op.action === 'delete') return op.object.kind === 'nexthop' ? 3 : 0;
  return op.object.kind === 'route' ? 2 : 1;
}

/** The outcome of an op whose write failed with `err`: a delete of something already gone succeeded. */
function failedOutcome(op: DiffOp, err: unknown): OpOutcome {
  if (op.action === 'delete' && isNetlinkError(err, 'ENOENT', 'ESRCH', 'ENODEV')) return OK;
  return {
    error: err instanceof Error ? err.message : String(err),
    deviceGone: isNetlinkError(err, 'ENODEV', 'ENETDOWN'),
  };
}

/**
 * Applies `ops` in phase order (see the module comment), at most
 * WRITE_CONCURRENCY in flight; `onDone` hears each op's outcome as it lands.
 * Each op costs its write's promise and one `then`, not a chain of async
 * functions: at 10 000 peers a run writes 30 000 objects, and what each
 * write allocates is collected by the young-generation GC while the run
 * goes on (docs/benchmarks.md). Rejects, and starts nothing more, when
 * `onDone` throws.
 */
export function applyOps(nl: ReconcilerNetlink, ops: readonly DiffOp[], onDone: (op: DiffOp, outcome: OpOutcome) => void): Promise<void> {
  const ordered: DiffOp[] = [];
  for (const phase of [0, 1, 2, 3]) {
    for (const op of ops) if (phaseOf(op) === phase) ordered.push(op);
  }
  return new Promise<void>((resolve, reject) => {
    let next = 0;
    let pending = 0;
    let failed = false;
    const land = (op: DiffOp, outcome: OpOutcome): void => {
      pending--;
      if (failed) return;
      try {
        onDone(op, outcome);
      } catch (err) {
        failed = true;
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      more();
    };
    // starts ops in array order, and one socket sends them in that order
    const more = (): void => {
      while (pending < WRITE_CONCURRENCY && next < ordered.length) {
        const op = ordered[next++]!;
        pending++;
        startOp(nl, op).then(() => land(op, OK), (err: unknown) => land(op, failedOutcome(op, err)));
      }
      if (pending === 0 && next >= ordered.length) resolve();
    };
    more();
  });
}
