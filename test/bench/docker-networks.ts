/**
 * Benchmark: knit's named networks and Docker driver, side by side with
 * Docker's own bridge driver in the same run.
 *
 *   node dist/test/bench/docker-networks.js [--runs 20] [--creates 10]
 *
 * Lab: 3 nodes, etcd, one knitd per node (cluster mode, vxlan,
 * docker.enabled) and one real dockerd per node (test/lab/dockerd.ts).
 *   1. `docker run --rm --net demo busybox true` on node 1 with knit's driver
 *      vs `--net dbridge` (Docker's bridge driver, a user-defined bridge
 *      network on the same dockerd), alternating, RUNS each: wall time p50/p99.
 *   2. knit network create → usable on every node: `knitctl network create`
 *      (wall time of the etcd write included), then poll every 10 ms until
 *      all three nodes have the network's bridge and VXLAN device and the
 *      Docker network; CREATES networks, p50/p99 of both.
 *   3. the ping matrix: 2 networks × 3 nodes × 2 containers (docker run
 *      --net), every ordered pair pinged once: reachable within a network,
 *      unreachable across, and the time the whole matrix took.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createLab, type Lab } from '../lab/lab';
import type { Knitd } from '../lab/knitd';
import { BUSYBOX_IMAGE, importBusybox, labDockerPath, startDockerd, type LabDockerd } from '../lab/dockerd';
import { startClusterKnitd } from '../e2e/cluster-lab';
import { KNITCTL } from '../e2e/api-lab';
import { fmt, median, numArg, percentile, printTable, runBench } from './cluster-common';

const execFileP = promisify(execFile);
const RUNS = numArg('runs', 20);
const CREATES = numArg('creates', 10);

let lab: Lab | undefined;
const knitds: Knitd[] = [];
const dockerds: LabDockerd[] = [];

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function links(ns: string): Promise<string[]> {
  const { stdout } = await execFileP('ip', ['-n', ns, '-j', 'link', 'show']);
  return (JSON.parse(stdout) as Array<{ ifname: string }>).map((l) => l.ifname);
}

runBench('docker-networks', async () => {
  lab = await createLab({ nodes: 3, etcd: true });
  for (const [i, node] of lab.nodes.entries()) {
    const pluginSocket = labDockerPath(`n${i}-knit.sock`);
    const d = await startDockerd(node, `n${i}`, pluginSocket);
    dockerds.push(d);
    knitds.push(await startClusterKnitd(lab, node, undefined, { args: ['--docker-enabled', '--docker-plugin-socket', pluginSocket, '--docker-api-socket', d.socket] }));
  }
  await Promise.all(dockerds.map((d) => importBusybox(d)));
  const l = lab;
  const knitctl = (args: string[]) => l.exec(l.underlay.ns, KNITCTL, [...args, '--etcd-endpoints', l.etcdEndpoints.join(',')]);
  const d0 = dockerds[0]!;

  // 1. docker run --rm … true, knit vs Docker's bridge, alternating.
  await knitctl(['network', 'create', 'demo', '--cidr', '10.70.0.0/16']);
  for (;;) {
    if ((await d0.docker(['network', 'ls', '--format', '{{.Name}}'])).split('\n').includes('demo')) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await d0.docker(['network', 'create', '-d', 'bridge', '--subnet', '172.31.0.0/24', 'dbridge']);
  for (const net of ['demo', 'dbridge']) await d0.docker(['run', '--rm', '--net', net, BUSYBOX_IMAGE, 'true']); // warm
  const runs: Record<string, number[]> = { demo: [], dbridge: [] };
  for (let i = 0; i < RUNS; i++) {
    for (const net of i % 2 === 0 ? ['demo', 'dbridge'] : ['dbridge', 'demo']) {
      runs[net]!.push(await timed(() => d0.docker(['run', '--rm', '--net', net, BUSYBOX_IMAGE, 'true'])));
    }
  }
  console.log(`\ndocker run --rm --net NET busybox true on node 1 (${RUNS} runs each, alternating), ms`);
  printTable(['network', 'p50', 'p99', 'min', 'max'], [
    ['knit (demo)', fmt(median(runs.demo!)), fmt(percentile(runs.demo!, 99)), fmt(Math.min(...runs.demo!)), fmt(Math.max(...runs.demo!))],
    ['Docker bridge (dbridge)', fmt(median(runs.dbridge!)), fmt(percentile(runs.dbridge!, 99)), fmt(Math.min(...runs.dbridge!)), fmt(Math.max(...runs.dbridge!))],
  ]);
  console.log(`ratio knit/bridge at p50: ${fmt(median(runs.demo!) / median(runs.dbridge!), 2)}`);

  // 2. network create → usable on every node.
  const kernel: number[] = [];
  const docker: number[] = [];
  const cli: number[] = [];
  for (let i = 0; i < CREATES; i++) {
    const name = `c${i}`;
    const vni = 100 + i;
    const tc = performance.now();
    await knitctl(['network', 'create', name, '--cidr', `10.${100 + i}.0.0/16`, '--vni', String(vni)]);
    // From the etcd write (knitctl returns once the create transaction committed).
    const t0 = performance.now();
    cli.push(t0 - tc);
    const pending = new Set([0, 1, 2]);
    const dockerPending = new Set([0, 1, 2]);
    let kernelMs = 0;
    for (;;) {
      for (const n of [...pending]) if ((await links(l.nodes[n]!.ns)).includes(`knit.${vni}`)) pending.delete(n);
      if (pending.size === 0 && kernelMs === 0) kernelMs = performance.now() - t0;
      for (const n of [...dockerPending]) if ((await dockerds[n]!.docker(['network', 'ls', '--format', '{{.Name}}'])).split('\n').includes(name)) dockerPending.delete(n);
      if (pending.size === 0 && dockerPending.size === 0) break;
      if (performance.now() - t0 > 60_000) throw new Error(`network ${name} not usable everywhere after 60 s`);
      await new Promise((r) => setTimeout(r, 10));
    }
    kernel.push(kernelMs);
    docker.push(performance.now() - t0);
  }
  console.log(`\nnetwork create → usable on all 3 nodes (${CREATES} networks; from the etcd write, polled every 10 ms: each poll is 3 ip + 3 docker processes), ms`);
  printTable(['usable as', 'p50', 'p99', 'max'], [
    ['(knitctl network create itself, process start to commit)', fmt(median(cli)), fmt(percentile(cli, 99)), fmt(Math.max(...cli))],
    ['bridge + VXLAN device on every node', fmt(median(kernel)), fmt(percentile(kernel, 99)), fmt(Math.max(...kernel))],
    ['Docker network on every dockerd', fmt(median(docker)), fmt(percentile(docker, 99)), fmt(Math.max(...docker))],
  ]);

  // 3. ping matrix, 2 networks × 3 nodes × 2 containers.
  await knitctl(['network', 'create', 'm2', '--cidr', '10.71.0.0/16']);
  for (const d of dockerds) {
    for (;;) {
      const names = (await d.docker(['network', 'ls', '--format', '{{.Name}}'])).split('\n');
      if (names.includes('m2') && names.includes('demo')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const ctrs: Array<{ host: number; name: string; net: string; ip: string }> = [];
  for (let h = 0; h < 3; h++) {
    for (const net of ['demo', 'm2']) {
      for (let i = 0; i < 2; i++) {
        const name = `${net}-${h}-${i}`;
        await dockerds[h]!.docker(['run', '-d', '--name', name, '--net', net, BUSYBOX_IMAGE, 'sleep', '3600']);
        const ip = (await dockerds[h]!.docker(['inspect', '-f', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, name])).trim();
        ctrs.push({ host: h, name, net, ip });
      }
    }
  }
  let ok = 0;
  let blocked = 0;
  const wrong: string[] = [];
  const t0 = performance.now();
  await Promise.all(ctrs.flatMap((a) => ctrs.filter((b) => b !== a).map(async (b) => {
    const r = await dockerds[a.host]!.dockerRun(['exec', a.name, 'ping', '-c', '1', '-W', '1', b.ip], 30_000);
    const same = a.net === b.net;
    if (same && r.code === 0) ok++;
    else if (!same && r.code !== 0) blocked++;
    else wrong.push(`${a.name} -> ${b.name}: ${r.code === 0 ? 'replied' : 'no reply'}`);
  })));
  console.log(`\nping matrix: ${ctrs.length} containers, ${ctrs.length * (ctrs.length - 1)} ordered pairs in ${fmt(performance.now() - t0, 0)} ms: ` +
    `${ok} same-network pairs replied, ${blocked} cross-network pairs blocked, ${wrong.length} wrong${wrong.length ? `: ${wrong.join('; ')}` : ''}`);
}, async () => {
  for (const d of dockerds) await d.destroy().catch(() => undefined);
  for (const k of knitds) await k.destroy().catch(() => undefined);
  await lab?.teardown();
});
