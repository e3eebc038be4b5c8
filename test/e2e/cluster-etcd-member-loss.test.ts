/**
 * A 3-member etcd cluster loses one member — the leader, the worst one to
 * lose — under a running knit cluster (VXLAN): no disruption. A ping between
 * containers on two nodes runs across the loss without losing a packet;
 * the knitds never go degraded and stay ready across their next lease
 * checks; a container can be attached; and a new node can still join and is
 * reachable from the others.
 */
import { expect } from 'chai';
import { createLab, type Lab } from '../lab/lab';
import type { Knitd } from '../lab/knitd';
import {
  attach, dataplaneOf, etcdctl, footprintOf, logRecords, objectsFor, pingSummary, startClusterKnitd, unreachablePairs, waitFor,
  type Attached,
} from './cluster-lab';
import { cleanupAll } from '../lab/cleanup';

/** Index (in lab.etcdMembers) of the current leader, from `etcdctl endpoint status` (fields: url, id, version, size, isLeader, …). */
async function leaderIndex(lab: Lab): Promise<number> {
  const lines = (await etcdctl(lab, ['endpoint', 'status'])).trim().split('\n');
  for (const line of lines) {
    const f = line.split(',').map((s) => s.trim());
    if (f[4] === 'true') {
      const i = lab.etcdMembers.findIndex((m) => m.endpoints.includes(f[0]!));
      if (i >= 0) return i;
    }
  }
  throw new Error(`no leader in: ${lines.join(' | ')}`);
}

describe('cluster with a 3-member etcd losing its leader (vxlan)', function () {
  this.timeout(90_000);
  let lab: Lab;
  const knitds: Knitd[] = [];
  const c: Attached[] = [];
  let third: Knitd | undefined;

  before(async () => {
    lab = await createLab({ nodes: 3, etcd: { members: 3 } });
    expect(lab.etcdEndpoints).to.have.length(3);
    // debug: the log then shows keep-alive streams that hit the dead member and were retried elsewhere.
    for (const node of lab.nodes.slice(0, 2)) knitds.push(await startClusterKnitd(lab, node, undefined, { logLevel: 'debug' }));
    for (const k of knitds) c.push(await attach(lab, k, 'm'));
  });
  after(async () => {
    await cleanupAll([
      ...Array.from([...knitds, third], (k) => () => k?.destroy()),
      () => lab?.teardown(),
    ]);
  });

  it('no disruption: traffic, lease checks, CNI ADD and a new node joining all keep working', async () => {
    expect(await unreachablePairs(lab, [[c[0]!, c[1]!]])).to.deep.equal([]);
    // ~400 pings at 50 ms: 20 s or more, across the loss and the knitds' next lease check (10 s).
    const ping = lab.spawn(c[0]!.c, 'ping', ['-n', '-q', '-i', '0.05', '-c', '400', '-W', '1', c[1]!.ip], { tag: 'ping-member-loss' });
    await new Promise((r) => setTimeout(r, 500));
    const leader = await leaderIndex(lab);
    await lab.killEtcdMember(leader);
    const killedAt = Date.now();

    const late = await attach(lab, knitds[0]!, 'late');
    third = await startClusterKnitd(lab, lab.nodes[2]!);
    console.log(`      (killed etcd member ${leader} (the leader); node3 ready ${Date.now() - killedAt} ms later)`);
    expect(new Set([...knitds, third].map((k) => k.subnet)).size).to.equal(3);
    const f = await footprintOf(third);
    const { ms } = await waitFor('node3 programmed on nodes 1 and 2', async () => {
      for (const k of knitds) if (objectsFor(await dataplaneOf(k.node.ns), f).length !== 3) return false;
      return true;
    }, 10_000);
    console.log(`      (node3 programmed on nodes 1 and 2 ${ms} ms after it was ready)`);
    const n3 = await attach(lab, third, 'n3');
    expect(await unreachablePairs(lab, [[n3, c[0]!], [n3, c[1]!], [c[0]!, n3], [c[1]!, n3], [late, c[1]!], [c[1]!, late]])).to.deep.equal([]);

    // Let every knitd run at least one lease check against the shrunken cluster.
    await new Promise((r) => setTimeout(r, Math.max(0, 12_000 - (Date.now() - killedAt))));
    expect(ping.running(), 'the ping still runs after the checks (it covered them)').to.equal(true);
    await ping.exited;
    const sum = pingSummary(ping.logTail());
    console.log(`      (ping across the member loss: ${sum.received}/${sum.transmitted} replies)`);
    expect(sum.received, 'replies').to.equal(sum.transmitted);
    const retried = knitds.map((k) => logRecords(k).filter((r) => String(r.message).startsWith('keep-alive stream failed')).length);
    console.log(`      (keep-alive streams retried on another member: node1 ${retried[0]}, node2 ${retried[1]})`);
    for (const k of [...knitds, third]) {
      // State changes only ("held -> held" is a renewal whose reason changed).
      const transitions = logRecords(k).map((r) => String(r.message))
        .filter((m) => /^subnet lease (\w+) -> (\w+)$/.test(m) && !/^subnet lease (\w+) -> \1$/.test(m));
      const why = logRecords(k).filter((r) => String(r.message).startsWith('subnet lease ') || String(r.message).includes('watch'))
        .map((r) => `${String(r.timestamp)} ${String(r.message)} ${String(r.reason ?? r.error ?? '')}`);
      expect(transitions, `${k.node.name} lease transitions:\n${why.join('\n')}\n`).to.deep.equal(['subnet lease idle -> acquiring', 'subnet lease acquiring -> held']);
    }
  });
});
