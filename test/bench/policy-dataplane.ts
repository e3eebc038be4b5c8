/**
 * Benchmark: what network policy costs pod-to-pod traffic at scale (issue
 * 18: with 100 policies and 1000 endpoints, throughput ≥ 0.97 and TCP_RR
 * latency ≤ 1.05 of the same path without policies; knitd memory reported).
 *
 *   node dist/test/bench/policy-dataplane.js [--rounds 5] [--seconds 5] [--rr-seconds 3] [--backends vxlan,host-gw] [--policies 100] [--endpoints 1000] [--unselected]
 *
 * Per backend, a knit lab: etcd and 2 knitds (cluster mode), a client
 * container on node 1 labelled app=g1 and a server on node 2 labelled
 * app=g0, both attached with the real plugin (labels through the CNI
 * `args.cni.labels`). The bench adds endpoint records up to `--endpoints`
 * (labelled g0 … g(N-1) round robin, addresses outside the pods' subnets)
 * and, for the "with policies" third of each round, `--policies` policies in
 * one etcd transaction: pK selects gK, lets in g(K+1) on TCP 5201 (iperf3),
 * 11111 (sockperf) and 8000-8100, and lets out to g(K-1) and to
 * 192.0.2.0/24 except 192.0.2.128/25. So the server's ingress and the
 * client's egress are both isolated and allowed: every packet of the
 * measured path goes through the policy classes, among 200 of them. The
 * "without" third deletes the policies (knitd then removes its table).
 *
 * The "allow-all" third is the floor, in the same run: one policy that
 * selects every endpoint and allows all ingress and egress. The pods are
 * isolated, so their traffic is tracked by conntrack (Kubernetes semantics:
 * replies of allowed connections pass, which only conntrack knows), and
 * every packet's class lookup allows it at once. allow-all / without is what
 * isolation costs by itself, conntrack included; with / allow-all is what
 * the 100 policies cost on top of it.
 *
 * Each third waits until both nodes programmed (knitd's log), then proves
 * the state (a connection to a port no rule allows is dropped by policy or
 * refused; the sockperf flow is in conntrack on both nodes when the pods
 * are isolated, and on neither when they are not), then runs iperf3 (1
 * stream, `--seconds`, received Gbit/s) and sockperf ping-pong --tcp
 * (`--rr-seconds`, p50 of the one-way latency). The thirds rotate which
 * goes first, round by round, so drift hits all alike; the ratios are
 * medians over rounds. knitd's RSS is read on both nodes in each state.
 *
 * --unselected: the two pods carry labels no policy selects, so the same
 * table is in the kernel but their path is not isolated (it stays
 * untracked): what the table costs traffic it does not police. (The
 * allow-all third still isolates them.)
 */
import { readFileSync } from 'node:fs';
import { createLab, type Lab } from '../lab/lab';
import { startKnitd, type Knitd } from '../lab/knitd';
import { EtcdWriter, fmt, IPERF_PORT, iperf3, median, numArg, printTable, runBench, sleep, SOCKPERF_PORT, sockperfP50, strArg } from './cluster-common';

const ROUNDS = numArg('rounds', 5);
const SECONDS = numArg('seconds', 5);
const RR_SECONDS = numArg('rr-seconds', 3);
const BACKENDS = strArg('backends', 'vxlan,host-gw').split(',');
const POLICIES = numArg('policies', 100);
const ENDPOINTS = numArg('endpoints', 1000);
const PREFIX = '/knit/v1';
const TIMEOUT_MS = 15_000;
/** A port no policy allows: the probe that the table is in force. */
const CLOSED_PORT = 7777;
const UNSELECTED = process.argv.includes('--unselected');
const ALLOW_ALL_POLICY = JSON.stringify({ name: 'allow-all', network: 'default', selector: {}, ingress: [{}], egress: [{}] });

const labs: Lab[] = [];
const knitds: Knitd[] = [];
const writers: EtcdWriter[] = [];

const group = (i: number): string => `g${(i + POLICIES) % POLICIES}`;

function policy(k: number): string {
  return JSON.stringify({
    name: `p${k}`, network: 'default', selector: { app: group(k) },
    ingress: [{
      from: [{ selector: { app: group(k + 1) } }],
      ports: [{ protocol: 'TCP', port: IPERF_PORT }, { protocol: 'TCP', port: SOCKPERF_PORT }, { protocol: 'TCP', port: 8000, endPort: 8100 }],
    }],
    egress: [{ to: [{ selector: { app: group(k - 1) } }, { cidr: '192.0.2.0/24', except: ['192.0.2.128/25'] }] }],
  });
}

/** VmRSS of a process, MiB. */
function rssMiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? NaN) / 1024;
}

/** CPU seconds (user + system) a process has used. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** How many times knitd logged a policy write of this kind. */
function writes(k: Knitd, kind: 'table' | 'difference' | 'removal'): number {
  return readFileSync(k.logPath, 'utf8').split('\n').filter((l) => l.includes('"message":"network policy programmed"') && l.includes(`"write":"${kind}"`)).length;
}

/** A TCP connect from `ns` to ip:port: 'open' (accepted), 'refused' (RST: reachable, nothing listens) or 'dropped' (timeout). */
async function probe(lab: Lab, ns: string, ip: string, port: number): Promise<string> {
  const script = `const s=require('net').connect({host:process.argv[1],port:+process.argv[2]});`
    + `const t=setTimeout(()=>{console.log('dropped');process.exit(0)},700);`
    + `s.on('connect',()=>{console.log('open');process.exit(0)});`
    + `s.on('error',(e)=>{clearTimeout(t);console.log(e.code==='ECONNREFUSED'?'refused':'dropped');process.exit(0)});`;
  return (await lab.exec(ns, process.execPath, ['-e', script, ip, String(port)])).trim();
}

/** without: no policy; with: the `--policies` policies; allowAll: the one allow-all policy (the floor). */
type State = 'without' | 'with' | 'allowAll';
const STATES: readonly State[] = ['with', 'without', 'allowAll'];
type PerState = Record<State, number[]>;
const perState = (): PerState => ({ with: [], without: [], allowAll: [] });

interface Case {
  backend: string;
  lab: Lab;
  nodes: [Knitd, Knitd];
  writer: EtcdWriter;
  clientNs: string;
  clientIp: string;
  serverIp: string;
  gbps: PerState;
  rr: PerState;
  rss: PerState;
  /** knitd CPU seconds per node while iperf3 and sockperf ran */
  cpu: PerState;
  /** which policies are in etcd now */
  state: State;
}

async function setUp(backend: string): Promise<Case> {
  const lab = await createLab({ nodes: 2, etcd: true });
  labs.push(lab);
  const network = { clusterCidr: '10.244.0.0/16', subnetLength: 24, backend: { type: backend } };
  const nodes: Knitd[] = [];
  for (const node of lab.nodes) {
    const k = await startKnitd(lab, node, { cluster: { etcdEndpoints: lab.etcdEndpoints, network } });
    knitds.push(k);
    nodes.push(k);
  }
  const ips: string[] = [];
  const containers = [];
  for (const [n, app] of (UNSELECTED ? [[0, 'none1'], [1, 'none0']] : [[0, 'g1'], [1, 'g0']]) as ReadonlyArray<readonly [number, string]>) {
    const c = lab.addContainer(n, 'pol');
    const conf = nodes[n]!.conf('1.0.0', { args: { cni: { labels: [{ key: 'app', value: app }] } } });
    const r = await nodes[n]!.cni('ADD', { CNI_CONTAINERID: c.containerId, CNI_NETNS: c.netnsPath, CNI_IFNAME: 'eth0' }, conf);
    if (r.code !== 0) throw new Error(`knit ADD on node ${n + 1} (${backend}): ${r.stdout} ${r.stderr}`);
    ips.push((r.json as { ips: Array<{ address: string }> }).ips[0]!.address.split('/')[0]!);
    containers.push(c);
  }
  const writer = await EtcdWriter.start(lab);
  writers.push(writer);
  // The other endpoints: records as knitds publish them, outside every pod subnet.
  const records = Array.from({ length: ENDPOINTS - 2 }, (_, i) => ({
    key: `${PREFIX}/policy-endpoints/default/bench:e${i}:eth0`,
    value: JSON.stringify({ labels: { app: group(i) }, addresses: [`10.250.${Math.floor(i / 250)}.${(i % 250) + 2}`] }),
  }));
  for (let i = 0; i < records.length; i += 100) await writer.txn(records.slice(i, i + 100));
  lab.spawn(containers[1]!.ns, 'iperf3', ['-s', '-p', String(IPERF_PORT)], { tag: 'iperf3-server' });
  lab.spawn(containers[1]!.ns, 'sockperf', ['server', '--tcp', '-i', ips[1]!, '-p', String(SOCKPERF_PORT)], { tag: 'sockperf-server' });
  const ping = await lab.ping(containers[0]!.ns, ips[1]!, 3);
  if (ping.received === 0) throw new Error(`${backend}: the server ${ips[1]} does not answer pings:\n${ping.output}`);
  return {
    backend, lab, nodes: [nodes[0]!, nodes[1]!], writer, clientNs: containers[0]!.ns, clientIp: ips[0]!, serverIp: ips[1]!,
    gbps: perState(), rr: perState(), rss: perState(), cpu: perState(), state: 'without',
  };
}

const POLICY_KEYS = Array.from({ length: POLICIES }, (_, k) => `${PREFIX}/policies/default/p${k}`);
const ALLOW_ALL_KEY = `${PREFIX}/policies/default/allow-all`;

/** `conntrack -L|-D` of the client's connections to the sockperf port on one node ('' when none: -D exits 1 then). */
function sockperfFlows(c: Case, node: Knitd, op: '-L' | '-D'): Promise<string> {
  return c.lab.exec(node.node.ns, 'conntrack', [op, '-p', 'tcp', '-s', c.clientIp, '-d', c.serverIp, '--dport', String(SOCKPERF_PORT)]).catch(() => '');
}

/** Puts the policies of `to` in etcd (one transaction), waits until both knitds programmed it, and proves the state. */
async function setState(c: Case, to: State): Promise<void> {
  if (c.state === to) return; // (the next round starts in the state the last one ended in)
  const kind = to === 'without' ? 'removal' : c.state === 'without' ? 'table' : 'difference';
  const before = c.nodes.map((k) => writes(k, kind));
  const keys = (s: State): string[] => (s === 'with' ? POLICY_KEYS : s === 'allowAll' ? [ALLOW_ALL_KEY] : []);
  const put = to === 'with' ? POLICY_KEYS.map((key, k) => ({ key, value: policy(k) })) : to === 'allowAll' ? [{ key: ALLOW_ALL_KEY, value: ALLOW_ALL_POLICY }] : [];
  await c.writer.txn(put, keys(c.state));
  for (const deadline = Date.now() + TIMEOUT_MS; !c.nodes.every((k, n) => writes(k, kind) > before[n]!);) {
    if (Date.now() > deadline) throw new Error(`${c.backend}: policies for "${to}" written, but not programmed on both nodes after ${TIMEOUT_MS} ms`);
    await sleep(50);
  }
  c.state = to;
  // Entries of earlier states' probes and runs (TIME_WAIT lasts 2 min) would pass for this state's.
  await Promise.all(c.nodes.map((k) => sockperfFlows(c, k, '-D')));
  const closed = await probe(c.lab, c.clientNs, c.serverIp, CLOSED_PORT);
  const want = to === 'with' && !UNSELECTED ? 'dropped' : 'refused';
  if (closed !== want) throw new Error(`${c.backend}: "${to}": a connection to port ${CLOSED_PORT} was ${closed}, expected ${want}`);
  const allowed = await probe(c.lab, c.clientNs, c.serverIp, SOCKPERF_PORT);
  if (allowed !== 'open') throw new Error(`${c.backend}: "${to}": the allowed sockperf port was ${allowed}`);
  // Isolated pods are tracked on both nodes (the probe just left its entry); otherwise on neither.
  const isolated = to === 'allowAll' || (to === 'with' && !UNSELECTED);
  const tracked = await Promise.all(c.nodes.map(async (k) => (await sockperfFlows(c, k, '-L')).split('\n').filter((l) => l.includes(`dport=${SOCKPERF_PORT}`)).length));
  if (tracked.some((n) => (n > 0) !== isolated)) {
    throw new Error(`${c.backend}: "${to}": conntrack entries of the sockperf flow per node ${tracked.join(', ')}, expected ${isolated ? 'some on both' : 'none'}`);
  }
  await sleep(300);
}

async function measure(c: Case, state: State): Promise<void> {
  await setState(c, state);
  c.rss[state].push(...c.nodes.map((k) => rssMiB(k.pid)));
  const cpu0 = c.nodes.map((k) => cpuSeconds(k.pid));
  c.gbps[state].push((await iperf3(c.lab, c.clientNs, c.serverIp, SECONDS)).gbps);
  c.rr[state].push(await sockperfP50(c.lab, c.clientNs, c.serverIp, RR_SECONDS));
  c.cpu[state].push(...c.nodes.map((k, n) => cpuSeconds(k.pid) - cpu0[n]!));
}

async function body(): Promise<void> {
  if (POLICIES < 2 || ENDPOINTS < POLICIES || ENDPOINTS > 5000) throw new Error('--policies must be >= 2 and --endpoints between it and 5000');
  const cases: Case[] = [];
  for (const backend of BACKENDS) cases.push(await setUp(backend));
  for (let r = 0; r < ROUNDS; r++) {
    for (const c of cases) {
      // Rotate, and reverse every other cycle, so each state is first, middle and last alike.
      const rotated = STATES.map((_, i) => STATES[(i + r) % STATES.length]!);
      const order = Math.floor(r / STATES.length) % 2 === 0 ? rotated : [...rotated].reverse();
      for (const state of order) await measure(c, state);
      console.log(`round ${r + 1}/${ROUNDS} ${c.backend}: ${STATES.map((st) => `${st} ${fmt(c.gbps[st][r]!, 2)} Gbit/s, TCP-RR p50 ${fmt(c.rr[st][r]!, 1)} µs`).join('; ')}`);
    }
  }
  const what = `${POLICIES} policies over ${ENDPOINTS} endpoints (2 of them the measured pods, ${UNSELECTED ? 'selected by no policy' : 'both isolated and allowed'})`;
  console.log(`\n"with": ${what}; "allow-all": one policy allowing everything to every endpoint (the pods isolated, so tracked); median of ${ROUNDS} rounds, the order rotating\n`);
  const ratio = (xs: number[], ys: number[]): string => fmt(median(xs) / median(ys), 3);
  printTable(['backend', 'Gbit/s without', 'with', 'allow-all', 'with / without', 'allow-all / without', 'with / allow-all',
    'TCP-RR p50 µs without', 'with', 'allow-all', 'with / without', 'allow-all / without', 'with / allow-all',
    'knitd RSS MiB without', 'with', 'knitd CPU s per third without', 'with'],
  cases.map((c) => [
    c.backend, fmt(median(c.gbps.without), 2), fmt(median(c.gbps.with), 2), fmt(median(c.gbps.allowAll), 2),
    ratio(c.gbps.with, c.gbps.without), ratio(c.gbps.allowAll, c.gbps.without), ratio(c.gbps.with, c.gbps.allowAll),
    fmt(median(c.rr.without), 2), fmt(median(c.rr.with), 2), fmt(median(c.rr.allowAll), 2),
    ratio(c.rr.with, c.rr.without), ratio(c.rr.allowAll, c.rr.without), ratio(c.rr.with, c.rr.allowAll),
    fmt(median(c.rss.without), 1), fmt(median(c.rss.with), 1), fmt(median(c.cpu.without), 2), fmt(median(c.cpu.with), 2),
  ]));
  const verdicts = cases.map((c) => {
    const tp = median(c.gbps.with) / median(c.gbps.without);
    const rr = median(c.rr.with) / median(c.rr.without);
    return `${c.backend}: throughput ${fmt(tp, 3)} ${tp >= 0.97 ? 'met' : 'MISSED'} (>= 0.97), TCP_RR p50 ${fmt(rr, 3)} ${rr <= 1.05 ? 'met' : 'MISSED'} (<= 1.05)`;
  });
  console.log(`\ntargets: ${verdicts.join('; ')}`);
}

async function cleanup(): Promise<void> {
  for (const w of writers) await w.close();
  for (const k of knitds) await k.destroy();
  for (const lab of labs) await lab.teardown();
}

runBench('policy-dataplane', body, cleanup);
