/**
 * A knitd that starts while etcd is unreachable serves its API and probes
 * at once: /healthz 200 (alive: a liveness probe must not restart it in a
 * loop), /readyz 503 "waiting for etcd: <reason>", and `knitctl status`
 * says the same instead of "is knitd running?". Once etcd answers, the
 * same process becomes ready without a restart.
 */
import { expect } from 'chai';
import { createLab, type Lab } from '../lab/lab';
import { startKnitd, type Knitd } from '../lab/knitd';
import { knitctl, scrape } from './api-lab';
import { waitFor } from './cluster-lab';
import { cleanupAll } from '../lab/cleanup';

const METRICS = '127.0.0.1:9655';

describe('knitd starting while etcd is unreachable', function () {
  this.timeout(120_000);
  let lab: Lab;
  let k: Knitd | undefined;

  before(async () => {
    lab = await createLab({ nodes: 1, etcd: true });
  });
  after(async () => {
    await cleanupAll([
      () => lab?.startEtcd().catch(() => undefined),
      () => k?.destroy(),
      () => lab?.teardown(),
    ]);
  });

  it('is alive, not ready, says "waiting for etcd" on /readyz and in knitctl status, and becomes ready once etcd answers', async () => {
    const node = lab.nodes[0]!;
    await lab.stopEtcd(); // SIGSTOP: connections hang, every call times out
    k = await startKnitd(lab, node, {
      cluster: { etcdEndpoints: lab.etcdEndpoints, network: { clusterCidr: '10.244.0.0/16', backend: { type: 'vxlan' } } },
      metricsAddress: METRICS, waitReady: false,
    });
    const knitd = k;
    const probe = async (path: string) => {
      try {
        return await scrape(lab, node, METRICS, path);
      } catch {
        return undefined; // not listening yet
      }
    };
    const { value: ready } = await waitFor('/readyz answering while etcd is frozen', () => probe('/readyz'), 20_000, async () => knitd.proc.logTail());
    expect(ready.status).to.equal(503);
    expect(ready.text).to.contain('waiting for etcd: ');
    const health = await probe('/healthz');
    expect(health?.status, 'alive while waiting').to.equal(200);

    // The reason becomes etcd's own error once the first call has timed out.
    await waitFor('readiness naming the etcd failure', async () => {
      const r = await probe('/readyz');
      return r !== undefined && /waiting for etcd: (?!connecting)/.test(r.text);
    }, 30_000, async () => (await probe('/readyz'))?.text ?? 'no answer');

    const status = await knitctl(['--socket', knitd.apiSocket, 'status']);
    expect(status.stdout + status.stderr).to.not.contain('is knitd running');
    expect(status.stdout).to.match(/Health:\s+healthy/);
    expect(status.stdout).to.match(/Ready:\s+NOT READY: waiting for etcd: /);
    expect(status.code, 'status exits non-zero while not ready').to.not.equal(0);
    const subnets = await knitctl(['--socket', knitd.apiSocket, 'peers']);
    expect(subnets.code).to.not.equal(0);
    expect(subnets.stderr).to.contain('knitd is starting: waiting for etcd');
    expect(knitd.proc.running()).to.equal(true);

    await lab.startEtcd();
    await waitFor('knitd ready after etcd came back', async () => knitd.proc.logTail(1 << 20).includes('"knitd ready"'), 60_000, async () => knitd.proc.logTail());
    const after = await probe('/readyz');
    expect(after?.status, after?.text).to.equal(200);
    const again = await knitctl(['--socket', knitd.apiSocket, 'status']);
    expect(again.code, again.stdout + again.stderr).to.equal(0);
    expect(again.stdout).to.match(/Subnet:\s+10\.244\.\d+\.0\/24/);
  });
});
