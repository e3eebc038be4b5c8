/**
 * knitd SIGKILLed and restarted under traffic, for each backend: a ping every
 * 10 ms between containers on two nodes runs across a SIGKILL + restart of
 * the knitd on each node, one after the other, and loses nothing; each
 * knitd comes back with the same subnet and needs zero netlink writes to be
 * ready (bridge, veths, VXLAN device, routes, neighbours, FDB were right),
 * and the kernel objects peers depend on are exactly the same afterwards.
 */
import { expect } from 'chai';
import { createLab, type Lab } from '../lab/lab';
import type { Knitd } from '../lab/knitd';
import { attach, dataplaneOf, pingSummary, readyRecord, startClusterKnitd, type Attached, type Dataplane } from './cluster-lab';
import { cleanupAll } from '../lab/cleanup';

/** The parts of a dataplane knit programs for peers (neighbour states such as REACHABLE vary by themselves). */
function knitObjects(dp: Dataplane): unknown {
  return {
    routes: dp.routes,
    neighbours: dp.neighbours.filter((n) => n.dev?.startsWith('knit.')),
    fdb: dp.fdb.filter((e) => e.ifname?.startsWith('knit.')),
  };
}

const BACKENDS = ['vxlan', 'host-gw'];

for (const backend of BACKENDS) {
  describe(`cluster restart (${backend}): SIGKILL knitd under a continuous ping`, function () {
    this.timeout(60_000);
    let lab: Lab;
    const knitds: Knitd[] = [];
    const c: Attached[] = [];

    before(async () => {
      lab = await createLab({ nodes: 2, etcd: true });
      const network = { clusterCidr: '10.244.0.0/16', subnetLength: 24, backend: { type: backend } };
      for (const node of lab.nodes) knitds.push(await startClusterKnitd(lab, node, network));
      for (const k of knitds) c.push(await attach(lab, k, 'p'));
    });
    after(async () => {
      await cleanupAll([
        ...Array.from(knitds, (k) => () => k.destroy()),
        () => lab?.teardown(),
      ]);
    });

    it('loses no packet, keeps the subnet, and needs zero netlink writes at restart', async () => {
      expect((await lab.ping(c[0]!.c, c[1]!.ip, 3)).received, 'baseline').to.equal(3);
      const before = await Promise.all(knitds.map(async (k) => knitObjects(await dataplaneOf(k.node.ns))));
      const subnets = knitds.map((k) => k.subnet);
      // 600 pings at 10 ms (6-10 s here): enough to cover both restarts (each under 1 s here); checked below.
      const ping = lab.spawn(c[0]!.c, 'ping', ['-n', '-q', '-i', '0.01', '-c', '600', '-W', '1', c[1]!.ip], { tag: 'ping-restart' });
      await new Promise((r) => setTimeout(r, 300));
      const timings: string[] = [];
      for (const k of [knitds[1]!, knitds[0]!]) {
        const t0 = Date.now();
        const killed = await k.kill();
        expect(killed.signal).to.equal('SIGKILL');
        await k.restart();
        timings.push(`${k.node.name} ${Date.now() - t0} ms`);
        const ready = readyRecord(k);
        expect(ready.subnet, `${k.node.name} subnet after restart`).to.equal(subnets[knitds.indexOf(k)]);
        expect(ready.netlinkWritesAtStart, `${k.node.name} netlink writes at restart`).to.equal(0);
      }
      expect(ping.running(), 'the ping still runs after both restarts (it covered them)').to.equal(true);
      await ping.exited;
      const sum = pingSummary(ping.logTail());
      console.log(`      (kill -> ready: ${timings.join(', ')}; ping: ${sum.received}/${sum.transmitted} replies)`);
      expect(sum.transmitted).to.equal(600);
      expect(sum.received, 'replies').to.equal(sum.transmitted);
      expect(knitds.map((k) => k.subnet)).to.deep.equal(subnets);
      const after = await Promise.all(knitds.map(async (k) => knitObjects(await dataplaneOf(k.node.ns))));
      expect(after).to.deep.equal(before);
    });
  });
}
