/**
 * Shared pieces of the cluster benchmarks (cluster-dataplane, -convergence,
 * -scale): flags, order statistics, a fixed-width table printer, fake peer
 * leases, the etcd writer process, and teardown on Ctrl-C so a bench never
 * leaves a lab behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { encodeLeaseValue, subnetKeyName, type LeaseValue } from '../../agent/src/store/lease-codec';
import type { Lab } from '../lab/lab';
import type { WatchReport, WriterReply, WriterRequest } from './cluster-etcd-writer';

/** `--name value` as a number, or `dflt`. */
export function numArg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v)) throw new Error(`--${name} needs a number, got ${process.argv[i + 1]}`);
  return v;
}

/** `--name value` as a string, or `dflt`. */
export function strArg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : (process.argv[i + 1] ?? dflt);
}

/** Nearest-rank percentile (p in 0..100) of unsorted values; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[Math.min(rank, s.length) - 1]!;
}

/** Median (mean of the middle two for even counts); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Print a markdown table with right-aligned columns after the first. */
export function printTable(headers: string[], rows: Array<Array<string | number>>): void {
  const cells = rows.map((r) => r.map((c) => String(c)));
  const width = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => `| ${r.map((c, i) => (i === 0 ? c.padEnd(width[i]!) : c.padStart(width[i]!))).join(' | ')} |`;
  console.log(line(headers));
  console.log(`|${width.map((w, i) => (i === 0 ? `-${'-'.repeat(w)}-` : `-${'-'.repeat(w)}:`)).join('|')}|`);
  for (const r of cells) console.log(line(r));
}

/** n formatted with `digits` decimals. */
export function fmt(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

/** The ports the dataplane benches' iperf3 and sockperf servers listen on. */
export const IPERF_PORT = 5201;
export const SOCKPERF_PORT = 11111;

/** One `iperf3 -c` run from `ns` to `ip` (1 TCP stream, `seconds`): received Gbit/s and the sender's retransmits. Retries while the server starts. */
export async function iperf3(lab: Lab, ns: string, ip: string, seconds: number): Promise<{ gbps: number; retrans: number }> {
  let lastErr: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const out = await lab.exec(ns, 'iperf3', ['-c', ip, '-p', String(IPERF_PORT), '-t', String(seconds), '-J'], { timeoutMs: (seconds + 20) * 1000 });
      const j = JSON.parse(out) as { end: { sum_received: { bits_per_second: number }; sum_sent: { retransmits?: number } } };
      return { gbps: j.end.sum_received.bits_per_second / 1e9, retrans: j.end.sum_sent.retransmits ?? 0 };
    } catch (err) {
      lastErr = err; // the server may still be starting, or busy with the previous client
      await sleep(500);
    }
  }
  throw new Error(`iperf3 from ${ns} to ${ip}`, { cause: lastErr });
}

/** TCP request/response latency like netperf's TCP_RR: sockperf ping-pong's p50 (one-way, µs) over `seconds` on one connection. */
export async function sockperfP50(lab: Lab, ns: string, ip: string, seconds: number): Promise<number> {
  const out = await lab.exec(ns, 'sockperf', ['ping-pong', '--tcp', '-i', ip, '-p', String(SOCKPERF_PORT), '-t', String(seconds)], { timeoutMs: (seconds + 20) * 1000 });
  const m = /percentile 50\.000 =\s*([\d.]+)/.exec(out);
  if (!m) throw new Error(`sockperf from ${ns} to ${ip}: no p50 in:\n${out}`);
  return Number(m[1]);
}

/** Monotonic milliseconds, the same clock as the writer's t0/t1. */
export function monoMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** sysconf(_SC_CLK_TCK) on Linux: the unit of utime and stime in /proc/PID/stat. */
const CLK_TCK = 100;

/** utime + stime of process `pid` so far, in seconds (/proc/PID/stat fields 14 and 15). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // after "(comm) ": fields[0] is field 3 (state), so utime and stime are fields[11] and fields[12]
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/**
 * CPU time of process `pid`'s live threads so far, in ms, from each thread's
 * /proc/PID/task/TID/schedstat (nanoseconds: a join's ~1 ms of work shows,
 * where /proc/PID/stat counts in 10 ms ticks). Threads that exited are not
 * counted: take differences over a span in which the process keeps its threads.
 */
export function threadCpuMs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread exited between the listing and the read
    }
  }
  return ns / 1e6;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A fake peer lease: its subnet, etcd key and encoded value. */
export interface FakePeer {
  subnet: string;
  key: string;
  value: string;
}

/**
 * Fake peer lease number `i` under `prefix` for `subnet` (the caller picks
 * subnets inside its cluster CIDR and public IPs on its underlay, all
 * distinct): the key and a value that parses for `backend` (vxlan gets a
 * unicast, locally administered VTEP MAC derived from `i`).
 */
export function fakePeer(prefix: string, subnet: string, publicIp: string, backend: 'vxlan' | 'host-gw', i: number): FakePeer {
  const mac = ['0e', 'be', ((i >> 16) & 255), ((i >> 8) & 255), (i & 255), 1]
    .map((b) => (typeof b === 'string' ? b : b.toString(16).padStart(2, '0'))).join(':');
  const value: LeaseValue = {
    nodeName: `bench-peer-${i}`,
    publicIp,
    backend: { type: backend, data: backend === 'vxlan' ? { vtepMac: mac } : {} },
    renewedAt: new Date().toISOString(),
  };
  return { subnet, key: `${prefix}/subnets/${subnetKeyName(subnet)}`, value: encodeLeaseValue(value) };
}

/**
 * The etcd writer process (cluster-etcd-writer.js) inside the lab's underlay
 * namespace, driven over its stdin/stdout.
 */
export class EtcdWriter {
  private seq = 0;
  private readonly pending = new Map<number, (r: WriterReply) => void>();

  /** Hears the watch probe's events (start with `watchPrefix`). */
  onWatch: (w: WatchReport['watch']) => void = () => undefined;

  private constructor(private readonly proc: { write(s: string): void; close(): Promise<void> }, private readonly lines: AsyncIterableIterator<string>) {}

  /**
   * Start the writer in `lab`'s underlay namespace against its first etcd
   * endpoint; resolves once connected. With `watchPrefix` it also runs the
   * etcd floor probe (a watch on its own connection, see cluster-etcd-writer.ts).
   */
  static async start(lab: Lab, opts: { watchPrefix?: string } = {}): Promise<EtcdWriter> {
    const endpoint = lab.etcdEndpoints[0];
    if (!endpoint) throw new Error(`lab ${lab.prefix} has no etcd`);
    const script = join(__dirname, 'cluster-etcd-writer.js');
    // Not lab.spawn: we need its stdin/stdout. Killed in close() and by the lab's namespace teardown.
    const args = [script, endpoint, ...(opts.watchPrefix ? [opts.watchPrefix] : [])];
    const child = spawn('ip', ['netns', 'exec', lab.underlay.ns, process.execPath, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    const rl = createInterface({ input: child.stdout! });
    const it = rl[Symbol.asyncIterator]();
    let timer: NodeJS.Timeout | undefined;
    try {
      const first = await Promise.race([
        it.next(),
        new Promise<never>((_, rej) => { timer = setTimeout(() => rej(new Error('etcd writer not ready after 15 s')), 15_000); }),
      ]);
      if (first.done || !String(first.value).includes('ready')) throw new Error(`etcd writer failed to start: ${String(first.value)}`);
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    } finally {
      clearTimeout(timer);
    }
    const w = new EtcdWriter(childHandle(child), it);
    void w.readLoop();
    return w;
  }

  private async readLoop(): Promise<void> {
    for (;;) {
      const n = await this.lines.next();
      if (n.done) break;
      const parsed = JSON.parse(n.value) as WriterReply | WatchReport;
      if ('watch' in parsed) {
        this.onWatch(parsed.watch);
        continue;
      }
      const r = parsed;
      this.pending.get(r.id)?.(r);
      this.pending.delete(r.id);
    }
    for (const [id, cb] of this.pending) cb({ id, error: 'etcd writer exited' });
    this.pending.clear();
  }

  /** One transaction of puts and deletes; resolves with its monotonic send/ack times, rejects with etcd's error. */
  async txn(puts: Array<{ key: string; value: string }>, deletes: string[] = []): Promise<{ t0: number; t1: number }> {
    const id = ++this.seq;
    const req: WriterRequest = { id, puts, deletes };
    const reply = await new Promise<WriterReply>((resolve) => {
      this.pending.set(id, resolve);
      this.proc.write(`${JSON.stringify(req)}\n`);
    });
    if (reply.error !== undefined || reply.t0 === undefined || reply.t1 === undefined) throw new Error(`etcd txn ${id}: ${reply.error ?? 'no times'}`);
    return { t0: reply.t0, t1: reply.t1 };
  }

  async close(): Promise<void> {
    await this.proc.close();
  }
}

function childHandle(child: ChildProcess): { write(s: string): void; close(): Promise<void> } {
  let done = child.exitCode !== null;
  const exited = new Promise<void>((r) => child.once('exit', () => { done = true; r(); }));
  return {
    write: (s: string) => { child.stdin?.write(s); },
    close: async () => {
      if (done) return;
      child.stdin?.end(); // the writer exits when its stdin closes
      const t = setTimeout(() => { if (!done) child.kill('SIGKILL'); }, 3000);
      await exited;
      clearTimeout(t);
    },
  };
}

/**
 * Run `body` with cleanup guaranteed: `cleanup` runs after it (success or
 * failure) and on SIGINT/SIGTERM, then the process exits with the right code.
 */
export function runBench(name: string, body: () => Promise<void>, cleanup: () => Promise<void>): void {
  let cleaning: Promise<void> | undefined;
  const clean = (): Promise<void> => (cleaning ??= cleanup().catch((err) => { console.error(`${name}: cleanup failed:`, err); }));
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => { console.error(`${name}: ${sig}, tearing down`); void clean().then(() => process.exit(130)); });
  }
  body().then(
    () => clean().then(() => process.exit(0)),
    (err) => { console.error(`${name} failed:`, err); void clean().then(() => process.exit(1)); },
  );
}
