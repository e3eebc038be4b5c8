/**
 * Benchmark: convergence, from a peer lease appearing in etcd to its route
 * being present on every node.
 *
 *   node dist/test/bench/cluster-convergence.js [--joins 100] [--nodes 3] [--backend vxlan|host-gw] [--gap-ms 50]
 *
 * A lab with etcd and `--nodes` knitd (cluster mode). The bench writes one
 * fake peer lease at a time (a valid value for the backend: vxlan with a
 * VTEP MAC, public IP on the underlay) from a writer process in the underlay
 * namespace, and listens to netlink route events in every node namespace
 * through knit's own netlink layer (`openHandle(ns).subscribe`). One join's
 * latency is the time from etcd acknowledging the put to the LAST node's
 * route-added event for that subnet with protocol 89 (the time from sending
 * the put is printed too). Joins are sequential with `--gap-ms` between them.
 * The lab is torn down even on failure.
 */
import { openHandle, RTPROT_KNIT, type Handle, type Subscription } from '../../agent/src/netlink';
import { createLab, type Lab } from '../lab/lab';
import { startKnitd, type Knitd } from '../lab/knitd';
import { EtcdWriter, fakePeer, fmt, monoMs, numArg, percentile, printTable, runBench, sleep, strArg } from './cluster-common';

const JOINS = numArg('joins', 100);
const NODES = numArg('nodes', 3);
const GAP_MS = numArg('gap-ms', 50);
const BACKEND = strArg('backend', 'vxlan') as 'vxlan' | 'host-gw';
const PREFIX = '/knit/v1';
const TIMEOUT_MS = 10_000;

let lab: Lab | undefined;
const knitds: Knitd[] = [];
const handles: Handle[] = [];
const subs: Subscription[] = [];
let writer: EtcdWriter | undefined;

async function body(): Promise<void> {
  if (BACKEND !== 'vxlan' && BACKEND !== 'host-gw') throw new Error(`--backend must be vxlan or host-gw, got ${BACKEND}`);
  if (JOINS > 100) throw new Error('--joins at most 100 (fake public IPs are 192.168.77.100-199)');
  lab = await createLab({ nodes: NODES, etcd: true });
  const network = { clusterCidr: '10.244.0.0/16', subnetLength: 24, backend: { type: BACKEND } };
  for (const node of lab.nodes) knitds.push(await startKnitd(lab, node, { cluster: { etcdEndpoints: lab.etcdEndpoints, network } }));
  writer = await EtcdWriter.start(lab);

  // subnet → per node the monotonic time its route appeared
  const seen = new Map<string, Map<number, number>>();
  const waiting = new Map<string, () => void>();
  lab.nodes.forEach((node, n) => {
    const h = openHandle(node.netnsPath);
    handles.push(h);
    subs.push(h.subscribe((ev) => {
      if (ev.type !== 'route-added' || ev.route.protocol !== RTPROT_KNIT) return;
      const t = monoMs();
      const per = seen.get(ev.route.dst);
      if (!per || per.has(n)) return;
      per.set(n, t);
      if (per.size === NODES) waiting.get(ev.route.dst)?.();
    }, (err) => { console.error(`netlink events on ${node.name}: ${err.message} (a join may time out)`); }));
  });

  const fromAck: number[] = [];
  const fromSend: number[] = [];
  const putMs: number[] = [];
  const perNode: number[][] = lab.nodes.map(() => []);
  const used = new Set(knitds.map((k) => k.subnet));
  let third = 100;
  for (let i = 0; i < JOINS; i++) {
    while (used.has(`10.244.${third}.0/24`)) third++;
    const subnet = `10.244.${third++}.0/24`;
    const peer = fakePeer(PREFIX, subnet, `192.168.77.${100 + i}`, BACKEND, i);
    const per = new Map<number, number>();
    seen.set(subnet, per);
    const all = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`join ${i} (${subnet}): route on ${per.size}/${NODES} nodes after ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
      waiting.set(subnet, () => { clearTimeout(t); resolve(); });
    });
    const { t0, t1 } = await writer.txn([{ key: peer.key, value: peer.value }]);
    await all;
    const last = Math.max(...per.values());
    fromAck.push(last - t1);
    fromSend.push(last - t0);
    putMs.push(t1 - t0);
    for (const [n, t] of per) perNode[n]!.push(t - t1);
    waiting.delete(subnet);
    await sleep(GAP_MS);
  }

  console.log(`\ncluster convergence: ${JOINS} joins, ${NODES} knitd, backend ${BACKEND}, ${GAP_MS} ms between joins`);
  console.log('(ms from etcd acknowledging the lease put to the route-added event; "all nodes" = the last node)\n');
  const row = (name: string, v: number[]): Array<string | number> => [name, fmt(percentile(v, 50), 1), fmt(percentile(v, 90), 1), fmt(percentile(v, 99), 1), fmt(Math.max(...v), 1)];
  printTable(['measure', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'], [
    row('all nodes, from put ack', fromAck),
    row('all nodes, from put sent', fromSend),
    ...perNode.map((v, n) => row(`${lab!.nodes[n]!.name} alone, from put ack`, v)),
    row('etcd put round trip', putMs),
  ]);
  const p99 = percentile(fromAck, 99);
  console.log(`\ntarget p99 < 100 ms: ${p99 < 100 ? 'met' : 'MISSED'} (${fmt(p99, 1)} ms)`);
}

async function cleanup(): Promise<void> {
  for (const s of subs) s.close();
  for (const h of handles) h.close();
  await writer?.close();
  for (const k of knitds) await k.destroy();
  await lab?.teardown();
}

runBench('cluster-convergence', body, cleanup);
