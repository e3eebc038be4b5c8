/**
 * Benchmark: pod-to-pod TCP throughput and round-trip latency across two
 * nodes, knit against the same topology built by hand with `ip` commands and
 * against the underlay itself, all in one run.
 *
 *   node dist/test/bench/cluster-dataplane.js [--rounds 5] [--seconds 5] [--pings 200] [--rr-seconds 3] [--backends vxlan,host-gw] [--no-nft-variant] [--floor-variant] [--stateful-variant] [--family 4|6] [--verbose]
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
 *   - with --floor-variant, the hand-built lab plus the least any
 *     masquerading table with notrack costs: a nat chain with one masquerade
 *     rule (which turns conntrack and its hooks on in the namespace; an
 *     empty nat chain does not) and one raw rule
 *     `ip saddr CIDR ip daddr CIDR notrack`;
 *   - with --stateful-variant, the hand-built lab plus the least any
 *     stateful filter costs (what enforcing network policy costs at least,
 *     issue 18): the same nat chain, no notrack, and a forward chain that
 *     passes pod-to-pod traffic by conntrack state. Its ratio to the floor
 *     variant is the cost of tracking the pods' traffic by itself.
 * Paths: underlay (node 1 namespace → node 2's underlay IP, in the hand-built
 * vxlan lab), and container → container across the nodes for each lab.
 *
 * Per round, every path in turn: `iperf3 -c -t SECONDS -J` (one stream,
 * received bits/s), `ping -c PINGS -i 0.01` (avg, p50 and p99 of the
 * individual times) and `sockperf ping-pong --tcp -t RR_SECONDS` (TCP
 * request/response like netperf's TCP_RR, 14-byte messages, one connection;
 * its p50 is the latency target). Paths are interleaved round by round so drift on this
 * shared 2-core VM hits every path alike, in reverse order every other round
 * (so a knit path does not always run right after its hand-built twin); the
 * tables show medians over rounds and the spread. Everything is torn down
 * even on failure.
 */
import type { Lab } from '../lab/lab';
import { destroyLabs, handLab, knitLab, type LabSet } from './cluster-dataplane-labs';
import { fmt, IPERF_PORT, iperf3, mean, median, numArg, percentile, printTable, runBench, sleep, SOCKPERF_PORT, sockperfP50, strArg } from './cluster-common';

const ROUNDS = numArg('rounds', 5);
const SECONDS = numArg('seconds', 5);
const PINGS = numArg('pings', 200);
const BACKENDS = strArg('backends', 'vxlan,host-gw').split(',') as Array<'vxlan' | 'host-gw'>;
const VERBOSE = process.argv.includes('--verbose');
const WITH_NFT = !process.argv.includes('--no-nft-variant');
const RR_SECONDS = numArg('rr-seconds', 3);
const WITH_STATEFUL = process.argv.includes('--stateful-variant');
const WITH_FLOOR = WITH_STATEFUL || process.argv.includes('--floor-variant');
const V6 = numArg('family', 4) === 6;

/** One measured path: a client namespace and the server address it targets. */
interface Path {
  name: string;
  /** 'underlay' or the backend the path belongs to */
  group: string;
  kind: 'underlay' | 'hand' | 'hand-nft' | 'hand-floor' | 'hand-stateful' | 'knit';
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

const labSet: LabSet = { v6: V6, verbose: VERBOSE, labs: [], knitds: [] };

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
    const k = await knitLab(labSet, backend);
    const h = await handLab(labSet, backend, k.mirror, false);
    const hn = WITH_NFT && !V6 ? await handLab(labSet, backend, k.mirror, true) : undefined;
    const hf = WITH_FLOOR && !V6 ? await handLab(labSet, backend, k.mirror, false, 'floor') : undefined;
    const hs = WITH_STATEFUL && !V6 ? await handLab(labSet, backend, k.mirror, false, 'stateful') : undefined;
    if (paths.length === 0) {
      paths.push(newPath('underlay node -> node', 'underlay', 'underlay', h.lab, h.lab.nodes[0]!.ns, h.lab.nodes[1]!.ns, V6 ? h.lab.nodes[1]!.underlayIp6! : h.lab.nodes[1]!.underlayIp));
    }
    paths.push(newPath(`${backend} hand-built`, backend, 'hand', h.lab, h.containers[0]!.ns, h.containers[1]!.ns, h.ips[1]!));
    if (hn) paths.push(newPath(`${backend} hand-built + knit nft`, backend, 'hand-nft', hn.lab, hn.containers[0]!.ns, hn.containers[1]!.ns, hn.ips[1]!));
    if (hf) paths.push(newPath(`${backend} hand-built + masquerade + notrack rule`, backend, 'hand-floor', hf.lab, hf.containers[0]!.ns, hf.containers[1]!.ns, hf.ips[1]!));
    if (hs) paths.push(newPath(`${backend} hand-built + masquerade + stateful filter`, backend, 'hand-stateful', hs.lab, hs.containers[0]!.ns, hs.containers[1]!.ns, hs.ips[1]!));
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
    // every other round in reverse, so no path always runs right after another (a knit path after its hand-built twin)
    for (const p of r % 2 === 0 ? paths : [...paths].reverse()) {
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
  // Tracking the pods' traffic by itself: the stateful filter against the notrack floor, same hand build.
  const floorOf = (p: Path): Path | undefined => paths.find((q) => q.group === p.group && q.kind === 'hand-floor');
  const stateful = paths.filter((p) => p.kind === 'hand-stateful').map((p) => {
    const f = floorOf(p)!;
    return `${p.group}: throughput ${fmt(median(p.gbps) / median(f.gbps), 3)}, TCP_RR p50 ${fmt(median(p.rrP50) / median(f.rrP50), 3)}, ping p50 ${fmt(median(p.pingP50) / median(f.pingP50), 3)}`;
  });
  if (stateful.length > 0) console.log(`stateful filter / notrack floor (what conntrack on the pods' path costs by itself): ${stateful.join('; ')}`);
}

async function cleanup(): Promise<void> {
  await destroyLabs(labSet);
}

runBench('cluster-dataplane', body, cleanup);
