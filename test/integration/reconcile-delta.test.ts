/**
 * The reconciler's two ways of knowing the kernel, against a real kernel
 * (one lab node, VXLAN backend): runs for peer changes and repairs diff
 * against the kernel view kept by netlink events (kernel-view.ts), full runs
 * dump. A seeded sequence of peer joins, leaves, public-IP changes and
 * hand deletions (routes, nexthop objects, which take their routes along
 * with no route event, neighbours, FDB entries) runs through view runs; every few steps a full run
 * (reconcileNow) must find nothing to write and leave the kernel exactly as
 * the view runs did. If the view ever missed a change, the full run would
 * write and this fails. Peer changes after a clean run take the scoped diff
 * (diff-changed.ts: only the changed peers' plans); a repair after a hand
 * deletion takes the full diff against the view.
 */
import { expect } from 'chai';
import { vtepMac, parseNetwork } from '../../agent/src/backend';
import { Reconciler, type ReconcileRunReport } from '../../agent/src/dataplane/reconcile';
import { silentLogger } from '../../agent/src/log/logger';
import type { Lease } from '../../agent/src/store/lease-codec';
import { nsRun } from '../lab/netns';
import { nexthopIdOf } from '../../agent/src/backend/nexthop-routes';
import { closeVxlanNode, openVxlanNode, type VxlanNode } from '../lab/vxlan-node';
import { prng } from '../support/prng';
import { cleanupAll } from '../lab/cleanup';

function peer(i: number, ipVersion = 0): Lease {
  const name = `peer${i}`;
  return {
    subnet: `10.${1 + (i >> 8)}.${i & 255}.0/24`,
    nodeName: name,
    publicIp: `172.${16 + ipVersion}.${i & 255}.1`,
    backend: { type: 'vxlan', data: { vtepMac: vtepMac(name, 1) } },
    renewedAt: new Date(0).toISOString(),
  };
}

describe('reconcile: view runs write what a full run would (real kernel)', function () {
  this.timeout(180_000);
  let v: VxlanNode;
  let rec: Reconciler;
  const network = parseNetwork({ clusterCidr: '10.0.0.0/8', subnetLength: 24, backend: { type: 'vxlan' } });

  /** The knit state of the kernel, as sorted lines. */
  const kernelState = (): string[] => {
    const ns = v.node.ns;
    const routes = nsRun(ns, 'ip', ['route', 'show', 'proto', '89']).split('\n');
    const nexthops = nsRun(ns, 'ip', ['nexthop', 'show', 'proto', '89']).split('\n');
    const neigh = nsRun(ns, 'ip', ['neigh', 'show', 'dev', 'knit.1']).split('\n');
    const fdb = nsRun(ns, 'bridge', ['fdb', 'show', 'dev', 'knit.1']).split('\n').filter((l) => l.includes(' dst '));
    return [...routes.map((l) => `route ${l}`), ...nexthops.map((l) => `nexthop ${l}`), ...neigh.map((l) => `neigh ${l}`), ...fdb.map((l) => `fdb ${l}`)]
      .map((l) => l.trim()).filter((l) => !/^(route|nexthop|neigh|fdb)$/.test(l)).sort();
  };

  /** Resolves with the next finished run. */
  const nextRun = (): Promise<ReconcileRunReport> => new Promise((resolve, reject) => {
    const t = setTimeout(() => { off(); reject(new Error('no reconcile run within 5 s')); }, 5000);
    const off = rec.subscribeRuns((r) => { clearTimeout(t); off(); resolve(r); });
  });

  before(async () => {
    v = await openVxlanNode(network);
    rec = new Reconciler({ nl: v.nl, logger: silentLogger(), backend: v.backend, resyncIntervalMs: 3600_000 });
    rec.start();
  });
  after(async () => {
    await cleanupAll([
      () => rec?.stop(),
      () => closeVxlanNode(v),
    ]);
  });

  it('60 seeded steps (joins, leaves, public-IP changes, hand deletions of routes, nexthops, neighbours and FDB entries): every 5, a full run writes nothing and sees the same kernel', async () => {
    const rand = prng(17017);
    // peer index → ipVersion (a public-IP change bumps it)
    const live = new Map<number, number>();
    for (let i = 0; i < 20; i++) live.set(i, 0);
    const peers = (): Lease[] => [...live].map(([i, v]) => peer(i, v));
    const first = nextRun();
    rec.setPeers(peers());
    expect((await first).stats).to.include({ fromView: false, failed: 0 });
    let viewRuns = 0;
    let scopedRuns = 0;
    let nextIndex = 20;

    for (let step = 1; step <= 60; step++) {
      const kind = Math.floor(rand() * 7);
      const indices = [...live.keys()];
      const pick = (): number => indices[Math.floor(rand() * indices.length)]!;
      const run = nextRun();
      if (kind === 0 || indices.length < 5) {
        for (let k = 0; k < 1 + Math.floor(rand() * 3); k++) live.set(nextIndex++, 0);
        rec.setPeers(peers());
      } else if (kind === 1) {
        live.delete(pick());
        rec.setPeers(peers());
      } else if (kind === 2) {
        const i = pick();
        live.set(i, live.get(i)! + 1); // FDB replace: the VTEP moved to another public IP
        rec.setPeers(peers());
      } else if (kind === 3) {
        nsRun(v.node.ns, 'ip', ['route', 'del', peer(pick()).subnet, 'proto', '89']);
      } else if (kind === 6) {
        // the kernel deletes the route through it too, and tells only of the nexthop
        nsRun(v.node.ns, 'ip', ['nexthop', 'del', 'id', String(nexthopIdOf(peer(pick()).subnet))]);
      } else if (kind === 4) {
        const p = peer(pick());
        nsRun(v.node.ns, 'ip', ['neigh', 'del', p.subnet.replace('/24', ''), 'dev', 'knit.1']);
      } else if (kind === 5) {
        const i = pick();
        const p = peer(i, live.get(i)!);
        nsRun(v.node.ns, 'bridge', ['fdb', 'del', vtepMac(p.nodeName, 1), 'dev', 'knit.1', 'dst', p.publicIp]);
      }
      const r = await run.catch((err: Error) => { throw new Error(`step ${step} (kind ${kind}): ${err.message}`); });
      expect(r.result, `step ${step} (kind ${kind})`).to.equal('ok');
      expect(r.stats!.failed, `step ${step}`).to.equal(0);
      if (r.stats!.fromView) viewRuns++;
      if (r.stats!.scoped) scopedRuns++;
      // a repair is never scoped: the hand deletion changed the view from outside
      if (kind >= 3) expect(r.stats!.scoped, `step ${step} (kind ${kind}): a repair run`).to.equal(false);
      if (step % 5 === 0) {
        const afterViewRuns = kernelState();
        const full = await rec.reconcileNow();
        expect(full, `full run after step ${step}`).to.include({ fromView: false, writes: 0, failed: 0 });
        expect(kernelState(), `kernel after the full run at step ${step}`).to.deep.equal(afterViewRuns);
        // and the kernel holds exactly the live peers
        expect(afterViewRuns.filter((l) => l.startsWith('route')).length, `routes at step ${step}`).to.equal(live.size);
        expect(afterViewRuns.filter((l) => l.startsWith('nexthop')).length, `nexthops at step ${step}`).to.equal(live.size);
      }
    }
    // the test is about view runs: most runs between the full ones must have used the view
    expect(viewRuns).to.be.at.least(40);
    expect(rec.stats.viewRuns).to.equal(viewRuns);
    // and most peer changes (half of the steps) were scoped
    expect(scopedRuns).to.be.at.least(15);
    expect(rec.stats.scopedRuns).to.equal(scopedRuns);
  });
});
