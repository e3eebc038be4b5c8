/**
 * Benchmark: network policy convergence, from a policy change in etcd to
 * the new `inet knit_policy` table in every node's kernel (issue 18: p99 <
 * 100 ms), next to the etcd floor measured in the same run (the put's own
 * round trip).
 *
 *   node dist/test/bench/policy-convergence.js [--changes 50] [--nodes 3] [--gap-ms 100] [--endpoints 20]
 *
 * A lab with etcd and `--nodes` knitds (cluster mode, vxlan). The bench
 * writes `--endpoints` endpoint records (half labelled app=db, half
 * app=web, as a knitd would publish them) and then changes one policy
 * (`db` may be reached from `web` on port 1000+i) `--changes` times, one
 * change at a time, from a writer process in the underlay namespace. Each
 * node runs `nft monitor` (inside its namespace); one change's latency is
 * the time from etcd acknowledging the put to the LAST node's monitor
 * printing the new table. Monotonic clock throughout (shared by every
 * process of the machine). The lab is torn down even on failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createLab, type Lab } from '../lab/lab';
import { startKnitd, type Knitd } from '../lab/knitd';
import { EtcdWriter, fmt, monoMs, numArg, percentile, printTable, runBench, sleep } from './cluster-common';

const CHANGES = numArg('changes', 50);
const NODES = numArg('nodes', 3);
const GAP_MS = numArg('gap-ms', 100);
const ENDPOINTS = numArg('endpoints', 20);
const PREFIX = '/knit/v1';
const TIMEOUT_MS = 10_000;

let lab: Lab | undefined;
const knitds: Knitd[] = [];
const monitors: ChildProcess[] = [];
let writer: EtcdWriter | undefined;

function policy(port: number): string {
  return JSON.stringify({
    name: 'db-in', network: 'default', selector: { app: 'db' },
    ingress: [{ from: [{ selector: { app: 'web' } }], ports: [{ protocol: 'TCP', port }] }],
  });
}

async function body(): Promise<void> {
  if (ENDPOINTS < 2 || ENDPOINTS > 1000) throw new Error('--endpoints must be 2..1000');
  lab = await createLab({ nodes: NODES, etcd: true });
  const network = { clusterCidr: '10.244.0.0/16', subnetLength: 24, backend: { type: 'vxlan' } };
  for (const node of lab.nodes) knitds.push(await startKnitd(lab, node, { cluster: { etcdEndpoints: lab.etcdEndpoints, network } }));
  writer = await EtcdWriter.start(lab);
  const records = Array.from({ length: ENDPOINTS }, (_, i) => ({
    key: `${PREFIX}/policy-endpoints/default/bench:e${i}:eth0`,
    value: JSON.stringify({ labels: { app: i % 2 === 0 ? 'db' : 'web' }, addresses: [`10.244.${200 + Math.floor(i / 250)}.${(i % 250) + 2}`] }),
  }));
  // etcd takes at most 128 operations per transaction.
  for (let i = 0; i < records.length; i += 100) await writer.txn(records.slice(i, i + 100));

  // Per node: the monotonic time of each `add table inet knit_policy` its monitor printed.
  const tables: number[][] = lab.nodes.map(() => []);
  const wake: Array<() => void> = [];
  for (const [n, node] of lab.nodes.entries()) {
    const m = spawn('ip', ['netns', 'exec', node.ns, 'nft', 'monitor', 'tables'], { stdio: ['ignore', 'pipe', 'inherit'] });
    monitors.push(m);
    createInterface({ input: m.stdout }).on('line', (line) => {
      if (!/^add table inet knit_policy/.test(line)) return;
      tables[n]!.push(monoMs());
      for (const w of wake.splice(0)) w();
    });
  }
  await sleep(300); // the monitors are listening

  const fromAck: number[] = [];
  const putMs: number[] = [];
  for (let i = 0; i < CHANGES; i++) {
    const before = tables.map((t) => t.length);
    const { t0, t1 } = await writer.txn([{ key: `${PREFIX}/policies/default/db-in`, value: policy(1000 + i) }]);
    const deadline = Date.now() + TIMEOUT_MS;
    while (!tables.every((t, n) => t.length > before[n]!)) {
      if (Date.now() > deadline) throw new Error(`change ${i}: new table on ${tables.filter((t, n) => t.length > before[n]!).length}/${NODES} nodes after ${TIMEOUT_MS} ms`);
      await new Promise<void>((r) => { wake.push(r); setTimeout(r, 50); });
    }
    const last = Math.max(...tables.map((t, n) => t[before[n]!]!));
    fromAck.push(last - t1);
    putMs.push(t1 - t0);
    await sleep(GAP_MS);
  }
  console.log(`\npolicy change in etcd -> new knit_policy table on all ${NODES} nodes, ${CHANGES} changes, ${ENDPOINTS} endpoint records (ms)\n`);
  const row = (name: string, v: number[]): Array<string | number> => [name, fmt(percentile(v, 50)), fmt(percentile(v, 90)), fmt(percentile(v, 99)), fmt(Math.max(...v))];
  printTable(['measure', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'], [row('all nodes, from put ack', fromAck), row('etcd put round trip (floor)', putMs)]);
  const p99 = percentile(fromAck, 99);
  console.log(`\ntarget p99 < 100 ms: ${p99 < 100 ? 'met' : 'MISSED'} (${fmt(p99)} ms)`);
}

async function cleanup(): Promise<void> {
  for (const m of monitors) m.kill('SIGTERM');
  await writer?.close();
  for (const k of knitds) await k.destroy();
  await lab?.teardown();
}

runBench('policy-convergence', body, cleanup);
