/**
 * The periodic resync against a real kernel (one lab node, VXLAN backend).
 * A resync always dumps; when the dump says exactly what the kernel view
 * holds and nothing from outside changed the view since the last clean run,
 * it takes the scoped diff (nothing changed, so nothing to diff), and every
 * sixth resync diffs every desired object anyway. A change the events never
 * told (here: events muted while a route is deleted by hand, as the kernel's
 * silent flush of IPv4 routes on a device going down would) shows in the
 * dump: that resync takes the full diff and repairs it. The same for
 * nexthop objects: one changed by hand (its event asks for no run) and one
 * deleted with the events muted (its route went with it) are repaired by
 * the next resync.
 */
import { expect } from 'chai';
import { vtepMac, parseNetwork } from '../../agent/src/backend';
import { Reconciler, type ReconcileRunReport } from '../../agent/src/dataplane/reconcile';
import { silentLogger } from '../../agent/src/log/logger';
import type { Handle } from '../../agent/src/netlink';
import type { Lease } from '../../agent/src/store/lease-codec';
import { nsRun } from '../lab/netns';
import { nexthopIdOf } from '../../agent/src/backend/nexthop-routes';
import { closeVxlanNode, openVxlanNode, type VxlanNode } from '../lab/vxlan-node';
import { cleanupAll } from '../lab/cleanup';

function peer(i: number): Lease {
  const name = `peer${i}`;
  return {
    subnet: `10.1.${i}.0/24`,
    nodeName: name,
    publicIp: `172.16.${i}.1`,
    backend: { type: 'vxlan', data: { vtepMac: vtepMac(name, 1) } },
    renewedAt: new Date(0).toISOString(),
  };
}

describe('reconcile: the periodic resync (real kernel)', function () {
  this.timeout(60_000);
  let v: VxlanNode;
  let rec: Reconciler | undefined;
  let muted = false;
  const network = parseNetwork({ clusterCidr: '10.0.0.0/8', subnetLength: 24, backend: { type: 'vxlan' } });

  before(async () => {
    v = await openVxlanNode(network);
  });
  after(async () => {
    await cleanupAll([
      () => rec?.stop(),
      () => closeVxlanNode(v),
    ]);
  });

  /** The node's handle with its event stream behind a switch (muted: events are dropped, as lost ones would be). */
  const mutableEvents = (nl: Handle): Handle => new Proxy(nl, {
    get(target, key) {
      if (key === 'subscribe') {
        return (onEvent: Parameters<Handle['subscribe']>[0], onError: Parameters<Handle['subscribe']>[1]) =>
          target.subscribe((ev) => { if (!muted) onEvent(ev); }, onError);
      }
      const value: unknown = Reflect.get(target, key);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });

  /** The next `n` resyncs (runs with setup), with a deadline. */
  const resyncs = (n: number): Promise<ReconcileRunReport[]> => new Promise((resolve, reject) => {
    const got: ReconcileRunReport[] = [];
    const t = setTimeout(() => { off(); reject(new Error(`${got.length} of ${n} resyncs within 20 s`)); }, 20_000);
    const off = rec!.subscribeRuns((r) => {
      if (!r.stats?.setupRan) return;
      got.push(r);
      if (got.length === n) {
        clearTimeout(t);
        off();
        resolve(got);
      }
    });
  });

  const routes = (): string[] => nsRun(v.node.ns, 'ip', ['route', 'show', 'proto', '89']).split('\n').filter(Boolean).sort();

  it('a quiet node\'s resyncs take the scoped diff (every sixth a full one); a change no event told is found and repaired', async () => {
    rec = new Reconciler({ nl: mutableEvents(v.nl), logger: silentLogger(), backend: v.backend, resyncIntervalMs: 300 });
    rec.start();
    rec.setPeers(Array.from({ length: 12 }, (_, i) => peer(i + 1)));
    expect(await rec.reconcileNow()).to.include({ failed: 0, conflicts: 0 });
    const programmed = routes();
    expect(programmed).to.have.length(12);

    const quiet = await resyncs(12);
    for (const r of quiet) expect(r.stats, 'a quiet resync').to.include({ writes: 0, failed: 0 });
    const kinds = quiet.map((r) => (r.stats!.scoped ? 'scoped' : 'full'));
    // the first resync counts from the explicit run's full diff; then five scoped ones per full one
    expect(kinds.filter((k) => k === 'full').length, kinds.join(' ')).to.be.within(2, 3);
    expect(kinds.filter((k) => k === 'scoped').length, kinds.join(' ')).to.be.at.least(9);
    expect(routes()).to.deep.equal(programmed);

    // a route goes while the events are muted: the view never hears of it
    // (muted until the event has been read and dropped)
    const runs: ReconcileRunReport[] = [];
    const off = rec.subscribeRuns((r) => runs.push(r));
    muted = true;
    nsRun(v.node.ns, 'ip', ['route', 'del', peer(5).subnet, 'proto', '89']);
    expect(routes()).to.have.length(11);
    await new Promise((r) => setTimeout(r, 100));
    muted = false;
    const deadline = Date.now() + 10_000;
    while (!runs.some((r) => (r.stats?.writes ?? 0) > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    off();
    const repair = runs.find((r) => (r.stats?.writes ?? 0) > 0);
    // only a resync's dump could find it (no event, no other run), and it ran the full diff
    expect(repair?.stats, 'the run that repaired').to.include({ setupRan: true, scoped: false, added: 1, failed: 0 });
    // and it was the first resync after the deletion (the second, if one was dumping as the route went)
    expect(runs.filter((r) => r.stats?.setupRan).indexOf(repair!), 'resyncs before the repair').to.be.within(0, 1);
    expect(routes()).to.deep.equal(programmed);
    // and the resyncs after it are quiet and scoped again
    const after = await resyncs(2);
    expect(after.map((r) => r.stats!.writes)).to.deep.equal([0, 0]);
    expect(after.some((r) => r.stats!.scoped)).to.equal(true);
  });

  /** The first run with writes after `act`, within 10 s. */
  const repairAfter = async (act: () => void): Promise<ReconcileRunReport | undefined> => {
    const runs: ReconcileRunReport[] = [];
    const off = rec!.subscribeRuns((r) => runs.push(r));
    act();
    const deadline = Date.now() + 10_000;
    while (!runs.some((r) => (r.stats?.writes ?? 0) > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    off();
    return runs.find((r) => (r.stats?.writes ?? 0) > 0);
  };
  const nexthop = (id: string): string => nsRun(v.node.ns, 'ip', ['nexthop', 'show', 'id', id]);

  it('a nexthop changed by hand is rewritten by the next resync; one deleted unheard (its route with it) is restored with its route', async () => {
    const id = String(nexthopIdOf(peer(7).subnet));
    expect(nexthop(id)).to.match(/via 10\.1\.7\.0 dev knit\.1/);
    const programmed = routes();
    // heard, but a change asks for no run: the resync's dump differs from nothing the view holds, yet the change was from outside, so it diffs in full
    const changed = await repairAfter(() => nsRun(v.node.ns, 'ip', ['nexthop', 'replace', 'id', id, 'via', '10.1.7.9', 'dev', 'knit.1', 'onlink', 'proto', '89']));
    expect(changed?.stats, 'the run that rewrote the nexthop').to.include({ setupRan: true, scoped: false, replaced: 1, writes: 1, failed: 0 });
    expect(nexthop(id)).to.match(/via 10\.1\.7\.0 dev knit\.1/);
    // unheard: the dump finds the nexthop and its route missing
    const deleted = await repairAfter(() => {
      muted = true;
      nsRun(v.node.ns, 'ip', ['nexthop', 'del', 'id', id]);
      setTimeout(() => { muted = false; }, 100);
    });
    expect(deleted?.stats, 'the run that restored nexthop and route').to.include({ setupRan: true, scoped: false, added: 2, failed: 0 });
    expect(routes()).to.deep.equal(programmed);
    expect(nexthop(id)).to.match(/via 10\.1\.7\.0 dev knit\.1/);
  });
});
