/**
 * BGP at scale: BIRD (AS 65000, the lab's router) announces N static
 * prefixes to one knitd (AS 65001, backend bgp, a dual-stack network), a
 * share of them IPv6 (--ipv6-share, default 0.5: issue 13's "100 000, half
 * IPv6"), over MP-BGP on the one IPv4 session. Measured per N:
 *   - install: from `birdc enable` of the static protocol until the node's
 *     kernel holds all N routes with protocol 90;
 *   - withdraw: from `birdc disable` until none is left;
 *   - knitd's peak RSS (VmHWM) and CPU seconds (utime + stime) over the run.
 *
 *   node dist/test/bench/bgp-scale.js [--counts 10000,100000] [--ipv6-share 0.5]
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

/** n IPv6 /64s in fd20::/16 (clear of the cluster's fd00:10:244::/56). */
function prefixes6(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`fd20:${(i >>> 16).toString(16)}:${(i & 0xffff).toString(16)}::/64`);
  return out;
}

function birdConfig(router: string, node: string, n4: number, n6: number): string {
  return `router id ${router};
log stderr { warning, error, fatal };
protocol device { scan time 10; }
protocol static st { ipv4; disabled; ${prefixes(n4).map((p) => `route ${p} blackhole;`).join(' ')} }
protocol static st6 { ipv6; disabled; ${prefixes6(n6).map((p) => `route ${p} blackhole;`).join(' ')} }
protocol bgp n1 {
  local ${router} as 65000;
  neighbor ${node} as 65001;
  ipv4 { import none; export all; };
  ipv6 { import none; export all; };
}
`;
}

function countRoutes(ns: string): number {
  // Counted in the namespace: 100 000 route lines would overflow execFileSync's output buffer.
  return Number(nsRun(ns, 'sh', ['-c', '{ ip -4 route show proto 90; ip -6 route show proto 90; } | grep -vc "^fd00:10:244:" || true']).trim());
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

async function one(n: number, share6: number): Promise<Array<string | number>> {
  lab = await createLab({ nodes: 1, etcd: true, ipv6: true });
  const node = lab.nodes[0]!;
  const router = lab.underlay.plan.routerIp;
  const n6 = Math.round(n * share6);
  bird = await startBird(lab.underlay.ns, birdConfig(router, node.underlayIp, n - n6, n6), 'bird-scale');
  knitd = await startKnitd(lab, node, {
    // e.g. --node-args=--max-old-space-size=300 to see how much of the peak is garbage not yet collected
    nodeArgs: strArg('node-args', '').split(' ').filter(Boolean),
    cluster: {
      etcdEndpoints: lab.etcdEndpoints,
      network: { clusterCidr: '10.244.0.0/16', subnetLength: 24, ipv6ClusterCidr: 'fd00:10:244::/56', backend: { type: 'bgp', asn: 65001, peers: [{ address: router, asn: 65000, import: 'all' }] } },
    },
  });
  const b = bird;
  await waitFor('session Established', () => b.established() === 1, 30_000);
  const before = procStats(knitd.pid);
  const t0 = monoMs();
  b.birdc('enable', 'st');
  b.birdc('enable', 'st6');
  const k = knitd;
  const why = (): string => `kernel has ${countRoutes(node.ns)}; bird: ${b.birdc('show', 'protocols', 'all', 'n1').split('\n').filter((l) => /Routes|State|Last error/.test(l)).join(' / ')}\nknitd:\n${k.proc.logTail(4000)}`;
  await waitFor(`${n} routes installed`, () => countRoutes(node.ns) === n, Number(strArg('timeout', '300000')), why);
  const install = monoMs() - t0;
  const afterInstall = procStats(knitd.pid);
  const t1 = monoMs();
  b.birdc('disable', 'st');
  b.birdc('disable', 'st6');
  await waitFor('all routes withdrawn', () => countRoutes(node.ns) === 0, Number(strArg('timeout', '300000')), () =>
    `left: ${nsRun(node.ns, 'sh', ['-c', '{ ip -4 route show proto 90; ip -6 route show proto 90; } | grep -v "^fd00:10:244:" | head -5'])}`);
  const withdraw = monoMs() - t1;
  const after = procStats(knitd.pid);
  await cleanup();
  return [n, n6, fmt(install / 1000, 2), fmt(withdraw / 1000, 2), fmt(afterInstall.cpuS - before.cpuS, 2), fmt(after.cpuS - afterInstall.cpuS, 2), fmt(after.hwmMb, 0)];
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
  const share6 = Number(strArg('ipv6-share', '0.5'));
  const rows: Array<Array<string | number>> = [];
  for (const n of counts) {
    console.error(`bgp-scale: ${n} prefixes…`);
    rows.push(await one(n, share6));
  }
  printTable(['prefixes', 'of them IPv6', 'install s', 'withdraw s', 'knitd CPU s (install)', 'knitd CPU s (withdraw)', 'knitd peak RSS MB'], rows);
}, cleanup);
