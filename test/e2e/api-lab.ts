/**
 * Helpers of the operator-surface e2e tests (test/e2e/api-*.test.ts): what
 * etcd and the kernel hold, read with etcdctl and `ip -j` inside the lab's
 * namespaces (never knitd's own answer), a recorder of Watch events and of
 * etcd's own watch with arrival times, a /metrics scrape from inside a node
 * namespace, and the real knitctl binary.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadKnitProto } from '../../agent/src/api/proto';
import type { KnitClient } from '../../agent/src/api/gen/knit/v1/Knit';
import type { WatchEvent__Output } from '../../agent/src/api/gen/knit/v1/WatchEvent';
import type { Lab, LabNode } from '../lab/lab';
import { parsePrometheusText, type Family } from '../support/metrics-text-parser';

/** A gRPC client of knitd's API on its unix socket. */
export function apiClient(socket: string): KnitClient {
  const pkg = loadKnitProto(grpc);
  return new pkg.Knit(`unix:${socket}`, grpc.credentials.createInsecure());
}

/** One unary call by method name, as a promise. */
export function apiCall<Req, Res>(c: KnitClient, method: string, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    (c as unknown as Record<string, (r: Req, cb: (e: grpc.ServiceError | null, r: Res) => void) => void>)[method]!.call(c, req, (e, r) => (e ? reject(e) : resolve(r)));
  });
}

/** "OK", or "STATUS_NAME: details" of a failed call: what a refusal test compares. */
export function callStatus(p: Promise<unknown>): Promise<string> {
  return p.then(() => 'OK', (e: grpc.ServiceError) => `${grpc.status[e.code]}: ${e.details}`);
}

export const KNITCTL = path.resolve(__dirname, '..', '..', '..', 'agent', 'bin', 'knitctl');
export const PREFIX = '/knit/v1';

/** The real knitctl against the lab's etcd, from the underlay namespace; a failure comes back as code 1 with its message. */
export function knitctlResult(lab: Lab, args: string[]): Promise<{ code: number; out: string; err: string }> {
  return lab.exec(lab.underlay.ns, KNITCTL, [...args, '--etcd-endpoints', lab.etcdEndpoints.join(',')])
    .then((out) => ({ code: 0, out, err: '' }), (e: Error) => ({ code: 1, out: '', err: e.message }));
}

/** etcdctl (API v3) against the lab's etcd, run in the underlay namespace. */
export function etcdctl(lab: Lab, args: string[]): Promise<string> {
  return lab.exec(lab.underlay.ns, 'etcdctl', ['--endpoints', lab.etcdEndpoints.join(','), ...args], {
    env: { ...process.env, ETCDCTL_API: '3' },
  });
}

/** Every key under <prefix>/subnets/ with its raw value, as etcdctl prints them. */
export async function etcdSubnets(lab: Lab): Promise<Map<string, string>> {
  const out = await etcdctl(lab, ['get', '--prefix', `${PREFIX}/subnets/`]);
  const lines = out.split('\n').filter((l) => l !== '');
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < lines.length; i += 2) m.set(lines[i]!.slice(`${PREFIX}/subnets/`.length), lines[i + 1]!);
  return m;
}

/** "10.244.3.0-24" → "10.244.3.0/24" (the v1 key naming). */
export function keyToCidr(key: string): string {
  return key.replace(/-(\d+)$/, '/$1');
}

/** A lease value from etcd, parsed (untrusted: only the fields the tests compare). */
export interface EtcdLease {
  nodeName: string;
  publicIp: string;
  backend: { type: string; data: Record<string, unknown> };
}

/** The knit.1 VXLAN device, bridge and knit routes/neighbours/FDB of a node namespace, from `ip -j`/`bridge -j`. */
export async function kernelView(lab: Lab, node: LabNode): Promise<{
  vtepMac: string; bridgeMtu: number;
  routes: Array<{ dst: string; nhid?: number; gateway?: string; dev: string; flags: string[] }>;
  nexthops: Array<{ id: number; gateway?: string; dev?: string; flags?: string[]; protocol?: string }>;
  neigh: Array<{ dst: string; lladdr: string; state: string[] }>;
  fdb: Array<{ mac: string; dst?: string; state?: string }>;
}> {
  const j = async <T>(cmd: string, args: string[]): Promise<T> => JSON.parse((await lab.exec(node.ns, cmd, args)) || '[]') as T;
  const [vx] = await j<Array<{ address: string }>>('ip', ['-j', '-d', 'link', 'show', 'knit.1']);
  const [br] = await j<Array<{ mtu: number }>>('ip', ['-j', 'link', 'show', 'knit0']);
  return {
    vtepMac: vx!.address,
    bridgeMtu: br!.mtu,
    routes: await j('ip', ['-j', 'route', 'show', 'proto', '89']),
    nexthops: await j('ip', ['-j', 'nexthop', 'show', 'proto', '89']),
    neigh: await j('ip', ['-j', 'neigh', 'show', 'dev', 'knit.1']),
    fdb: await j('bridge', ['-j', 'fdb', 'show', 'dev', 'knit.1']),
  };
}

/** One scrape of http://<address>/metrics from inside `node`'s namespace, parsed strictly. */
export async function scrape(lab: Lab, node: LabNode, address: string, pathname = '/metrics'): Promise<{ status: number; text: string; fams: Map<string, Family> }> {
  const script = `fetch('http://${address}${pathname}').then(async (r) => process.stdout.write(JSON.stringify({ status: r.status, text: await r.text() })))`;
  const { status, text } = JSON.parse(await lab.exec(node.ns, process.execPath, ['-e', script])) as { status: number; text: string };
  return { status, text, fams: pathname === '/metrics' ? parsePrometheusText(text) : new Map() };
}

/** Sum of every sample of `name` whose labels include `labels`. */
export function sumOf(fams: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const f of fams.values()) {
    for (const s of f.samples) {
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) sum += s.value;
    }
  }
  return sum;
}

export interface Run { code: number; stdout: string; stderr: string }

/** The real knitctl binary. */
export function knitctl(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(KNITCTL, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Promisified unary call resolving to the answer or the status. */
export function call<T>(invoke: (opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: T) => void) => unknown, deadlineMs = 15_000):
Promise<{ ok: true; res: T } | { ok: false; code: number; details: string }> {
  return new Promise((resolve) => {
    invoke({ deadline: new Date(Date.now() + deadlineMs) }, (err, res) => {
      if (err) resolve({ ok: false, code: err.code, details: err.details });
      else resolve({ ok: true, res: res as T });
    });
  });
}

/** Records (with performance.now() arrival times) what a thing streams, and waits for a match. */
class Recorder<T> {
  readonly seen: Array<{ at: number; item: T }> = [];
  private waiters: Array<{ pred: (x: T) => boolean; resolve: (e: { at: number; item: T }) => void }> = [];

  push(item: T): void {
    const e = { at: performance.now(), item };
    this.seen.push(e);
    for (const w of [...this.waiters]) {
      if (w.pred(item)) {
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(e);
      }
    }
  }

  /** The first entry (already seen at index >= `from`, or arriving) that matches; rejects after `timeoutMs`. */
  waitFor(pred: (x: T) => boolean, timeoutMs: number, from = 0, what = 'an event'): Promise<{ at: number; item: T }> {
    const hit = this.seen.slice(from).find((e) => pred(e.item));
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: (e: { at: number; item: T }) => { clearTimeout(timer); resolve(e); } };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }
}

/** A Watch stream on `client`, every event recorded. */
export class WatchRecorder extends Recorder<WatchEvent__Output> {
  private readonly stream: grpc.ClientReadableStream<WatchEvent__Output>;
  errors: Error[] = [];

  constructor(client: KnitClient) {
    super();
    this.stream = client.watch({});
    this.stream.on('data', (ev: WatchEvent__Output) => this.push(ev));
    this.stream.on('error', (err: Error) => {
      if (!/Cancelled/i.test(err.message)) this.errors.push(err);
    });
  }

  close(): void {
    this.stream.cancel();
  }
}

/** One event of `etcdctl watch`; `key` is relative to PREFIX/ (e.g. "subnets/10.244.3.0-24"). */
export interface EtcdWatchEvent { type: 'PUT' | 'DELETE'; key: string }

/**
 * `etcdctl watch --prefix <prefix>/` in the underlay namespace: the
 * moment etcd itself reports a change, the reference the API's Watch
 * latency is measured from.
 */
export class EtcdWatch extends Recorder<EtcdWatchEvent> {
  private readonly child: ChildProcess;
  private buf = '';
  private pending: string[] = [];

  constructor(lab: Lab) {
    super();
    this.child = spawn('ip', ['netns', 'exec', lab.underlay.ns, 'etcdctl', '--endpoints', lab.etcdEndpoints.join(','), 'watch', '--prefix', `${PREFIX}/`], {
      env: { ...process.env, ETCDCTL_API: '3' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (b: Buffer) => this.onData(b.toString('utf8')));
  }

  private onData(s: string): void {
    this.buf += s;
    const lines = this.buf.split('\n');
    this.buf = lines.pop()!;
    for (const l of lines) {
      // Each event is three lines: PUT|DELETE, key, value (empty for DELETE).
      this.pending.push(l);
      if (this.pending.length === 3) {
        const [type, key] = this.pending;
        this.pending = [];
        if (type === 'PUT' || type === 'DELETE') this.push({ type, key: key!.slice(`${PREFIX}/`.length) });
      }
    }
  }

  /**
   * Resolves once etcdctl has its watch open (it prints nothing until then;
   * a probe write proves it). The probe key is outside subnets/, so no knitd
   * sees it as a (garbage) lease.
   */
  async ready(lab: Lab): Promise<void> {
    const probeKey = `${PREFIX}/zz-watch-probe`;
    for (let i = 0; i < 50; i++) {
      await etcdctl(lab, ['put', probeKey, 'probe']);
      try {
        await this.waitFor((e) => e.key === 'zz-watch-probe', 200, 0, 'probe');
        break;
      } catch {
        // not watching yet
      }
    }
    await etcdctl(lab, ['del', probeKey]);
    await this.waitFor((e) => e.key === 'zz-watch-probe' && e.type === 'DELETE', 5000, 0, 'probe delete');
  }

  close(): void {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
  }
}
