/**
 * A dual-stack cluster on a dual-stack underlay (IPv4 and IPv6 on the node
 * links), real knitd, real etcd, real plugin, for vxlan and host-gw:
 *   - every container pings every other over IPv4 and over IPv6;
 *   - TCP over IPv6 across nodes keeps the source address (no NAT);
 *   - a hand-deleted IPv6 route (and, on vxlan, IPv6 neighbour and the FDB
 *     entry both families share) comes back from the netlink event; the test
 *     prints how long each repair took;
 *   - a knitd restart over the programmed node makes 0 netlink writes.
 * (BGP with a BIRD ToR: test/e2e/bgp-dual-stack.test.ts.)
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createLab, type Lab, type LabContainer } from '../lab/lab';
import type { Knitd } from '../lab/knitd';
import { logRecords, startClusterKnitd, waitFor } from './cluster-lab';
import { pairedIpv6Subnet, parseNetworkConfig } from '../../agent/src/store/network-config';

const execFileP = promisify(execFile);

interface Pod {
  c: LabContainer;
  knitd: Knitd;
  ip4: string;
  ip6: string;
}

const NETWORK = (type: string): Record<string, unknown> => ({
  clusterCidr: '10.244.0.0/16', subnetLength: 24, ipv6ClusterCidr: 'fd00:10:244::/56', backend: { type },
});

async function attach(lab: Lab, knitd: Knitd, tag: string): Promise<Pod> {
  const c = lab.addContainer(knitd.node, tag);
  const r = await knitd.cni('ADD', { CNI_CONTAINERID: c.containerId, CNI_NETNS: c.netnsPath, CNI_IFNAME: 'eth0' }, knitd.conf('1.1.0'));
  expect(r.code, `ADD on ${knitd.node.name}: ${r.stdout} ${r.stderr}`).to.equal(0);
  const ips = (r.json as { ips: Array<{ address: string }> }).ips.map((i) => i.address.split('/')[0]!);
  expect(ips, 'one address per family').to.have.length(2);
  return { c, knitd, ip4: ips[0]!, ip6: ips[1]! };
}

/** ip -j in `ns`; [] when nothing matches. */
async function ipj<T>(ns: string, args: string[]): Promise<T[]> {
  const { stdout } = await execFileP('ip', ['-n', ns, '-j', ...args], { encoding: 'utf8' });
  return JSON.parse(stdout.trim() || '[]') as T[];
}

/** Polls `present` every few ms after `damage` ran; resolves with the ms until it held again. */
async function repairMs(damage: () => Promise<unknown>, present: () => Promise<boolean>): Promise<number> {
  expect(await present(), 'present before the damage').to.equal(true);
  await damage();
  const t0 = Date.now();
  await waitFor('repaired', async () => (await present()) || undefined, 5000);
  return Date.now() - t0;
}

/** A TCP server in `ns` on [::]:port that answers each connection with the peer address it saw. */
const ECHO_PEER = `require('net').createServer((s) => { s.end(s.remoteAddress + '\\n'); }).listen(+process.argv[1], '::', () => console.log('listening'));`;
const CONNECT = `const s = require('net').connect({ host: process.argv[1], port: +process.argv[2] }); let d = ''; s.on('data', (b) => { d += b; }); s.on('end', () => { process.stdout.write(d); }); s.on('error', (e) => { console.error(e.message); process.exit(1); });`;

for (const backend of ['vxlan', 'host-gw'] as const) {
  describe(`dual-stack cluster (${backend}) on a dual-stack underlay`, function () {
    this.timeout(120_000);
    let lab: Lab;
    const knitds: Knitd[] = [];
    const pods: Pod[] = [];

    before(async () => {
      lab = await createLab({ nodes: 3, etcd: true, ipv6: true });
      // The periodic resync is an hour: a repair can only come from the netlink event.
      for (const node of lab.nodes) knitds.push(await startClusterKnitd(lab, node, NETWORK(backend), { args: ['--reconcile-interval-seconds', '3600'] }));
      for (const k of knitds) pods.push(await attach(lab, k, 'a'), await attach(lab, k, 'b'));
    });
    after(async () => {
      for (const k of knitds) await k.destroy();
      await lab?.teardown();
    });

    it('each lease carries the paired IPv6 subnet and the node\'s IPv6 underlay address', async () => {
      for (const [i, k] of knitds.entries()) {
        const held = logRecords(k).find((r) => r.message === 'subnet lease held')!;
        const v4 = String(held.subnet);
        expect(held.ipv6Subnet).to.equal(pairedIpv6Subnet(parseNetworkConfig(NETWORK(backend)), v4));
        expect(held.publicIpv6).to.equal(lab.nodes[i]!.underlayIp6);
      }
    });

    it('every container pings every other over IPv4 and IPv6', async () => {
      const failures: string[] = [];
      await Promise.all(pods.flatMap((from) => pods.filter((to) => to !== from).flatMap((to) => [to.ip4, to.ip6].map(async (ip) => {
        const p = await lab.ping(from.c, ip, 2);
        if (p.received === 0) failures.push(`${from.knitd.node.name}/${from.ip6} -> ${to.knitd.node.name}/${ip}`);
      }))));
      expect(failures.sort()).to.deep.equal([]);
    });

    it('TCP over IPv6 across nodes keeps the source address', async () => {
      const server = pods[2]!; // node2
      const client = pods[0]!; // node1
      const proc = lab.spawn(server.c, process.execPath, ['-e', ECHO_PEER, '8080'], { tag: 'echo6' });
      await waitFor('echo server listening', async () => proc.logTail().includes('listening') || undefined, 5000);
      const seen = (await lab.exec(client.c, process.execPath, ['-e', CONNECT, server.ip6, '8080'])).trim();
      await proc.kill();
      expect(seen).to.equal(client.ip6);
    });

    it('a hand-deleted IPv6 route to a peer comes back from the netlink event', async () => {
      const node1 = knitds[0]!.node;
      const peer6 = String(logRecords(knitds[1]!).find((r) => r.message === 'subnet lease held')!.ipv6Subnet);
      const present = async (): Promise<boolean> => (await ipj<{ dst: string; protocol?: string }>(node1.ns, ['-6', 'route', 'show', peer6])).some((r) => r.protocol === '89');
      const ms = await repairMs(() => lab.exec(node1.ns, 'ip', ['-6', 'route', 'del', peer6]), present);
      console.log(`      (IPv6 route ${peer6} back ${ms} ms after the delete)`);
      expect((await lab.ping(pods[0]!.c, pods[2]!.ip6, 2)).received).to.be.greaterThan(0);
    });

    if (backend === 'vxlan') {
      it('a hand-deleted IPv6 neighbour and the shared FDB entry come back from the netlink events', async () => {
        const node1 = knitds[0]!.node;
        const peer6 = String(logRecords(knitds[1]!).find((r) => r.message === 'subnet lease held')!.ipv6Subnet);
        const gw6 = peer6.replace('/64', '');
        const neighPresent = async (): Promise<boolean> =>
          (await ipj<{ dst: string; state?: string[] }>(node1.ns, ['-6', 'neigh', 'show', 'dev', 'knit.1'])).some((n) => n.dst === gw6 && (n.state ?? []).includes('PERMANENT'));
        const nms = await repairMs(() => lab.exec(node1.ns, 'ip', ['-6', 'neigh', 'del', gw6, 'dev', 'knit.1']), neighPresent);
        const mac = (await ipj<{ dst: string; lladdr: string }>(node1.ns, ['-6', 'neigh', 'show', 'dev', 'knit.1'])).find((n) => n.dst === gw6)!.lladdr;
        const fdbPresent = async (): Promise<boolean> => {
          const { stdout } = await execFileP('bridge', ['-n', node1.ns, '-j', 'fdb', 'show', 'dev', 'knit.1'], { encoding: 'utf8' });
          return (JSON.parse(stdout.trim() || '[]') as Array<{ mac: string; dst?: string }>).some((e) => e.mac === mac && e.dst === lab.nodes[1]!.underlayIp);
        };
        const fms = await repairMs(() => execFileP('bridge', ['-n', node1.ns, 'fdb', 'del', mac, 'dev', 'knit.1', 'dst', lab.nodes[1]!.underlayIp]), fdbPresent);
        console.log(`      (IPv6 neighbour ${gw6} back ${nms} ms, FDB ${mac} back ${fms} ms after the delete)`);
        expect((await lab.ping(pods[0]!.c, pods[2]!.ip6, 2)).received).to.be.greaterThan(0);
      });
    }

    it('a knitd restart over the programmed dual-stack node makes 0 netlink writes', async () => {
      const k = knitds[0]!;
      await k.restart();
      const ready = logRecords(k).filter((r) => r.message === 'knitd ready').pop()!;
      expect(ready.netlinkWritesAtStart).to.equal(0);
      expect((await lab.ping(pods[0]!.c, pods[2]!.ip6, 2)).received).to.be.greaterThan(0);
      expect((await lab.ping(pods[0]!.c, pods[2]!.ip4, 2)).received).to.be.greaterThan(0);
    });
  });
}
