/**
 * Lease values are untrusted input: what an operator (or a broken node)
 * writes into etcd by hand with etcdctl is skipped with a warning, and
 * nothing is programmed from it, on any node — neither on the knitds that
 * see it arrive through the watch nor on one that starts afterwards and
 * sees it in its first list. Cases: a value that is not JSON, a key that
 * names no subnet, a lease for a subnet outside the cluster CIDR, one with
 * a broadcast VTEP MAC, one claiming the public IP of an existing node, and
 * publicIps no peer may have (loopback, 0.0.0.0, broadcast, multicast, an
 * address inside the cluster CIDR): the FDB would have sent container
 * traffic to 255.255.255.255, i.e. to every host on the underlay.
 * A valid lease written last is the proof that the watch got past them.
 */
import { expect } from 'chai';
import { createLab, type Lab } from '../lab/lab';
import type { Knitd } from '../lab/knitd';
import {
  allPairs, attach, dataplaneOf, etcdctl, logRecords, startClusterKnitd, unreachablePairs, waitFor, type Attached,
} from './cluster-lab';
import { cleanupAll } from '../lab/cleanup';

const PREFIX = '/knit/v1/subnets/';
const value = (nodeName: string, publicIp: string, vtepMac: string): string =>
  JSON.stringify({ nodeName, publicIp, backend: { type: 'vxlan', data: { vtepMac } }, renewedAt: new Date().toISOString() });

/** `n` network addresses of /24s in 10.244.0.0/16 that are not in `used` ("10.244.x.0/24"). */
function freeSubnets(used: string[], n: number): string[] {
  const out: string[] = [];
  for (let x = 200; out.length < n; x++) if (!used.includes(`10.244.${x}.0/24`)) out.push(`10.244.${x}.0`);
  return out;
}

describe('cluster with hand-written leases in etcd (vxlan): skipped with warnings, never programmed', function () {
  this.timeout(60_000);
  let lab: Lab;
  const knitds: Knitd[] = [];
  const c: Attached[] = [];

  before(async () => {
    lab = await createLab({ nodes: 3, etcd: true });
    for (const node of lab.nodes.slice(0, 2)) knitds.push(await startClusterKnitd(lab, node));
    for (const k of knitds) c.push(await attach(lab, k, 'u'));
  });
  after(async () => {
    await cleanupAll([
      ...Array.from(knitds, (k) => () => k.destroy()),
      () => lab?.teardown(),
    ]);
  });

  it('skips garbage, out-of-CIDR, bad-MAC and duplicate-IP leases on every node, and programs nothing from them', async () => {
    const node1Ip = lab.nodes[0]!.underlayIp;
    // Subnets nobody holds (the knitds picked theirs at random): writing over a real lease would test something else.
    const [g, m, i, s, ...h] = freeSubnets(knitds.map((k) => k.subnet), 9);
    // Peers would send container traffic to these publicIps: loopback, unspecified, broadcast, multicast, in-cluster.
    const hostileIps = ['127.0.0.1', '0.0.0.0', '255.255.255.255', '224.0.0.1', '10.244.250.7'];
    const bad: Array<{ key: string; value: string; subnet?: string; ip?: string; mac?: string }> = [
      { key: `${g}-24`, value: 'not json {', subnet: `${g}/24` },
      { key: 'hello', value: value('keyless', '192.168.77.51', '0a:11:22:33:44:51') },
      { key: '10.99.0.0-24', value: value('rogue', '192.168.77.50', '0a:11:22:33:44:50'), subnet: '10.99.0.0/24', ip: '192.168.77.50', mac: '0a:11:22:33:44:50' },
      { key: `${m}-24`, value: value('flooder', '192.168.77.52', 'ff:ff:ff:ff:ff:ff'), subnet: `${m}/24`, ip: '192.168.77.52' },
      { key: `${i}-24`, value: value('impostor', node1Ip, '0a:11:22:33:44:53'), subnet: `${i}/24`, mac: '0a:11:22:33:44:53' },
      ...hostileIps.map((ip, n) => {
        const mac = `0a:11:22:33:44:7${n}`;
        return { key: `${h[n]!}-24`, value: value(`hostile${n}`, ip, mac), subnet: `${h[n]!}/24`, ip, mac };
      }),
    ];
    for (const b of bad) await etcdctl(lab, ['put', PREFIX + b.key, b.value]);
    // Written last: once it is programmed everywhere, every node has processed the bad ones before it.
    await etcdctl(lab, ['put', `${PREFIX}${s}-24`, value('sentinel', '192.168.77.60', '0a:11:22:33:44:60')]);

    // A node starting now meets them all in its first list instead of the watch.
    knitds.push(await startClusterKnitd(lab, lab.nodes[2]!));
    c.push(await attach(lab, knitds[2]!, 'u'));
    const taken = bad.map((b) => b.subnet).filter((s) => s !== undefined);
    expect(taken, 'node3 did not take a subnet that garbage occupies').to.not.include(knitds[2]!.subnet);

    await waitFor('the sentinel lease programmed on every node', async () => {
      for (const k of knitds) if (!(await dataplaneOf(k.node.ns)).routes.some((r) => r.dst === `${s}/24`)) return false;
      return true;
    }, 5000);

    for (const k of knitds) {
      const dp = await dataplaneOf(k.node.ns);
      const fromBad = [
        ...dp.routes.filter((r) => bad.some((b) => b.subnet === r.dst)).map((r) => `route ${r.dst}`),
        ...dp.neighbours.filter((n) => bad.some((b) => b.subnet?.split('/')[0] === n.dst || (b.mac !== undefined && b.mac === n.lladdr))).map((n) => `neigh ${n.dst}`),
        ...dp.fdb.filter((e) => e.mac === 'ff:ff:ff:ff:ff:ff' || bad.some((b) => (b.mac !== undefined && b.mac === e.mac) || (b.ip !== undefined && b.ip === e.dst))).map((e) => `fdb ${e.mac} ${e.dst ?? ''}`),
      ];
      expect(fromBad, `${k.node.name} programmed from bad leases`).to.deep.equal([]);
      // Exactly the real peers and the sentinel: routes via knit.1.
      const peerRoutes = dp.routes.filter((r) => r.dev === 'knit.1').map((r) => r.dst).sort();
      expect(peerRoutes, k.node.name).to.deep.equal([...knitds.filter((o) => o !== k).map((o) => o.subnet), `${s}/24`].sort());

      const logs = logRecords(k);
      const invalid = logs.filter((r) => r.message === 'skipping invalid subnet lease').map((r) => `${String(r.key)}: ${String(r.reason)}`);
      expect(invalid, `${k.node.name} warnings`).to.have.length(4 + hostileIps.length);
      expect(invalid.join('\n')).to.contain(`${g}-24: invalid lease "${g}-24": value is not JSON`)
        .and.to.contain('hello: invalid lease "hello": key is not of the form a.b.c.d-len')
        .and.to.contain('10.99.0.0-24: invalid lease "10.99.0.0-24": subnet 10.99.0.0/24 is outside the cluster CIDR 10.244.0.0/16')
        .and.to.contain(`${m}-24: invalid lease "${m}-24": backend.data.vtepMac "ff:ff:ff:ff:ff:ff" is not a unicast MAC`)
        .and.to.contain(`${h[0]!}-24: invalid lease "${h[0]!}-24": publicIp 127.0.0.1 is a loopback address (127.0.0.0/8), not a unicast address`)
        .and.to.contain(`${h[1]!}-24: invalid lease "${h[1]!}-24": publicIp 0.0.0.0 is a "this network" (0.0.0.0/8) address`)
        .and.to.contain(`${h[2]!}-24: invalid lease "${h[2]!}-24": publicIp 255.255.255.255 is a limited broadcast address (255.255.255.255/32)`)
        .and.to.contain(`${h[3]!}-24: invalid lease "${h[3]!}-24": publicIp 224.0.0.1 is a multicast address (224.0.0.0/4)`)
        .and.to.contain(`${h[4]!}-24: invalid lease "${h[4]!}-24": publicIp 10.244.250.7 is inside the cluster CIDR 10.244.0.0/16`);
      for (const r of logs.filter((l) => l.message === 'skipping invalid subnet lease')) expect(r.level).to.equal('warn');
      const dup = logs.filter((r) => r.message === 'skipping lease with a public IP already used by another node');
      expect(dup.map((r) => [r.level, r.subnet, r.node, r.publicIp, r.usedBy]), `${k.node.name} duplicate-IP warnings`)
        .to.deep.equal([['warn', `${i}/24`, 'impostor', node1Ip, 'node1']]);
    }
    expect(await unreachablePairs(lab, allPairs(c))).to.deep.equal([]);
  });
});
