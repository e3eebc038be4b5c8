/**
 * The scoped diff (diff-changed.ts) against the full one: over seeded random
 * sequences of peer joins, leaves, moves (a VTEP to another public IP),
 * plans that collide with another's keys, foreign routes taking a slot and
 * foreign nexthops taking an id, peers whose IPv4 routes go through nexthop
 * objects (most) or name their gateways (an upgrade, either way), knit's
 * nexthops deleted by hand (their routes go with them),
 * every time the reconciler would take the scoped diff (the last run left
 * the kernel as desired: no conflict, no duplicate key), it must make the
 * same ops per apply phase, the same conflicts, the same unchanged count and
 * the same wanted keys as diffIndexed over the whole desired set. The kernel
 * is the reconciler's own KernelView, changed by the ops as their acks would.
 */
import { expect } from 'chai';
import type { DiffOp } from '../../agent/src/dataplane/reconcile';
import { diffIndexed, indexCurrent, type DataplaneDiff, type MutableWanted } from '../../agent/src/dataplane/reconcile/diff';
import { diffChanged, planChange } from '../../agent/src/dataplane/reconcile/diff-changed';
import { KernelView } from '../../agent/src/dataplane/reconcile/kernel-view';
import type { PeerPlan } from '../../agent/src/dataplane/reconcile/types';
import type { Nexthop, Route } from '../../agent/src/netlink/types';
import { phaseOf } from '../../agent/src/dataplane/reconcile/apply';
import { peerRoutes } from '../../agent/src/backend/nexthop-routes';
import { prng } from '../support/prng';

const DEV = 7;
const UNDERLAY = 2;
const opts = { protocol: 89, ownedDevices: [DEV] };

function show(o: DiffOp): string {
  const v = o.object.value as unknown as Record<string, unknown>;
  return `${o.action} ${o.object.kind} ${JSON.stringify(v)}`;
}

/** The ops as apply.ts runs them: phases in order, each phase a set. */
function phases(ops: readonly DiffOp[]): string[][] {
  const p: string[][] = [[], [], [], []];
  for (const o of ops) p[phaseOf(o)]!.push(show(o));
  return p.map((x) => x.sort());
}

function wantedOf(w: MutableWanted): unknown {
  const per = (m: Map<number, Set<string>>): Array<[number, string[]]> => [...m].map(([i, d]): [number, string[]] => [i, [...d].sort()]).filter(([, d]) => d.length > 0).sort((a, b) => a[0] - b[0]);
  return { routes: [...w.routes].sort(), nexthops: [...w.nexthops].sort(), neighbours: per(w.neighbours), fdb: per(w.fdb) };
}

function copyWanted(w: MutableWanted): MutableWanted {
  const per = (m: Map<number, Set<string>>): Map<number, Set<string>> => new Map([...m].map(([i, d]) => [i, new Set(d)]));
  return { routes: new Set(w.routes), nexthops: new Set(w.nexthops), neighbours: per(w.neighbours), fdb: per(w.fdb) };
}

describe('reconcile: the scoped diff makes the full diff\'s ops', () => {
  for (const seed of [3, 17, 101, 2026]) {
    it(`300 random steps (seed ${seed}): same ops per phase, conflicts, unchanged and wanted keys`, () => {
      const rand = prng(seed);
      // the nexthop choices draw from a stream of their own (the rest of the sequence stays what it was)
      const rand2 = prng(seed + 1);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
      // a peer's own MAC; now and then one takes a MAC another peer has (a duplicate key)
      const macFor = (i: number): string => {
        const taken = [...live.values()].flatMap((p) => p.fdb.map((e) => e.mac));
        return rand() < 0.03 && taken.length > 0 ? pick(taken) : `0a:00:00:00:01:${i.toString(16).padStart(2, '0')}`;
      };
      // most plans route through a nexthop object; some name their gateway (a kernel without nexthops, or before an upgrade)
      const plan = (i: number, mac: string, publicIp: string, mode: 'vxlan' | 'host-gw'): PeerPlan => {
        const subnet = `10.244.${i}.0/24`;
        const gw = `10.244.${i}.0`;
        const nexthops = rand2() < 0.8;
        if (mode === 'host-gw') {
          return { subnet, nodeName: `n${i}`, publicIp, mode, neighbours: [], fdb: [], ...peerRoutes([{ dst: subnet, gateway: publicIp, index: UNDERLAY, protocol: 89 }], nexthops) };
        }
        return {
          subnet, nodeName: `n${i}`, publicIp, mode,
          neighbours: [{ index: DEV, ip: gw, mac, permanent: true }],
          fdb: [{ index: DEV, mac, dst: publicIp, permanent: true }],
          ...peerRoutes([{ dst: subnet, gateway: gw, index: DEV, onlink: true, protocol: 89 }], nexthops),
        };
      };
      const live = new Map<number, PeerPlan>();
      const view = new KernelView(() => true, 89);
      // the kernel at the start: a stale route of ours, a foreign route, an ARP entry
      view.reset(indexCurrent({
        routes: [{ dst: '10.244.250.0/24', gateway: '10.244.250.0', index: DEV, onlink: true, protocol: 89 }, { dst: '10.244.251.0/24', gateway: '192.168.0.9', index: UNDERLAY, protocol: 4 }],
        neighbours: [{ index: DEV, ip: '10.244.252.1', mac: '0a:00:00:00:09:09', permanent: false }],
        fdb: [],
      }, opts), [DEV]);
      const desired = (): PeerPlan[] => [...live.keys()].sort((a, b) => a - b).map((i) => live.get(i)!);
      let lastPlans = new Map<string, PeerPlan>();
      let last: DataplaneDiff | undefined;
      let scoped = 0;
      let nexthopOps = 0;
      const foreigners: Route[] = [];
      const foreignNexthops: Nexthop[] = [];
      for (let step = 0; step < 300; step++) {
        const x = rand();
        const n = 1 + Math.floor(rand() * 3);
        for (let k = 0; k < n; k++) {
          const i = Math.floor(rand() * 60);
          if (x < 0.5 || !live.has(i)) live.set(i, plan(i, macFor(i), `192.168.0.${Math.floor(rand() * 250) + 1}`, rand() < 0.2 ? 'host-gw' : 'vxlan'));
          else if (x < 0.8) live.delete(i);
          else {
            const p = live.get(i)!;
            live.set(i, plan(i, p.fdb[0]?.mac ?? macFor(i), `192.168.1.${Math.floor(rand() * 250) + 1}`, p.mode === 'host-gw' ? 'host-gw' : 'vxlan'));
          }
        }
        // now and then a foreign route takes a slot a peer may want (the view
        // counts that change from outside: the reconciler's next run is full)
        if (rand() < 0.03) {
          const foreign: Route = { dst: `10.244.${Math.floor(rand() * 60)}.0/24`, gateway: '192.168.0.254', index: UNDERLAY, protocol: 4 };
          view.onEvent({ type: 'route-added', route: foreign });
          foreigners.push(foreign);
        } else if (foreigners.length > 0 && rand() < 0.2) {
          view.onEvent({ type: 'route-deleted', route: foreigners.shift()! });
        }
        // a foreign nexthop takes the id a peer's routes may go through (of a knit one: a replace from outside)
        const y = rand2();
        if (y < 0.02) {
          const id = (10 << 24) + (244 << 16) + (Math.floor(rand2() * 60) << 8);
          const foreign: Nexthop = { id, gateway: '192.168.0.253', index: UNDERLAY, protocol: 4 };
          view.onEvent({ type: 'nexthop-added', nexthop: foreign });
          foreignNexthops.push(foreign);
        } else if (foreignNexthops.length > 0 && y < 0.3) {
          // deleting it takes the routes through it along (the view drops them too)
          view.onEvent({ type: 'nexthop-deleted', nexthop: foreignNexthops.shift()! });
        } else if (y > 0.99) {
          // a wanted nexthop of knit's deleted by hand: it and its routes are gone
          const ids = [...live.values()].flatMap((p) => p.nexthops.map((nh) => nh.id));
          if (ids.length > 0) view.onEvent({ type: 'nexthop-deleted', nexthop: { id: ids[Math.floor(rand2() * ids.length)]!, gateway: '', index: 0 } });
        }
        const plans = desired();
        const current = view.current()!;
        const byS = new Map(plans.map((p) => [p.subnet, p]));
        const mayScope = last !== undefined && last.conflicts.length === 0 && last.duplicates === 0 && view.unexplainedChanges === 0;
        const full = diffIndexed(plans, current, opts);
        if (mayScope) {
          const w = copyWanted(last!.wanted);
          const s = diffChanged(planChange(lastPlans, byS), current, w);
          if (s) {
            scoped++;
            expect(phases(s.ops), `step ${step}: ops`).to.deep.equal(phases(full.ops));
            expect(s.conflicts.map((c) => c.slot).sort(), `step ${step}: conflicts`).to.deep.equal(full.conflicts.map((c) => c.slot).sort());
            expect(s.unchanged, `step ${step}: unchanged`).to.equal(full.unchanged);
            expect(wantedOf(s.wanted), `step ${step}: wanted`).to.deep.equal(wantedOf(full.wanted));
          } else {
            // refused only when a changed plan shares a key with another plan
            expect(full.duplicates, `step ${step}: a scoped diff refused without a shared key`).to.be.greaterThan(0);
          }
        }
        view.settle(); // the diffs read the view
        // the writes succeed (their acks): the view follows
        for (const op of full.ops) view.applied(op);
        nexthopOps += full.ops.filter((o) => o.object.kind === 'nexthop').length;
        last = full;
        lastPlans = byS;
      }
      // the point: most steps took the scoped diff
      expect(scoped).to.be.greaterThan(100);
      // and the sequence exercised nexthops both ways
      expect(nexthopOps, 'nexthop writes and deletes').to.be.greaterThan(50);
    });
  }
});
