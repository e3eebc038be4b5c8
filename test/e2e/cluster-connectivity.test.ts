/**
 * The heart of knit, end to end: a lab with a real etcd, one real knitd per
 * node namespace in cluster mode, containers attached through the real `knit`
 * plugin. For each backend this kernel supports: every container reaches
 * every other (ping and a TCP exchange that reports the source address it
 * saw), container-to-container traffic keeps its source address, and traffic
 * to an address outside the cluster is masqueraded to the node's address.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { createLab, type Lab, type LabContainer } from '../lab/lab';
import { PEER_ADDRESS, startKnitd, startTcpReplier, tcpGet, type Knitd } from '../lab/knitd';
import { cleanupAll } from '../lab/cleanup';

interface Attached { c: LabContainer; ip: string; node: number }

function kernelHas(kind: string): boolean {
  // A throw-away namespace: the probe link never touches the root namespace.
  const ns = `t-${(process.pid & 0xffff).toString(16).padStart(4, '0')}-probe`;
  try {
    execFileSync('ip', ['netns', 'add', ns], { stdio: 'pipe' });
    execFileSync('ip', ['-n', ns, 'link', 'add', 'p0', 'type', kind], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  } finally {
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'pipe' });
  }
}

const BACKENDS: Array<{ type: string; options?: Record<string, unknown>; needs?: string }> = [
  { type: 'vxlan' },
  { type: 'host-gw' },
  { type: 'ipip', needs: 'ipip' },
];

for (const backend of BACKENDS) {
  describe(`cluster (${backend.type}): 3 nodes x 2 containers through etcd leases`, function () {
    this.timeout(120_000);
    let lab: Lab;
    const knitds: Knitd[] = [];
    const attached: Attached[] = [];

    before(async function () {
      if (backend.needs && !kernelHas(backend.needs)) {
        console.log(`      (skipped: this kernel has no ${backend.needs} link kind)`);
        this.skip();
      }
      lab = await createLab({ nodes: 3, etcd: true });
      const network = { clusterCidr: '10.244.0.0/16', subnetLength: 24, backend: { type: backend.type, ...backend.options } };
      for (const node of lab.nodes) {
        knitds.push(await startKnitd(lab, node, { cluster: { etcdEndpoints: lab.etcdEndpoints, network } }));
      }
      for (let n = 0; n < knitds.length; n++) {
        for (let i = 0; i < 2; i++) {
          const c = lab.addContainer(n, `c${i}`);
          const r = await knitds[n]!.cni('ADD', { CNI_CONTAINERID: c.containerId, CNI_NETNS: c.netnsPath, CNI_IFNAME: 'eth0' }, knitds[n]!.conf('1.0.0'));
          expect(r.code, `ADD on node ${n}: ${r.stdout} ${r.stderr}`).to.equal(0);
          const ips = (r.json as { ips: Array<{ address: string }> }).ips;
          attached.push({ c, ip: ips[0]!.address.split('/')[0]!, node: n });
        }
      }
    });
    after(async () => {
      await cleanupAll([
        ...Array.from(knitds, (k) => () => k.destroy()),
        () => lab?.teardown(),
      ]);
    });

    it('leases three distinct /24s inside the cluster CIDR', () => {
      const subnets = knitds.map((k) => k.subnet);
      expect(new Set(subnets).size).to.equal(3);
      for (const s of subnets) expect(s).to.match(/^10\.244\.\d+\.0\/24$/);
      for (const a of attached) {
        const subnet = knitds[a.node]!.subnet;
        expect(a.ip.startsWith(subnet.split('.').slice(0, 3).join('.') + '.'), `${a.ip} in ${subnet}`).to.equal(true);
      }
    });

    it('every container pings every other container', async () => {
      const failures: string[] = [];
      await Promise.all(attached.flatMap((from) => attached.filter((to) => to !== from).map(async (to) => {
        const p = await lab.ping(from.c, to.ip, 2);
        if (p.received === 0) failures.push(`${from.ip} -> ${to.ip}`);
      })));
      expect(failures, 'pairs with no reply').to.deep.equal([]);
    });

    it('a TCP exchange across nodes keeps the container source address', async () => {
      const server = attached.find((a) => a.node === 2)!;
      const client = attached.find((a) => a.node === 0)!;
      const echo = await startTcpReplier(lab, server.c.ns, 7070, PEER_ADDRESS);
      try {
        expect(await tcpGet(client.c.ns, server.ip, 7070)).to.deep.equal({ data: client.ip });
      } finally {
        await echo.stop();
      }
    });

    it('traffic leaving the cluster is masqueraded to the node address', async () => {
      const echo = await startTcpReplier(lab, lab.underlay.ns, 7071, PEER_ADDRESS);
      try {
        const client = attached.find((a) => a.node === 1)!;
        expect(await tcpGet(client.c.ns, lab.underlay.plan.routerIp, 7071)).to.deep.equal({ data: lab.nodes[1]!.underlayIp });
      } finally {
        await echo.stop();
      }
    });
  });
}
