/**
 * Hostile writes to etcd while knitds run:
 *   - a lease of another node on node1's subnet key puts node1 in `conflict`
 *     (unhealthy, the intruder never becomes a peer route on node1); once
 *     the key is deleted node1 re-creates its lease on the same subnet and
 *     is healthy again, same process, containers reachable both ways;
 *   - deleting or replacing /knit/v1/network is logged at error level and
 *     shown in /readyz, while knitd keeps serving with the config in use;
 *     putting the same config back clears it.
 */
import { expect } from 'chai';
import type { Lab } from '../lab/lab';
import type { Knitd } from '../lab/knitd';
import { scrape } from './api-lab';
import {
  allPairs, attach, dataplaneOf, etcdctl, leaseKey, logRecords, unreachablePairs, waitFor, withCluster,
} from './cluster-lab';

const METRICS = '127.0.0.1:9656';
const NETWORK_KEY = '/knit/v1/network';

describe('cluster: recovery from a hostile lease conflict, and a deleted or replaced network config', function () {
  this.timeout(120_000);
  const f = withCluster({ nodes: 2, knitd: { metricsAddress: METRICS } });
  const { knitds, attached: c } = f;
  let lab: Lab;
  before(() => { lab = f.lab; });

  const probe = async (k: Knitd, path: '/healthz' | '/readyz') => scrape(lab, k.node, METRICS, path);
  const logged = (k: Knitd, message: string) => logRecords(k).filter((r) => r.message === message);

  it('goes to conflict when another node\'s lease takes its subnet, and recovers when that lease is deleted', async () => {
    const [k1] = knitds as [Knitd, Knitd];
    const pid = k1.pid;
    const key = leaseKey(k1.subnet);
    const intruder = {
      nodeName: 'intruder', publicIp: '192.168.77.99', backend: { type: 'vxlan', data: { vtepMac: '0a:11:22:33:44:99' } }, renewedAt: new Date().toISOString(),
    };
    await etcdctl(lab, ['put', key, JSON.stringify(intruder)]);
    await waitFor('node1 in conflict', async () => (await probe(k1, '/healthz')).status === 503, 15_000);
    expect((await probe(k1, '/healthz')).text).to.contain('subnet lease conflict');
    expect(logged(k1, 'subnet lease held -> conflict').map((r) => r.level)).to.deep.equal(['error']);
    // The intruder's lease on node1's own subnet is never programmed on node1.
    const dp = await dataplaneOf(k1.node.ns);
    expect(dp.routes.filter((r) => r.dst === k1.subnet && r.dev !== 'knit0').map((r) => `${r.dst} dev ${r.dev}`)).to.deep.equal([]);
    expect(dp.fdb.filter((e) => e.mac === intruder.backend.data.vtepMac)).to.deep.equal([]);

    await etcdctl(lab, ['del', key]);
    const { ms } = await waitFor('node1 healthy again', async () => (await probe(k1, '/healthz')).status === 200 && (await probe(k1, '/readyz')).status === 200, 15_000);
    console.log(`      (node1 healthy ${ms} ms after the intruder's lease was deleted)`);
    expect(logged(k1, 'subnet lease conflict -> held').map((r) => String(r.reason))).to.deep.equal(['recovered from conflict: the conflicting lease is gone; re-acquired the same subnet']);
    const stored = JSON.parse(await etcdctl(lab, ['get', key, '--print-value-only'])) as { nodeName: string };
    expect(stored.nodeName).to.equal('node1');
    expect(k1.pid, 'no restart').to.equal(pid);
    expect(k1.proc.running()).to.equal(true);
    await waitFor('containers reachable both ways', async () => (await unreachablePairs(lab, allPairs(c))).length === 0, 10_000,
      async () => (await unreachablePairs(lab, allPairs(c))).join(', '));
  });

  it('logs a deleted or replaced network config at error level, shows it in /readyz, and keeps serving', async () => {
    const original = (await etcdctl(lab, ['get', NETWORK_KEY, '--print-value-only'])).trim();
    const problems = (k: Knitd) => logged(k, 'the network config in etcd no longer matches the one in use; serving on with the one in use');

    await etcdctl(lab, ['del', NETWORK_KEY]);
    for (const k of knitds) {
      await waitFor(`${k.node.name} notices the deleted config`, async () => problems(k).length === 1, 10_000);
      const rec = problems(k)[0]!;
      expect(rec.level).to.equal('error');
      expect(rec.problem).to.equal('was deleted');
      const ready = await probe(k, '/readyz');
      expect(ready.status).to.equal(503);
      expect(ready.text).to.contain('network config /knit/v1/network was deleted; serving with the config in use');
      expect((await probe(k, '/healthz')).status, 'still alive').to.equal(200);
    }
    expect(await unreachablePairs(lab, allPairs(c)), 'traffic keeps flowing').to.deep.equal([]);
    // New containers still get addresses from the config in use.
    c.push(await attach(lab, knitds[1]!, 'v'));
    expect(c[2]!.ip.startsWith(knitds[1]!.subnet.split('.').slice(0, 3).join('.'))).to.equal(true);

    await etcdctl(lab, ['put', NETWORK_KEY, JSON.stringify({ clusterCidr: '10.99.0.0/16', backend: { type: 'vxlan' } })]);
    for (const k of knitds) {
      await waitFor(`${k.node.name} notices the replaced config`, async () => problems(k).length === 2, 10_000);
      expect(String(problems(k)[1]!.problem)).to.match(/^was replaced \(clusterCidr 10\.244\.0\.0\/16 -> 10\.99\.0\.0\/16/);
      expect((await probe(k, '/readyz')).text).to.contain('network config /knit/v1/network was replaced');
    }

    await etcdctl(lab, ['put', NETWORK_KEY, original]);
    for (const k of knitds) {
      await waitFor(`${k.node.name} ready once the config in use is back`, async () => (await probe(k, '/readyz')).status === 200, 10_000);
      expect(logged(k, 'the network config in etcd matches the one in use again')).to.have.length(1);
      expect(k.proc.running()).to.equal(true);
    }
    expect(await unreachablePairs(lab, allPairs(c))).to.deep.equal([]);
  });
});
