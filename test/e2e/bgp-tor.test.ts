/**
 * knit's BGP backend against a real router: BIRD 2 in the lab's underlay
 * namespace plays the top-of-rack router (AS 65000), three knitd nodes
 * (backend bgp, one AS each: 65001-65003) peer with it over eBGP. Proves:
 * sessions come up, every node learns the others' subnets through BIRD and
 * installs them with protocol 90, containers on different nodes reach each
 * other over those routes only (no VXLAN, no host-gw routes, and the router
 * itself has no route to any pod subnet), IPv6 crosses the IPv4 sessions in
 * both directions, and BIRD going away is noticed as the RFCs say: at once
 * on a Cease, at hold-time expiry when it freezes, and routes return when
 * it comes back.
 */
import { expect } from 'chai';
import { createLab, type Lab, type LabContainer } from '../lab/lab';
import { startKnitd, type Knitd } from '../lab/knitd';
import { nsIpJson, nsRun } from '../lab/netns';
import { routesIn, startBird, waitFor, type Bird } from './bgp-lab';
import { cleanupAll } from '../lab/cleanup';

const ASNS = [65001, 65002, 65003];
const V6_ADVERTISED = '2001:db8:1::/64';
const V6_FROM_BIRD = '2001:db8:aa::/48';

function birdConfig(routerIp: string, nodeIps: string[]): string {
  return `router id ${routerIp};
log stderr all;
protocol device { scan time 1; }
protocol static s4 { ipv4; route 10.99.0.0/16 blackhole; }
protocol static s6 { ipv6; route ${V6_FROM_BIRD} blackhole; }
template bgp knit {
  local ${routerIp} as 65000;
  hold time 3;
  connect retry time 1;
  error wait time 1, 2;
  ipv4 { import all; export all; };
  ipv6 { import all; export all; };
}
${nodeIps.map((ip, i) => `protocol bgp n${i + 1} from knit { neighbor ${ip} as ${ASNS[i]}; }`).join('\n')}
`;
}

describe('bgp: BIRD as top-of-rack router, 3 knitd nodes over eBGP', function () {
  this.timeout(240_000);
  let lab: Lab;
  let bird: Bird;
  const knitds: Knitd[] = [];
  const containers: { c: LabContainer; ip: string }[] = [];

  const knitRoutes = (i: number): string[] => routesIn(lab.nodes[i]!.ns, 4, 90).map((r) => `${r.dst} via ${r.gateway}`).sort();
  /** What node i should hold: the other nodes' subnets via their node IPs, and BIRD's static via BIRD. */
  const expectedRoutes = (i: number): string[] => [
    ...knitds.map((k, j) => (j === i ? '' : `${k.subnet} via ${lab.nodes[j]!.underlayIp}`)).filter(Boolean),
    `10.99.0.0/16 via ${lab.underlay.plan.routerIp}`,
  ].sort();
  const detail = (): string => `bird:\n${bird?.proc.logTail(3000)}\n${knitds.map((k) => `${k.node.name}:\n${k.proc.logTail(3000)}`).join('\n')}`;
  const log = (i: number): string => knitds[i]!.proc.logTail(1 << 20);

  before(async () => {
    lab = await createLab({ nodes: 3, etcd: true });
    // IPv6 on the underlay segment, so IPv6 next hops resolve on both sides.
    nsRun(lab.underlay.ns, 'ip', ['addr', 'add', '2001:db8:77::1/64', 'dev', lab.underlay.bridge, 'nodad']);
    lab.nodes.forEach((n, i) => nsRun(n.ns, 'ip', ['addr', 'add', `2001:db8:77::1${i + 1}/64`, 'dev', n.dev, 'nodad']));
    bird = await startBird(lab.underlay.ns, birdConfig(lab.underlay.plan.routerIp, lab.nodes.map((n) => n.underlayIp)));
    const network = {
      clusterCidr: '10.244.0.0/16', subnetLength: 24,
      backend: {
        type: 'bgp', nodeAsns: { node1: ASNS[0], node2: ASNS[1], node3: ASNS[2] },
        peers: [{ address: lab.underlay.plan.routerIp, asn: 65000, import: 'all' }], advertise: [V6_ADVERTISED],
      },
    };
    for (const node of lab.nodes) knitds.push(await startKnitd(lab, node, { cluster: { etcdEndpoints: lab.etcdEndpoints, network } }));
    for (let n = 0; n < knitds.length; n++) {
      const c = lab.addContainer(n, 'c');
      const r = await knitds[n]!.cni('ADD', { CNI_CONTAINERID: c.containerId, CNI_NETNS: c.netnsPath, CNI_IFNAME: 'eth0' }, knitds[n]!.conf('1.0.0'));
      expect(r.code, `ADD on node ${n}: ${r.stdout} ${r.stderr}`).to.equal(0);
      containers.push({ c, ip: (r.json as { ips: Array<{ address: string }> }).ips[0]!.address.split('/')[0]! });
    }
    await waitFor('3 BGP sessions Established in BIRD', () => bird.established() === 3, 30_000, detail);
    await waitFor('every node has the others\' routes', () => [0, 1, 2].every((i) => knitRoutes(i).join() === expectedRoutes(i).join()), 30_000, detail);
  });

  after(async () => {
    await cleanupAll([
      ...Array.from(knitds, (k) => () => k.destroy()),
      () => bird?.destroy(),
      () => lab?.teardown(),
    ]);
  });

  it('every session is Established on both sides, and each knitd logged its FSM transitions', () => {
    expect(bird.established()).to.equal(3);
    for (let i = 0; i < 3; i++) {
      const l = log(i);
      for (const step of ['Idle -> Connect', 'Connect -> OpenSent', 'OpenSent -> OpenConfirm', 'OpenConfirm -> Established']) {
        expect(l, `${lab.nodes[i]!.name}: ${step}`).to.include(`peer ${lab.underlay.plan.routerIp}: ${step}`);
      }
    }
  });

  it('each node learns the others\' subnets through BIRD, installed with protocol 90 via the owning node', () => {
    for (let i = 0; i < 3; i++) expect(knitRoutes(i), lab.nodes[i]!.name).to.deep.equal(expectedRoutes(i));
    // BIRD learned each node's subnet from that node, with the node's AS as the path.
    for (let i = 0; i < 3; i++) {
      const out = bird.birdc('show', 'route', knitds[i]!.subnet, 'all');
      expect(out).to.include(`BGP.as_path: ${ASNS[i]}`);
      expect(out).to.include(`BGP.next_hop: ${lab.nodes[i]!.underlayIp}`);
    }
  });

  it('containers on different nodes ping each other over BGP-learned routes only', async () => {
    for (const node of lab.nodes) {
      expect(nsIpJson<unknown[]>(node.ns, ['link', 'show', 'type', 'vxlan']), `${node.name} vxlan devices`).to.deep.equal([]);
      expect(routesIn(node.ns, 4, 89), `${node.name} host-gw/vxlan routes`).to.deep.equal([]);
    }
    // The router has no route to any pod subnet (BIRD exports nothing to its kernel): packets can only go node to node.
    expect(routesIn(lab.underlay.ns, 4).filter((r) => r.dst.startsWith('10.244.'))).to.deep.equal([]);
    const failures: string[] = [];
    for (const from of containers) {
      for (const to of containers) {
        if (from === to) continue;
        const p = await lab.ping(from.c, to.ip, 2);
        if (p.received === 0) failures.push(`${from.ip} -> ${to.ip}`);
      }
    }
    expect(failures, 'pairs with no reply').to.deep.equal([]);
  });

  it('IPv6 over the IPv4 sessions: BIRD learns the advertised prefix with a global + link-local next hop, knit installs BIRD\'s IPv6 route', async () => {
    const out = bird.birdc('show', 'route', V6_ADVERTISED, 'all');
    expect(out).to.match(new RegExp(`${V6_ADVERTISED.replace(/[:/]/g, (c) => `\\${c}`)}\\s+unicast \\[n\\d`));
    expect(out).to.match(/BGP\.next_hop: 2001:db8:77::1[123] fe80::[0-9a-f:]+/);
    await waitFor('IPv6 route from BIRD on every node', () => [0, 1, 2].every((i) => routesIn(lab.nodes[i]!.ns, 6, 90).some((r) => r.dst === V6_FROM_BIRD)), 15_000, detail);
    for (const node of lab.nodes) {
      const r = routesIn(node.ns, 6, 90).filter((x) => x.dst === V6_FROM_BIRD);
      expect(r).to.have.length(1);
      expect(r[0]!.dev).to.equal(node.dev);
      expect(r[0]!.gateway).to.match(/^(fe80::|2001:db8:77::1$)/);
      // knit's own advertised prefix is local: never installed from a peer.
      expect(routesIn(node.ns, 6, 90).map((x) => x.dst)).not.to.include(V6_ADVERTISED);
    }
  });

  it('BIRD disables one session (Cease NOTIFICATION): that node\'s routes are withdrawn at once, everywhere; enabled again, they return', async () => {
    bird.birdc('disable', 'n1');
    const took = await waitFor('node1 without BGP routes', () => knitRoutes(0).length === 0, 10_000, detail);
    await waitFor('node1\'s subnet gone from node2 and node3', () => [1, 2].every((i) => !knitRoutes(i).some((r) => r.startsWith(knitds[0]!.subnet))), 10_000, detail);
    expect(log(0)).to.match(/received NOTIFICATION 6\/[0-9]+/);
    console.log(`      (Cease → node1 routes withdrawn after ${took} ms)`);
    bird.birdc('enable', 'n1');
    await waitFor('routes back everywhere', () => [0, 1, 2].every((i) => knitRoutes(i).join() === expectedRoutes(i).join()), 30_000, detail);
  });

  it('`birdc down` (BIRD shuts down, Cease to every peer): every node withdraws at once; BIRD started again: routes return', async () => {
    const ceases = (i: number): number => (log(i).match(/Established -> Idle \(received NOTIFICATION 6\//g) ?? []).length;
    const before = [0, 1, 2].map(ceases);
    bird.birdc('down');
    const took = await waitFor('all nodes without BGP routes', () => [0, 1, 2].every((i) => knitRoutes(i).length === 0), 10_000, detail);
    console.log(`      (birdc down → routes withdrawn on all nodes after ${took} ms)`);
    for (let i = 0; i < 3; i++) expect(ceases(i), `${lab.nodes[i]!.name} got a Cease`).to.be.greaterThan(before[i]!);
    await bird.restart();
    await waitFor('routes back after BIRD restart', () => [0, 1, 2].every((i) => knitRoutes(i).join() === expectedRoutes(i).join()), 60_000, detail);
  });

  it('BIRD frozen (SIGSTOP, no FIN, no NOTIFICATION): withdrawn at hold-time expiry (3 s) with 4/0; resumed: sessions and routes come back', async () => {
    const before = (log(0).match(/hold timer expired/g) ?? []).length;
    bird.proc.signal('SIGSTOP');
    try {
      const took = await waitFor('all nodes without BGP routes', () => [0, 1, 2].every((i) => knitRoutes(i).length === 0), 15_000, detail);
      console.log(`      (BIRD frozen → routes withdrawn after ${took} ms; hold time 3 s)`);
      expect((log(0).match(/hold timer expired/g) ?? []).length).to.be.greaterThan(before);
      expect(log(0)).to.include('sending NOTIFICATION 4/0');
    } finally {
      bird.proc.signal('SIGCONT');
    }
    await waitFor('routes back after SIGCONT', () => [0, 1, 2].every((i) => knitRoutes(i).join() === expectedRoutes(i).join()), 60_000, detail);
  });

  it('BIRD killed (SIGKILL: the kernel closes its sockets): routes withdrawn; BIRD restarted: sessions and routes come back', async () => {
    await bird.proc.kill();
    await waitFor('all nodes without BGP routes', () => [0, 1, 2].every((i) => knitRoutes(i).length === 0), 15_000, detail);
    for (let i = 0; i < 3; i++) expect(knitds[i]!.proc.running()).to.equal(true);
    await bird.restart();
    await waitFor('3 sessions Established again', () => bird.established() === 3, 60_000, detail);
    await waitFor('routes back after restart', () => [0, 1, 2].every((i) => knitRoutes(i).join() === expectedRoutes(i).join()), 30_000, detail);
    const p = await lab.ping(containers[0]!.c, containers[2]!.ip, 2);
    expect(p.received).to.be.greaterThan(0);
  });
});
