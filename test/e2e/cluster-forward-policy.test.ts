/**
 * A DROP forward policy on the node must not blackhole cluster traffic
 * silently:
 *   - Docker's default, iptables filter FORWARD policy DROP (through
 *     iptables-nft), set before knitd starts on node1 and after it started
 *     on node2: knit appends its two ACCEPT rules for the cluster CIDR and
 *     containers on both nodes reach each other;
 *   - an nft `inet filter forward` chain with policy drop (another table,
 *     which knit does not edit): /readyz 503 and `knitctl status` name the
 *     table and chain, and an error log line does; removing it clears it.
 */
import { expect } from 'chai';
import type { Lab } from '../lab/lab';
import type { Knitd } from '../lab/knitd';
import { knitctl, scrape } from './api-lab';
import { allPairs, logRecords, unreachablePairs, waitFor, withCluster } from './cluster-lab';

const METRICS = '127.0.0.1:9657';
const KNIT_RULES = [
  '-A FORWARD -s 10.244.0.0/16 -m comment --comment "knit: cluster traffic" -j ACCEPT',
  '-A FORWARD -d 10.244.0.0/16 -m comment --comment "knit: cluster traffic" -j ACCEPT',
];

describe('cluster traffic through a node whose forward policy is DROP', function () {
  this.timeout(120_000);
  const f = withCluster({
    nodes: 2,
    // A 2 s check interval so a policy changed under a running knitd is found quickly.
    knitd: { metricsAddress: METRICS, args: ['--reconcile-interval-seconds', '2'] },
    // Docker's default on node1 before knitd starts.
    beforeStart: async (l) => { await l.exec(l.nodes[0]!.ns, 'iptables-nft', ['-P', 'FORWARD', 'DROP']); },
  });
  const { knitds, attached: c } = f;
  let lab: Lab;
  before(() => { lab = f.lab; });

  const forwardRules = async (k: Knitd) => (await lab.exec(k.node.ns, 'iptables-nft', ['-S', 'FORWARD'])).trim().split('\n');

  it('keeps cluster traffic flowing under iptables FORWARD policy DROP (set before and after knitd started)', async () => {
    const [k1, k2] = knitds as [Knitd, Knitd];
    expect(await forwardRules(k1)).to.deep.equal(['-P FORWARD DROP', ...KNIT_RULES]);
    expect(await forwardRules(k2), 'node2 has no DROP policy: knit adds nothing there').to.deep.equal(['-P FORWARD ACCEPT']);
    expect(await unreachablePairs(lab, allPairs(c))).to.deep.equal([]);

    await lab.exec(k2.node.ns, 'iptables-nft', ['-P', 'FORWARD', 'DROP']);
    const { ms } = await waitFor('knit\'s accepts on node2', async () => (await forwardRules(k2)).length === 3, 10_000);
    console.log(`      (node2's accept rules ${ms} ms after its policy became DROP)`);
    expect(await forwardRules(k2)).to.deep.equal(['-P FORWARD DROP', ...KNIT_RULES]);
    expect(await unreachablePairs(lab, allPairs(c))).to.deep.equal([]);
    for (const k of knitds) {
      expect((await scrape(lab, k.node, METRICS, '/readyz')).status, k.node.name).to.equal(200);
      expect(logRecords(k).filter((r) => r.message === 'iptables FORWARD policy is DROP: accepted cluster traffic')).to.have.length(2);
    }
  });

  it('reports an nft inet filter forward chain with policy drop in /readyz, knitctl status and an error log naming table and chain', async () => {
    const k1 = knitds[0]!;
    await lab.exec(k1.node.ns, 'nft', ['add table inet filter']);
    await lab.exec(k1.node.ns, 'nft', ['add chain inet filter forward { type filter hook forward priority 0; policy drop; }']);
    try {
      const { value: ready } = await waitFor('node1 not ready', async () => {
        const r = await scrape(lab, k1.node, METRICS, '/readyz');
        return r.status === 503 ? r : undefined;
      }, 10_000);
      expect(ready.text).to.contain('forward chain "inet filter forward" has policy drop and no accept rule for 10.244.0.0/16');
      // The world knit reports: node1's containers are cut off from node2's.
      expect(await unreachablePairs(lab, allPairs(c))).to.have.length(2);
      const status = await knitctl(['--socket', k1.apiSocket, 'status']);
      expect(status.code).to.equal(1);
      expect(status.stdout).to.match(/Ready:\s+NOT READY: forward chain "inet filter forward" has policy drop/);
      const errors = logRecords(k1).filter((r) => r.message === 'a forward chain drops cluster traffic and knit cannot override it');
      expect(errors.map((r) => [r.level, r.table, r.chain, r.policy])).to.deep.equal([['error', 'inet filter', 'forward', 'drop']]);
      expect((await scrape(lab, knitds[1]!.node, METRICS, '/readyz')).status, 'node2 is not affected').to.equal(200);
    } finally {
      await lab.exec(k1.node.ns, 'nft', ['delete table inet filter']);
    }
    await waitFor('node1 ready again', async () => (await scrape(lab, k1.node, METRICS, '/readyz')).status === 200, 10_000);
    expect(logRecords(k1).some((r) => r.message === 'forward chain no longer drops cluster traffic' && r.table === 'inet filter')).to.equal(true);
    expect(await unreachablePairs(lab, allPairs(c))).to.deep.equal([]);
  });
});
