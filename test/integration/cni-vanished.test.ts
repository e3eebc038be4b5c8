/**
 * A DEL that never arrives: the container's namespace is removed while
 * knitd is down (or while it runs, between two reaper passes). The
 * attachment (allocation, endpoint record, host-port DNAT) is released at
 * start-up or by the periodic pass, logged and counted; the next container
 * gets the host port. An attachment whose veth is gone but whose namespace
 * still exists is not proof of anything and stays. A host-port conflict
 * names the attachment that holds the port.
 */
import { expect } from 'chai';
import type { Lab, LabContainer } from '../lab/lab';
import { cniEnv, hostVeths, nftCounts, startKnitd, type Knitd, withOneNodeKnitd } from '../lab/knitd';
import { freePort } from '../lab/etcd';
import { parsePrometheusText, sampleValue } from '../support/metrics-text-parser';
import { hostVethName } from '../../agent/src/dataplane/veth-name';
import { waitFor } from '../support/wait';

const portConf = (knitd: Knitd, hostPort: number): Record<string, unknown> =>
  knitd.conf('1.1.0', { capabilities: { portMappings: true }, runtimeConfig: { portMappings: [{ hostPort, containerPort: 80, protocol: 'tcp' }] } });

describe('CNI: attachments whose DEL never arrived', function () {
  this.timeout(90_000);
  let lab: Lab;
  let knitd: Knitd;
  // Inside the node's own namespace: no other test listens there.
  const metrics = '127.0.0.1:19464';
  withOneNodeKnitd((l, k) => { lab = l; knitd = k; }, { metricsAddress: metrics });

  async function removeNetnsAndWait(c: LabContainer): Promise<void> {
    const before = (await hostVeths(lab.nodes[0]!.ns)).length;
    lab.removeContainer(c);
    // The kernel destroys the namespace (and the veth pair with it) asynchronously.
    await waitFor('the veth pair to die with its namespace', async () => (await hostVeths(lab.nodes[0]!.ns)).length === before - 1, 10_000);
  }

  it('at start-up releases the allocation, record and host port of a container removed while knitd was down', async () => {
    const gone = lab.addContainer(0, 'gone');
    const stays = lab.addContainer(0, 'stays');
    expect((await knitd.cni('ADD', cniEnv(gone), portConf(knitd, 18555))).code).to.equal(0);
    expect((await knitd.cni('ADD', cniEnv(stays), knitd.conf('1.1.0'))).code).to.equal(0);
    const nftWithPort = await nftCounts(lab.nodes[0]!.ns);

    // A host-port conflict names the holder.
    const clash = lab.addContainer(0, 'clash');
    const refused = await knitd.cni('ADD', cniEnv(clash), portConf(knitd, 18555));
    expect(refused.json?.code, refused.stdout).to.equal(103);
    expect(String(refused.json?.msg)).to.include(`host port 0.0.0.0:18555/tcp is held by container ${gone.containerId} interface eth0`);

    await knitd.stop();
    await removeNetnsAndWait(gone);
    await knitd.restart();

    const log = knitd.proc.logTail(1 << 20);
    expect(log).to.include('released an attachment whose container is gone (its CNI DEL never arrived)');
    expect(log).to.include(gone.containerId);
    expect(knitd.endpoints().map((e) => e.containerId)).to.include(stays.containerId);
    expect(knitd.endpoints().map((e) => e.containerId)).to.not.include(gone.containerId);
    expect(knitd.ipam().allocations.map((a) => a.containerId)).to.not.include(gone.containerId);
    expect((await nftCounts(lab.nodes[0]!.ns)).elements, 'the host port DNAT element is gone').to.be.below(nftWithPort.elements);
    // /metrics is served inside the node's namespace.
    const text = await lab.exec(lab.nodes[0]!.ns, process.execPath, ['-e', `fetch('http://${metrics}/metrics').then(async (r) => process.stdout.write(await r.text()))`]);
    expect(sampleValue(parsePrometheusText(text), 'knit_cni_attachments_reaped_total')).to.equal(1);

    // The host port is free for the next container.
    const ok = await knitd.cni('ADD', cniEnv(clash), portConf(knitd, 18555));
    expect(ok.code, ok.stdout).to.equal(0);
    for (const c of [clash, stays]) expect((await knitd.cni('DEL', cniEnv(c), knitd.conf('1.1.0'))).code).to.equal(0);
    expect(knitd.ipam().allocations).to.deep.equal([]);
  });

  it('keeps an attachment whose host veth is gone while its namespace exists', async () => {
    const c = lab.addContainer(0, 'keep');
    expect((await knitd.cni('ADD', cniEnv(c), knitd.conf('1.1.0'))).code).to.equal(0);
    await knitd.stop();
    await lab.exec(lab.nodes[0]!.ns, 'ip', ['link', 'del', hostVethName(c.containerId, 'eth0')]);
    await knitd.restart();
    expect(knitd.endpoints().map((e) => e.containerId)).to.deep.equal([c.containerId]);
    expect(knitd.ipam().allocations.map((a) => a.containerId)).to.deep.equal([c.containerId]);
    expect((await knitd.cni('DEL', cniEnv(c), knitd.conf('1.1.0'))).code).to.equal(0);
    expect(knitd.ipam().allocations).to.deep.equal([]);
  });

  it('the periodic pass releases a container removed while knitd runs', async () => {
    // The same node, so the suite's knitd steps aside (it owns the node's nft table too).
    await knitd.stop();
    const fast = await startKnitd(lab, lab.nodes[0]!, { args: ['--cni-reap-interval-seconds', '1'], metricsAddress: `127.0.0.1:${await freePort()}` });
    try {
      const c = lab.addContainer(0, 'periodic');
      expect((await fast.cni('ADD', cniEnv(c), portConf(fast, 18556))).code).to.equal(0);
      expect(fast.ipam().allocations).to.have.length(1);
      lab.removeContainer(c);
      // The records change first, the log line follows.
      await waitFor('the reaper to release the vanished attachment', () => fast.ipam().allocations.length === 0 && fast.endpoints().map((e) => e.containerId).length === 0
        && fast.proc.logTail(1 << 20).includes('released an attachment whose container is gone'), 10_000);
      const c2 = lab.addContainer(0, 'periodic2');
      const again = await fast.cni('ADD', cniEnv(c2), portConf(fast, 18556));
      expect(again.code, again.stdout).to.equal(0);
      expect((await fast.cni('DEL', cniEnv(c2), fast.conf('1.1.0'))).code).to.equal(0);
    } finally {
      await fast.destroy();
    }
  });
});
