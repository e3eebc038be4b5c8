/**
 * Load through the real plugin: 200 concurrent ADDs on one node (a /24 has
 * 253 usable addresses), then 200 concurrent DELs; and 1000 ADD/DEL cycles
 * (a few lanes in parallel) that must leak nothing: no host veth, no
 * allocation, no nft rule or map element, no file descriptor in knitd.
 */
import { expect } from 'chai';
import { createLab, type Lab } from '../lab/lab';
import { addNetnsBatch, delNetnsBatch, netnsPath } from '../lab/netns';
import { hostVeths, ipJson, nftCounts, startKnitd, type Knitd, type PluginRun } from '../lab/knitd';
import { cleanupAll } from '../lab/cleanup';

interface IpAddr { addr_info: Array<{ family: string; local: string }> }

function okJson(r: PluginRun, what: string): Record<string, unknown> {
  expect(r.code, `${what}: exit code; stdout=${r.stdout} stderr=${r.stderr}`).to.equal(0);
  return r.json ?? {};
}

function addressOf(result: Record<string, unknown>): string {
  return String((result.ips as Array<{ address: string }>)[0]!.address).split('/')[0]!;
}

describe('CNI under load: real plugin, real knitd', function () {
  this.timeout(120_000);
  let lab: Lab;
  let knitd: Knitd;
  let nodeNs: string;

  before(async () => {
    lab = await createLab({ nodes: 1 });
    nodeNs = lab.nodes[0]!.ns;
    // No periodic forward-policy check (it spawns iptables and nft, whose
    // pipes would show up in knitd's fd count if a check ran at a sample):
    // the fd baseline is about CNI work, measured on an otherwise idle knitd.
    knitd = await startKnitd(lab, lab.nodes[0]!, { args: ['--reconcile-interval-seconds', '3600'] });
  });
  after(async () => {
    await cleanupAll([
      () => knitd?.destroy(),
      () => lab?.teardown(),
    ]);
  });

  it('200 concurrent ADDs get 200 distinct addresses; 200 DELs leave nothing', async () => {
    const names = Array.from({ length: 200 }, (_, i) => `${lab.prefix}k${i}`);
    addNetnsBatch(names);
    try {
      const cfg = knitd.conf('1.1.0');
      const adds = await Promise.all(names.map((ns) =>
        knitd.cni('ADD', { CNI_CONTAINERID: `cc-${ns}`, CNI_NETNS: netnsPath(ns), CNI_IFNAME: 'eth0' }, cfg)));
      const ips = adds.map((r, i) => addressOf(okJson(r, `ADD ${names[i]!}`)));
      expect(new Set(ips).size, 'distinct addresses').to.equal(200);
      expect(ips).to.not.include('10.244.1.1');
      expect(ips).to.not.include('10.244.1.255');
      expect(knitd.ipam().allocations).to.have.length(200);
      expect(await hostVeths(nodeNs)).to.have.length(200);
      // Spot-check the kernel: each of a sample holds the address it was told.
      for (const i of [0, 57, 133, 199]) {
        const [a] = await ipJson<IpAddr[]>(names[i]!, ['addr', 'show', 'dev', 'eth0']);
        expect(a!.addr_info.find((x) => x.family === 'inet')?.local).to.equal(ips[i]);
      }

      const dels = await Promise.all(names.map((ns) =>
        knitd.cni('DEL', { CNI_CONTAINERID: `cc-${ns}`, CNI_NETNS: netnsPath(ns), CNI_IFNAME: 'eth0' }, cfg)));
      dels.forEach((r, i) => okJson(r, `DEL ${names[i]!}`));
      expect(knitd.ipam().allocations).to.deep.equal([]);
      expect(await hostVeths(nodeNs)).to.deep.equal([]);
    } finally {
      delNetnsBatch(names);
    }
  });

  it('1000 ADD/DEL cycles leak no veth, allocation, nft rule or file descriptor', async () => {
    const lanes = 4;
    const perLane = 250;
    const names = Array.from({ length: lanes }, (_, i) => `${lab.prefix}y${i}`);
    addNetnsBatch(names);
    try {
      // Warm up once (bridge, nft table, lazily opened files) before the baseline.
      const warm = { CNI_CONTAINERID: 'warm', CNI_NETNS: netnsPath(names[0]!), CNI_IFNAME: 'eth0' };
      const pm = { capabilities: { portMappings: true }, runtimeConfig: { portMappings: [{ hostPort: 18080, containerPort: 80, protocol: 'tcp' }] } };
      okJson(await knitd.cni('ADD', warm, knitd.conf('1.1.0', pm)), 'warm ADD');
      okJson(await knitd.cni('DEL', warm, knitd.conf('1.1.0')), 'warm DEL');
      const fdBefore = knitd.fdCount();
      const nftBefore = await nftCounts(nodeNs);
      expect(nftBefore.rules, 'knit table has rules').to.be.greaterThan(0);

      let cycles = 0;
      let viaPlugin = 0;
      const seen = new Set<string>();
      await Promise.all(names.map(async (ns, lane) => {
        for (let i = 0; i < perLane; i++) {
          const env = { CNI_CONTAINERID: `cy-${lane}-${i}`, CNI_NETNS: netnsPath(ns), CNI_IFNAME: 'eth0' };
          // Every 10th cycle publishes a port (one host port per lane), so nft is exercised too.
          const extra = i % 10 === 0
            ? { capabilities: { portMappings: true }, runtimeConfig: { portMappings: [{ hostPort: 20000 + lane, containerPort: 80, protocol: 'tcp' }] } }
            : {};
          // One cycle in four execs the real plugin; the others send the
          // plugin's own request straight to the socket, so 1000 cycles fit
          // in well under a minute on 2 cores (Node start-up is not what is
          // under test here: knitd's leaks are).
          const call = i % 4 === 0 ? knitd.cni.bind(knitd) : knitd.cniDirect.bind(knitd);
          if (i % 4 === 0) viaPlugin++;
          seen.add(addressOf(okJson(await call('ADD', env, knitd.conf('1.1.0', extra)), `ADD ${env.CNI_CONTAINERID}`)));
          okJson(await call('DEL', env, knitd.conf('1.1.0', extra)), `DEL ${env.CNI_CONTAINERID}`);
          cycles++;
        }
      }));
      expect(cycles).to.equal(1000);
      expect(viaPlugin, 'cycles through the real plugin binary (i % 4 === 0 of 0..249, 4 lanes)').to.equal(252);
      // Round-robin allocation walks the whole pool rather than reusing one address.
      expect(seen.size).to.equal(253);
      expect(knitd.ipam().allocations).to.deep.equal([]);
      expect(await hostVeths(nodeNs)).to.deep.equal([]);
      expect(await nftCounts(nodeNs)).to.deep.equal(nftBefore);
      const fdAfter = knitd.fdCount();
      expect(fdAfter, `knitd fds before ${fdBefore}, after ${fdAfter}`).to.be.at.most(fdBefore + 4);
    } finally {
      delNetnsBatch(names);
    }
  });
});
