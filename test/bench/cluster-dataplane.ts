/**
 * Benchmark: pod-to-pod TCP throughput and round-trip latency across two
 * nodes, knit against the same topology built by hand with `ip` commands and
 * against the underlay itself, all in one run.
 *
 *   node dist/test/bench/cluster-dataplane.js [--rounds 5] [--seconds 5] [--pings 200] [--rr-seconds 3] [--backends vxlan,host-gw] [--no-nft-variant] [--floor-variant] [--family 4|6] [--verbose]
 *
 * --family 6 (issue 13): every lab is IPv6-only on an IPv6 underlay: knit
 * with clusterCidr fd00:10:244::/56 (/64 per node), the hand build with the
 * same IPv6 subnets, addresses (nodad) and routes, VXLAN over IPv6 (local =
 * the node's IPv6 address, MTU underlay − 70, neighbour <subnet ::>), host-gw
 * via the peer's IPv6 address; the underlay path pings the node's IPv6
 * address. knit's IPv6-only table holds no rule for this traffic, so the
 * nft and floor variants are IPv4 only.
 *
 * Labs (all alive at once, each with 2 nodes on an underlay bridge):
 *   - per backend, a knit lab: etcd + one knitd per node in cluster mode, one
 *     container per node attached with the real `knit` plugin;
 *   - per backend, a hand-built lab with the same subnets, MTUs and addresses:
 *     bridge + veth + container namespace, and for vxlan a VXLAN device with
 *     knit's parameters (VNI 1, port 8472, local = node IP, nolearning, MTU
 *     underlay − 50, <subnet>.0/32) with the permanent neighbour, FDB entry
 *     and onlink route knit would program; for host-gw a route via the peer's
 *     node IP. No nftables (knit's masquerade table is the one thing the hand
 *     build does not have);
 *   - per backend, the hand-built lab again plus knit's nftables table copied
 *     from the knit node (`nft list table ip knit` → `nft -f`), to show what
 *     knit's table (masquerade, port maps, and the raw chain that exempts
 *     forwarded pod-to-pod traffic from conntrack) costs by itself;
 *   - with --floor-variant, the hand-built lab plus the least any NAT-capable
 *     table with notrack costs: one empty nat chain (which turns conntrack
 *     and its hooks on in the namespace, as any masquerade does) and one
 *     raw rule `ip saddr CIDR ip daddr CIDR notrack`.
 * Paths: underlay (node 1 namespace → node 2's underlay IP, in the hand-built
 * vxlan lab), and container → container across the nodes for each lab.
 *
 * Per round, every path in turn: `iperf3 -c -t SECONDS -J` (one stream,
 * received bits/s), `ping -c PINGS -i 0.01` (avg, p50 and p99 of the
 * individual times) and `sockperf ping-pong --tcp -t RR_SECONDS` (TCP
 * request/response like netperf's TCP_RR, 14-byte messages, one connection;
 * its p50 is the latency target). Paths are interleaved round by round so drift on this
 * shared 2-core VM hits every path alike; the tables show medians over rounds
 * and the spread. Everything is torn down even on failure.
 */
import { execFile } from 'node:child_process';
import { createLab, type Lab, type LabContainer } from '../lab/lab';
import { startKnitd, type Knitd } from '../lab/knitd';
import { fmt, IPERF_PORT, iperf3, mean, median, numArg, percentile, printTable, runBench, sleep, SOCKPERF_PORT, sockperfP50, strArg } from './cluster-common';

const ROUNDS = numArg('rounds', 5);
const SECONDS = numArg('seconds', 5);
const PINGS = numArg('pings', 200);
const BACKENDS = strArg('backends', 'vxlan,host-gw').split(',') as Array<'vxlan' | 'host-gw'>;
const VERBOSE = process.argv.includes('--verbose');
const WITH_NFT = !process.argv.includes('--no-nft-variant');
const RR_SECONDS = numArg('rr-seconds', 3);
const WITH_FLOOR = process.argv.includes('--floor-variant');
const V6 = numArg('family', 4) === 6;
const NETWORK_CIDR = V6 ? 'fd00:10:244::/56' : '10.244.0.0/16';
const SUBNET_LENGTH = V6 ? 64 : 24;

/** One measured path: a client namespace and the server address it targets. */
interface Path {
  name: string;
  /** 'underlay' or the backend the path belongs to */
  group: string;
  kind: 'underlay' | 'hand' | 'hand-nft' | 'hand-floor' | 'knit';
  lab: Lab;
  clientNs: string;
  serverNs: string;
  serverIp: string;
  gbps: number[];
  retrans: number[];
  pingAvg: number[];
  pingP50: number[];
  pingP99: number[];
  /** sockperf TCP ping-pong p50 (one-way, µs) per round */
  rrP50: number[];
}

const labs: Lab[] = [];
const knitds: Knitd[] = [];

/** What the hand build copies from knit's lab. */
interface Mirror {
  subnets: [string, string];
  containerMtu: number;
  bridgeMtu: number;
  vxlanMtu?: number;
  /** `nft list table ip knit` of each knit node (the hand+nft variant loads it) */
  nftTables: [string, string];
}

async function ipJson<T>(lab: Lab, ns: string, args: string[]): Promise<T> {
  return JSON.parse(await lab.exec(ns, 'ip', ['-j', ...args]) || '[]') as T;
}

async function mtuOf(lab: Lab, ns: string, dev: string): Promise<number> {
  const [l] = await ipJson<Array<{ mtu: number }>>(lab, ns, ['link', 'show', 'dev', dev]);
  if (!l) throw new Error(`no link ${dev} in ${ns}`);
  return l.mtu;
}

async function knitLab(backend: 'vxlan' | 'host-gw'): Promise<{ lab: Lab; containers: LabContainer[]; ips: string[]; mirror: Mirror }> {
  const lab = await createLab({ nodes: 2, etcd: true, ipv6: V6 });
  labs.push(lab);
  const network = { clusterCidr: NETWORK_CIDR, subnetLength: SUBNET_LENGTH, backend: { type: backend } };
  const ks: Knitd[] = [];
  for (const node of lab.nodes) {
    const k = await startKnitd(lab, node, { cluster: { etcdEndpoints: lab.etcdEndpoints, network } });
    knitds.push(k);
    ks.push(k);
  }
  const containers: LabContainer[] = [];
  const ips: string[] = [];
  for (let n = 0; n < 2; n++) {
    const c = lab.addContainer(n, 'bench');
    const r = await ks[n]!.cni('ADD', { CNI_CONTAINERID: c.containerId, CNI_NETNS: c.netnsPath, CNI_IFNAME: 'eth0' }, ks[n]!.conf('1.0.0'));
    if (r.code !== 0) throw new Error(`knit ADD on node ${n + 1} (${backend}): ${r.stdout} ${r.stderr}`);
    const ip = (r.json as { ips: Array<{ address: string }> }).ips[0]!.address.split('/')[0]!;
    containers.push(c);
    ips.push(ip);
  }
  const mirror: Mirror = {
    subnets: [ks[0]!.subnet, ks[1]!.subnet],
    containerMtu: await mtuOf(lab, containers[0]!.ns, 'eth0'),
    bridgeMtu: await mtuOf(lab, lab.nodes[0]!.ns, ks[0]!.bridge),
    ...(backend === 'vxlan' ? { vxlanMtu: await mtuOf(lab, lab.nodes[0]!.ns, 'knit.1') } : {}),
    nftTables: V6 ? ['', ''] : [
      await lab.exec(lab.nodes[0]!.ns, 'nft', ['list', 'table', 'ip', 'knit']),
      await lab.exec(lab.nodes[1]!.ns, 'nft', ['list', 'table', 'ip', 'knit']),
    ],
  };
  if (VERBOSE) {
    console.log(`knit ${backend} lab, node 1:`);
    console.log(await lab.exec(lab.nodes[0]!.ns, 'ip', ['-d', 'link', 'show']));
    console.log(await lab.exec(lab.nodes[0]!.ns, 'ip', ['route', 'show']));
  }
  return { lab, containers, ips, mirror };
}

/** The i-th address of a /24 subnet "a.b.c.0/24", or of an IPv6 /64 "p::/64" (i < 65536). */
function host(subnet: string, i: number): string {
  const net = subnet.split('/')[0]!;
  if (V6) return i === 0 ? net : `${net}${i.toString(16)}`;
  return `${net.split('.').slice(0, 3).join('.')}.${i}`;
}

/** The same topology by hand; returns the two container namespaces and IPs. */
async function handLab(backend: 'vxlan' | 'host-gw', m: Mirror, withNft: boolean, floor = false): Promise<{ lab: Lab; containers: LabContainer[]; ips: string[] }> {
  const lab = await createLab({ nodes: 2, ipv6: V6 });
  labs.push(lab);
  const nodeIp = (n: number): string => (V6 ? lab.nodes[n]!.underlayIp6! : lab.nodes[n]!.underlayIp);
  const nodad = V6 ? ' nodad' : '';
  const br = `${lab.prefix}br`;
  const vx = `${lab.prefix}vx`;
  const macs = ['0e:aa:00:00:00:01', '0e:aa:00:00:00:02'];
  const containers: LabContainer[] = [];
  const ips: string[] = [];
  for (let n = 0; n < 2; n++) {
    const node = lab.nodes[n]!;
    const sub = m.subnets[n]!;
    const c = lab.addContainer(n, 'hand');
    const veth = `${lab.prefix}h${n}`;
    const lines = [
      `link add ${br} type bridge`,
      `link set ${br} mtu ${m.bridgeMtu} up`,
      `addr add ${host(sub, 1)}/${SUBNET_LENGTH} dev ${br}${nodad}`,
      `link add ${veth} mtu ${m.containerMtu} type veth peer name eth0 netns ${c.ns}`,
      `link set ${veth} master ${br} up`,
    ];
    if (backend === 'vxlan') {
      lines.push(
        `link add ${vx} type vxlan id 1 dstport 8472 local ${nodeIp(n)} dev ${node.dev} nolearning`,
        `link set ${vx} address ${macs[n]} mtu ${m.vxlanMtu ?? 1450} up`,
        // (knit puts no address on an IPv6-only VXLAN device)
        ...(V6 ? [] : [`addr add ${host(sub, 0)}/32 dev ${vx}`]),
      );
    }
    await execBatch(node.ns, lines);
    await lab.exec(node.ns, 'sysctl', ['-qw', V6 ? 'net.ipv6.conf.all.forwarding=1' : 'net.ipv4.ip_forward=1']);
    if (withNft) await runStdin('ip', ['netns', 'exec', node.ns, 'nft', '-f', '-'], m.nftTables[n]!);
    if (floor) {
      await runStdin('ip', ['netns', 'exec', node.ns, 'nft', '-f', '-'], [
        'table ip bench_floor {',
        '  chain raw { type filter hook prerouting priority raw; policy accept;',
        `    ip saddr ${NETWORK_CIDR} ip daddr ${NETWORK_CIDR} notrack`,
        '  }',
        '  chain post { type nat hook postrouting priority srcnat; policy accept; }',
        '}', ''].join('\n'));
    }
    await execBatch(c.ns, [
      'link set lo up', `link set eth0 mtu ${m.containerMtu} up`, `addr add ${host(sub, 2)}/${SUBNET_LENGTH} dev eth0${nodad}`,
      `route add ${V6 ? '::/0' : 'default'} via ${host(sub, 1)}`,
    ]);
    containers.push(c);
    ips.push(host(sub, 2));
  }
  for (let n = 0; n < 2; n++) {
    const node = lab.nodes[n]!;
    const peer = 1 - n;
    const psub = m.subnets[peer]!;
    if (backend === 'vxlan') {
      await execBatch(node.ns, [
        `neigh replace ${host(psub, 0)} lladdr ${macs[peer]} dev ${vx} nud permanent`,
        `route replace ${psub} via ${host(psub, 0)} dev ${vx} onlink`,
      ]);
      await lab.exec(node.ns, 'bridge', ['fdb', 'append', macs[peer]!, 'dst', nodeIp(peer), 'dev', vx, 'self', 'permanent']);
    } else {
      await execBatch(node.ns, [`route replace ${psub} via ${nodeIp(peer)} dev ${node.dev}`]);
    }
  }
  if (VERBOSE) {
    console.log(`hand-built ${backend} lab, node 1:`);
    console.log(await lab.exec(lab.nodes[0]!.ns, 'ip', ['-d', 'link', 'show']));
    console.log(await lab.exec(lab.nodes[0]!.ns, 'ip', ['route', 'show']));
  }
  return { lab, containers, ips };
}

/** `ip -n NS -batch -` with `lines` on stdin. */
async function execBatch(ns: string, lines: string[]): Promise<void> {
  await runStdin('ip', ['-n', ns, '-batch', '-'], `${lines.join('\n')}\n`);
}

async function runStdin(cmd: string, args: string[], input: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = execFile(cmd, args, (err, _out, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr}\n${input}`, { cause: err }));
      else resolve();
    });
    child.stdin?.end(input);
  });
}

function newPath(name: string, group: string, kind: Path['kind'], lab: Lab, clientNs: string, serverNs: string, serverIp: string): Path {
  return { name, group, kind, lab, clientNs, serverNs, serverIp, gbps: [], retrans: [], pingAvg: [], pingP50: [], pingP99: [], rrP50: [] };
}

async function iperf(p: Path): Promise<void> {
  const r = await iperf3(p.lab, p.clientNs, p.serverIp, SECONDS);
  p.gbps.push(r.gbps);
  p.retrans.push(r.retrans);
}

async function ping(p: Path): Promise<void> {
  const out = await p.lab.exec(p.clientNs, 'ping', ['-n', '-c', String(PINGS), '-i', '0.01', '-W', '1', p.serverIp], { timeoutMs: PINGS * 100 + 10_000 });
  const times = [...out.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
  if (times.length < PINGS * 0.95) throw new Error(`ping ${p.name}: ${times.length}/${PINGS} replies`);
  p.pingAvg.push(mean(times));
  p.pingP50.push(percentile(times, 50));
  p.pingP99.push(percentile(times, 99));
}

/** TCP request/response latency: sockperf's p50 over RR_SECONDS of ping-pong on one connection. */
async function tcpRr(p: Path): Promise<void> {
  p.rrP50.push(await sockperfP50(p.lab, p.clientNs, p.serverIp, RR_SECONDS));
}

/** "median (min–max)" spread of a series as ± % of its median. */
function spread(v: number[]): string {
  const m = median(v);
  return `±${fmt((Math.max(...v) - Math.min(...v)) / 2 / m * 100, 0)}%`;
}

async function body(): Promise<void> {
  const paths: Path[] = [];
  for (const backend of BACKENDS) {
    if (backend !== 'vxlan' && backend !== 'host-gw') throw new Error(`unknown backend ${String(backend)}`);
    const k = await knitLab(backend);
    const h = await handLab(backend, k.mirror, false);
    const hn = WITH_NFT && !V6 ? await handLab(backend, k.mirror, true) : undefined;
    const hf = WITH_FLOOR && !V6 ? await handLab(backend, k.mirror, false, true) : undefined;
    if (paths.length === 0) {
      paths.push(newPath('underlay node -> node', 'underlay', 'underlay', h.lab, h.lab.nodes[0]!.ns, h.lab.nodes[1]!.ns, V6 ? h.lab.nodes[1]!.underlayIp6! : h.lab.nodes[1]!.underlayIp));
    }
    paths.push(newPath(`${backend} hand-built`, backend, 'hand', h.lab, h.containers[0]!.ns, h.containers[1]!.ns, h.ips[1]!));
    if (hn) paths.push(newPath(`${backend} hand-built + knit nft`, backend, 'hand-nft', hn.lab, hn.containers[0]!.ns, hn.containers[1]!.ns, hn.ips[1]!));
    if (hf) paths.push(newPath(`${backend} hand-built + nat chain + notrack rule`, backend, 'hand-floor', hf.lab, hf.containers[0]!.ns, hf.containers[1]!.ns, hf.ips[1]!));
    paths.push(newPath(`${backend} knit`, backend, 'knit', k.lab, k.containers[0]!.ns, k.containers[1]!.ns, k.ips[1]!));
    console.log(`${backend}: knit subnets ${k.mirror.subnets.join(', ')}; container MTU ${k.mirror.containerMtu}, bridge MTU ${k.mirror.bridgeMtu}${k.mirror.vxlanMtu ? `, vxlan MTU ${k.mirror.vxlanMtu}` : ''}`);
  }
  for (const p of paths) {
    p.lab.spawn(p.serverNs, 'iperf3', ['-s', '-p', String(IPERF_PORT)], { tag: 'iperf3-server' });
    p.lab.spawn(p.serverNs, 'sockperf', ['server', '--tcp', '-i', p.serverIp, '-p', String(SOCKPERF_PORT)], { tag: 'sockperf-server' });
    // IPv6: a bridge made a moment ago has a tentative link-local address, and a router's neighbour
    // solicitation for forwarded packets then goes out from :: (a DAD probe nobody answers) for ~1 s.
    let probe = await p.lab.ping(p.clientNs, p.serverIp, 3);
    for (let i = 0; i < 10 && probe.received === 0; i++) {
      await sleep(500);
      probe = await p.lab.ping(p.clientNs, p.serverIp, 3);
    }
    if (probe.received === 0) throw new Error(`${p.name}: ${p.serverIp} does not answer pings:\n${probe.output}`);
  }
  await sleep(500);
  for (let r = 0; r < ROUNDS; r++) {
    for (const p of paths) {
      await iperf(p);
      await ping(p);
      // sockperf 3.7 (Debian 12) takes no IPv6 address: IPv6 latency is ping's.
      if (!V6) await tcpRr(p);
    }
    console.log(`round ${r + 1}/${ROUNDS}: ${paths.map((p) => `${p.name} ${fmt(p.gbps[r]!, 2)} Gbit/s ${fmt(p.pingAvg[r]!, 3)} ms${V6 ? '' : ` TCP-RR p50 ${fmt(p.rrP50[r]!, 1)} µs`}`).join('; ')}`);
  }

  const underlay = paths[0]!;
  const handOf = (p: Path): Path | undefined => paths.find((q) => q.group === p.group && q.kind === 'hand');
  console.log(`\nthroughput: iperf3, 1 TCP stream, ${SECONDS} s, median of ${ROUNDS} rounds\n`);
  printTable(['path', 'Gbit/s', 'spread', 'retransmits', 'vs underlay', '/ hand-built'], paths.map((p) => [
    p.name, fmt(median(p.gbps), 2), spread(p.gbps), fmt(median(p.retrans), 0),
    fmt(median(p.gbps) / median(underlay.gbps), 2),
    p.kind !== 'hand' && p.kind !== 'underlay' ? fmt(median(p.gbps) / median(handOf(p)!.gbps), 3) : '',
  ]));
  console.log(`\nround-trip latency: ping -c ${PINGS} -i 0.01, ms, median of ${ROUNDS} rounds\n`);
  printTable(['path', 'avg', 'p50', 'p99', 'avg spread', 'avg vs underlay', 'avg / hand-built', 'p50 / hand-built'], paths.map((p) => [
    p.name, fmt(median(p.pingAvg), 3), fmt(median(p.pingP50), 3), fmt(median(p.pingP99), 3), spread(p.pingAvg),
    fmt(median(p.pingAvg) / median(underlay.pingAvg), 2),
    p.kind !== 'hand' && p.kind !== 'underlay' ? fmt(median(p.pingAvg) / median(handOf(p)!.pingAvg), 3) : '',
    p.kind !== 'hand' && p.kind !== 'underlay' ? fmt(median(p.pingP50) / median(handOf(p)!.pingP50), 3) : '',
  ]));
  if (!V6) console.log(`\nTCP request/response: sockperf ping-pong --tcp -t ${RR_SECONDS}, p50 of one-way latency (RTT / 2), µs, median of ${ROUNDS} rounds\n`);
  if (!V6) printTable(['path', 'p50 µs', 'spread', 'vs underlay', '/ hand-built', 'per round'], paths.map((p) => [
    p.name, fmt(median(p.rrP50), 2), spread(p.rrP50), fmt(median(p.rrP50) / median(underlay.rrP50), 2),
    p.kind !== 'hand' && p.kind !== 'underlay' ? fmt(median(p.rrP50) / median(handOf(p)!.rrP50), 3) : '',
    p.rrP50.map((x) => fmt(x, 1)).join(' '),
  ]));
  const verdicts = paths.filter((p) => p.kind === 'knit').map((p) => {
    const tp = median(p.gbps) / median(handOf(p)!.gbps);
    const lat = V6 ? median(p.pingP50) / median(handOf(p)!.pingP50) : median(p.rrP50) / median(handOf(p)!.rrP50);
    return `${p.group}${V6 ? ' (IPv6)' : ''}: throughput ratio ${fmt(tp, 3)} ${tp >= 0.97 ? 'met' : 'MISSED'} (>= 0.97), ${V6 ? 'ping' : 'TCP_RR'} p50 ratio ${fmt(lat, 3)} ${lat <= 1.03 ? 'met' : 'MISSED'} (<= 1.03)`;
  });
  console.log(`\ntargets: ${verdicts.join('; ')}`);
}

async function cleanup(): Promise<void> {
  for (const k of knitds) await k.destroy();
  for (const lab of labs) await lab.teardown();
}

runBench('cluster-dataplane', body, cleanup);
