/**
 * SIGTERM while CNI requests are in flight (issue 15, item 10): knitd stops
 * accepting, finishes every request it has read, answers it, and only then
 * tears down. So each of 40 concurrent real-plugin ADDs either succeeded
 * completely (the runtime was told, the container has its address, the
 * allocation and the host veth exist) or failed with a CNI error and left
 * nothing (no interface in the container, no allocation, no record). Nothing
 * is half-made: the runtime's view and the node's agree. A restarted knitd
 * then DELs every one of them down to nothing.
 */
import { expect } from 'chai';
import { createLab, type Lab } from '../lab/lab';
import { addNetnsBatch, delNetnsBatch, netnsPath } from '../lab/netns';
import { readFileSync } from 'node:fs';
import { hostVeths, ipJson, startKnitd, type Knitd, type PluginRun } from '../lab/knitd';
import { hostVethName } from '../../agent/src/dataplane/veth-name';
import { waitFor } from '../support/wait';

const N = 40;

interface IpLink { ifname: string }

describe('CNI: SIGTERM under load finishes the requests in flight', function () {
  this.timeout(120_000);
  let lab: Lab;
  let knitd: Knitd;
  let names: string[] = [];

  before(async () => {
    lab = await createLab({ nodes: 1 });
    knitd = await startKnitd(lab, lab.nodes[0]!, { args: ['--reconcile-interval-seconds', '3600'] });
    names = Array.from({ length: N }, (_, i) => `${lab.prefix}s${i}`);
    addNetnsBatch(names);
  });
  after(async () => {
    delNetnsBatch(names);
    await knitd?.destroy();
    await lab?.teardown();
  });

  it(`${N} concurrent ADDs, SIGTERM after the first answers: each ADD is whole or absent; a restarted knitd DELs all to nothing`, async () => {
    const cfg = knitd.conf('1.1.0');
    const env = (ns: string): Record<string, string> => ({ CNI_CONTAINERID: `st-${ns}`, CNI_NETNS: netnsPath(ns), CNI_IFNAME: 'eth0' });
    const answered = (): number => readFileSync(knitd.logPath, 'utf8').split('\n').filter((l) => l.includes('"message":"CNI request')).length;
    const before = answered();
    const adds: Array<Promise<PluginRun>> = names.map((ns) => knitd.cni('ADD', env(ns), cfg));
    // Stop while most requests are still being served or still arriving.
    await waitFor('the first ADD answered', async () => answered() > before || undefined, 30_000);
    const stopped = knitd.stop();
    const runs = await Promise.all(adds);
    const exit = await stopped;
    expect(exit.code, `knitd's exit after SIGTERM: ${JSON.stringify(exit)}`).to.equal(0);

    const ipam = knitd.ipam();
    const veths = new Set(await hostVeths(lab.nodes[0]!.ns));
    let ok = 0;
    for (const [i, r] of runs.entries()) {
      const ns = names[i]!;
      const id = `st-${ns}`;
      const alloc = ipam.allocations.find((a) => a.containerId === id);
      const links = (await ipJson<IpLink[]>(ns, ['link', 'show'])).map((l) => l.ifname);
      const record = knitd.endpoints().find((e) => e.containerId === id);
      if (r.code === 0) {
        ok++;
        const ip = String((r.json!.ips as Array<{ address: string }>)[0]!.address).split('/')[0];
        expect(alloc?.ip, `${id}: the address the runtime was given is allocated`).to.equal(ip);
        expect(links, `${id}: eth0 in the container`).to.include('eth0');
        expect(veths.has(hostVethName(id, 'eth0')), `${id}: host veth`).to.equal(true);
        expect(record, `${id}: endpoint record`).to.not.equal(undefined);
      } else {
        const err = JSON.parse(r.stdout) as { code: number; msg: string };
        expect(err.code, `${id}: ${r.stdout}`).to.be.a('number');
        expect(alloc, `${id} failed (${err.msg}) but holds ${alloc?.ip}`).to.equal(undefined);
        expect(links, `${id} failed (${err.msg}) but has eth0`).to.not.include('eth0');
        expect(veths.has(hostVethName(id, 'eth0')), `${id} failed (${err.msg}) but its host veth exists`).to.equal(false);
        expect(record, `${id} failed (${err.msg}) but has an endpoint record`).to.equal(undefined);
      }
    }
    console.log(`      (${ok} of ${N} ADDs completed before knitd stopped; the other ${N - ok} were refused whole)`);
    expect(ok, 'the request already answered succeeded').to.be.greaterThan(0);
    expect(ipam.allocations, 'no allocation besides the completed ADDs').to.have.length(ok);

    await knitd.restart();
    const dels = await Promise.all(names.map((ns) => knitd.cni('DEL', env(ns), cfg)));
    dels.forEach((r, i) => expect(r.code, `DEL ${names[i]!}: ${r.stdout}`).to.equal(0));
    expect(knitd.ipam().allocations).to.deep.equal([]);
    expect(await hostVeths(lab.nodes[0]!.ns)).to.deep.equal([]);
    expect(knitd.endpoints()).to.deep.equal([]);
  });
});
