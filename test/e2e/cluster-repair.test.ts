/**
 * Hand-made damage to what knit programmed, repaired by the running knitd
 * from netlink events (VXLAN, real knitd). The periodic resync is set to an
 * hour, so a repair can only come from knitd reacting to the deletion: the
 * test then needs no tight deadline to prove the event path, and prints how
 * long each repair took. Cases: the route to a peer, the nexthop object it
 * goes through (the kernel deletes the route with it and sends no route
 * event), the peer's neighbour entry, its FDB entry, and the whole VXLAN device (which takes all three
 * with it; it must come back with the same MAC, or peers' FDB entries for
 * this node would point at nothing).
 */
import { expect } from 'chai';
import { createLab, type Lab } from '../lab/lab';
import { nexthopIdOf } from '../../agent/src/backend/nexthop-routes';
import type { Knitd } from '../lab/knitd';
import {
  attach, dataplaneOf, footprintOf, logRecords, objectsFor, startClusterKnitd, unreachablePairs, waitFor, type Attached, type NodeFootprint,
} from './cluster-lab';
import { cleanupAll } from '../lab/cleanup';

interface Damage {
  name: string;
  /** `ip`/`bridge` arguments (run in node1's namespace) that delete something knit owns; `peer` is node2's footprint. */
  cmd(peer: NodeFootprint): [string, string[]];
  /** The line knitd logs when the netlink event tells it. */
  log: string;
}

const CASES: Damage[] = [
  { name: 'the route to a peer subnet', cmd: (p) => ['ip', ['route', 'del', p.subnet]], log: 'knit route deleted from outside; repairing' },
  {
    name: 'the peer nexthop object (and with it the route)', cmd: (p) => ['ip', ['nexthop', 'del', 'id', String(nexthopIdOf(p.subnet))]],
    log: 'knit nexthop deleted from outside; repairing it and its routes',
  },
  { name: 'the peer neighbour entry', cmd: (p) => ['ip', ['neigh', 'del', p.subnet.split('/')[0]!, 'dev', 'knit.1']], log: 'knit neighbour deleted from outside; repairing' },
  { name: 'the peer FDB entry', cmd: (p) => ['bridge', ['fdb', 'del', p.vtepMac!, 'dev', 'knit.1', 'dst', p.publicIp]], log: 'knit FDB entry deleted from outside; repairing' },
  { name: 'the VXLAN device knit.1', cmd: () => ['ip', ['link', 'del', 'knit.1']], log: 'backend device deleted from outside; recreating' },
];

describe('cluster repair (vxlan): knit objects deleted by hand come back from netlink events', function () {
  this.timeout(60_000);
  let lab: Lab;
  const knitds: Knitd[] = [];
  const c: Attached[] = [];
  let peer: NodeFootprint;
  let own: NodeFootprint;

  before(async () => {
    lab = await createLab({ nodes: 2, etcd: true });
    for (const node of lab.nodes) knitds.push(await startClusterKnitd(lab, node, undefined, { args: ['--reconcile-interval-seconds', '3600'] }));
    for (const k of knitds) c.push(await attach(lab, k, 'r'));
    peer = await footprintOf(knitds[1]!);
    own = await footprintOf(knitds[0]!);
    expect(peer.vtepMac).to.be.a('string');
  });
  after(async () => {
    await cleanupAll([
      ...Array.from(knitds, (k) => () => k.destroy()),
      () => lab?.teardown(),
    ]);
  });

  for (const tc of CASES) {
    it(`repairs ${tc.name}`, async () => {
      const node1 = knitds[0]!.node;
      const full = objectsFor(await dataplaneOf(node1.ns), peer);
      expect(full, 'before: route, neighbour and FDB entry for node2').to.have.length(3);
      const logged = (): number => logRecords(knitds[0]!).filter((r) => r.message === tc.log).length;
      const loggedBefore = logged();
      const [cmd, args] = tc.cmd(peer);
      await lab.exec(node1.ns, cmd, args);
      const t0 = Date.now();
      const after = objectsFor(await dataplaneOf(node1.ns), peer);
      const { ms } = await waitFor(`${tc.name} repaired`, async () => {
        const now = objectsFor(await dataplaneOf(node1.ns), peer);
        return JSON.stringify(now) === JSON.stringify(full);
      }, 5000, async () => JSON.stringify(objectsFor(await dataplaneOf(node1.ns), peer)));
      console.log(`      (repaired ${Date.now() - t0} ms after the delete; polled ${ms} ms; right after the delete: ${after.length} of 3 objects)`);
      await waitFor(`knitd logged "${tc.log}"`, async () => logged() > loggedBefore, 2000);
      expect(await footprintOf(knitds[0]!), 'node1 VTEP MAC unchanged').to.deep.equal(own);
      // the route goes through the peer's nexthop object, which is there as knit wrote it
      const id = String(nexthopIdOf(peer.subnet));
      expect(await lab.exec(node1.ns, 'ip', ['route', 'show', peer.subnet])).to.include(`nhid ${id}`);
      expect(await lab.exec(node1.ns, 'ip', ['nexthop', 'show', 'id', id])).to.match(new RegExp(`via ${peer.subnet.split('/')[0]!.replace(/\./g, '\\.')} dev knit\\.1 .*onlink`));
      expect(await unreachablePairs(lab, [[c[0]!, c[1]!], [c[1]!, c[0]!]])).to.deep.equal([]);
    });
  }
});
