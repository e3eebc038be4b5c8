/**
 * Applying a diff to the kernel: the ops in three phases (deletes, then
 * neighbours/FDB, then routes, so a route never points at a missing
 * neighbour), issued in that order with a bound on writes in flight. Pure
 * of reconciler state: the caller hears every op's outcome.
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

/** Runs `fn` over `items` with at most `limit` calls pending; resolves when all are done (fn must not reject). */
export async function forEachBounded<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** The outcome of one op: `error` is set when it failed; `deviceGone` when the device went away under it. */
export interface OpOutcome {
  error?: string;
  /** ENODEV/ENETDOWN on a write: the backend's device must be set up again before the retry. */
  deviceGone: boolean;
}

/** Applies one op. Deletes of already-gone objects succeed. */
export async function applyOp(nl: ReconcilerNetlink, op: DiffOp): Promise<OpOutcome> {
  const o = op.object;
  try {
    if (op.action === 'delete') {
      if (o.kind === 'route') await nl.routeDel(o.value);
      else if (o.kind === 'neighbour') await nl.neighDel(o.value);
      else await nl.fdbDel(o.value);
    } else if (o.kind === 'route') {
      await nl.routeReplace(o.value);
    } else if (o.kind === 'neighbour') {
      await nl.neighSet(o.value);
    } else {
      await nl.fdbSet(o.value);
    }
    return { deviceGone: false };
  } catch (err) {
    if (op.action === 'delete' && isNetlinkError(err, 'ENOENT', 'ESRCH', 'ENODEV')) return { deviceGone: false };
    return {
      error: err instanceof Error ? err.message : String(err),
      deviceGone: isNetlinkError(err, 'ENODEV', 'ENETDOWN'),
    };
  }
}

/**
 * Applies `ops` in phase order (see the module comment), at most
 * WRITE_CONCURRENCY in flight; `onDone` hears each op's outcome as it lands.
 */
export async function applyOps(nl: ReconcilerNetlink, ops: readonly DiffOp[], onDone: (op: DiffOp, outcome: OpOutcome) => void): Promise<void> {
  const phases: DiffOp[][] = [[], [], []];
  for (const op of ops) {
    phases[op.action === 'delete' ? 0 : op.object.kind === 'route' ? 2 : 1]!.push(op);
  }
  // forEachBounded starts the ops in array order, one socket sends them in that order
  await forEachBounded(phases.flat(), WRITE_CONCURRENCY, async (op) => {
    onDone(op, await applyOp(nl, op));
  });
}
