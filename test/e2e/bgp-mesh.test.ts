/**
 * knitd nodes as a BGP full mesh without any router: one cluster AS (iBGP),
 * each node peering with every other node found in the etcd subnet leases.
 * Three nodes mesh and reach each other's containers over protocol-90
 * routes; a fourth joins and is meshed with all; then it leaves (SIGTERM
 * with lease release): it sends a Cease, and its subnet disappears from
 * every other node. Run twice: an IPv4 cluster, and an IPv6-only one, where
 * the nodes dial each other at their leases' IPv6 addresses, each under a
 * router ID derived from its name, and install each other's /64 via the
 * peer's link-local address (the next hop it announces on a shared segment).
 */
import { expect } from 'chai';
import { createLab, type Lab, type LabContainer } from '../lab/lab';
import { startKnitd, type Knitd } from '../lab/knitd';
import { nsIpJson, nsRun } from '../lab/netns';
import { routesIn, waitFor } from './bgp-lab';
import { cleanupAll } from '../lab/cleanup';

for (const family of [4, 6] as const) describe(`bgp: full mesh of knitd nodes from the etcd leases (iBGP, one AS${family === 6 ? ', IPv6-only' : ''})`, function () {
  this.timeout(240_000);
  let lab: Lab;
  const knitds: Knitd[] = [];
  const containers: { c: LabContainer; ip: string }[] = [];
  const network = family === 4
    ? { clusterCidr: '10.244.0.0/16', subnetLength: 24, backend: { type: 'bgp', asn: 64512 } }
    : { clusterCidr: 'fd00:10:244::/56', subnetLength: 64, backend: { type: 'bgp', asn: 64512 } };
  /** The address node j's sessions run from (its lease's publicIp). */
  const addr = (j: number): string => (family === 4 ? lab.nodes[j]!.underlayIp : lab.nodes[j]!.underlayIp6!);
  /** The gateway other nodes route node j's subnet via: its IPv4 address, or its link-local address on the shared segment. */
  const gatewayOf = (j: number): string => {
    if (family === 4) return lab.nodes[j]!.underlayIp;
    const out = nsRun(lab.nodes[j]!.ns, 'ip', ['-6', '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'link']);
    return /inet6 (fe80::[0-9a-f:]+)\//.exec(out)![1]!;
  };

  const routes = (i: number): string[] => routesIn(lab.nodes[i]!.ns, family, 90).map((r) => `${r.dst} via ${r.gateway}`).sort();
  /** Node i should reach every other running node's subnet via that node. */
  const expected = (i: number, running: number[]): string[] =>
    running.filter((j) => j !== i).map((j) => `${knitds[j]!.subnet} via ${gatewayOf(j)}`).sort();
  const meshed = (running: number[]): boolean => running.every((i) => routes(i).join() === expected(i, running).join());
  const detail = (): string => knitds.map((k) => `${k.node.name}:\n${k.proc.logTail(2500)}`).join('\n');

  async function start(i: number, args: string[] = []): Promise<void> {
    const k = await startKnitd(lab, lab.nodes[i]!, { cluster: { etcdEndpoints: lab.etcdEndpoints, network }, args });
    knitds[i] = k;
    const c = lab.addContainer(i, 'c');
    const r = await k.cni('ADD', { CNI_CONTAINERID: c.containerId, CNI_NETNS: c.netnsPath, CNI_IFNAME: 'eth0' }, k.conf('1.0.0'));
    expect(r.code, `ADD on node ${i}: ${r.stdout} ${r.stderr}`).to.equal(0);
    containers[i] = { c, ip: (r.json as { ips: Array<{ address: string }> }).ips[0]!.address.split('/')[0]! };
  }

  before(async () => {
    lab = await createLab({ nodes: 4, etcd: true, ...(family === 6 ? { ipv6: true } : {}) });
    for (let i = 0; i < 3; i++) await start(i);
    await waitFor('3 nodes meshed', () => meshed([0, 1, 2]), 30_000, detail);
  });

  after(async () => {
    await cleanupAll([
      ...Array.from(knitds, (k) => () => k?.destroy()),
      () => lab?.teardown(),
    ]);
  });

  it('three nodes peer with each other (two sessions each) and install each other\'s subnets with protocol 90', () => {
    for (const i of [0, 1, 2]) {
      expect(routes(i)).to.deep.equal(expected(i, [0, 1, 2]));
      const log = knitds[i]!.proc.logTail(1 << 20);
      for (const j of [0, 1, 2].filter((x) => x !== i)) expect(log).to.include(`peer ${addr(j)}: OpenConfirm -> Established`);
      expect(nsIpJson<unknown[]>(lab.nodes[i]!.ns, ['link', 'show', 'type', 'vxlan'])).to.deep.equal([]);
      expect(routesIn(lab.nodes[i]!.ns, family, 89)).to.deep.equal([]);
      if (family === 6) expect(routesIn(lab.nodes[i]!.ns, 4, 90), 'no IPv4 route from the IPv6-only mesh').to.deep.equal([]);
    }
  });

  it('containers on the three nodes reach each other', async () => {
    const failures: string[] = [];
    for (const from of [0, 1, 2]) {
      for (const to of [0, 1, 2]) {
        if (from === to) continue;
        const p = await lab.ping(containers[from]!.c, containers[to]!.ip, 2);
        if (p.received === 0) failures.push(`${from} -> ${to}`);
      }
    }
    expect(failures).to.deep.equal([]);
  });

  it('a fourth node joins: every node is meshed with it, containers reach it', async () => {
    await start(3, ['--etcd-release-on-shutdown=true']);
    await waitFor('4 nodes meshed', () => meshed([0, 1, 2, 3]), 30_000, detail);
    const p = await lab.ping(containers[0]!.c, containers[3]!.ip, 2);
    expect(p.received).to.be.greaterThan(0);
  });

  it('the fourth node leaves (SIGTERM): it sends a Cease and its subnet disappears from every other node', async () => {
    const gone = knitds[3]!.subnet;
    await knitds[3]!.stop();
    await waitFor('node4\'s subnet gone everywhere', () => meshed([0, 1, 2]), 15_000, detail);
    for (const i of [0, 1, 2]) {
      expect(routes(i).some((r) => r.startsWith(gone))).to.equal(false);
      expect(knitds[i]!.proc.logTail(1 << 20)).to.include(`peer ${addr(3)}: Established -> `);
    }
    // The Cease came first (backend.close() runs before the lease is released).
    for (const i of [0, 1, 2]) {
      expect(knitds[i]!.proc.logTail(1 << 20)).to.include(`peer ${addr(3)}: Established -> Idle (received NOTIFICATION 6/2`);
    }
  });
});
