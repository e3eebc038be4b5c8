/**
 * Benchmark: CNI ADD/DEL through the real `knit` plugin and a real knitd,
 * next to Debian's reference `bridge` + `host-local` plugins doing the same
 * job (bridge with gateway, veth, address, default route), and next to a
 * bare `node -e 0`. The plugin runs as the artifact deploy/ installs
 * (dist/cni-plugin/knit, `npm run build:plugin`: Bun-compiled) and as the
 * checkout's script (cni-plugin/bin/knit, run by node).
 *
 *   node dist/test/bench/cni-add-del.js [--runs 100] [--warmup 5]
 *
 * It builds its own lab (one node namespace) and tears it down. The timing
 * driver runs INSIDE the node namespace (this same file with --driver), so
 * every plugin is exec'd directly, the way a runtime does, with no
 * `ip netns exec` wrapper in any measurement. Per case it reports:
 *   - sequential ADD and DEL latency, spawn to exit (median, p90, min), every case once per round;
 *   - knitd's own handling of an ADD/DEL: one request straight on the CNI
 *     socket, no plugin process (the floor under the plugin's number);
 *   - wall time of 50 and 200 concurrent ADDs and DELs (on the socket alone too);
 *   - peak RSS of one plugin process (GNU time %M, the largest of 10 ADDs).
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as os from 'node:os';
import { performance } from 'node:perf_hooks';
import { existsSync } from 'node:fs';
import { forward } from '../../cni-plugin/src/forward';
import type { PluginRequest } from '../../cni-wire/protocol';
import { createLab } from '../lab/lab';
import { REF_CNI_DIR, startKnitd } from '../lab/knitd';
import { addNetnsBatch, delNetnsBatch, netnsPath } from '../lab/netns';
import { ensureRunDir } from '../lab/run-dir';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

/** What the outer process hands the driver. */
interface DriverSpec {
  runs: number;
  warmup: number;
  knitSocket: string;
  /** the plugin artifact deploy/ installs (dist/cni-plugin/knit) */
  artifact: string;
  refDataDir: string;
  /** namespace paths: seq[0] knit, seq[1] reference; conc.knit / conc.ref for the concurrent rounds */
  seq: [string, string];
  conc: { knit: string[]; ref: string[] };
  out: string;
}

interface Stats { median: number; p90: number; min: number; n: number }
interface DriverResult {
  node: Stats;
  /** the artifact */
  knitAdd: Stats; knitDel: Stats;
  /** the checkout's script run by node */
  scriptAdd: Stats; scriptDel: Stats;
  /** knit STATUS through the real knitd: plugin start-up + one trivial round trip */
  knitStatus: Stats;
  refAdd: Stats; refDel: Stats;
  sockAdd: Stats; sockDel: Stats;
  conc: Array<{ n: number; node: number; status: number; sockAdd: number; sockDel: number; knitAdd: number; knitDel: number; scriptAdd: number; scriptDel: number; refAdd: number; refDel: number }>;
  /** peak RSS (MiB) of one process: knit artifact ADD, script ADD, reference bridge ADD */
  peak: { knit: number; script: number; ref: number };
}

function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number): number => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
  return { median: q(0.5), p90: q(0.9), min: s[0]!, n: s.length };
}

/** The checkout's plugin script (run by node). */
const KNIT_SCRIPT = join(__dirname, '..', '..', '..', 'cni-plugin', 'bin', 'knit');
/** The artifact deploy/ installs. */
const KNIT_ARTIFACT = join(__dirname, '..', '..', '..', 'dist', 'cni-plugin', 'knit');
/** While true, exec() runs each command under GNU time and collects its peak RSS (KiB) in peakSink. */
let timed = false;
const peakSink: number[] = [];

/** One exec, spawn to exit; rejects on a non-zero exit so a failing case cannot look fast. */
function exec(cmd: string, args: string[], env: Record<string, string>, stdin: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const [file, argv] = timed ? ['/usr/bin/time', ['-f', 'knit-bench-peak %M', cmd, ...args]] : [cmd, args];
    const child = spawn(file, argv, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    let err = '';
    child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    // A child that exits without reading its stdin (node -e 0) makes the write EPIPE under load: its exit code decides.
    child.stdin.on('error', () => undefined);
    // Under GNU time the peak is on stderr once the pipes close; timing stays spawn → exit.
    if (timed) {
      child.on('close', (code) => {
        const m = /knit-bench-peak (\d+)/.exec(err);
        if (code === 0 && m) peakSink.push(Number(m[1]));
        if (code === 0) resolve(0);
        else reject(new Error(`${cmd} ${env.CNI_COMMAND ?? ''} under /usr/bin/time exited ${code}: ${out} ${err}`));
      });
      child.on('error', reject);
      child.stdin.end(stdin);
      return;
    }
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(performance.now() - t0)
      : reject(new Error(`${cmd} ${env.CNI_COMMAND ?? ''} ${env.CNI_CONTAINERID ?? ''} exited ${code}: ${out}`))));
    child.stdin.end(stdin);
  });
}

async function driver(spec: DriverSpec): Promise<void> {
  const knitConf = JSON.stringify({ cniVersion: '1.0.0', name: 'knit', type: 'knit', agentSocket: spec.knitSocket });
  const refConf = JSON.stringify({
    cniVersion: '1.0.0', name: 'refnet', type: 'bridge', bridge: 'refbr0', isGateway: true, ipMasq: false, mtu: 1500,
    ipam: { type: 'host-local', subnet: '10.88.0.0/16', dataDir: spec.refDataDir, routes: [{ dst: '0.0.0.0/0' }] },
  });
  const knit = (cmd: string, id: string, ns: string) => exec(spec.artifact, [], { CNI_COMMAND: cmd, CNI_CONTAINERID: id, CNI_NETNS: ns, CNI_IFNAME: 'eth0', CNI_PATH: REF_CNI_DIR }, knitConf);
  const script = (cmd: string, id: string, ns: string) => exec(KNIT_SCRIPT, [], { CNI_COMMAND: cmd, CNI_CONTAINERID: id, CNI_NETNS: ns, CNI_IFNAME: 'eth0', CNI_PATH: REF_CNI_DIR }, knitConf);
  const ref = (cmd: string, id: string, ns: string) => exec(join(REF_CNI_DIR, 'bridge'), [], { CNI_COMMAND: cmd, CNI_CONTAINERID: id, CNI_NETNS: ns, CNI_IFNAME: 'eth0', CNI_PATH: REF_CNI_DIR }, refConf);
  const sock = async (command: 'ADD' | 'DEL', id: string, ns: string): Promise<number> => {
    const req: PluginRequest = { command, containerId: id, netns: ns, ifname: 'eth0', path: REF_CNI_DIR, config: knitConf };
    const t0 = performance.now();
    const o = await forward(req, spec.knitSocket, 30_000);
    const dt = performance.now() - t0;
    if (!o.ok || !o.reply.ok) throw new Error(`socket ${command} ${id}: ${JSON.stringify(o)}`);
    return dt;
  };

  // The sequential cases run round by round, one of each per round (a fresh container ID each time, ADD then
  // DEL), so a drift of the machine (another process, the CPU's clock) reaches every case alike and the
  // ratios compare runs taken side by side, not minutes apart.
  type Case = { add: number[]; del: number[] };
  const fresh = (): Case => ({ add: [], del: [] });
  const cases = { knit: fresh(), script: fresh(), ref: fresh(), sock: fresh() };
  const nodeTimes: number[] = [];
  const statusTimes: number[] = [];
  const addDel = async (c: Case, fn: (cmd: string, id: string, ns: string) => Promise<number>, ns: string, id: string, keep: boolean): Promise<void> => {
    const a = await fn('ADD', id, ns);
    const d = await fn('DEL', id, ns);
    if (keep) { c.add.push(a); c.del.push(d); }
  };
  for (let i = 0; i < spec.warmup + spec.runs; i++) {
    const keep = i >= spec.warmup;
    await addDel(cases.knit, knit, spec.seq[0], `kseq-${i}`, keep);
    await addDel(cases.ref, ref, spec.seq[1], `rseq-${i}`, keep);
    const st = await exec(spec.artifact, [], { CNI_COMMAND: 'STATUS', CNI_PATH: REF_CNI_DIR }, knitConf.replace('"1.0.0"', '"1.1.0"'));
    if (keep) statusTimes.push(st);
    await addDel(cases.sock, (cmd, id, ns) => sock(cmd as 'ADD' | 'DEL', id, ns), spec.seq[0], `sseq-${i}`, keep);
    await addDel(cases.script, script, spec.seq[0], `bseq-${i}`, keep);
    const nt = await exec(process.execPath, ['-e', '0'], {}, '');
    if (keep) nodeTimes.push(nt);
  }
  const both = (c: Case) => ({ add: stats(c.add), del: stats(c.del) });
  const [k, b, r, s] = [both(cases.knit), both(cases.script), both(cases.ref), both(cases.sock)];

  const conc: DriverResult['conc'] = [];
  for (const n of [50, 200]) {
    const wall = async (fn: (cmd: string, id: string, ns: string) => Promise<number>, cmd: string, nss: string[], tag: string): Promise<number> => {
      const t0 = performance.now();
      await Promise.all(nss.slice(0, n).map((ns, i) => fn(cmd, `${tag}-${n}-${i}`, ns)));
      return performance.now() - t0;
    };
    // The floor for any Node.js plugin: N bare start-ups at once.
    const node = await wall(() => exec(process.execPath, ['-e', '0'], {}, ''), '', spec.conc.knit, 'nc');
    // The floors of knit's own ADD: N plugin processes that only start and ask
    // knitd something trivial (STATUS), and N ADDs straight on the socket from
    // this warm process (knitd's own work, no plugin start-up); then undone.
    const status = await wall(() => exec(spec.artifact, [], { CNI_COMMAND: 'STATUS', CNI_PATH: REF_CNI_DIR }, knitConf.replace('"1.0.0"', '"1.1.0"')), '', spec.conc.knit, 'st');
    const sockAdd = await wall((cmd, id, ns) => sock(cmd as 'ADD' | 'DEL', id, ns), 'ADD', spec.conc.knit, 'so');
    const sockDel = await wall((cmd, id, ns) => sock(cmd as 'ADD' | 'DEL', id, ns), 'DEL', spec.conc.knit, 'so');
    const knitAdd = await wall(knit, 'ADD', spec.conc.knit, 'kc');
    const knitDel = await wall(knit, 'DEL', spec.conc.knit, 'kc');
    const refAdd = await wall(ref, 'ADD', spec.conc.ref, 'rc');
    const refDel = await wall(ref, 'DEL', spec.conc.ref, 'rc');
    const scriptAdd = await wall(script, 'ADD', spec.conc.knit, 'sc');
    const scriptDel = await wall(script, 'DEL', spec.conc.knit, 'sc');
    conc.push({ n, node, status, sockAdd, sockDel, knitAdd, knitDel, scriptAdd, scriptDel, refAdd, refDel });
  }
  // Peak memory of one plugin process, under GNU time (not timed).
  const peakOf = async (fn: (cmd: string, id: string, ns: string) => Promise<number>, tag: string): Promise<number> => {
    let peak = 0;
    for (let i = 0; i < 10; i++) {
      peakSink.length = 0;
      await fn('ADD', `${tag}-${i}`, spec.seq[0]);
      peak = Math.max(peak, ...peakSink);
      await fn('DEL', `${tag}-${i}`, spec.seq[0]);
    }
    return peak / 1024;
  };
  timed = true;
  const peak = { knit: await peakOf(knit, 'kp'), script: await peakOf(script, 'sp'), ref: await peakOf(ref, 'rp') };
  timed = false;
  const result: DriverResult = { node: stats(nodeTimes), knitAdd: k.add, knitDel: k.del, scriptAdd: b.add, scriptDel: b.del, knitStatus: stats(statusTimes), refAdd: r.add, refDel: r.del, sockAdd: s.add, sockDel: s.del, conc, peak };
  writeFileSync(spec.out, JSON.stringify(result));
}

/** knitd's own durationMs for ADD and DEL from its request log, for container IDs starting with `idPrefix`. */
function knitdDurations(logPath: string, idPrefix: string): { add: Stats; del: Stats } {
  const add: number[] = [];
  const del: number[] = [];
  for (const line of readFileSync(logPath, 'utf8').split('\n')) {
    if (!line.includes('"CNI request"')) continue;
    try {
      const o = JSON.parse(line) as { command?: string; durationMs?: number; containerId?: string };
      if (typeof o.durationMs !== 'number' || !o.containerId?.startsWith(idPrefix)) continue;
      if (o.command === 'ADD') add.push(o.durationMs);
      if (o.command === 'DEL') del.push(o.durationMs);
    } catch { /* not a JSON line */ }
  }
  return { add: stats(add), del: stats(del) };
}

async function outer(): Promise<void> {
  const runs = arg('runs', 100);
  const warmup = arg('warmup', 5);
  const lab = await createLab({ nodes: 1 });
  const names: string[] = [];
  try {
    const node = lab.nodes[0]!;
    const knitd = await startKnitd(lab, node, { mtu: 1500 });
    const mk = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${lab.prefix}${tag}${i}`);
    const seqNs = mk('s', 2);
    const knitNs = mk('k', 200);
    const refNs = mk('r', 200);
    names.push(...seqNs, ...knitNs, ...refNs);
    addNetnsBatch(names);
    const out = join(ensureRunDir(), `cni-bench-${process.pid}.json`);
    if (!existsSync(KNIT_ARTIFACT)) throw new Error(`${KNIT_ARTIFACT} missing: npm run build:plugin`);
    const spec: DriverSpec = {
      runs, warmup, knitSocket: knitd.socket, artifact: KNIT_ARTIFACT, refDataDir: join(knitd.dir, 'host-local'),
      seq: [netnsPath(seqNs[0]!), netnsPath(seqNs[1]!)],
      conc: { knit: knitNs.map(netnsPath), ref: refNs.map(netnsPath) }, out,
    };
    const specFile = join(knitd.dir, 'bench-spec.json');
    writeFileSync(specFile, JSON.stringify(spec));
    const p = lab.spawn(node.ns, process.execPath, [__filename, '--driver', specFile], { tag: 'cni-bench-driver' });
    // Lab processes are unref'd; keep this process alive while the driver works.
    const keepAlive = setInterval(() => undefined, 1000);
    const ex = await p.exited.finally(() => clearInterval(keepAlive));
    if (ex.code !== 0) throw new Error(`driver failed (${JSON.stringify(ex)}):\n${p.logTail(4000)}`);
    const r = JSON.parse(readFileSync(out, 'utf8')) as DriverResult;
    const kd = knitdDurations(knitd.logPath, 'kseq-');
    print(r, kd, runs);
    await knitd.destroy();
  } finally {
    delNetnsBatch(names);
    await lab.teardown();
  }
}

function print(r: DriverResult, kd: { add: Stats; del: Stats }, runs: number): void {
  const f = (x: number): string => x.toFixed(1).padStart(7);
  const row = (name: string, s: Stats): string => `| ${name.padEnd(44)} | ${f(s.median)} | ${f(s.p90)} | ${f(s.min)} |`;
  const lines = [
    `Sequential, ${runs} runs each, taken round by round (ms, spawn to exit unless noted):`,
    '',
    `| ${'case'.padEnd(44)} |  median |     p90 |     min |`,
    `|${'-'.repeat(46)}|--------:|--------:|--------:|`,
    row('node -e 0', r.node),
    row('knit STATUS (plugin + trivial knitd answer)', r.knitStatus),
    row('knit ADD (artifact + knitd)', r.knitAdd),
    row('knit ADD, checkout script (node)', r.scriptAdd),
    row('reference bridge+host-local ADD', r.refAdd),
    row('knit DEL (artifact + knitd)', r.knitDel),
    row('knit DEL, checkout script (node)', r.scriptDel),
    row('reference bridge+host-local DEL', r.refDel),
    row('knitd ADD, socket round trip (no plugin)', r.sockAdd),
    row('knitd DEL, socket round trip (no plugin)', r.sockDel),
    row('knitd ADD durationMs (log, during plugin runs)', kd.add),
    row('knitd DEL durationMs (log, during plugin runs)', kd.del),
    '',
    'Concurrent (wall ms for N at once):',
    '',
    '|   N | node -e 0 | knit STATUS | socket ADD | knit ADD | ref ADD | ratio | socket DEL | knit DEL | ref DEL | ratio | script ADD | script DEL |',
    '|----:|----------:|------------:|-----------:|---------:|--------:|------:|-----------:|---------:|--------:|------:|-----------:|-----------:|',
    ...r.conc.map((c) => `| ${String(c.n).padStart(3)} |   ${f(c.node)} | ${f(c.status)} | ${f(c.sockAdd)} | ${f(c.knitAdd)}  | ${f(c.refAdd)} | ${(c.knitAdd / c.refAdd).toFixed(2).padStart(5)} | ${f(c.sockDel)} | ${f(c.knitDel)}  | ${f(c.refDel)} | ${(c.knitDel / c.refDel).toFixed(2).padStart(5)} | ${f(c.scriptAdd)} | ${f(c.scriptDel)} |`),
    '',
    `Peak RSS of one plugin process (ADD, largest of 10): knit artifact ${r.peak.knit.toFixed(1)} MiB, script ${r.peak.script.toFixed(1)} MiB, reference bridge ${r.peak.ref.toFixed(1)} MiB`,
    '',
    'Targets:',
    `  knit ADD median ≤ 1.2× reference: ${(r.knitAdd.median / r.refAdd.median).toFixed(2)}× → ${r.knitAdd.median <= 1.2 * r.refAdd.median ? 'met' : 'MISSED'}`,
    `  knit DEL median ≤ 1.2× reference: ${(r.knitDel.median / r.refDel.median).toFixed(2)}× → ${r.knitDel.median <= 1.2 * r.refDel.median ? 'met' : 'MISSED'}`,
    `  knitd ADD handling < reference whole ADD: ${r.sockAdd.median.toFixed(1)} vs ${r.refAdd.median.toFixed(1)} → ${r.sockAdd.median < r.refAdd.median ? 'met' : 'MISSED'}`,
    ...r.conc.map((c) => `  ${c.n} concurrent ADDs ≤ 1.5× reference: ${(c.knitAdd / c.refAdd).toFixed(2)}× → ${c.knitAdd <= 1.5 * c.refAdd ? 'met' : 'MISSED'} `
      + `(floors: ${c.n} knit STATUS at once ${(c.status / c.refAdd).toFixed(2)}×, ${c.n} ADDs on the socket alone ${(c.sockAdd / c.refAdd).toFixed(2)}×, ${c.n} bare node start-ups ${(c.node / c.refAdd).toFixed(2)}×)`),
    `Machine: ${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} at the end, node ${process.version}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

if (process.argv.includes('--driver')) {
  const spec = JSON.parse(readFileSync(process.argv[process.argv.indexOf('--driver') + 1]!, 'utf8')) as DriverSpec;
  driver(spec).then(() => process.exit(0), (err: unknown) => {
    process.stderr.write(`driver: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
} else {
  outer().then(() => process.exit(0), (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
