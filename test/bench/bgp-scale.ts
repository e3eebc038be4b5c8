/**
 * BGP at scale: BIRD (AS 65000, the lab's router) announces N static
 * prefixes to one knitd (AS 65001, backend bgp). Measured per N:
 *   - install: from `birdc enable` of the static protocol until the node's
 *     kernel holds all N routes with protocol 90;
 *   - withdraw: from `birdc disable` until none is left;
 *   - knitd's peak RSS (VmHWM) and CPU seconds (utime + stime) over the run.
 *
 *   node dist/test/bench/bgp-scale.js [--counts 10000,100000]
 */
import { readFileSync } from 'node:fs';
import { createLab, type Lab } from '../lab/lab';
import { startKnitd, type Knitd } from '../lab/knitd';
import { nsRun } from '../lab/netns';
import { startBird, waitFor, type Bird } from '../e2e/bgp-lab';
import { fmt, monoMs, printTable, runBench, strArg } from './cluster-common';

const CLK_TCK = 100;

function prefixes(n: number): string[] {
  const base = (172 << 24 >>> 0) + (16 << 16); // 172.16.0.0, /28 steps: room for 65 536 × 16 in 172.16.0.0/12
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const a = base + i * 16;
    out.push(`${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}/28`);
  }
  return out;
}

function birdConfig(router: string, node: string, n: number): string {
  return `router id ${router};
log stderr { warning, error, fatal };
protocol device { scan time 10; }
protocol static st { ipv4; disabled; ${prefixes(n).map((p) => `route ${p} blackhole;`).join(' ')} }
protocol bgp n1 {
  local ${router} as 65000;
  neighbor ${node} as 65001;
  ipv4 { import none; export all; };
}
`;
}

function countRoutes(ns: string): number {
  // Counted in the namespace: 100 000 route lines would overflow execFileSync's output buffer.
  return Number(nsRun(ns, 'sh', ['-c', 'ip -4 route show proto 90 | wc -l']).trim());
}

function procStats(pid: number): { cpuS: number; hwmMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuS = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuS, hwmMb: hwm ? Number(hwm[1]) / 1024 : NaN };
}

let lab: Lab | undefined;
let bird: Bird | undefined;
let knitd: Knitd | undefined;

async function one(n: number): Promise<Array<string | number>> {
  lab = await createLab({ nodes: 1, etcd: true });
  const node = lab.nodes[0]!;
  const router = lab.underlay.plan.routerIp;
  bird = await startBird(lab.underlay.ns, birdConfig(router, node.underlayIp, n), 'bird-scale');
  knitd = await startKnitd(lab, node, {
    // e.g. --node-args=--max-old-space-size=300 to see how much of the peak is garbage not yet collected
    nodeArgs: strArg('node-args', '').split(' ').filter(Boolean),
    cluster: {
      etcdEndpoints: lab.etcdEndpoints,
      network: { clusterCidr: '10.244.0.0/16', subnetLength: 24, backend: { type: 'bgp', asn: 65001, peers: [{ address: router, asn: 65000, import: 'all' }] } },
    },
  });
  const b = bird;
  await waitFor('session Established', () => b.established() === 1, 30_000);
  const before = procStats(knitd.pid);
  const t0 = monoMs();
  b.birdc('enable', 'st');
  const k = knitd;
  const why = (): string => `kernel has ${countRoutes(node.ns)}; bird: ${b.birdc('show', 'protocols', 'all', 'n1').split('\n').filter((l) => /Routes|State|Last error/.test(l)).join(' / ')}\nknitd:\n${k.proc.logTail(4000)}`;
  await waitFor(`${n} routes installed`, () => countRoutes(node.ns) === n, Number(strArg('timeout', '300000')), why);
  const install = monoMs() - t0;
  const afterInstall = procStats(knitd.pid);
  const t1 = monoMs();
  b.birdc('disable', 'st');
  await waitFor('all routes withdrawn', () => countRoutes(node.ns) === 0, 300_000);
  const withdraw = monoMs() - t1;
  const after = procStats(knitd.pid);
  await cleanup();
  return [n, fmt(install / 1000, 2), fmt(withdraw / 1000, 2), fmt(afterInstall.cpuS - before.cpuS, 2), fmt(after.cpuS - afterInstall.cpuS, 2), fmt(after.hwmMb, 0)];
}

async function cleanup(): Promise<void> {
  await knitd?.destroy();
  knitd = undefined;
  await bird?.destroy();
  bird = undefined;
  await lab?.teardown();
  lab = undefined;
}

runBench('bgp-scale', async () => {
  const counts = strArg('counts', '10000,100000').split(',').map(Number);
  const rows: Array<Array<string | number>> = [];
  for (const n of counts) {
    console.error(`bgp-scale: ${n} prefixes…`);
    rows.push(await one(n));
  }
  printTable(['prefixes', 'install s', 'withdraw s', 'knitd CPU s (install)', 'knitd CPU s (withdraw)', 'knitd peak RSS MB'], rows);
}, cleanup);
