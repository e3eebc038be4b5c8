/**
 * Many knitds starting at the same moment against one etcd:
 *   - 20 at once get 20 distinct subnets (create-if-absent settles the races)
 *     and every node ends up with a route to each of the 19 others;
 *   - with a cluster CIDR that holds fewer subnets than nodes (a /22 cut
 *     into /24s: 4), exactly 4 of 6 simultaneous knitds get one and the
 *     others exit 1 with an error naming the space ("no free /24 left in …").
 */
import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLab, type Lab } from '../lab/lab';
import { KNITD_BIN, startKnitd, type Knitd } from '../lab/knitd';
import { ensureRunDir } from '../lab/run-dir';
import { dataplaneOf, etcdctl, logRecords, readyRecord, waitFor } from './cluster-lab';
import { cleanupAll } from '../lab/cleanup';

describe('cluster scale: 20 knitds started at the same time', function () {
  this.timeout(120_000);
  let lab: Lab;
  let knitds: Knitd[] = [];

  before(async () => {
    lab = await createLab({ nodes: 20, etcd: true });
  });
  after(async () => {
    await cleanupAll([
      ...Array.from(knitds, (k) => () => k.destroy()),
      () => lab?.teardown(),
    ]);
  });

  it('get 20 distinct subnets and a full mesh of routes', async () => {
    const network = { clusterCidr: '10.244.0.0/16', subnetLength: 24, backend: { type: 'vxlan' } };
    const t0 = Date.now();
    const started = await Promise.allSettled(lab.nodes.map((node) => startKnitd(lab, node, {
      cluster: { etcdEndpoints: lab.etcdEndpoints, network }, readyTimeoutMs: 90_000,
    })));
    knitds = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const errors = started.flatMap((s) => (s.status === 'rejected' ? [String(s.reason)] : []));
    expect(errors, 'knitds that failed to start').to.deep.equal([]);
    const readyAt = knitds.map((k) => Date.parse(String(readyRecord(k).timestamp)) - t0).sort((a, b) => a - b);
    const waits = knitds.flatMap((k) => logRecords(k).filter((r) => String(r.message).startsWith('waiting to')).map((r) => `${k.node.name}: ${String(r.message)} (${String(r.reason)})`));
    console.log(`      (20 knitds ready ${readyAt[0]}..${readyAt[19]} ms after the simultaneous start; start-up retries: ${waits.length ? waits.join('; ') : 'none'})`);
    const subnets = knitds.map((k) => k.subnet);
    expect(new Set(subnets).size).to.equal(20);
    for (const s of subnets) expect(s).to.match(/^10\.244\.\d{1,3}\.0\/24$/);
    const keys = (await etcdctl(lab, ['get', '--prefix', '/knit/v1/subnets/', '--keys-only'])).split('\n').filter((l) => l !== '');
    expect(keys.sort()).to.deep.equal(subnets.map((s) => `/knit/v1/subnets/${s.replace('/', '-')}`).sort());

    const { ms } = await waitFor('every node routes to the 19 others', async () => {
      for (const k of knitds) {
        const peers = (await dataplaneOf(k.node.ns)).routes.filter((r) => r.dev === 'knit.1').map((r) => r.dst).sort();
        if (JSON.stringify(peers) !== JSON.stringify(subnets.filter((s) => s !== k.subnet).sort())) return false;
      }
      return true;
    }, 20_000);
    console.log(`      (full mesh of 20 x 19 routes ${ms} ms after the last knitd was ready)`);
  });
});

describe('cluster scale: a full address space', function () {
  this.timeout(90_000);
  let lab: Lab;

  before(async () => {
    lab = await createLab({ nodes: 6, etcd: true });
  });
  after(async () => {
    await lab?.teardown();
  });

  it('4 of 6 simultaneous knitds lease the 4 /24s of a /22; the others exit 1 naming the full space', async () => {
    const network = { clusterCidr: '10.250.0.0/22', subnetLength: 24, backend: { type: 'vxlan' } };
    // Spawned directly (not through startKnitd) so the losers' exit codes and logs can be read.
    const dir = mkdtempSync(join(ensureRunDir(), 'knitd-full-'));
    const procs = lab.nodes.map((node) => {
      const d = join(dir, node.name);
      const configFile = `${d}.json`;
      writeFileSync(configFile, JSON.stringify({ network }));
      return lab.spawn(node.ns, process.execPath, [
        KNITD_BIN, '--config', configFile, '--etcd-endpoints', lab.etcdEndpoints.join(','), '--node-name', node.name,
        '--state-dir', join(d, 'state'), '--run-dir', join(d, 'run'), '--cni-conf-dir', join(d, 'net.d'),
        '--log-format', 'json', '--metrics-address', '',
      ], { tag: `knitd-full-${node.name}` });
    });
    const outcome = await Promise.all(procs.map(async (p) => {
      const deadline = Date.now() + 60_000;
      for (;;) {
        if (p.logTail(1 << 20).includes('"knitd ready"')) return { ready: true as const, p };
        if (!p.running()) return { ready: false as const, p, exit: await p.exited };
        if (Date.now() > deadline) throw new Error(`knitd ${p.pid} neither ready nor exited after 60 s: ${p.logTail()}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    }));
    const ready = outcome.filter((o) => o.ready);
    const failed = outcome.flatMap((o) => (o.ready ? [] : [o]));
    expect(ready, 'knitds that got a subnet').to.have.length(4);
    expect(failed, 'knitds refused').to.have.length(2);
    for (const f of failed) {
      expect(f.exit, `exit of knitd ${f.p.pid}`).to.deep.equal({ code: 1, signal: null });
      const line = f.p.logTail(1 << 20).split('\n').find((l) => l.includes('"knitd failed to start"'));
      expect(line, `log of knitd ${f.p.pid}:\n${f.p.logTail()}`).to.be.a('string');
      expect((JSON.parse(line!) as { error: string }).error).to.contain('no free /24 left in 10.250.0.0/22: 4 of 4 leased');
    }
    const keys = (await etcdctl(lab, ['get', '--prefix', '/knit/v1/subnets/', '--keys-only'])).split('\n').filter((l) => l !== '').sort();
    expect(keys).to.deep.equal(['10.250.0.0-24', '10.250.1.0-24', '10.250.2.0-24', '10.250.3.0-24'].map((k) => `/knit/v1/subnets/${k}`));
    for (const o of ready) await o.p.stop();
  });
});
