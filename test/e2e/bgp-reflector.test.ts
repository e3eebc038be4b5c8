/**
 * knitd nodes as route-reflector clients: BIRD in the underlay is the route
 * reflector (iBGP, one AS 65010 for everyone); each knitd has exactly one
 * session (to the reflector, none to the other nodes), and learns the other
 * nodes' subnets reflected with their original next hops.
 */
import { expect } from 'chai';
import { createLab, type Lab, type LabContainer } from '../lab/lab';
import { startKnitd, type Knitd } from '../lab/knitd';
import { routesIn, startBird, waitFor, type Bird } from './bgp-lab';
import { cleanupAll } from '../lab/cleanup';

describe('bgp: knitd nodes as route-reflector clients (BIRD reflects, iBGP)', function () {
  this.timeout(180_000);
  let lab: Lab;
  let bird: Bird;
  const knitds: Knitd[] = [];
  const containers: { c: LabContainer; ip: string }[] = [];

  const routes = (i: number): string[] => routesIn(lab.nodes[i]!.ns, 4, 90).map((r) => `${r.dst} via ${r.gateway}`).sort();
  const expected = (i: number): string[] => knitds.map((k, j) => (j === i ? '' : `${k.subnet} via ${lab.nodes[j]!.underlayIp}`)).filter(Boolean).sort();
  const detail = (): string => `bird:\n${bird?.proc.logTail(3000)}\n${knitds.map((k) => `${k.node.name}:\n${k.proc.logTail(2500)}`).join('\n')}`;

  before(async () => {
    lab = await createLab({ nodes: 3, etcd: true });
    const router = lab.underlay.plan.routerIp;
    bird = await startBird(lab.underlay.ns, `router id ${router};
log stderr all;
protocol device { scan time 1; }
protocol direct { ipv4; }
template bgp reflect {
  local ${router} as 65010;
  rr client;
  connect retry time 1;
  error wait time 1, 2;
  ipv4 { import all; export where source = RTS_BGP; };
}
${lab.nodes.map((n, i) => `protocol bgp n${i + 1} from reflect { neighbor ${n.underlayIp} as 65010; }`).join('\n')}
`);
    const network = { clusterCidr: '10.244.0.0/16', subnetLength: 24, backend: { type: 'bgp', asn: 65010, routeReflectors: [{ address: router }] } };
    for (const node of lab.nodes) knitds.push(await startKnitd(lab, node, { cluster: { etcdEndpoints: lab.etcdEndpoints, network } }));
    for (let n = 0; n < 3; n++) {
      const c = lab.addContainer(n, 'c');
      const r = await knitds[n]!.cni('ADD', { CNI_CONTAINERID: c.containerId, CNI_NETNS: c.netnsPath, CNI_IFNAME: 'eth0' }, knitds[n]!.conf('1.0.0'));
      expect(r.code, `ADD on node ${n}: ${r.stdout} ${r.stderr}`).to.equal(0);
      containers.push({ c, ip: (r.json as { ips: Array<{ address: string }> }).ips[0]!.address.split('/')[0]! });
    }
    await waitFor('reflected routes on every node', () => [0, 1, 2].every((i) => routes(i).join() === expected(i).join()), 30_000, detail);
  });

  after(async () => {
    await cleanupAll([
      ...Array.from(knitds, (k) => () => k.destroy()),
      () => bird?.destroy(),
      () => lab?.teardown(),
    ]);
  });

  it('each node has one session, to the reflector, and none to the other nodes (no mesh)', () => {
    expect(bird.established()).to.equal(3);
    for (let i = 0; i < 3; i++) {
      const log = knitds[i]!.proc.logTail(1 << 20);
      expect(log).to.include(`peer ${lab.underlay.plan.routerIp}: OpenConfirm -> Established`);
      for (const other of lab.nodes) expect(log).not.to.include(`peer ${other.underlayIp}:`);
    }
  });

  it('reflected routes keep the originating node as next hop and carry traffic', async () => {
    for (let i = 0; i < 3; i++) expect(routes(i)).to.deep.equal(expected(i));
    const failures: string[] = [];
    for (const from of [0, 1, 2]) {
      for (const to of [0, 1, 2]) {
        if (from !== to && (await lab.ping(containers[from]!.c, containers[to]!.ip, 2)).received === 0) failures.push(`${from} -> ${to}`);
      }
    }
    expect(failures).to.deep.equal([]);
  });
});
