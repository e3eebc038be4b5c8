/**
 * Shared steps of the cluster fault tests (test/e2e/cluster-*.test.ts): start
 * knitds in cluster mode, attach containers through the real plugin, read a
 * node's dataplane with `ip -j` / `bridge -j`, talk to the lab's etcd with
 * etcdctl from the underlay namespace, read knitd's JSON log, and wait for a
 * condition with a deadline (the tests report how long it took; no test
 * asserts on timing).
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { createLab, type Lab, type LabContainer, type LabNode } from '../lab/lab';
import { startKnitd, type Knitd, type KnitdOptions } from '../lab/knitd';
import { waitFor } from '../support/wait';

const execFileP = promisify(execFile);

/** The network every fault test uses unless it needs another: VXLAN, /24s out of a /16. */
export const VXLAN_NETWORK: Record<string, unknown> = { clusterCidr: '10.244.0.0/16', subnetLength: 24, backend: { type: 'vxlan' } };

/** A container attached by the real plugin. */
export interface Attached {
  c: LabContainer;
  ip: string;
  knitd: Knitd;
}

/** Starts knitd in cluster mode on `node` against the lab's etcd. */
export async function startClusterKnitd(lab: Lab, node: LabNode, network: Record<string, unknown> = VXLAN_NETWORK, opts: Omit<KnitdOptions, 'cluster'> = {}): Promise<Knitd> {
  return startKnitd(lab, node, { ...opts, cluster: { etcdEndpoints: lab.etcdEndpoints, network } });
}

/** What `withCluster` hands to a test file. */
export interface ClusterFixture {
  lab: Lab;
  knitds: Knitd[];
  /** one container per node, attached by the real plugin (a test may push more) */
  attached: Attached[];
}

/**
 * mocha hooks for a cluster test: `before` makes a lab of `nodes` nodes with
 * etcd (running `beforeStart` on it first, e.g. a firewall knitd must find),
 * starts a cluster knitd on every node and attaches one container per node;
 * `after` removes all of it. Fields of the fixture are filled in by `before`.
 */
export function withCluster(
  opts: { nodes: number; knitd?: Omit<KnitdOptions, 'cluster'>; beforeStart?: (lab: Lab) => Promise<void> },
): ClusterFixture {
  const f = { knitds: [], attached: [] } as unknown as ClusterFixture;
  before(async () => {
    f.lab = await createLab({ nodes: opts.nodes, etcd: true });
    await opts.beforeStart?.(f.lab);
    for (const node of f.lab.nodes) f.knitds.push(await startClusterKnitd(f.lab, node, undefined, opts.knitd));
    for (const k of f.knitds) f.attached.push(await attach(f.lab, k, 'u'));
  });
  after(async () => {
    for (const k of f.knitds) await k.destroy();
    await f.lab?.teardown();
  });
  return f;
}

/** ADD through the real `knit` plugin; returns the container and its IP. */
export async function attach(lab: Lab, knitd: Knitd, tag: string): Promise<Attached> {
  const c = lab.addContainer(knitd.node, tag);
  const r = await knitd.cni('ADD', { CNI_CONTAINERID: c.containerId, CNI_NETNS: c.netnsPath, CNI_IFNAME: 'eth0' }, knitd.conf('1.0.0'));
  expect(r.code, `ADD on ${knitd.node.name}: ${r.stdout} ${r.stderr}`).to.equal(0);
  const ips = (r.json as { ips: Array<{ address: string }> }).ips;
  return { c, ip: ips[0]!.address.split('/')[0]!, knitd };
}

/** Pings every ordered pair (from, to) once or twice; returns the pairs with no reply. */
/** CNI ADD of container `c` through the real plugin, on `network` (absent: the default one); fails the test unless it succeeded; the result's IPs. */
export async function addToNetwork(knitd: Knitd, c: LabContainer, what: string, opts: { network?: string; ifname?: string; cniVersion?: string } = {}): Promise<Array<{ address: string; gateway: string }>> {
  const conf = knitd.conf(opts.cniVersion ?? '1.0.0', opts.network ? { network: opts.network } : {});
  const r = await knitd.cni('ADD', { CNI_CONTAINERID: c.containerId, CNI_NETNS: c.netnsPath, CNI_IFNAME: opts.ifname ?? 'eth0' }, conf);
  expect(r.code, `ADD ${what}: ${r.stdout} ${r.stderr}`).to.equal(0);
  return (r.json as { ips: Array<{ address: string; gateway: string }> }).ips;
}

export async function unreachablePairs(lab: Lab, pairs: Array<[Attached, Attached]>): Promise<string[]> {
  const failures: string[] = [];
  await Promise.all(pairs.map(async ([from, to]) => {
    const p = await lab.ping(from.c, to.ip, 2);
    if (p.received === 0) failures.push(`${from.knitd.node.name}/${from.ip} -> ${to.knitd.node.name}/${to.ip}`);
  }));
  return failures.sort();
}

/** Every ordered pair of distinct containers. */
export function allPairs(list: Attached[]): Array<[Attached, Attached]> {
  return list.flatMap((a) => list.filter((b) => b !== a).map((b): [Attached, Attached] => [a, b]));
}

/** What a node's kernel holds that matters to peers. */
export interface Dataplane {
  routes: Array<{ dst: string; gateway?: string; dev?: string; protocol?: string }>;
  neighbours: Array<{ dst: string; dev?: string; lladdr?: string; state?: string[] }>;
  fdb: Array<{ mac: string; ifname?: string; dst?: string }>;
}

/** Routes (main table), IPv4 neighbours and bridge FDB of `ns`. */
export async function dataplaneOf(ns: string): Promise<Dataplane> {
  const json = async <T>(cmd: string, args: string[]): Promise<T> => {
    const { stdout } = await execFileP('ip', ['netns', 'exec', ns, cmd, '-j', ...args], { encoding: 'utf8' });
    return JSON.parse(stdout.trim() || '[]') as T;
  };
  const [routes, neighbours, fdb] = await Promise.all([
    json<Dataplane['routes']>('ip', ['-4', 'route', 'show']),
    json<Dataplane['neighbours']>('ip', ['-4', 'neigh', 'show']),
    json<Dataplane['fdb']>('bridge', ['fdb', 'show']),
  ]);
  return { routes, neighbours, fdb };
}

/** How a node shows up in its peers' kernels. */
export interface NodeFootprint {
  subnet: string;
  publicIp: string;
  /** VTEP MAC (VXLAN); undefined for host-gw. */
  vtepMac?: string;
}

/** The objects in `dp` that exist because of the node `f`: its route, neighbour and FDB entry. */
export function objectsFor(dp: Dataplane, f: NodeFootprint): string[] {
  const base = f.subnet.split('/')[0]!;
  const out: string[] = [];
  for (const r of dp.routes) if (r.dst === f.subnet) out.push(`route ${r.dst} via ${r.gateway ?? '-'} dev ${r.dev ?? '-'}`);
  for (const n of dp.neighbours) {
    if (n.dst === base || (f.vtepMac !== undefined && n.lladdr === f.vtepMac)) out.push(`neigh ${n.dst} lladdr ${n.lladdr ?? '-'} dev ${n.dev ?? '-'}`);
  }
  for (const e of dp.fdb) {
    if ((f.vtepMac !== undefined && e.mac === f.vtepMac) || e.dst === f.publicIp) out.push(`fdb ${e.mac} dst ${e.dst ?? '-'} dev ${e.ifname ?? '-'}`);
  }
  return out.sort();
}

/** The footprint of a running knitd: leased subnet, underlay IP, and the MAC of its VXLAN device when there is one. */
export async function footprintOf(k: Knitd, vni = 1): Promise<NodeFootprint> {
  const f: NodeFootprint = { subnet: k.subnet, publicIp: k.node.underlayIp };
  try {
    const { stdout } = await execFileP('ip', ['-n', k.node.ns, '-j', 'link', 'show', `knit.${vni}`], { encoding: 'utf8' });
    const mac = (JSON.parse(stdout) as Array<{ address?: string }>)[0]?.address;
    if (mac) f.vtepMac = mac;
  } catch {
    // no VXLAN device: host-gw or ipip
  }
  return f;
}

/** etcdctl (v3 API) against the lab's etcd, run in the underlay namespace; resolves with stdout. */
export async function etcdctl(lab: Lab, args: string[]): Promise<string> {
  return lab.exec(lab.underlay.ns, 'etcdctl', [`--endpoints=${lab.etcdEndpoints.join(',')}`, ...args], {
    env: { ...process.env, ETCDCTL_API: '3' },
  });
}

/** The etcd key of a subnet's lease under the default prefix. */
export function leaseKey(subnet: string): string {
  return `/knit/v1/subnets/${subnet.replace('/', '-')}`;
}

/** Every JSON record knitd logged in its current incarnation. */
export function logRecords(k: Knitd): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const line of readFileSync(k.logPath, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a line cut by a kill
    }
  }
  return out;
}

/** The "knitd ready" record of the current incarnation. */
export function readyRecord(k: Knitd): Record<string, unknown> {
  const r = logRecords(k).find((l) => l.message === 'knitd ready');
  if (!r) throw new Error(`no "knitd ready" line in ${k.logPath}`);
  return r;
}

/** The one polling helper (test/support/wait.ts), re-exported for the e2e tests. */
export { waitFor } from '../support/wait';

/** ping summary of a finished `ping` process log. */
export function pingSummary(output: string): { transmitted: number; received: number } {
  const m = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(output);
  if (!m) throw new Error(`no ping summary in: ${output.slice(-500)}`);
  return { transmitted: Number(m[1]), received: Number(m[2]) };
}

/** ip -j in `ns`; [] when nothing matches. */
export async function ipj<T>(ns: string, args: string[]): Promise<T[]> {
  const { stdout } = await execFileP('ip', ['-n', ns, '-j', ...args], { encoding: 'utf8' });
  return JSON.parse(stdout.trim() || '[]') as T[];
}

/** Polls `present` every few ms after `damage` ran; resolves with the ms until it held again. */
export async function repairMs(damage: () => Promise<unknown>, present: () => Promise<boolean>): Promise<number> {
  expect(await present(), 'present before the damage').to.equal(true);
  await damage();
  const t0 = Date.now();
  await waitFor('repaired', async () => (await present()) || undefined, 5000);
  return Date.now() - t0;
}

/** Node code for a TCP server on [::]:argv[1] that answers each connection with the peer address it saw. */
export const ECHO_PEER = `require('net').createServer((s) => { s.end(s.remoteAddress + '\\n'); }).listen(+process.argv[1], '::', () => console.log('listening'));`;
/** Node code that connects to argv[1]:argv[2] and prints what it is sent. */
export const CONNECT = `const s = require('net').connect({ host: process.argv[1], port: +process.argv[2] }); let d = ''; s.on('data', (b) => { d += b; }); s.on('end', () => { process.stdout.write(d); }); s.on('error', (e) => { console.error(e.message); process.exit(1); });`;
