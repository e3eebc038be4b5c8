/**
 * Benchmark: what container churn on a node costs a cluster-mode knitd that
 * has nothing to do with it.
 *
 *   node dist/test/bench/device-churn.js [--veths 200] [--rounds 5] [--peers 100] [--prof DIR]
 *
 * A one-node lab with etcd and one knitd in cluster mode (vxlan), `--peers`
 * fake peer leases programmed first. Each round then makes `--veths` veth
 * pairs the way containers get them (the node end enslaved to knit0 and up,
 * the other end in a "container" namespace, up) with `ip -batch`, and
 * deletes them again. None of it is the reconciler's business, but the
 * kernel announces every step to every event socket that listens: about
 * twenty messages per veth. Per round the bench reads knitd's CPU over the
 * churn (all its threads' schedstat) and, as the floor in the same run,
 * knitd's CPU over an idle span of the same length right after.
 *
 * Run it in two checkouts to compare builds (docs/benchmarks.md). `--prof DIR`
 * runs knitd with --cpu-prof into DIR.
 */
import { createLab, type Lab } from '../lab/lab';
import { startKnitd, type Knitd } from '../lab/knitd';
import { EtcdWriter, fakePeer, fmt, median, monoMs, numArg, printTable, runBench, sleep, strArg, threadCpuMs } from './cluster-common';
import { execBatch } from './cluster-dataplane-labs';

const VETHS = numArg('veths', 200);
const ROUNDS = numArg('rounds', 5);
const PEERS = numArg('peers', 100);
const PROF_DIR = strArg('prof', '');
const PREFIX = '/knit/v1';

let lab: Lab | undefined;
let knitd: Knitd | undefined;
let writer: EtcdWriter | undefined;

async function body(): Promise<void> {
  if (VETHS < 1 || VETHS > 4000) throw new Error('--veths 1..4000');
  lab = await createLab({ nodes: 1, etcd: true, underlayCidr: '172.20.0.0/16' });
  const network = { clusterCidr: '10.0.0.0/8', subnetLength: 24, backend: { type: 'vxlan' } };
  knitd = await startKnitd(lab, lab.nodes[0]!, {
    cluster: { etcdEndpoints: lab.etcdEndpoints, network },
    ...(PROF_DIR ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', PROF_DIR] } : {}),
  });
  const pid = knitd.pid;
  writer = await EtcdWriter.start(lab);
  const peers = [];
  for (let i = 0, n = 0; peers.length < PEERS; n++) {
    const subnet = `10.${100 + (n >> 8)}.${n & 255}.0/24`;
    if (subnet === knitd.subnet) continue;
    peers.push(fakePeer(PREFIX, subnet, `172.20.${1 + (i >> 8)}.${i & 255}`, 'vxlan', i));
    i++;
  }
  for (let i = 0; i < peers.length; i += 128) await writer.txn(peers.slice(i, i + 128).map((p) => ({ key: p.key, value: p.value })));
  await sleep(3000); // programmed, and the first resync's timer far off (10 s)

  const node = lab.nodes[0]!.ns;
  const ctr = lab.addContainer(0, 'churn');
  const names = Array.from({ length: VETHS }, (_, i) => `${lab!.prefix}k${i}`);
  const rows: Array<{ churnMs: number; idleMs: number; wallMs: number }> = [];
  for (let r = 0; r < ROUNDS; r++) {
    const c0 = threadCpuMs(pid);
    const w0 = monoMs();
    await execBatch(node, names.flatMap((n, i) => [`link add ${n} type veth peer name e${i} netns ${ctr.ns}`, `link set ${n} master knit0 up`]));
    await execBatch(ctr.ns, names.map((_, i) => `link set e${i} up`));
    await execBatch(node, names.map((n) => `link del ${n}`));
    await sleep(200); // the last events read
    const wallMs = monoMs() - w0;
    const churnMs = threadCpuMs(pid) - c0;
    const i0 = threadCpuMs(pid);
    await sleep(wallMs);
    rows.push({ churnMs, idleMs: threadCpuMs(pid) - i0, wallMs });
  }
  console.log(`\ndevice churn: ${VETHS} veth pairs made and deleted per round beside a cluster-mode knitd (vxlan, ${PEERS} peers), ${ROUNDS} rounds\n`);
  printTable(['round', 'churn wall ms', 'knitd CPU during churn, ms', 'knitd CPU idle, same span, ms', 'per veth pair, µs'], rows.map((x, i) => [
    String(i + 1), fmt(x.wallMs, 0), fmt(x.churnMs, 1), fmt(x.idleMs, 1), fmt(((x.churnMs - x.idleMs) / VETHS) * 1000, 0),
  ]));
  console.log(`\nmedian knitd CPU per veth pair (churn minus idle): ${fmt(median(rows.map((x) => ((x.churnMs - x.idleMs) / VETHS) * 1000)), 0)} µs`);
}

runBench('device-churn', body, async () => {
  await writer?.close();
  await knitd?.destroy();
  await lab?.teardown();
});
