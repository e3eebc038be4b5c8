/**
 * knitd restarted with graceful restart on (BIRD as top-of-rack router in its
 * default "aware" mode, i.e. a receiving speaker): knitd stops without a
 * Cease, BIRD keeps its routes as stale meanwhile, the restarted knitd keeps
 * the kernel routes of its previous run until BIRD has resent everything
 * (End-of-RIB), and a continuous ping across nodes loses nothing.
 */
import { expect } from 'chai';
import { createLab, type Lab, type LabContainer } from '../lab/lab';
import { startKnitd, type Knitd } from '../lab/knitd';
import { routesIn, startBird, waitFor, type Bird } from './bgp-lab';
import { cleanupAll } from '../lab/cleanup';

describe('bgp: knitd restart with graceful restart keeps forwarding', function () {
  this.timeout(180_000);
  let lab: Lab;
  let bird: Bird;
  const knitds: Knitd[] = [];
  const containers: { c: LabContainer; ip: string }[] = [];

  const detail = (): string => `bird:\n${bird?.proc.logTail(3000)}\n${knitds.map((k) => `${k.node.name}:\n${k.proc.logTail(3000)}`).join('\n')}`;
  const routes = (i: number): string[] => routesIn(lab.nodes[i]!.ns, 4, 90).map((r) => r.dst);

  before(async () => {
    lab = await createLab({ nodes: 2, etcd: true });
    const router = lab.underlay.plan.routerIp;
    bird = await startBird(lab.underlay.ns, `router id ${router};
log stderr all;
protocol device { scan time 1; }
template bgp knit {
  local ${router} as 65000;
  connect retry time 1;
  error wait time 1, 2;
  ipv4 { import all; export all; };
}
protocol bgp n1 from knit { neighbor ${lab.nodes[0]!.underlayIp} as 65001; }
protocol bgp n2 from knit { neighbor ${lab.nodes[1]!.underlayIp} as 65002; }
`);
    const network = {
      clusterCidr: '10.244.0.0/16', subnetLength: 24,
      backend: { type: 'bgp', nodeAsns: { node1: 65001, node2: 65002 }, peers: [{ address: router, asn: 65000 }], gracefulRestart: true, restartTime: 60 },
    };
    for (const node of lab.nodes) knitds.push(await startKnitd(lab, node, { cluster: { etcdEndpoints: lab.etcdEndpoints, network } }));
    for (let n = 0; n < 2; n++) {
      const c = lab.addContainer(n, 'c');
      const r = await knitds[n]!.cni('ADD', { CNI_CONTAINERID: c.containerId, CNI_NETNS: c.netnsPath, CNI_IFNAME: 'eth0' }, knitds[n]!.conf('1.0.0'));
      expect(r.code, `ADD on node ${n}: ${r.stdout} ${r.stderr}`).to.equal(0);
      containers.push({ c, ip: (r.json as { ips: Array<{ address: string }> }).ips[0]!.address.split('/')[0]! });
    }
    await waitFor('both nodes have the other\'s subnet', () => routes(0).includes(knitds[1]!.subnet) && routes(1).includes(knitds[0]!.subnet), 30_000, detail);
  });

  after(async () => {
    await cleanupAll([
      ...Array.from(knitds, (k) => () => k.destroy()),
      () => bird?.destroy(),
      () => lab?.teardown(),
    ]);
  });

  it('a continuous ping node1 → node2 loses nothing while knitd on node1 restarts; BIRD kept node1\'s route meanwhile', async () => {
    // Every route change on both nodes while knitd restarts: the cross-node routes must never be deleted.
    const monitors = [0, 1].map((i) => lab.spawn(lab.nodes[i]!, 'ip', ['-o', 'monitor', 'route'], { tag: `route-monitor-n${i + 1}` }));
    await new Promise((r) => setTimeout(r, 300));
    const ping = lab.ping(containers[0]!.c, containers[1]!.ip, 160); // 0.05 s apart: about 8 s
    await new Promise((r) => setTimeout(r, 1000));
    await knitds[0]!.stop();
    // Long enough for BIRD to have withdrawn the route, had it not kept it as stale.
    await new Promise((r) => setTimeout(r, 1000));
    expect(bird.birdc('show', 'protocols', 'n1')).not.to.include('Established');
    // knitd is down: BIRD still has node1's subnet (stale), so node2 still routes to it.
    const during = bird.birdc('show', 'route', knitds[0]!.subnet, 'all');
    expect(during, 'BIRD kept the stale route').to.include(knitds[0]!.subnet);
    expect(routes(1)).to.include(knitds[0]!.subnet);
    expect(routes(0), 'node1 kernel routes survive the stop').to.include(knitds[1]!.subnet);
    await knitds[0]!.restart();
    const p = await ping;
    const changes = monitors.map((m) => m.logTail(1 << 16));
    for (const m of monitors) await m.stop();
    const deleted = changes.flatMap((c) => c.split('\n')).filter((l) => l.startsWith('Deleted') && (l.includes(knitds[0]!.subnet) || l.includes(knitds[1]!.subnet)));
    expect(deleted, `route changes during the restart:\n${changes.join("\n")}\n${knitds[0]!.proc.logTail(1 << 20)}`).to.deep.equal([]);
    expect(p.transmitted).to.equal(160);
    expect(p.received, `${p.output}\nroute changes during the restart:\n${changes.join('\n')}\n${detail()}`).to.equal(160);
    const log = knitds[0]!.proc.logTail(1 << 20);
    expect(log).to.include('graceful restart: keeping the BGP routes of the previous run');
    await waitFor('preserved routes released on End-of-RIB', () => knitds[0]!.proc.logTail(1 << 20).includes('preserved BGP routes released (every peer sent End-of-RIB)'), 30_000, detail);
    expect(routes(0)).to.include(knitds[1]!.subnet);
    expect(bird.established()).to.equal(2);
  });
});
