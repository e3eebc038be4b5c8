/**
 * BGP convergence: how long after a node takes its subnet do all the other
 * nodes' kernels route to it? Three shapes, measured in the same run on 4
 * nodes (3 up, the 4th joins; repeated):
 *   - knit full mesh (iBGP from the leases): from the joining knitd's
 *     "subnet lease held" log record to the route on every other node;
 *   - knit via BIRD as top-of-rack router (eBGP): the same;
 *   - BIRD nodes doing the same job (a BIRD per node, iBGP full mesh, a static
 *     /24 each, learned routes exported to the kernel): from the joining
 *     BIRD's start to the route on every other node (BIRD's "lease" is its
 *     start; its connect delay is set to 1 s, the smallest it takes).
 * For knit the time from the joining knitd's process start is shown too.
 * Routes are polled (a round over the 3 nodes takes about 10–20 ms, which
 * is the resolution).
 *
 *   node dist/test/bench/bgp-convergence.js [--rounds 5]
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLab, type Lab } from '../lab/lab';
import { startKnitd, type Knitd } from '../lab/knitd';
import { nsRun } from '../lab/netns';
import { spawnTracked, type LabProcess } from '../lab/procs';
import { makeTempDir } from '../lab/run-dir';
import { startBird, type Bird } from '../e2e/bgp-lab';
import { fmt, median, numArg, percentile, printTable, runBench, sleep } from './cluster-common';

let lab: Lab | undefined;
const knitds: Knitd[] = [];
const birds: Array<Bird | LabProcess> = [];

function hasRoute(ns: string, dst: string): boolean {
  return nsRun(ns, 'ip', ['-4', 'route', 'show', dst]).trim() !== '';
}

/** Wall-clock ms when `dst` is routed on every node in `nodes` (polled). */
async function routedEverywhere(nodes: number[], dst: string, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  const pending = new Set(nodes);
  while (pending.size > 0) {
    for (const i of [...pending]) if (hasRoute(lab!.nodes[i]!.ns, dst)) pending.delete(i);
    if (pending.size === 0) break;
    if (Date.now() > deadline) throw new Error(`${dst} not routed on nodes ${[...pending].join(',')} after ${timeoutMs} ms`);
    await sleep(5);
  }
  return Date.now();
}

async function goneEverywhere(nodes: number[], dst: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (nodes.some((i) => hasRoute(lab!.nodes[i]!.ns, dst))) {
    if (Date.now() > deadline) throw new Error(`${dst} still routed`);
    await sleep(20);
  }
}

function leaseHeldAt(k: Knitd): { at: number; subnet: string } | undefined {
  for (const line of k.proc.logTail(1 << 20).split('\n')) {
    if (!line.includes('"subnet lease held"')) continue;
    const r = JSON.parse(line) as { timestamp: string; subnet: string };
    return { at: Date.parse(r.timestamp), subnet: r.subnet };
  }
  return undefined;
}

async function knitShape(name: string, backend: Record<string, unknown>, rounds: number, withBird: boolean): Promise<Array<string | number>> {
  lab = await createLab({ nodes: 4, etcd: true });
  const router = lab.underlay.plan.routerIp;
  if (withBird) {
    birds.push(await startBird(lab.underlay.ns, `router id ${router};
protocol device { scan time 10; }
${lab.nodes.map((n, i) => `protocol bgp n${i + 1} { local ${router} as 65000; neighbor ${n.underlayIp} as ${65001 + i}; connect delay time 1; connect retry time 1; error wait time 1, 2; ipv4 { import all; export all; }; }`).join('\n')}
`, 'bird-tor'));
  }
  const network = { clusterCidr: '10.244.0.0/16', subnetLength: 24, backend };
  for (let i = 0; i < 3; i++) knitds.push(await startKnitd(lab, lab.nodes[i]!, { cluster: { etcdEndpoints: lab.etcdEndpoints, network } }));
  const samples: number[] = [];
  const fromStart: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const tStart = Date.now();
    const k = await startKnitd(lab, lab.nodes[3]!, { cluster: { etcdEndpoints: lab.etcdEndpoints, network }, args: ['--etcd-release-on-shutdown=true'] });
    const held = leaseHeldAt(k);
    if (!held) throw new Error('no "subnet lease held" record');
    const done = await routedEverywhere([0, 1, 2], held.subnet);
    samples.push(done - held.at);
    fromStart.push(done - tStart);
    await k.destroy();
    await goneEverywhere([0, 1, 2], held.subnet);
  }
  await cleanup();
  return [name, rounds, fmt(median(samples), 0), fmt(percentile(samples, 100), 0), fmt(median(fromStart), 0)];
}

function birdNodeConfig(i: number, ips: string[]): string {
  return `router id ${ips[i]};
protocol device { scan time 10; }
protocol static { ipv4; route 10.245.${i + 1}.0/24 blackhole; }
protocol kernel { ipv4 { export where source = RTS_BGP; }; }
${ips.map((ip, j) => (j === i ? '' : `protocol bgp p${j + 1} { local ${ips[i]} as 64600; neighbor ${ip} as 64600; connect delay time 1; connect retry time 1; error wait time 1, 2; direct; ipv4 { import all; export where source = RTS_STATIC; }; }`)).join('\n')}
`;
}

async function birdShape(rounds: number): Promise<Array<string | number>> {
  lab = await createLab({ nodes: 4, etcd: false });
  const ips = lab.nodes.map((n) => n.underlayIp);
  for (let i = 0; i < 3; i++) birds.push(await startBird(lab.nodes[i]!.ns, birdNodeConfig(i, ips), `bird-n${i + 1}`));
  const dir = makeTempDir('bird-n4');
  const conf = join(dir, 'bird.conf');
  writeFileSync(conf, birdNodeConfig(3, ips));
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = Date.now();
    const p = spawnTracked('bird', ['-f', '-c', conf, '-s', join(dir, 'bird.ctl')], { ns: lab.nodes[3]!.ns, tag: 'bird-n4' });
    const done = await routedEverywhere([0, 1, 2], '10.245.4.0/24');
    samples.push(done - t0);
    await p.stop();
    await goneEverywhere([0, 1, 2], '10.245.4.0/24');
  }
  await cleanup();
  // For BIRD the "lease" is its start: the static route exists from then on.
  return ['BIRD nodes, iBGP full mesh', rounds, fmt(median(samples), 0), fmt(percentile(samples, 100), 0), fmt(median(samples), 0)];
}

async function cleanup(): Promise<void> {
  for (const k of knitds.splice(0)) await k.destroy();
  for (const b of birds.splice(0)) await ('destroy' in b ? b.destroy() : b.stop());
  await lab?.teardown();
  lab = undefined;
}

runBench('bgp-convergence', async () => {
  const rounds = numArg('rounds', 5);
  const rows: Array<Array<string | number>> = [];
  console.error('bgp-convergence: knit full mesh…');
  rows.push(await knitShape('knit full mesh, iBGP', { type: 'bgp', asn: 64512 }, rounds, false));
  console.error('bgp-convergence: knit via BIRD top-of-rack…');
  rows.push(await knitShape('knit via BIRD ToR, eBGP', {
    type: 'bgp', nodeAsns: { node1: 65001, node2: 65002, node3: 65003, node4: 65004 }, peers: [{ address: '192.168.77.1', asn: 65000 }],
  }, rounds, true));
  console.error('bgp-convergence: BIRD nodes…');
  rows.push(await birdShape(rounds));
  printTable(['shape', 'rounds', 'lease → routed everywhere, median ms', 'max ms', 'process start → routed, median ms'], rows);
}, cleanup);
