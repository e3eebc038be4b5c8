/**
 * A dual-stack cluster on a dual-stack underlay (IPv4 and IPv6 on the node
 * links), real knitd, real etcd, real plugin, for vxlan and host-gw:
 *   - every container pings every other over IPv4 and over IPv6;
 *   - TCP over IPv6 across nodes keeps the source address (no NAT);
 *   - a hand-deleted IPv6 route (and, on vxlan, IPv6 neighbour and the FDB
 *     entry both families share) comes back from the netlink event; the test
 *     prints how long each repair took;
 *   - a knitd restart over the programmed node makes 0 netlink writes.
 * and for bgp with BIRD as the top-of-rack router (eBGP, one AS per node,
 * MP-BGP IPv6 over the IPv4 sessions, BIRD keeping the nodes' next hops).
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createLab, type Lab, type LabContainer } from '../lab/lab';
import type { Knitd } from '../lab/knitd';
import { CONNECT, ECHO_PEER, ipj, logRecords, repairMs, startClusterKnitd, waitFor } from './cluster-lab';
import { routesIn, startBird, type Bird } from './bgp-lab';
import { etcdctl, knitctl } from './api-lab';
import { pairedIpv6Subnet } from '../../agent/src/store/network-config';
import { parseNetwork } from '../../agent/src/backend';
import { cleanupAll } from '../lab/cleanup';

const execFileP = promisify(execFile);

interface Pod {
  c: LabContainer;
  knitd: Knitd;
  ip4: string;
  ip6: string;
}

const ASNS = [65001, 65002, 65003];
const ROUTER = '192.168.77.1';

const NETWORK = (type: string): Record<string, unknown> => ({
  clusterCidr: '10.244.0.0/16', subnetLength: 24, ipv6ClusterCidr: 'fd00:10:244::/56',
  backend: type !== 'bgp' ? { type } : {
    type, nodeAsns: { node1: ASNS[0], node2: ASNS[1], node3: ASNS[2] }, gracefulRestart: true,
    peers: [{ address: ROUTER, asn: 65000, import: 'all' }],
  },
});

/** BIRD as ToR: eBGP to every node, both families over the IPv4 sessions, next hops kept (the nodes share its segment). */
function birdConfig(nodeIps: string[]): string {
  return `router id ${ROUTER};
log stderr all;
protocol device { scan time 1; }
template bgp knit {
  local ${ROUTER} as 65000;
  hold time 3;
  connect retry time 1;
  error wait time 1, 2;
  ipv4 { import all; export all; next hop keep; };
  ipv6 { import all; export all; next hop keep; };
}
${nodeIps.map((ip, i) => `protocol bgp n${i + 1} from knit { neighbor ${ip} as ${ASNS[i]}; }`).join('\n')}
`;
}

async function attach(lab: Lab, knitd: Knitd, tag: string): Promise<Pod> {
  const c = lab.addContainer(knitd.node, tag);
  const r = await knitd.cni('ADD', { CNI_CONTAINERID: c.containerId, CNI_NETNS: c.netnsPath, CNI_IFNAME: 'eth0' }, knitd.conf('1.1.0'));
  expect(r.code, `ADD on ${knitd.node.name}: ${r.stdout} ${r.stderr}`).to.equal(0);
  const ips = (r.json as { ips: Array<{ address: string }> }).ips.map((i) => i.address.split('/')[0]!);
  expect(ips, 'one address per family').to.have.length(2);
  return { c, knitd, ip4: ips[0]!, ip6: ips[1]! };
}


for (const backend of ['vxlan', 'host-gw', 'bgp'] as const) {
  describe(`dual-stack cluster (${backend}) on a dual-stack underlay`, function () {
    this.timeout(120_000);
    let lab: Lab;
    const knitds: Knitd[] = [];
    const pods: Pod[] = [];
    let bird: Bird | undefined;
    /** The kernel route protocol of this backend's peer routes. */
    const proto = backend === 'bgp' ? '90' : '89';

    before(async () => {
      lab = await createLab({ nodes: 3, etcd: true, ipv6: true });
      if (backend === 'bgp') bird = await startBird(lab.underlay.ns, birdConfig(lab.nodes.map((n) => n.underlayIp)));
      // The periodic resync is an hour: a repair can only come from the netlink event.
      for (const node of lab.nodes) knitds.push(await startClusterKnitd(lab, node, NETWORK(backend), { args: ['--reconcile-interval-seconds', '3600'] }));
      for (const k of knitds) pods.push(await attach(lab, k, 'a'), await attach(lab, k, 'b'));
      if (backend === 'bgp') {
        // Every node has the other two nodes' IPv6 pod subnets from BIRD.
        await waitFor('IPv6 pod routes learned over BGP on every node', async () => lab.nodes.every((n) =>
          routesIn(n.ns, 6, 90).filter((r) => r.dst.startsWith('fd00:10:244:')).length === 2) || undefined, 30_000,
        async () => `${bird!.birdc('show', 'protocols')}\n${lab.nodes.map((n) => JSON.stringify(routesIn(n.ns, 6, 90))).join('\n')}`);
      }
    });
    after(async () => {
      await cleanupAll([
        ...Array.from(knitds, (k) => () => k.destroy()),
        () => bird?.destroy(),
        () => lab?.teardown(),
      ]);
    });

    if (backend === 'bgp') {
      it('each node originates its own IPv6 pod subnet; the others install it via that node', async () => {
        for (const [i, k] of knitds.entries()) {
          const own6 = String(logRecords(k).find((r) => r.message === 'subnet lease held')!.ipv6Subnet);
          expect(bird!.birdc('show', 'route', own6, 'all')).to.include(`BGP.as_path: ${ASNS[i]}`);
          for (const [j, other] of lab.nodes.entries()) {
            if (j === i) continue;
            const r = routesIn(other.ns, 6, 90).find((x) => x.dst === own6);
            expect(r, `${other.name} has a route to ${own6}`).to.not.equal(undefined);
            // The next hop is node i (global or link-local), never the router.
            expect(r!.gateway).to.not.equal('fd77::1');
          }
        }
      });
    }

    it('each lease carries the paired IPv6 subnet and the node\'s IPv6 underlay address', async () => {
      for (const [i, k] of knitds.entries()) {
        const held = logRecords(k).find((r) => r.message === 'subnet lease held')!;
        const v4 = String(held.subnet);
        expect(held.ipv6Subnet).to.equal(pairedIpv6Subnet(parseNetwork(NETWORK(backend)), v4));
        expect(held.publicIpv6).to.equal(lab.nodes[i]!.underlayIp6);
      }
    });

    it('every container pings every other over IPv4 and IPv6', async () => {
      // Converged first: every node routes every peer's subnets of both
      // families (how fast is measured elsewhere; this test is about the path).
      const held = knitds.map((k) => logRecords(k).find((r) => r.message === 'subnet lease held')!);
      await waitFor('every node routes both subnets of every peer', async () => lab.nodes.every((n, i) => held.every((h, j) => i === j || (
        routesIn(n.ns, 4).some((r) => r.dst === String(h.subnet)) && routesIn(n.ns, 6).some((r) => r.dst === String(h.ipv6Subnet))))) || undefined,
      10_000, async () => lab.nodes.map((n) => `${n.name}: ${JSON.stringify(routesIn(n.ns, 6).map((r) => r.dst))}`).join('\n'));
      const failures: string[] = [];
      await Promise.all(pods.flatMap((from) => pods.filter((to) => to !== from).flatMap((to) => [to.ip4, to.ip6].map(async (ip) => {
        const p = await lab.ping(from.c, ip, 2);
        if (p.received === 0) failures.push(`${from.knitd.node.name}/${from.ip6} -> ${to.knitd.node.name}/${ip}`);
      }))));
      // On failure, say what each node's kernel and knitd held at that moment.
      const why = failures.length === 0 ? '' : (await Promise.all(knitds.map(async (k) => {
        const routes = await lab.exec(k.node.ns, 'ip', ['-6', 'route', 'show']) + await lab.exec(k.node.ns, 'ip', ['-6', 'neigh', 'show']);
        const warnings = logRecords(k).filter((r) => r.level !== 'info' && r.level !== 'debug').map((r) => JSON.stringify(r));
        return `${k.node.name} IPv6 routes and neighbours:\n${routes}${k.node.name} knitd warnings:\n${warnings.join('\n')}`;
      }))).join('\n');
      expect(failures.sort(), why).to.deep.equal([]);
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
      const present = async (): Promise<boolean> =>
        (await ipj<{ dst: string; protocol?: string }>(node1.ns, ['-6', 'route', 'show', peer6])).some((r) => r.protocol === proto || (proto === '90' && r.protocol === 'bgp'));
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

    if (backend === 'vxlan') {
      it('knitctl shows both families: status, peers (IPv6 route and neighbour audited in sync), endpoints', async () => {
        const sock = ['--socket', knitds[0]!.apiSocket];
        const own6 = String(logRecords(knitds[0]!).find((r) => r.message === 'subnet lease held')!.ipv6Subnet);
        const peer6 = String(logRecords(knitds[1]!).find((r) => r.message === 'subnet lease held')!.ipv6Subnet);
        const status = JSON.parse((await knitctl(['status', '-o', 'json', ...sock])).stdout) as Record<string, unknown>;
        expect(status).to.include({ ipv6Subnet: own6, ipv6ClusterCidr: 'fd00:10:244::/56', publicIpv6: lab.nodes[0]!.underlayIp6 });
        expect((await knitctl(['status', ...sock])).stdout).to.include(own6);
        const { peers } = JSON.parse((await knitctl(['peers', '-o', 'json', ...sock])).stdout) as { peers: Array<{ ipv6Subnet: string; publicIpv6: string; inSync: boolean; routes: Array<{ destination: string; state: string }>; neighbours: Array<{ ip: string; state: string }> }> };
        const p = peers.find((x) => x.ipv6Subnet === peer6)!;
        expect(p, `peer with ${peer6}`).to.not.equal(undefined);
        expect(p.publicIpv6).to.equal(lab.nodes[1]!.underlayIp6);
        expect(p.routes.find((r) => r.destination === peer6)?.state).to.equal('SYNC_STATE_IN_SYNC');
        expect(p.neighbours.find((n) => n.ip === peer6.replace('/64', ''))?.state).to.equal('SYNC_STATE_IN_SYNC');
        expect(p.inSync).to.equal(true);
        const { endpoints: eps } = JSON.parse((await knitctl(['endpoints', '-o', 'json', ...sock])).stdout) as { endpoints: Array<{ containerId: string; ipv6Address: string }> };
        expect(eps.find((e) => e.containerId === pods[0]!.c.containerId)?.ipv6Address).to.equal(`${pods[0]!.ip6}/64`);
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

describe('upgrade of a running IPv4-only cluster to dual-stack (config change + rolling restart)', function () {
  this.timeout(120_000);
  let lab: Lab;
  const knitds: Knitd[] = [];

  before(async () => {
    lab = await createLab({ nodes: 2, etcd: true, ipv6: true });
    const v4only = { clusterCidr: '10.244.0.0/16', subnetLength: 24, backend: { type: 'vxlan' } };
    for (const node of lab.nodes) knitds.push(await startClusterKnitd(lab, node, v4only));
  });
  after(async () => {
    await cleanupAll([
      ...Array.from(knitds, (k) => () => k.destroy()),
      () => lab?.teardown(),
    ]);
  });

  it('never drops established IPv4 traffic, renumbers nothing, and new containers get both families', async () => {
    const a = await attach4(lab, knitds[0]!, 'ua');
    const b = await attach4(lab, knitds[1]!, 'ub');
    const subnetsBefore = knitds.map((k) => k.subnet);
    // A ping every 20 ms across the nodes for the whole upgrade, and an open TCP connection.
    const ping = lab.spawn(a.c, 'ping', ['-n', '-i', '0.02', '-w', '60', b.ip4], { tag: 'upgrade-ping' });
    const server = lab.spawn(b.c, process.execPath, ['-e', HOLD_SERVER, '9090'], { tag: 'hold-server' });
    await waitFor('hold server listening', async () => server.logTail().includes('listening') || undefined, 5000);
    const client = lab.spawn(a.c, process.execPath, ['-e', HOLD_CLIENT, b.ip4, '9090'], { tag: 'hold-client' });
    await waitFor('TCP connection up', async () => client.logTail().includes('echo 1') || undefined, 5000);

    const dual = JSON.stringify({ clusterCidr: '10.244.0.0/16', subnetLength: 24, ipv6ClusterCidr: 'fd00:10:244::/56', backend: { type: 'vxlan' } });
    await etcdctl(lab, ['put', '/knit/v1/network', dual]);
    for (const k of knitds) await k.restart();

    expect(knitds.map((k) => k.subnet), 'no node renumbered').to.deep.equal(subnetsBefore);
    const c = await attach(lab, knitds[0]!, 'uc');
    const d = await attach(lab, knitds[1]!, 'ud');
    expect((await lab.ping(c.c, d.ip6, 2)).received, 'new containers reach each other over IPv6').to.equal(2);
    expect((await lab.ping(c.c, b.ip4, 2)).received, 'a new container reaches an old one over IPv4').to.equal(2);
    const before = client.logTail();
    await waitFor('the TCP connection still echoes after both restarts', async () => client.logTail().length > before.length || undefined, 3000);

    // SIGINT: ping prints its summary and exits.
    ping.signal('SIGINT');
    await ping.exited;
    await client.stop();
    await server.stop();
    const m = /(\d+) packets transmitted, (\d+) received/.exec(ping.logTail());
    expect(m, ping.logTail()).to.not.equal(null);
    console.log(`      (IPv4 ping during the upgrade: ${m![2]}/${m![1]} replies)`);
    expect(Number(m![2]), 'no IPv4 ping lost during the upgrade').to.equal(Number(m![1]));
    expect(client.logTail(), 'the TCP connection never broke').to.not.include('closed');
  });
});

/** ADD on an IPv4-only node: one address. */
async function attach4(lab: Lab, knitd: Knitd, tag: string): Promise<{ c: LabContainer; ip4: string }> {
  const c = lab.addContainer(knitd.node, tag);
  const r = await knitd.cni('ADD', { CNI_CONTAINERID: c.containerId, CNI_NETNS: c.netnsPath, CNI_IFNAME: 'eth0' }, knitd.conf('1.1.0'));
  expect(r.code, `ADD on ${knitd.node.name}: ${r.stdout} ${r.stderr}`).to.equal(0);
  return { c, ip4: (r.json as { ips: Array<{ address: string }> }).ips[0]!.address.split('/')[0]! };
}

/** A TCP server that echoes each line back. */
const HOLD_SERVER = `require('net').createServer((s) => s.pipe(s)).listen(+process.argv[1], '0.0.0.0', () => console.log('listening'));`;
/** A client that sends a numbered line every 50 ms on one connection and logs each echo; logs 'closed' if it breaks. */
const HOLD_CLIENT = `const s = require('net').connect({ host: process.argv[1], port: +process.argv[2] }); let n = 0;
s.on('connect', () => setInterval(() => s.write(String(++n) + '\\n'), 50));
s.on('data', (b) => { for (const l of String(b).split('\\n')) if (l) console.log('echo ' + l); });
s.on('close', () => { console.log('closed'); process.exit(1); });
s.on('error', (e) => { console.log('closed ' + e.message); process.exit(1); });`;
