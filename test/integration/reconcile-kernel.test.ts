/**
 * The reconciler against a real kernel in one lab node namespace (VXLAN
 * backend, peers fed by hand): foreign routes and neighbours are never
 * touched, stale knit objects of vanished peers go at the first run, a
 * foreign route in a desired slot is a reported conflict (not clobbered),
 * and 1000 peers are programmed, then resynced with zero writes.
 */
import { expect } from 'chai';
import { vtepMac, type Backend, parseNetwork } from '../../agent/src/backend';
import { Reconciler } from '../../agent/src/dataplane/reconcile';
import { silentLogger } from '../../agent/src/log/logger';
import type { Handle } from '../../agent/src/netlink';
import type { Lease } from '../../agent/src/store/lease-codec';
import type { LabNode } from '../lab/lab';
import { nsIpJson, nsRun } from '../lab/netns';
import { nexthopIdOf } from '../../agent/src/backend/nexthop-routes';
import { closeVxlanNode, openVxlanNode, type VxlanNode } from '../lab/vxlan-node';
import { cleanupAll } from '../lab/cleanup';

interface IpRoute { dst: string; gateway?: string; dev: string; protocol?: string }
const allRoutes = (ns: string): IpRoute[] => JSON.parse(nsRun(ns, 'ip', ['-j', 'route', 'show']) || '[]') as IpRoute[];
const count = (ns: string, args: string[]): number => nsRun(ns, args[0]!, args.slice(1)).split('\n').filter((l) => l.trim() !== '').length;

/** Peer i (0-based) of a large cluster: subnet 10.<1 + i>>8>.<i & 255>.0/24, public IP 172.<16 + i>>8>.<i & 255>.1. */
function peer(i: number): Lease {
  const name = `peer${i}`;
  return {
    subnet: `10.${1 + (i >> 8)}.${i & 255}.0/24`,
    nodeName: name,
    publicIp: `172.${16 + (i >> 8)}.${i & 255}.1`,
    backend: { type: 'vxlan', data: { vtepMac: vtepMac(name, 1) } },
    renewedAt: new Date(0).toISOString(),
  };
}

describe('reconcile: real kernel, one node', function () {
  this.timeout(120000);
  let v: VxlanNode;
  let node: LabNode;
  let nl: Handle;
  let backend: Backend;
  let rec: Reconciler;
  const network = parseNetwork({ clusterCidr: '10.0.0.0/8', subnetLength: 24, backend: { type: 'vxlan' } });

  before(async () => {
    v = await openVxlanNode(network);
    ({ node, nl, backend } = v);
    rec = new Reconciler({ nl, logger: silentLogger(), backend, resyncIntervalMs: 3600_000 });
  });
  after(async () => {
    await cleanupAll([
      () => rec?.stop(),
      () => closeVxlanNode(v),
    ]);
  });

  it('first run: stale knit objects of a vanished peer removed, foreign routes and neighbours untouched, a foreign route in a desired slot not clobbered', async () => {
    const ns = node.ns;
    // Left by a knitd that ran before: a peer that has no lease any more.
    nsRun(ns, 'ip', ['route', 'add', '10.200.0.0/24', 'via', '10.200.0.0', 'dev', 'knit.1', 'onlink', 'proto', '89']);
    nsRun(ns, 'ip', ['neigh', 'add', '10.200.0.0', 'lladdr', '0a:00:00:00:02:00', 'dev', 'knit.1', 'nud', 'permanent']);
    nsRun(ns, 'bridge', ['fdb', 'add', '0a:00:00:00:02:00', 'dev', 'knit.1', 'dst', '172.31.0.1', 'self', 'permanent']);
    // and one through a nexthop object of knit's (the route goes first, then the nexthop)
    nsRun(ns, 'ip', ['nexthop', 'add', 'id', '99', 'via', '10.200.1.0', 'dev', 'knit.1', 'onlink', 'proto', '89']);
    nsRun(ns, 'ip', ['route', 'add', '10.200.1.0/24', 'nhid', '99', 'proto', '89']);
    // Not knit's: a nexthop of another protocol (its id is no peer's)
    nsRun(ns, 'ip', ['nexthop', 'add', 'id', '98', 'via', '192.168.77.1', 'dev', 'eth0', 'proto', 'static']);
    // Not knit's: static and boot routes, a permanent neighbour on eth0.
    nsRun(ns, 'ip', ['route', 'add', '10.201.0.0/24', 'via', '192.168.77.1', 'proto', 'static']);
    nsRun(ns, 'ip', ['route', 'add', '10.202.0.0/24', 'via', '192.168.77.1']);
    nsRun(ns, 'ip', ['neigh', 'add', '192.168.77.99', 'lladdr', '0a:00:00:00:09:09', 'dev', 'eth0', 'nud', 'permanent']);
    // A foreign route already holding the slot of peer 1's subnet.
    nsRun(ns, 'ip', ['route', 'add', peer(1).subnet, 'via', '192.168.77.1', 'proto', 'static']);
    const before = allRoutes(ns).filter((r) => r.protocol !== '89');

    rec.setPeers([peer(0), peer(1)]);
    const s = await rec.reconcileNow();
    // per peer a nexthop, a neighbour and an FDB entry, and peer 0's route (peer 1's is in conflict)
    expect(s).to.include({ deleted: 5, added: 7, conflicts: 1, failed: 0 });
    expect(nsIpJson<Array<{ id: number }>>(ns, ['nexthop', 'show']).map((n) => n.id).sort()).to.deep.equal([98, nexthopIdOf(peer(0).subnet), nexthopIdOf(peer(1).subnet)].sort());

    expect(allRoutes(ns).filter((r) => r.protocol === '89').map((r) => r.dst)).to.deep.equal([peer(0).subnet]);
    expect(allRoutes(ns).filter((r) => r.protocol !== '89')).to.deep.equal(before);
    expect(nsRun(ns, 'ip', ['neigh', 'show', '192.168.77.99'])).to.match(/lladdr 0a:00:00:00:09:09 PERMANENT/);
    expect(nsRun(ns, 'ip', ['neigh', 'show', 'dev', 'knit.1'])).to.not.match(/10\.200\.0\.0/);
    expect(nsRun(ns, 'bridge', ['fdb', 'show', 'dev', 'knit.1'])).to.not.match(/0a:00:00:00:02:00/);

    const st = rec.status().peers.find((p) => p.subnet === peer(1).subnet)!;
    expect(st.inSync).to.equal(false);
    expect(st.objects.map((o) => `${o.kind} ${o.state}`)).to.deep.equal(['neighbour programmed', 'fdb programmed', 'nexthop programmed', 'route conflict']);

    // the conflict is stable: a second run writes nothing and still does not touch the static route
    expect(await rec.reconcileNow()).to.include({ writes: 0, conflicts: 1 });
    nsRun(ns, 'ip', ['route', 'del', peer(1).subnet, 'proto', 'static']);
    expect(await rec.reconcileNow()).to.include({ added: 1, conflicts: 0 });
    for (const dst of ['10.201.0.0/24', '10.202.0.0/24']) nsRun(ns, 'ip', ['route', 'del', dst]);
    nsRun(ns, 'ip', ['nexthop', 'del', 'id', '98']);
  });

  it('1000 peers programmed, then a resync makes 0 writes; shrinking to 10 deletes exactly the rest', async () => {
    const ns = node.ns;
    const peers = Array.from({ length: 1000 }, (_, i) => peer(i));
    rec.setPeers(peers);
    const t0 = performance.now();
    const first = await rec.reconcileNow();
    const programMs = performance.now() - t0;
    expect(first.failed).to.equal(0);
    expect(first.added + first.unchanged, JSON.stringify(first)).to.equal(4000);
    expect(count(ns, ['ip', 'route', 'show', 'proto', '89'])).to.equal(1000);
    expect(count(ns, ['ip', 'nexthop', 'show', 'proto', '89'])).to.equal(1000);
    expect(count(ns, ['ip', 'neigh', 'show', 'dev', 'knit.1', 'nud', 'permanent'])).to.equal(1000);
    expect(nsRun(ns, 'bridge', ['fdb', 'show', 'dev', 'knit.1']).split('\n').filter((l) => l.includes(' dst ')).length).to.equal(1000);

    const t1 = performance.now();
    const resync = await rec.reconcileNow();
    const resyncMs = performance.now() - t1;
    expect(resync).to.include({ writes: 0, unchanged: 4000, failed: 0 });

    rec.setPeers(peers.slice(0, 10));
    const shrink = await rec.reconcileNow();
    expect(shrink).to.include({ deleted: 3960, added: 0, failed: 0, writes: 3960 });
    expect(count(ns, ['ip', 'route', 'show', 'proto', '89'])).to.equal(10);
    expect(count(ns, ['ip', 'nexthop', 'show', 'proto', '89'])).to.equal(10);
    // information for the report, not an assertion (speed is measured in test/bench)
    // eslint-disable-next-line no-console
    console.log(`      1000 peers: programmed in ${programMs.toFixed(0)} ms (${first.writes} writes), resync ${resyncMs.toFixed(0)} ms (0 writes), 990 removed in ${shrink.durationMs.toFixed(0)} ms`);
  });
});
