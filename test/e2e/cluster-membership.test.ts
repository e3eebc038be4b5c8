/**
 * Nodes joining and leaving a running cluster (VXLAN), with real etcd, real
 * knitds and the real plugin:
 *   - a 4th node joins: its containers and everybody else's reach each other;
 *   - it leaves by releasing its lease on a clean shutdown
 *     (etcd.releaseOnShutdown): its route, neighbour and FDB entry vanish
 *     from every remaining node;
 *   - it comes back (same subnet) and leaves again by its lease expiring
 *     (knitd SIGKILLed, then its etcd lease revoked: exactly what etcd does
 *     when the TTL runs out, without waiting the 60 s minimum TTL): the same.
 * Before each departure the test first checks the objects are there, so an
 * empty kernel cannot pass it.
 */
import { expect } from 'chai';
import { createLab, type Lab } from '../lab/lab';
import type { Knitd } from '../lab/knitd';
import {
  allPairs, attach, dataplaneOf, etcdctl, footprintOf, leaseKey, logRecords, objectsFor, readyRecord, startClusterKnitd,
  unreachablePairs, waitFor, type Attached, type NodeFootprint,
} from './cluster-lab';
import { cleanupAll } from '../lab/cleanup';

describe('cluster membership (vxlan): a node joins, leaves by release, leaves by expiry', function () {
  this.timeout(90_000);
  let lab: Lab;
  const knitds: Knitd[] = [];
  const first: Attached[] = [];
  let fourth: Knitd;
  let joined: Attached[] = [];

  /** Leftover objects of `f` on every node but the 4th. */
  async function leftovers(f: NodeFootprint): Promise<string[]> {
    const out: string[] = [];
    for (const k of knitds) for (const o of objectsFor(await dataplaneOf(k.node.ns), f)) out.push(`${k.node.name}: ${o}`);
    return out;
  }

  /** Every remaining node holds the 4th node's route, neighbour and FDB entry. */
  async function expectProgrammedEverywhere(f: NodeFootprint): Promise<void> {
    const { ms } = await waitFor('the 4th node programmed on every peer', async () => {
      for (const k of knitds) if (objectsFor(await dataplaneOf(k.node.ns), f).length !== 3) return false;
      return true;
    }, 10_000, async () => (await leftovers(f)).join('; '));
    for (const k of knitds) {
      expect(objectsFor(await dataplaneOf(k.node.ns), f), k.node.name).to.have.members([
        `fdb ${f.vtepMac} dst ${f.publicIp} dev knit.1`,
        `neigh ${f.subnet.split('/')[0]} lladdr ${f.vtepMac} dev knit.1`,
        `route ${f.subnet} via ${f.subnet.split('/')[0]} dev knit.1`,
      ]);
    }
    console.log(`      (4th node's route, neighbour and FDB entry on all 3 peers after ${ms} ms of waiting)`);
  }

  before(async () => {
    lab = await createLab({ nodes: 4, etcd: true });
    for (const node of lab.nodes.slice(0, 3)) knitds.push(await startClusterKnitd(lab, node));
    for (const k of knitds) first.push(await attach(lab, k, 'a'));
  });
  after(async () => {
    await cleanupAll([
      ...Array.from([...knitds, fourth], (k) => () => k?.destroy()),
      () => lab?.teardown(),
    ]);
  });

  it('a 4th node joins: its containers reach every container and every container reaches them', async () => {
    fourth = await startClusterKnitd(lab, lab.nodes[3]!, undefined, { args: ['--etcd-release-on-shutdown=true'] });
    expect(new Set([...knitds, fourth].map((k) => k.subnet)).size).to.equal(4);
    await expectProgrammedEverywhere(await footprintOf(fourth));
    joined = [await attach(lab, fourth, 'j1'), await attach(lab, fourth, 'j2')];
    const everyone = [...first, ...joined];
    const pairs = allPairs(everyone).filter(([a, b]) => joined.includes(a) || joined.includes(b));
    expect(pairs).to.have.length(2 * 2 * 3 + 2); // to and from each of the 3 others, plus the two among themselves
    expect(await unreachablePairs(lab, pairs)).to.deep.equal([]);
  });

  it('leaving by releasing its lease on SIGTERM removes its route, neighbour and FDB entry from every peer', async () => {
    const f = await footprintOf(fourth);
    await expectProgrammedEverywhere(f);
    const exit = await fourth.stop();
    expect(exit.code, 'knitd exit code after SIGTERM').to.equal(0);
    expect(logRecords(fourth).some((r) => r.message === 'released the subnet lease on shutdown' && r.subnet === f.subnet)).to.equal(true);
    expect(await etcdctl(lab, ['get', leaseKey(f.subnet)])).to.equal('');
    const { ms } = await waitFor('the released node gone from every peer', async () => (await leftovers(f)).length === 0, 5000,
      async () => (await leftovers(f)).join('; '));
    console.log(`      (released node's objects gone from all peers within ${ms} ms of knitd's exit)`);
    expect(await unreachablePairs(lab, allPairs(first))).to.deep.equal([]);
  });

  it('leaving by its lease expiring (SIGKILL, etcd lease revoked) removes the same objects from every peer', async () => {
    const released = (await footprintOf(fourth)).subnet;
    await fourth.restart();
    expect(fourth.subnet, 'a released subnet is taken back from the state file while free').to.equal(released);
    expect(readyRecord(fourth).subnet).to.equal(released);
    const f = await footprintOf(fourth);
    await expectProgrammedEverywhere(f);
    expect(await unreachablePairs(lab, [[first[0]!, joined[0]!], [joined[1]!, first[2]!]])).to.deep.equal([]);

    await fourth.kill();
    // Still leased: SIGKILL releases nothing; peers keep the node until etcd says it is gone.
    // etcd lease IDs are int64: read the digits, JSON.parse would round them.
    const leaseId = /"lease":(\d+)/.exec(await etcdctl(lab, ['get', leaseKey(f.subnet), '-w', 'json']))?.[1];
    expect(leaseId, 'the lease key is bound to an etcd lease').to.be.a('string');
    expect((await leftovers(f)).length).to.equal(9);
    await etcdctl(lab, ['lease', 'revoke', BigInt(leaseId!).toString(16)]);
    expect(await etcdctl(lab, ['get', leaseKey(f.subnet)])).to.equal('');
    const { ms } = await waitFor('the expired node gone from every peer', async () => (await leftovers(f)).length === 0, 5000,
      async () => (await leftovers(f)).join('; '));
    console.log(`      (expired node's objects gone from all peers within ${ms} ms of the expiry)`);
    expect(await unreachablePairs(lab, allPairs(first))).to.deep.equal([]);
  });
});
