/**
 * An in-memory stand-in for the few Handle verbs the reconciler uses (route,
 * nexthop, neighbour and FDB list/replace/delete, subscribe), counting writes and
 * dumps, with an optional delay per dump so a test can request runs while one
 * is in progress. Not a kernel model beyond what the reconciler relies on.
 */
import type { FdbEntry, Neighbour, NetlinkEvent, Nexthop, Route, Subscription } from '../../agent/src/netlink/types';
import { NetlinkError } from '../../agent/src/netlink/errors';
import { fdbKey, neighbourKey, routeKey, type ReconcilerNetlink } from '../../agent/src/dataplane/reconcile';

export class FakeNetlink {
  readonly routes = new Map<string, Route>();
  readonly neighbours = new Map<string, Neighbour>();
  readonly fdb = new Map<string, FdbEntry>();
  readonly nexthops = new Map<number, Nexthop>();
  writes = 0;
  /** a route replace for this destination fails with EINVAL */
  failRouteDst: string | undefined;
  /** every write in the order it was issued: 'route replace 10.244.2.0/24', 'neigh del 10.244.3.0', … */
  readonly writeOrder: string[] = [];
  dumps = 0;
  dumpDelayMs = 0;
  listener: ((ev: NetlinkEvent) => void) | undefined;
  subscribed = 0;
  /** every narrow() call's device list, in order */
  narrowed: number[][] = [];
  /** narrow() throws, as on a kernel where no filter attaches */
  narrowFails = false;
  /** Like the kernel: our own deletes are announced on the event stream too. */
  announceDeletes = false;

  /** Put a route in as the kernel would list it. */
  seedRoute(r: Route): void {
    const full: Route = { table: 254, metric: 0, scope: r.gateway || r.nhid !== undefined ? 'universe' : 'link', ...r };
    this.routes.set(routeKey(full), full);
  }

  /**
   * Delete a nexthop as `ip nexthop del` does: the routes through it go too,
   * and only the nexthop's deletion is announced (as the kernel does).
   */
  deleteNexthop(id: number): void {
    const had = this.nexthops.get(id);
    if (!had) return;
    this.nexthops.delete(id);
    for (const [k, r] of this.routes) if (r.nhid === id) this.routes.delete(k);
    this.emit({ type: 'nexthop-deleted', nexthop: had });
  }

  emit(ev: NetlinkEvent): void {
    this.listener?.(ev);
  }

  private async dumpDelay(): Promise<void> {
    this.dumps++;
    if (this.dumpDelayMs > 0) await new Promise((r) => setTimeout(r, this.dumpDelayMs));
  }

  /** The verbs the reconciler uses, typed as exactly those (no cast to a whole Handle). */
  asHandle(): ReconcilerNetlink {
    const self = this;
    return {
      async routeList() { await self.dumpDelay(); return [...self.routes.values()].map((r) => ({ ...r })); },
      async neighList() { await self.dumpDelay(); return [...self.neighbours.values()].map((n) => ({ ...n })); },
      async fdbList() { await self.dumpDelay(); return [...self.fdb.values()].map((e) => ({ ...e })); },
      async nexthopList() { await self.dumpDelay(); return [...self.nexthops.values()].map((nh) => ({ ...nh })); },
      async nexthopReplace(nh: Nexthop) { self.writes++; self.writeOrder.push(`nexthop replace ${nh.id}`); self.nexthops.set(nh.id, { ...nh }); },
      async nexthopDel(nh: Pick<Nexthop, 'id'>) {
        self.writes++;
        self.writeOrder.push(`nexthop del ${nh.id}`);
        if (!self.nexthops.has(nh.id)) throw new NetlinkError({ errno: 2, code: 'ENOENT', op: 'nexthop del', object: String(nh.id) });
        if (self.announceDeletes) self.deleteNexthop(nh.id);
        else {
          self.nexthops.delete(nh.id);
          for (const [k, r] of self.routes) if (r.nhid === nh.id) self.routes.delete(k);
        }
      },
      async routeReplace(r: Route) {
        self.writes++;
        self.writeOrder.push(`route replace ${r.dst}`);
        if (r.dst === self.failRouteDst) throw new NetlinkError({ errno: 22, code: 'EINVAL', op: 'route replace', object: r.dst });
        self.seedRoute(r);
      },
      async routeDel(r: Route) {
        self.writes++;
        self.writeOrder.push(`route del ${r.dst}`);
        const key = routeKey({ table: 254, metric: 0, ...r });
        const had = self.routes.get(key);
        if (!had || !self.routes.delete(key)) {
          throw new NetlinkError({ errno: 3, code: 'ESRCH', op: 'route del', object: r.dst });
        }
        if (self.announceDeletes) self.emit({ type: 'route-deleted', route: had });
      },
      async neighSet(n: Neighbour) { self.writes++; self.writeOrder.push(`neigh set ${n.ip}`); self.neighbours.set(neighbourKey(n), { ...n }); },
      async neighDel(n: Pick<Neighbour, 'index' | 'ip'>) {
        self.writes++;
        self.writeOrder.push(`neigh del ${n.ip}`);
        const had = self.neighbours.get(neighbourKey(n));
        if (!had || !self.neighbours.delete(neighbourKey(n))) throw new NetlinkError({ errno: 2, code: 'ENOENT', op: 'neigh del', object: n.ip });
        if (self.announceDeletes) self.emit({ type: 'neigh-deleted', neighbour: had });
      },
      async fdbSet(e: FdbEntry) { self.writes++; self.writeOrder.push(`fdb set ${e.mac}`); self.fdb.set(fdbKey(e), { ...e }); },
      async fdbDel(e: Pick<FdbEntry, 'index' | 'mac' | 'dst'>) {
        self.writes++;
        self.writeOrder.push(`fdb del ${e.mac}`);
        if (!self.fdb.delete(fdbKey(e))) throw new NetlinkError({ errno: 2, code: 'ENOENT', op: 'fdb del', object: e.mac });
      },
      subscribe(listener: (ev: NetlinkEvent) => void): Subscription {
        self.listener = listener;
        self.subscribed++;
        return {
          close: () => { self.listener = undefined; },
          narrow: (devices: readonly number[]) => {
            if (self.narrowFails) throw new Error('no socket filter here');
            self.narrowed.push([...devices]);
          },
        };
      },
    };
  }
}
