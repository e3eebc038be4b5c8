/**
 * Operator truth against REAL knitds (3-node vxlan lab, real etcd): peer
 * liveness and the lease fields that must move.
 *
 *  - every node sees every peer's agent alive (liveness keys in etcd, read
 *    back with etcdctl);
 *  - a SIGKILLed knitd is shown DOWN on its peers within the liveness TTL
 *    (`knitctl peers`, status counts, a Watch peerLiveness event,
 *    knit_peers_alive), while its routes stay in every peer's kernel;
 *  - it comes back alive after a restart; a clean stop (SIGTERM without
 *    release) shows down at once and logs "held -> stopped";
 *  - `knitctl status -o json`: the lease's remaining TTL counts down and the
 *    last renewal time moves (a keep-alive every 10 s).
 */
import { expect } from 'chai';
import { performance } from 'node:perf_hooks';
import type { KnitClient } from '../../agent/src/api/gen/knit/v1/Knit';
import type { Node__Output } from '../../agent/src/api/gen/knit/v1/Node';
import type { ListPeersResponse__Output } from '../../agent/src/api/gen/knit/v1/ListPeersResponse';
import { createLab, type Lab } from '../lab/lab';
import type { Knitd } from '../lab/knitd';
import { WatchRecorder, apiClient, etcdctl, knitctl, scrape, sumOf, PREFIX } from './api-lab';
import { logRecords, startClusterKnitd, waitFor } from './cluster-lab';
import { cleanupAll } from '../lab/cleanup';

const LIVENESS_TTL_S = 4;
const METRICS = '127.0.0.1:9465';

describe('operator truth: peer liveness and moving lease fields (3 real knitds)', function () {
  this.timeout(120_000);
  let lab: Lab;
  const knitds: Knitd[] = [];
  let api: KnitClient;
  let watch: WatchRecorder;
  const timings: string[] = [];

  const start = (n: number) => startClusterKnitd(lab, lab.nodes[n]!, undefined, {
    metricsAddress: METRICS, args: ['--etcd-liveness-ttl-seconds', String(LIVENESS_TTL_S)],
  });
  const sock = () => ['--socket', knitds[0]!.apiSocket];
  const peersJson = async () => {
    const r = await knitctl(['peers', '-o', 'json', ...sock()]);
    expect(r.code, r.stderr).to.equal(0);
    return (JSON.parse(r.stdout) as ListPeersResponse__Output).peers;
  };
  const agentOf = async (name: string) => (await peersJson()).find((p) => p.nodeName === name)?.agent;
  const status = async (): Promise<Node__Output> => {
    const r = await knitctl(['status', '-o', 'json', ...sock()]);
    expect(r.code, r.stderr).to.equal(0);
    return JSON.parse(r.stdout) as Node__Output;
  };

  before(async () => {
    lab = await createLab({ nodes: 3, etcd: true });
    for (let i = 0; i < 3; i++) knitds.push(await start(i));
    api = apiClient(knitds[0]!.apiSocket);
    watch = new WatchRecorder(api);
    await watch.waitFor((e) => e.event === 'snapshot', 10_000, 0, 'snapshot');
  });
  after(async () => {
    if (timings.length) console.log(`      timings: ${timings.join('; ')}`);
    await cleanupAll([
      () => watch?.close(),
      () => api?.close(),
      ...Array.from(knitds, (k) => () => k.destroy()),
      () => lab?.teardown(),
    ]);
  });

  it('every agent is alive: one liveness key per node in etcd; knitctl peers and status say so', async () => {
    const keys = (await etcdctl(lab, ['get', '--prefix', '--keys-only', `${PREFIX}/alive/`])).split('\n').filter((l) => l !== '');
    expect(keys.sort()).to.deep.equal(['node1', 'node2', 'node3'].map((n) => `${PREFIX}/alive/${n}`));
    await waitFor('node1 sees both agents alive', async () => (await peersJson()).every((p) => p.agent === 'AGENT_STATE_ALIVE') || undefined, 10_000);
    const peers = await peersJson();
    expect(peers.map((p) => `${p.nodeName} ${p.agent} ${p.inSync}`).sort()).to.deep.equal(['node2 AGENT_STATE_ALIVE true', 'node3 AGENT_STATE_ALIVE true']);
    for (const p of peers) expect(p.agentSince, `${p.nodeName} alive since`).to.not.equal('');
    const s = await status();
    expect([s.peersAlive, s.peersTotal]).to.deep.equal([2, 2]);
    const t = await knitctl(['peers', ...sock()]);
    expect(t.stdout.split('\n').filter((l) => /^node[23]\s/.test(l)).map((l) => /\balive\b/.test(l))).to.deep.equal([true, true]);
    const text = await knitctl(['status', ...sock()]);
    expect(text.stdout).to.match(/Peers:\s+2\/2 agents alive/);
  });

  it(`a killed knitd is shown DOWN within the liveness TTL (${LIVENESS_TTL_S} s) on its peers; its routes stay`, async () => {
    const k2 = knitds[1]!;
    const from = watch.seen.length;
    const routeBefore = await lab.exec(lab.nodes[0]!.ns, 'ip', ['route', 'show', k2.subnet, 'proto', '89']);
    expect(routeBefore, 'node1 routes node2\'s subnet').to.include(k2.subnet);
    const killedAt = performance.now();
    await k2.kill();
    const ev = await watch.waitFor((e) => e.event === 'peerLiveness' && e.peerLiveness?.nodeName === 'node2' && e.peerLiveness.agent === 'AGENT_STATE_DOWN',
      (LIVENESS_TTL_S + 5) * 1000, from, 'peer-down event of node2');
    const ms = ev.at - killedAt;
    timings.push(`peer-down seen ${ms.toFixed(0)} ms after SIGKILL (TTL ${LIVENESS_TTL_S} s)`);
    // etcd expires a lease at TTL (its lessor checks every 500 ms); the event follows at once.
    expect(ms).to.be.at.most(LIVENESS_TTL_S * 1000 + 1500);
    expect(ev.item.peerLiveness!.subnet).to.equal(k2.subnet);
    expect(await agentOf('node2')).to.equal('AGENT_STATE_DOWN');
    expect(await agentOf('node3')).to.equal('AGENT_STATE_ALIVE');
    const s = await status();
    expect([s.peersAlive, s.peersTotal]).to.deep.equal([1, 2]);
    const t = await knitctl(['peers', ...sock()]);
    expect(t.stdout.split('\n').find((l) => l.startsWith('node2'))).to.match(/\bDOWN \d+s\b/);
    expect(sumOf((await scrape(lab, lab.nodes[0]!, METRICS)).fams, 'knit_peers_alive')).to.equal(1);
    // The live view puts the dead peer first and says so.
    const topRun = await knitctl(['top', '--once', ...sock()]);
    expect(topRun.code, topRun.stderr).to.equal(0);
    const frame = topRun.stdout.split('\n');
    expect(frame[2]).to.equal('2 peers: 1 alive, 1 DOWN, all in sync');
    expect(frame[5]).to.match(/^node2 .* DOWN \d+s /);
    expect(frame[6]).to.match(/^node3 .* alive /);
    // A dead agent never removes routes: its containers may still run.
    expect(await lab.exec(lab.nodes[0]!.ns, 'ip', ['route', 'show', k2.subnet, 'proto', '89'])).to.equal(routeBefore);
    expect((await peersJson()).find((p) => p.nodeName === 'node2')?.inSync).to.equal(true);
  });

  it('the restarted knitd is alive again (peer-alive event); a clean stop without release is DOWN at once and logs "held -> stopped"', async () => {
    const k2 = knitds[1]!;
    let from = watch.seen.length;
    await k2.restart();
    await watch.waitFor((e) => e.event === 'peerLiveness' && e.peerLiveness?.nodeName === 'node2' && e.peerLiveness.agent === 'AGENT_STATE_ALIVE', 10_000, from, 'peer-alive event of node2');
    expect(await agentOf('node2')).to.equal('AGENT_STATE_ALIVE');

    const k3 = knitds[2]!;
    from = watch.seen.length;
    const stoppedAt = performance.now();
    await k3.stop();
    const ev = await watch.waitFor((e) => e.event === 'peerLiveness' && e.peerLiveness?.nodeName === 'node3' && e.peerLiveness.agent === 'AGENT_STATE_DOWN', 5000, from, 'peer-down event of node3');
    timings.push(`peer-down seen ${(ev.at - stoppedAt).toFixed(0)} ms after SIGTERM`);
    expect(ev.at - stoppedAt, 'the liveness key is revoked on a clean stop, not left to expire').to.be.below(LIVENESS_TTL_S * 1000);
    const msgs = logRecords(k3).map((r) => String(r.message));
    expect(msgs).to.include('subnet lease held -> stopped');
    expect(msgs).to.not.include('subnet lease held -> released');
    // The lease stays in etcd (no release): node1 keeps node3 as a peer, down.
    expect(await agentOf('node3')).to.equal('AGENT_STATE_DOWN');
  });

  it('status: the lease\'s remaining TTL counts down and the renewal time moves; /metrics agrees', async () => {
    const first = await status();
    expect(first.leaseRemainingSeconds).to.be.above(0);
    expect(first.leaseExpiresAt).to.not.equal('');
    expect(Date.parse(first.leaseExpiresAt) - Date.parse(first.leaseRenewedAt)).to.equal(86400 * 1000);
    const { value: later, ms } = await waitFor('a renewal after the first read', async () => {
      const s = await status();
      return s.leaseRenewedAt !== first.leaseRenewedAt ? s : undefined;
    }, 15_000);
    timings.push(`lease renewal seen after ${ms} ms`);
    expect(Date.parse(later.leaseRenewedAt)).to.be.above(Date.parse(first.leaseRenewedAt));
    expect(Date.parse(later.leaseExpiresAt)).to.be.above(Date.parse(first.leaseExpiresAt));
    // Between renewals the remaining time counts down.
    const a = await status();
    await new Promise((r) => setTimeout(r, 2100));
    const b = await status();
    if (a.leaseRenewedAt === b.leaseRenewedAt) expect(b.leaseRemainingSeconds).to.be.below(a.leaseRemainingSeconds);
    else expect(Date.parse(b.leaseRenewedAt)).to.be.above(Date.parse(a.leaseRenewedAt));
    const fams = (await scrape(lab, lab.nodes[0]!, METRICS)).fams;
    expect(sumOf(fams, 'knit_lease_remaining_seconds')).to.be.within(86400 - 15, 86400);
    expect(sumOf(fams, 'knit_lease_last_renewal_timestamp_seconds') * 1000).to.be.within(Date.now() - 15_000, Date.now());
    // Own lease in ListSubnets carries the same expiry.
    const subnets = JSON.parse((await knitctl(['subnets', '-o', 'json', ...sock()])).stdout) as { leases: Array<{ own: boolean; expiresAt: string }> };
    expect(subnets.leases.find((l) => l.own)?.expiresAt).to.not.equal('');
  });
});
