/**
 * etcd frozen (SIGSTOP: it keeps its sockets and answers nothing, the
 * nastiest kind of outage) for 60 s under a running cluster (VXLAN):
 *   - a ping between containers on two nodes runs across the whole outage
 *     and loses nothing;
 *   - each knitd reports degraded: the lease state transition in its log
 *     and /readyz answering 503 "etcd unreachable";
 *   - a container can still be attached meanwhile and reaches the other node;
 *   - a third node started during the outage waits (and says why), and
 *     comes up once etcd is back;
 *   - after etcd returns the lease is renewed (degraded -> held in the log)
 *     and the new node is picked up by the others (reachable both ways).
 */
import { expect } from 'chai';
import { createLab, type Lab } from '../lab/lab';
import type { Knitd } from '../lab/knitd';
import {
  attach, dataplaneOf, footprintOf, logRecords, objectsFor, pingSummary, startClusterKnitd, unreachablePairs, waitFor,
  type Attached,
} from './cluster-lab';
import { cleanupAll } from '../lab/cleanup';

const OUTAGE_MS = 60_000;
const METRICS = '127.0.0.1:9654';

/** /readyz of a knitd: HTTP status and body. */
async function readyz(lab: Lab, k: Knitd): Promise<{ status: number; body: string }> {
  const out = await lab.exec(k.node.ns, 'curl', ['-s', '-m', '5', '-w', '\n%{http_code}', `http://${METRICS}/readyz`]);
  const i = out.lastIndexOf('\n');
  return { status: Number(out.slice(i + 1)), body: out.slice(0, i) };
}

/** Index of the first log record of `k` matching `message`, or -1. */
function logIndex(k: Knitd, message: string, from = 0): number {
  const recs = logRecords(k);
  for (let i = from; i < recs.length; i++) if (recs[i]!.message === message) return i;
  return -1;
}

describe('cluster under an etcd outage (vxlan): etcd frozen for 60 s', function () {
  this.timeout(150_000);
  let lab: Lab;
  const knitds: Knitd[] = [];
  const c: Attached[] = [];
  let third: Knitd | undefined;

  before(async () => {
    lab = await createLab({ nodes: 3, etcd: true });
    for (const node of lab.nodes.slice(0, 2)) knitds.push(await startClusterKnitd(lab, node, undefined, { metricsAddress: METRICS }));
    for (const k of knitds) c.push(await attach(lab, k, 'o'));
  });
  after(async () => {
    await cleanupAll([
      () => lab?.startEtcd(),
      ...Array.from([...knitds, third], (k) => () => k?.destroy()),
      () => lab?.teardown(),
    ]);
  });

  it('traffic flows throughout, knitd reports degraded, then renews and picks up a node that joined meanwhile', async () => {
    expect(await unreachablePairs(lab, [[c[0]!, c[1]!], [c[1]!, c[0]!]])).to.deep.equal([]);
    for (const k of knitds) expect((await readyz(lab, k)).status, `${k.node.name} ready before the outage`).to.equal(200);
    // ~1300 pings at 50 ms: 65 s or more, covering the 60 s outage (checked below).
    const ping = lab.spawn(c[0]!.c, 'ping', ['-n', '-q', '-i', '0.05', '-c', '1300', '-W', '1', c[1]!.ip], { tag: 'ping-outage' });
    await new Promise((r) => setTimeout(r, 500));

    await lab.stopEtcd();
    const pausedAt = Date.now();
    const sinceOutage = (): string => `${((Date.now() - pausedAt) / 1000).toFixed(1)} s`;

    // Degraded: every knitd notices within its 10 s lease check (+ 5 s call deadline).
    for (const k of knitds) {
      await waitFor(`${k.node.name} lease degraded`, async () => logIndex(k, 'subnet lease held -> degraded') >= 0, 40_000);
      const r = await readyz(lab, k);
      expect(r.status, `${k.node.name} /readyz while etcd is frozen`).to.equal(503);
      expect(r.body).to.contain('etcd unreachable');
    }
    console.log(`      (both knitds degraded ${sinceOutage()} into the outage)`);

    // Containers still start: IPAM and the dataplane are local.
    const late = await attach(lab, knitds[0]!, 'late');
    expect(await unreachablePairs(lab, [[late, c[1]!], [c[1]!, late]])).to.deep.equal([]);

    // A node joining now cannot get a lease: it waits, and must come up once etcd is back.
    let joinError: unknown;
    const joining = startClusterKnitd(lab, lab.nodes[2]!, undefined, { readyTimeoutMs: 90_000 }).then(
      (k) => { third = k; },
      (err: unknown) => { joinError = err; },
    );
    await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - pausedAt))));
    expect(third, 'the node started during the outage became ready while etcd was frozen').to.equal(undefined);
    expect(ping.running(), 'the ping still runs at the end of the outage').to.equal(true);
    await lab.startEtcd();
    const resumedAt = Date.now();

    await joining;
    expect(joinError).to.equal(undefined);
    const joined = third!;
    console.log(`      (node3 ready ${Date.now() - resumedAt} ms after etcd came back)`);
    expect(logRecords(joined).some((r) => typeof r.message === 'string' && r.message.startsWith('waiting to ')), 'node3 said what it waited for').to.equal(true);
    expect(new Set([...knitds, joined].map((k) => k.subnet)).size).to.equal(3);

    for (const k of knitds) {
      const degradedAt = logIndex(k, 'subnet lease held -> degraded');
      const { ms } = await waitFor(`${k.node.name} lease renewed`, async () => logIndex(k, 'subnet lease degraded -> held', degradedAt) > degradedAt, 20_000);
      console.log(`      (${k.node.name} lease renewed ${ms} ms after node3 was ready)`);
      await waitFor(`${k.node.name} ready again`, async () => (await readyz(lab, k)).status === 200, 5000);
    }

    const f = await footprintOf(joined);
    await waitFor('node3 programmed on nodes 1 and 2', async () => {
      for (const k of knitds) if (objectsFor(await dataplaneOf(k.node.ns), f).length !== 3) return false;
      return true;
    }, 5000);
    const n3 = await attach(lab, joined, 'n3');
    expect(await unreachablePairs(lab, [[n3, c[0]!], [n3, c[1]!], [c[0]!, n3], [c[1]!, n3], [late, n3]])).to.deep.equal([]);

    await ping.exited;
    const sum = pingSummary(ping.logTail());
    console.log(`      (ping across the outage: ${sum.received}/${sum.transmitted} replies)`);
    expect(sum.transmitted).to.equal(1300);
    expect(sum.received, 'replies').to.equal(sum.transmitted);
  });
});
