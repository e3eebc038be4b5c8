/**
 * An IPv6-only cluster on an IPv6 underlay, real knitd, real etcd, real
 * plugin, for vxlan and host-gw: the network config has only an IPv6
 * clusterCidr, so leases, node public addresses (found from the IPv6 default
 * route), container addresses, the VXLAN tunnel and host-gw's next hops are
 * all IPv6.
 *   - each lease holds an IPv6 subnet and the node's IPv6 underlay address;
 *   - containers get one address, IPv6, with a ::/0 route, usable at once;
 *   - every container pings every other;
 *   - TCP across nodes keeps the source address (no NAT);
 *   - a hand-deleted route (vxlan: neighbour and FDB entry too) comes back
 *     from the netlink event;
 *   - a knitd restart over the programmed node makes 0 netlink writes.
 * and for bgp with BIRD as the top-of-rack router (eBGP, one AS per node):
 *   - BIRD peers with every node over IPv6, IPv6 unicast only, and sees each
 *     node's 32-bit router ID (one set with --bgp-router-id, the others
 *     derived from the node name);
 *   - BIRD learns each node's IPv6 pod subnet with the node's IPv6 underlay
 *     address as next hop, and every other node installs it (proto 90);
 *   - no IPv4 anywhere in the pod network (routes, pod addresses, BIRD's
 *     IPv4 table);
 *   - every container pings every other over IPv6.
 * (The lab's node links keep their IPv4 addresses, as an IPv6-only cluster's
 * hosts often do: knit must use none of them.)
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createLab, type Lab, type LabContainer } from '../lab/lab';
import { startTcpReplier, tcpGet, type Knitd } from '../lab/knitd';
import { CONNECT, ECHO_PEER, ipj, logRecords, repairMs, startClusterKnitd, waitFor } from './cluster-lab';
import { routesIn, startBird, type Bird } from './bgp-lab';
import { cidrContainsAddress, mustParseCidrAny, parseIp } from '../../agent/src/net/ip';
import { deriveRouterId } from '../../agent/src/net/router-id';
import { cleanupAll } from '../lab/cleanup';

const execFileP = promisify(execFile);

interface Pod {
  c: LabContainer;
  knitd: Knitd;
  ip6: string;
}

const NETWORK = (type: string): Record<string, unknown> => ({ clusterCidr: 'fd00:10:244::/56', subnetLength: 64, backend: { type } });

async function attach(lab: Lab, knitd: Knitd, tag: string): Promise<Pod> {
  const c = lab.addContainer(knitd.node, tag);
  const r = await knitd.cni('ADD', { CNI_CONTAINERID: c.containerId, CNI_NETNS: c.netnsPath, CNI_IFNAME: 'eth0' }, knitd.conf('1.1.0'));
  expect(r.code, `ADD on ${knitd.node.name}: ${r.stdout} ${r.stderr}`).to.equal(0);
  const result = r.json as { ips: Array<{ address: string; gateway: string }>; routes: Array<{ dst: string; gw: string }> };
  expect(result.ips, 'one address, IPv6').to.have.length(1);
  const subnet = mustParseCidrAny(knitd.subnet);
  expect(cidrContainsAddress(subnet, parseIp(result.ips[0]!.address.split('/')[0]!)!), `${result.ips[0]!.address} in the node's lease ${knitd.subnet}`).to.equal(true);
  expect(result.ips[0]!.address.endsWith('/64')).to.equal(true);
  expect(result.routes.map((x) => x.dst)).to.deep.equal(['::/0']);
  return { c, knitd, ip6: result.ips[0]!.address.split('/')[0]! };
}

function held(k: Knitd): Record<string, unknown> {
  return logRecords(k).find((r) => r.message === 'subnet lease held')!;
}


for (const backend of ['vxlan', 'host-gw'] as const) {
  describe(`IPv6-only cluster (${backend}) on an IPv6 underlay`, function () {
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
      await cleanupAll([
        ...Array.from(knitds, (k) => () => k.destroy()),
        () => lab?.teardown(),
      ]);
    });

    it('each lease holds an IPv6 subnet and the node\'s IPv6 underlay address (from the IPv6 default route)', async () => {
      for (const [i, k] of knitds.entries()) {
        const h = held(k);
        expect(String(h.subnet)).to.match(/^fd00:10:244:[0-9a-f:]*\/64$/);
        expect(k.subnet).to.equal(h.subnet);
        expect(h.publicIp).to.equal(lab.nodes[i]!.underlayIp6);
        expect(h.ipv6Subnet, 'no second family').to.equal(undefined);
      }
      if (backend === 'vxlan') {
        const [dev] = await ipj<{ mtu: number; linkinfo: { info_data: { local6?: string; local?: string } } }>(lab.nodes[0]!.ns, ['-d', 'link', 'show', 'knit.1']);
        expect(dev!.linkinfo.info_data.local6 ?? dev!.linkinfo.info_data.local, 'the VTEP sources from the IPv6 underlay address').to.equal(lab.nodes[0]!.underlayIp6);
        expect(dev!.mtu, 'underlay 1500 minus 70 bytes of IPv6 VXLAN headers').to.equal(1430);
      }
      // Nothing of an IPv6-only cluster trips a check written for IPv4 (liveness keys, leases, nft).
      for (const k of knitds) expect(logRecords(k).filter((r) => r.level === 'warn' || r.level === 'error'), k.node.name).to.deep.equal([]);
      for (const p of pods) {
        const v4 = await ipj<{ addr_info: unknown[] }>(p.c.ns, ['-4', 'addr', 'show', 'dev', 'eth0']);
        expect(v4.flatMap((l) => l.addr_info), 'no IPv4 address in an IPv6-only pod').to.deep.equal([]);
      }
    });

    it('every container pings every other', async () => {
      const leases = knitds.map((k) => String(held(k).subnet));
      await waitFor('every node routes every peer subnet', async () => lab.nodes.every((n, i) => leases.every((s, j) => i === j ||
        routesIn(n.ns, 6).some((r) => r.dst === s))) || undefined, 10_000,
      async () => lab.nodes.map((n) => `${n.name}: ${JSON.stringify(routesIn(n.ns, 6).map((r) => r.dst))}`).join('\n'));
      const failures: string[] = [];
      await Promise.all(pods.flatMap((from) => pods.filter((to) => to !== from).map(async (to) => {
        const p = await lab.ping(from.c, to.ip6, 2);
        if (p.received === 0) failures.push(`${from.knitd.node.name}/${from.ip6} -> ${to.knitd.node.name}/${to.ip6}`);
      })));
      const why = failures.length === 0 ? '' : (await Promise.all(knitds.map(async (k) => {
        const state = await lab.exec(k.node.ns, 'ip', ['-6', 'route', 'show']) + await lab.exec(k.node.ns, 'ip', ['-6', 'neigh', 'show']);
        const warnings = logRecords(k).filter((r) => r.level !== 'info' && r.level !== 'debug').map((r) => JSON.stringify(r));
        return `${k.node.name} IPv6 routes and neighbours:\n${state}${k.node.name} knitd warnings:\n${warnings.join('\n')}`;
      }))).join('\n');
      expect(failures.sort(), why).to.deep.equal([]);
    });

    it('TCP across nodes keeps the source address', async () => {
      const server = pods[2]!;
      const client = pods[0]!;
      const proc = lab.spawn(server.c, process.execPath, ['-e', ECHO_PEER, '8080'], { tag: 'echo6' });
      await waitFor('echo server listening', async () => proc.logTail().includes('listening') || undefined, 5000);
      const seen = (await lab.exec(client.c, process.execPath, ['-e', CONNECT, server.ip6, '8080'])).trim();
      await proc.kill();
      expect(seen).to.equal(client.ip6);
    });

    it('a hand-deleted route to a peer comes back from the netlink event', async () => {
      const node1 = knitds[0]!.node;
      const peer = String(held(knitds[1]!).subnet);
      const present = async (): Promise<boolean> =>
        (await ipj<{ dst: string; protocol?: string }>(node1.ns, ['-6', 'route', 'show', peer])).some((r) => r.protocol === '89');
      const ms = await repairMs(() => lab.exec(node1.ns, 'ip', ['-6', 'route', 'del', peer]), present);
      console.log(`      (route ${peer} back ${ms} ms after the delete)`);
      expect((await lab.ping(pods[0]!.c, pods[2]!.ip6, 2)).received).to.be.greaterThan(0);
    });

    if (backend === 'vxlan') {
      it('a hand-deleted neighbour and FDB entry (IPv6 VTEP address) come back from the netlink events', async () => {
        const node1 = knitds[0]!.node;
        const peer = String(held(knitds[1]!).subnet);
        const gw = peer.replace('/64', '');
        const neighPresent = async (): Promise<boolean> =>
          (await ipj<{ dst: string; state?: string[] }>(node1.ns, ['-6', 'neigh', 'show', 'dev', 'knit.1'])).some((n) => n.dst === gw && (n.state ?? []).includes('PERMANENT'));
        const nms = await repairMs(() => lab.exec(node1.ns, 'ip', ['-6', 'neigh', 'del', gw, 'dev', 'knit.1']), neighPresent);
        const mac = (await ipj<{ dst: string; lladdr: string }>(node1.ns, ['-6', 'neigh', 'show', 'dev', 'knit.1'])).find((n) => n.dst === gw)!.lladdr;
        const remote = lab.nodes[1]!.underlayIp6!;
        const fdbPresent = async (): Promise<boolean> => {
          const { stdout } = await execFileP('bridge', ['-n', node1.ns, '-j', 'fdb', 'show', 'dev', 'knit.1'], { encoding: 'utf8' });
          return (JSON.parse(stdout.trim() || '[]') as Array<{ mac: string; dst?: string }>).some((e) => e.mac === mac && e.dst === remote);
        };
        const fms = await repairMs(() => execFileP('bridge', ['-n', node1.ns, 'fdb', 'del', mac, 'dev', 'knit.1', 'dst', remote]), fdbPresent);
        console.log(`      (neighbour ${gw} back ${nms} ms, FDB ${mac} dst ${remote} back ${fms} ms after the delete)`);
        expect((await lab.ping(pods[0]!.c, pods[2]!.ip6, 2)).received).to.be.greaterThan(0);
      });
    }

    it('a port mapping without hostIP is published on the node\'s IPv6 address only (the container has no IPv4)', async () => {
      const k = knitds[1]!;
      const srv = lab.addContainer(k.node, 'pm');
      const r = await k.cni('ADD', { CNI_CONTAINERID: srv.containerId, CNI_NETNS: srv.netnsPath, CNI_IFNAME: 'eth0' }, k.conf('1.1.0', {
        capabilities: { portMappings: true }, runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] },
      }));
      expect(r.code, r.stdout).to.equal(0);
      await startTcpReplier(lab, srv.ns, 80, 'hello over v6', '::');
      expect(await tcpGet(lab.underlay.ns, k.node.underlayIp6!, 8080)).to.deep.equal({ data: 'hello over v6' });
      expect(await tcpGet(pods[0]!.c.ns, k.node.underlayIp6!, 8080), 'from a pod on another node').to.deep.equal({ data: 'hello over v6' });
      const v4 = await tcpGet(lab.underlay.ns, k.node.underlayIp, 8080, 1000);
      expect(v4.error, 'not on IPv4').to.be.a('string');
      expect(await lab.exec(k.node.ns, 'nft', ['list', 'table', 'ip6', 'knit'])).to.match(/tcp \. 8080 comment "[^"]+" : fd00:10:244:[0-9a-f:]+ \. 80/);
      expect(logRecords(k).filter((x) => x.level === 'error'), 'no nft error').to.deep.equal([]);
      const d = await k.cni('DEL', { CNI_CONTAINERID: srv.containerId, CNI_NETNS: srv.netnsPath, CNI_IFNAME: 'eth0' }, k.conf('1.1.0'));
      expect(d.code, d.stdout).to.equal(0);
    });

    it('a knitd restart over the programmed node makes 0 netlink writes', async () => {
      const k = knitds[0]!;
      await k.restart();
      const ready = logRecords(k).filter((r) => r.message === 'knitd ready').pop()!;
      expect(ready.netlinkWritesAtStart).to.equal(0);
      expect((await lab.ping(pods[0]!.c, pods[2]!.ip6, 2)).received).to.be.greaterThan(0);
    });
  });
}

describe('dual-stack vxlan over an IPv6 underlay (publicIp IPv6)', function () {
  this.timeout(120_000);
  let lab: Lab;
  const knitds: Knitd[] = [];
  const pods: Array<{ c: LabContainer; ips: string[] }> = [];
  const network = { clusterCidr: '10.244.0.0/16', subnetLength: 24, ipv6ClusterCidr: 'fd00:10:244::/56', backend: { type: 'vxlan' } };

  before(async () => {
    lab = await createLab({ nodes: 2, etcd: true, ipv6: true });
    for (const node of lab.nodes) knitds.push(await startClusterKnitd(lab, node, network, { args: ['--public-ip', node.underlayIp6!] }));
    for (const k of knitds) {
      const c = lab.addContainer(k.node, 'ds');
      const r = await k.cni('ADD', { CNI_CONTAINERID: c.containerId, CNI_NETNS: c.netnsPath, CNI_IFNAME: 'eth0' }, k.conf('1.1.0'));
      expect(r.code, r.stdout).to.equal(0);
      pods.push({ c, ips: (r.json as { ips: Array<{ address: string }> }).ips.map((x) => x.address.split('/')[0]!) });
    }
  });
  after(async () => {
    await cleanupAll([
      ...Array.from(knitds, (k) => () => k.destroy()),
      () => lab?.teardown(),
    ]);
  });

  it('the VTEP and FDB use IPv6 underlay addresses, and containers reach each other over both families', async () => {
    const [dev] = await ipj<{ mtu: number; linkinfo: { info_data: { local6?: string; local?: string } } }>(lab.nodes[0]!.ns, ['-d', 'link', 'show', 'knit.1']);
    expect(dev!.linkinfo.info_data.local6 ?? dev!.linkinfo.info_data.local).to.equal(lab.nodes[0]!.underlayIp6);
    expect(dev!.mtu).to.equal(1430);
    expect(held(knitds[0]!).publicIp).to.equal(lab.nodes[0]!.underlayIp6);
    await waitFor('FDB entry to node2 over IPv6', async () => {
      const { stdout } = await execFileP('bridge', ['-n', lab.nodes[0]!.ns, '-j', 'fdb', 'show', 'dev', 'knit.1'], { encoding: 'utf8' });
      return (JSON.parse(stdout.trim() || '[]') as Array<{ dst?: string }>).some((e) => e.dst === lab.nodes[1]!.underlayIp6) || undefined;
    }, 10_000);
    expect(pods[1]!.ips).to.have.length(2);
    for (const ip of pods[1]!.ips) {
      const p = await lab.ping(pods[0]!.c, ip, 2);
      expect(p.received, `${pods[0]!.ips[0]} -> ${ip}: ${p.output}`).to.be.greaterThan(0);
    }
  });
});

const ASNS = [65001, 65002, 65003];
const ROUTER6 = 'fd77::1';
/** node1's router ID, set with --bgp-router-id; node2 and node3 derive theirs from their names. */
const NODE1_ROUTER_ID = '10.77.0.11';
const BGP_NETWORK = {
  clusterCidr: 'fd00:10:244::/56', subnetLength: 64,
  backend: { type: 'bgp', nodeAsns: { node1: ASNS[0], node2: ASNS[1], node3: ASNS[2] }, peers: [{ address: ROUTER6, asn: 65000 }] },
};

/** BIRD as ToR over IPv6: an IPv6 channel only, next hops kept (the nodes share its segment). */
function birdConfig6(nodeIps: string[]): string {
  return `router id 10.77.0.1;
log stderr all;
protocol device { scan time 1; }
template bgp knit {
  local ${ROUTER6} as 65000;
  hold time 3;
  connect retry time 1;
  error wait time 1, 2;
  ipv6 { import all; export all; next hop keep; };
}
${nodeIps.map((ip, i) => `protocol bgp n${i + 1} from knit { neighbor ${ip} as ${ASNS[i]}; }`).join('\n')}
`;
}

describe('IPv6-only cluster (bgp, BIRD as top-of-rack) on an IPv6 underlay', function () {
  this.timeout(120_000);
  let lab: Lab;
  let bird: Bird | undefined;
  const knitds: Knitd[] = [];
  const pods: Pod[] = [];
  const subnets = (): string[] => knitds.map((k) => String(held(k).subnet));
  const routerIds = (): string[] => lab.nodes.map((n, i) => (i === 0 ? NODE1_ROUTER_ID : deriveRouterId(n.name)));
  const state = (): string => `${bird?.birdc('show', 'protocols', 'all') ?? ''}\n${bird?.birdc('show', 'route', 'all') ?? ''}\n`
    + lab.nodes.map((n) => `${n.name}: ${JSON.stringify(routesIn(n.ns, 6, 90))}`).join('\n');

  before(async () => {
    lab = await createLab({ nodes: 3, etcd: true, ipv6: true });
    bird = await startBird(lab.underlay.ns, birdConfig6(lab.nodes.map((n) => n.underlayIp6!)));
    for (const [i, node] of lab.nodes.entries()) {
      knitds.push(await startClusterKnitd(lab, node, BGP_NETWORK, { args: i === 0 ? ['--bgp-router-id', NODE1_ROUTER_ID] : [] }));
    }
    for (const k of knitds) pods.push(await attach(lab, k, 'a'), await attach(lab, k, 'b'));
    await waitFor('every node has the other nodes\' IPv6 pod subnets over BGP', async () => lab.nodes.every((n, i) =>
      subnets().every((s, j) => i === j || routesIn(n.ns, 6, 90).some((r) => r.dst === s))) || undefined, 30_000, async () => state());
  });
  after(async () => {
    await cleanupAll([
      ...Array.from(knitds, (k) => () => k.destroy()),
      () => bird?.destroy(),
      () => lab?.teardown(),
    ]);
  });

  it('BIRD peers with every node over IPv6, IPv6 unicast only, under the node\'s 32-bit router ID', async () => {
    for (const [i, n] of lab.nodes.entries()) {
      const out = bird!.birdc('show', 'protocols', 'all', `n${i + 1}`);
      expect(out, out).to.match(/BGP state:\s+Established/);
      expect(out).to.match(new RegExp(`Neighbor address:\\s+${n.underlayIp6!.replace(/\./g, '\\.')}\\b`));
      expect(out).to.match(new RegExp(`Neighbor ID:\\s+${routerIds()[i]!.replace(/\./g, '\\.')}\\b`));
      expect(out).to.match(/Channel ipv6/);
      expect(out).to.not.match(/Channel ipv4/);
      const started = logRecords(knitds[i]!).find((r) => r.message === 'BGP speaker started')!;
      expect(started).to.deep.include({ routerId: routerIds()[i], routerIdFrom: i === 0 ? 'config' : 'derived', sessionFamily: 'IPv6' });
    }
    // Nothing of the IPv6-only bgp path trips a check written for IPv4.
    for (const k of knitds) expect(logRecords(k).filter((r) => r.level === 'warn' || r.level === 'error'), k.node.name).to.deep.equal([]);
  });

  it('BIRD learns each node\'s IPv6 pod subnet via that node; every other node installs it (proto 90, not via the router)', async () => {
    for (const [i, k] of knitds.entries()) {
      const own = String(held(k).subnet);
      const r = bird!.birdc('show', 'route', own, 'all');
      expect(r, r).to.include(`BGP.as_path: ${ASNS[i]}`);
      expect(r).to.include(`BGP.next_hop: ${lab.nodes[i]!.underlayIp6}`);
      for (const [j, other] of lab.nodes.entries()) {
        if (j === i) continue;
        const route = routesIn(other.ns, 6, 90).find((x) => x.dst === own);
        expect(route, `${other.name} has a route to ${own}`).to.not.equal(undefined);
        expect(route!.dev).to.equal('eth0');
        expect(route!.gateway).to.not.equal(ROUTER6);
      }
    }
  });

  it('no IPv4 anywhere in the pod network: no IPv4 BGP route, no IPv4 pod address or route, nothing in BIRD\'s IPv4 table', async () => {
    for (const n of lab.nodes) expect(routesIn(n.ns, 4, 90), n.name).to.deep.equal([]);
    for (const p of pods) {
      const v4 = await ipj<{ addr_info: unknown[] }>(p.c.ns, ['-4', 'addr', 'show', 'dev', 'eth0']);
      expect(v4.flatMap((l) => l.addr_info), 'no IPv4 address in an IPv6-only pod').to.deep.equal([]);
      expect(await ipj<unknown>(p.c.ns, ['-4', 'route', 'show']), 'no IPv4 route in the pod').to.deep.equal([]);
    }
    expect(bird!.birdc('show', 'route', 'table', 'master4')).to.not.match(/\d+\.\d+\.\d+\.\d+\/\d+/);
  });

  it('every container pings every other over IPv6', async () => {
    const failures: string[] = [];
    await Promise.all(pods.flatMap((from) => pods.filter((to) => to !== from).map(async (to) => {
      const p = await lab.ping(from.c, to.ip6, 2);
      if (p.received === 0) failures.push(`${from.knitd.node.name}/${from.ip6} -> ${to.knitd.node.name}/${to.ip6}`);
    })));
    expect(failures.sort(), failures.length === 0 ? '' : state()).to.deep.equal([]);
  });
});
