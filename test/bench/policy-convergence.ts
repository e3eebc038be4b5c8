/**
 * Benchmark: network policy convergence, from a policy change in etcd to
 * the new `inet knit_policy` table in every node's kernel (issue 18: p99 <
 * 100 ms), next to the etcd floor measured in the same run (the put's own
 * round trip).
 *
 *   node dist/test/bench/policy-convergence.js [--changes 50] [--nodes 3] [--gap-ms 100] [--endpoints 20] [--policies 1]
 *
 * A lab with etcd and `--nodes` knitds (cluster mode, vxlan). The bench
 * writes `--endpoints` endpoint records (half labelled app=db, half
 * app=web, as a knitd would publish them) and then changes one policy
 * (`db` may be reached from `web` on port 1000+i) `--changes` times, one
 * change at a time, from a writer process in the underlay namespace.
 * With `--policies N` (N > 1) the endpoints are labelled app=g0 … g(N-1)
 * round robin and N policies stand: policy pK selects gK, lets in g(K+1)
 * on TCP 80 and 8000-8100 and lets out to g(K-1) and to 192.0.2.0/24
 * except 192.0.2.128/25; the change rewrites p0's port. Each
 * change's latency is the time from etcd acknowledging the put to the LAST
 * node's knitd logging "network policy programmed", which it does once nft
 * has committed the change (the whole table at first, then only each
 * difference). The put's times are read from the monotonic clock (shared by
 * every process of the machine), knitd's from its log's wall-clock
 * timestamps (1 ms resolution) moved onto that clock. The lab is torn down even on failure.
 */
import { readFileSync } from 'node:fs';
import { createLab, type Lab } from '../lab/lab';
import { startKnitd, type Knitd } from '../lab/knitd';
import { EtcdWriter, fmt, monoMs, numArg, percentile, printTable, runBench, sleep } from './cluster-common';
import { endpointAddress, groupOf, groupPolicy } from './policy-groups';

const CHANGES = numArg('changes', 50);
const NODES = numArg('nodes', 3);
const GAP_MS = numArg('gap-ms', 100);
const ENDPOINTS = numArg('endpoints', 20);
const POLICIES = numArg('policies', 1);
const PREFIX = '/knit/v1';
const TIMEOUT_MS = 10_000;

let lab: Lab | undefined;
const knitds: Knitd[] = [];
let writer: EtcdWriter | undefined;

function policy(port: number): string {
  if (POLICIES > 1) return groupPolicy(0, POLICIES, port);
  return JSON.stringify({
    name: 'db-in', network: 'default', selector: { app: 'db' },
    ingress: [{ from: [{ selector: { app: 'web' } }], ports: [{ protocol: 'TCP', port }] }],
  });
}

/** VmRSS and VmHWM (peak) of a process, MiB. */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

async function body(): Promise<void> {
  if (ENDPOINTS < 2 || ENDPOINTS > 1000) throw new Error('--endpoints must be 2..1000');
  lab = await createLab({ nodes: NODES, etcd: true });
  const network = { clusterCidr: '10.244.0.0/16', subnetLength: 24, backend: { type: 'vxlan' } };
  for (const node of lab.nodes) knitds.push(await startKnitd(lab, node, { cluster: { etcdEndpoints: lab.etcdEndpoints, network } }));
  writer = await EtcdWriter.start(lab);
  const records = Array.from({ length: ENDPOINTS }, (_, i) => ({
    key: `${PREFIX}/policy-endpoints/default/bench:e${i}:eth0`,
    value: JSON.stringify({ labels: { app: POLICIES > 1 ? groupOf(i, POLICIES) : i % 2 === 0 ? 'db' : 'web' }, addresses: [endpointAddress(i)] }),
  }));
  // etcd takes at most 128 operations per transaction.
  for (let i = 0; i < records.length; i += 100) await writer.txn(records.slice(i, i + 100));
  const before = knitds.map((k) => memory(k.pid));
  if (POLICIES > 1) {
    const standing = Array.from({ length: POLICIES - 1 }, (_, i) => ({ key: `${PREFIX}/policies/default/p${i + 1}`, value: groupPolicy(i + 1, POLICIES) }));
    for (let i = 0; i < standing.length; i += 100) await writer.txn(standing.slice(i, i + 100));
  }

  // knitd logs "network policy programmed" once nft has committed a change (the whole table at
  // first, then each difference). Its timestamps are wall clock to the millisecond: moved onto the
  // monotonic clock of the put's ack with one offset read here. (`nft monitor` is no use as the
  // signal: nft 1.0.6 prints megabytes of garbage for deleted concatenated ranges, nothing for
  // added ones, and falls behind on a 5000-element table.)
  const wallMinusMono = Date.now() - monoMs();
  const tables = (): number[][] => knitds.map((k) => readFileSync(k.logPath, 'utf8').split('\n')
    .filter((l) => l.includes('"message":"network policy programmed"'))
    .map((l) => Date.parse((JSON.parse(l) as { timestamp: string }).timestamp) - wallMinusMono));
  // The standing policies (all but the changing one) are in on every node before the first change.
  for (const deadline = Date.now() + TIMEOUT_MS; POLICIES > 1;) {
    const done = knitds.every((k) => readFileSync(k.logPath, 'utf8').includes(`"policies":${POLICIES - 1},`));
    if (done) break;
    if (Date.now() > deadline) throw new Error(`the ${POLICIES} standing policies are not programmed on every node after ${TIMEOUT_MS} ms`);
    await sleep(20);
  }
  await sleep(300);

  const fromAck: number[] = [];
  const putMs: number[] = [];
  for (let i = 0; i < CHANGES; i++) {
    const before = tables().map((t) => t.length);
    const { t0, t1 } = await writer.txn([{ key: `${PREFIX}/policies/default/${POLICIES > 1 ? 'p0' : 'db-in'}`, value: policy(1000 + i) }]);
    const deadline = Date.now() + TIMEOUT_MS;
    let now = tables();
    while (!now.every((t, n) => t.length > before[n]!)) {
      if (Date.now() > deadline) {
        const late = knitds.filter((_, n) => !(now[n]!.length > before[n]!));
        throw new Error(`change ${i}: programmed on ${NODES - late.length}/${NODES} nodes after ${TIMEOUT_MS} ms; the others' logs:\n${late.map((k) => k.proc.logTail()).join('\n')}`);
      }
      await sleep(10);
      now = tables();
    }
    const last = Math.max(...now.map((t, n) => t[before[n]!]!));
    fromAck.push(last - t1);
    putMs.push(t1 - t0);
    await sleep(GAP_MS);
  }
  console.log(`\npolicy change in etcd -> new knit_policy table on all ${NODES} nodes, ${CHANGES} changes, ${ENDPOINTS} endpoint records, ${POLICIES} ${POLICIES === 1 ? 'policy' : 'policies'} (ms)\n`);
  const row = (name: string, v: number[]): Array<string | number> => [name, fmt(percentile(v, 50)), fmt(percentile(v, 90)), fmt(percentile(v, 99)), fmt(Math.max(...v))];
  printTable(['measure', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'], [row('all nodes, from put ack', fromAck), row('etcd put round trip (floor)', putMs)]);
  // knitd's own account of each change run: compile (parse, compile, render) and write (nft).
  const steps = knitds.map((k) => readFileSync(k.logPath, 'utf8').split('\n')
    .filter((l) => l.includes('"message":"network policy programmed"'))
    .map((l) => JSON.parse(l) as { compileMs?: number; writeMs?: number; write?: string })
    .slice(-CHANGES));
  printTable(['node', 'runs written as', 'compile p50 ms', 'compile max ms', 'write p50 ms', 'write max ms'], steps.map((runs, n) => {
    const c = runs.map((r) => r.compileMs ?? NaN);
    const w = runs.map((r) => r.writeMs ?? NaN);
    const kinds = [...new Set(runs.map((r) => r.write))].join(', ');
    return [`node ${n + 1}`, kinds, fmt(percentile(c, 50)), fmt(Math.max(...c)), fmt(percentile(w, 50)), fmt(Math.max(...w))];
  }));
  const after = knitds.map((k) => memory(k.pid));
  console.log(`\nknitd memory (MiB, per node): before the policies RSS ${before.map((m) => fmt(m.rss, 1)).join(' / ')}; after RSS ${after.map((m) => fmt(m.rss, 1)).join(' / ')}, peak ${after.map((m) => fmt(m.peak, 1)).join(' / ')}`);
  const ruleset = await lab.exec(lab.nodes[0]!.ns, 'nft', ['list', 'table', 'inet', 'knit_policy']);
  console.log(`node 1's table: ${ruleset.split('\n').length} lines, ${(ruleset.match(/ : jump /g) ?? []).length} map elements, ${(ruleset.match(/^\tchain /gm) ?? []).length} chains`);
  const p99 = percentile(fromAck, 99);
  console.log(`\ntarget p99 < 100 ms: ${p99 < 100 ? 'met' : 'MISSED'} (${fmt(p99)} ms)`);
}

async function cleanup(): Promise<void> {
  await writer?.close();
  for (const k of knitds) await k.destroy();
  await lab?.teardown();
}

runBench('policy-convergence', body, cleanup);
