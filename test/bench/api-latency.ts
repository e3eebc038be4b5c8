/**
 * Benchmark of the operator API over the unix socket:
 *  1. unary GetNode and ListEndpoints (100 endpoints) at a fixed open-loop
 *     rate (default 1000 requests/s), latency p50/p99/max; ListEndpoints
 *     both rebuilt per call and from the server's encoded snapshot;
 *  2. Watch fan-out: 100 clients, each on its own connection (like 100
 *     knitctl processes), the server emitting events at a fixed rate;
 *     delivery latency p50/p99/max from emit to receipt, and events lost;
 * with the server's CPU (% of one core) and RSS meanwhile. The server is a
 * separate process (test/bench/api-bench-server.ts) so only it is measured.
 *
 * The unary phases run with two load generators, side by side in the same
 * run: grpc-js (what knitctl uses: it decodes every answer, so at 1000
 * ListEndpoints/s the generator itself needs most of a core on the same two
 * cores as the server) and a lean one speaking gRPC over node:http2
 * directly (one frame out, the answer's bytes and grpc-status in; every
 * answer's length checked, the first one decoded and compared), which leaves
 * the CPU to the server so its own latency shows.
 *
 *   node dist/test/bench/api-latency.js [--rate 1000] [--seconds 10] [--watchers 100] [--events 100]
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { KnitClient } from '../../agent/src/api/gen/knit/v1/Knit';
import type { ListEndpointsResponse__Output } from '../../agent/src/api/gen/knit/v1/ListEndpointsResponse';
import type { Node__Output } from '../../agent/src/api/gen/knit/v1/Node';
import type { WatchEvent__Output } from '../../agent/src/api/gen/knit/v1/WatchEvent';
import { loadKnitProto } from '../../agent/src/api/proto';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

const RATE = arg('rate', 1000);
const SECONDS = arg('seconds', 10);
const WATCHERS = arg('watchers', 100);
const EVENT_RATE = arg('events', 100);

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function request<T>(child: ChildProcess, msg: unknown, key: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: Record<string, unknown>): void => {
      if (key in m) {
        child.off('message', on);
        resolve(m as T);
      }
    };
    child.on('message', on);
    if (msg !== null) child.send(msg as object);
  });
}

interface Usage { usage: { cpuMs: number; rssMb: number; heapMb: number }; watchers: number }

async function measure<T>(child: ChildProcess, seconds: number, fn: () => Promise<T>): Promise<{ result: T; cpuPct: number; clientCpuPct: number; rssMb: number; heapMb: number }> {
  const before = await request<Usage>(child, { cmd: 'usage' }, 'usage');
  const own = process.cpuUsage();
  const t0 = performance.now();
  let peakRss = before.usage.rssMb;
  let peakHeap = before.usage.heapMb;
  const sampler = setInterval(() => {
    void request<Usage>(child, { cmd: 'usage' }, 'usage').then((u) => {
      peakRss = Math.max(peakRss, u.usage.rssMb);
      peakHeap = Math.max(peakHeap, u.usage.heapMb);
    });
  }, 250);
  const result = await fn();
  clearInterval(sampler);
  const after = await request<Usage>(child, { cmd: 'usage' }, 'usage');
  const wall = performance.now() - t0;
  const ownAfter = process.cpuUsage(own);
  void seconds;
  return { result, cpuPct: ((after.usage.cpuMs - before.usage.cpuMs) / wall) * 100, clientCpuPct: ((ownAfter.user + ownAfter.system) / 1000 / wall) * 100, rssMb: Math.max(peakRss, after.usage.rssMb), heapMb: Math.max(peakHeap, after.usage.heapMb) };
}

type UnaryCall = (done: (ok: boolean) => void) => void;

function grpcJsCall(client: KnitClient, call: 'getNode' | 'listEndpoints'): UnaryCall {
  return (done) => {
    const cb = (err: grpc.ServiceError | null): void => done(err === null);
    if (call === 'getNode') client.getNode({}, cb);
    else client.listEndpoints({}, cb);
  };
}

/**
 * One unary gRPC call over a raw HTTP/2 session: the request is an empty
 * message (5-byte frame header, length 0), the answer is accepted when
 * grpc-status is 0 and its framed length is `expectLength` (the length of
 * the answer grpc-js decoded and checked before the phase).
 */
function h2Call(session: http2.ClientHttp2Session, method: string, expectLength: number): UnaryCall {
  const empty = Buffer.alloc(5);
  return (done) => {
    const stream = session.request({ ':method': 'POST', ':path': `/knit.v1.Knit/${method}`, 'content-type': 'application/grpc', te: 'trailers' });
    let bytes = 0;
    let ok = false;
    stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    stream.on('trailers', (t) => {
      ok = t['grpc-status'] === '0' && bytes === expectLength + 5;
    });
    stream.on('close', () => done(ok));
    stream.on('error', () => undefined);
    stream.end(empty);
  };
}

async function unaryPhase(fire1: UnaryCall): Promise<{ lat: number[]; errors: number; achieved: number }> {
  const total = RATE * SECONDS;
  const interval = 1000 / RATE;
  const lat: number[] = [];
  let errors = 0;
  let done = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    let sent = 0;
    const fire = (): void => {
      const start = performance.now();
      fire1((ok) => {
        lat.push(performance.now() - start);
        if (!ok) errors += 1;
        done += 1;
        if (done === total) resolve();
      });
    };
    // Open loop: requests leave on schedule whether or not earlier ones returned.
    const tick = (): void => {
      while (sent < total && performance.now() - t0 >= sent * interval) {
        sent += 1;
        fire();
      }
      if (sent < total) setTimeout(tick, Math.max(0, t0 + sent * interval - performance.now()));
    };
    tick();
  });
  return { lat: lat.sort((a, b) => a - b), errors, achieved: total / ((performance.now() - t0) / 1000) };
}

async function watchPhase(child: ChildProcess, socketPath: string, pkg: ReturnType<typeof loadKnitProto>): Promise<{ lat: number[]; expected: number; received: number; snapshotMs: number }> {
  const clients = Array.from({ length: WATCHERS }, () => new pkg.Knit(`unix:${socketPath}`, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
  const lat: number[] = [];
  let received = 0;
  const t0 = performance.now();
  const streams = await Promise.all(clients.map((c) => new Promise<grpc.ClientReadableStream<WatchEvent__Output>>((resolve) => {
    const s = c.watch({});
    s.on('data', (ev: WatchEvent__Output) => {
      if (ev.snapshot) {
        resolve(s);
        return;
      }
      received += 1;
      const sent = Number(ev.endpoint?.endpoint?.netns);
      lat.push(performance.timeOrigin + performance.now() - sent);
    });
    s.on('error', () => undefined);
  })));
  const snapshotMs = performance.now() - t0;
  const { emitted } = await request<{ emitted: number }>(child, { cmd: 'emit', rate: EVENT_RATE, seconds: SECONDS }, 'emitted');
  const expected = emitted * WATCHERS;
  for (let i = 0; i < 200 && received < expected; i++) await new Promise((r) => setTimeout(r, 25));
  for (const s of streams) s.cancel();
  for (const c of clients) c.close();
  return { lat: lat.sort((a, b) => a - b), expected, received, snapshotMs };
}

/** The framed length of `method`'s answer to an empty request, read once over HTTP/2. */
async function framedLength(socketPath: string, method: string): Promise<number> {
  const s = http2.connect('http://localhost', { createConnection: () => net.connect(socketPath) });
  try {
    return await new Promise<number>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const st = s.request({ ':method': 'POST', ':path': `/knit.v1.Knit/${method}`, 'content-type': 'application/grpc', te: 'trailers' });
      st.on('data', (c: Buffer) => chunks.push(c));
      st.on('error', reject);
      st.on('close', () => {
        const body = Buffer.concat(chunks);
        if (body.length < 5 || body.readUInt32BE(1) !== body.length - 5) reject(new Error(`${method}: not one gRPC message (${body.length} bytes)`));
        else resolve(body.length - 5);
      });
      st.end(Buffer.alloc(5));
    });
  } finally {
    s.close();
  }
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'knit-api-bench-'));
  const socketPath = path.join(dir, 'knitd.sock');
  const child = fork(path.join(__dirname, 'api-bench-server.js'), [socketPath], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    await request(child, null, 'ready');
    const pkg = loadKnitProto(grpc);
    const client = new pkg.Knit(`unix:${socketPath}`, grpc.credentials.createInsecure());
    await new Promise<void>((resolve, reject) => client.waitForReady(Date.now() + 5000, (e) => (e ? reject(e) : resolve())));
    // Warm-up: JIT and connection.
    for (let i = 0; i < 500; i++) await new Promise<void>((r) => client.getNode({}, () => r()));
    // The answers' encoded lengths, from calls grpc-js decoded and checked, for the lean client's check.
    const node = await new Promise<Node__Output>((resolve, reject) => client.getNode({}, (e, r) => (e || r === undefined ? reject(e) : resolve(r))));
    const eps = await new Promise<ListEndpointsResponse__Output>((resolve, reject) => client.listEndpoints({}, (e, r) => (e || r === undefined ? reject(e) : resolve(r))));
    if (eps.endpoints.length !== 100 || node.name === '') throw new Error('the bench server did not answer as set up');
    const nodeLen = await framedLength(socketPath, 'GetNode');
    const epsLen = await framedLength(socketPath, 'ListEndpoints');
    const h2 = http2.connect('http://localhost', { createConnection: () => net.connect(socketPath) });
    const rows: string[][] = [];
    // ListEndpoints rebuilt per call (before) and from the encoded snapshot (knitd now), with both load generators.
    const phases = [
      { fire: grpcJsCall(client, 'getNode'), label: `GetNode @ ${RATE}/s, grpc-js client`, snapshot: true },
      { fire: h2Call(h2, 'GetNode', nodeLen), label: `GetNode @ ${RATE}/s, lean client`, snapshot: true },
      { fire: grpcJsCall(client, 'listEndpoints'), label: `ListEndpoints (100), rebuilt per call @ ${RATE}/s, grpc-js client`, snapshot: false },
      { fire: grpcJsCall(client, 'listEndpoints'), label: `ListEndpoints (100), snapshot @ ${RATE}/s, grpc-js client`, snapshot: true },
      { fire: h2Call(h2, 'ListEndpoints', epsLen), label: `ListEndpoints (100), snapshot @ ${RATE}/s, lean client`, snapshot: true },
    ];
    for (const ph of phases) {
      await request(child, { cmd: 'snapshot', on: ph.snapshot }, 'snapshot');
      const m = await measure(child, SECONDS, () => unaryPhase(ph.fire));
      const { lat, errors, achieved } = m.result;
      rows.push([ph.label, achieved.toFixed(0), pct(lat, 50).toFixed(2), pct(lat, 99).toFixed(2), lat[lat.length - 1].toFixed(2), String(errors), m.cpuPct.toFixed(0), m.rssMb.toFixed(0), m.clientCpuPct.toFixed(0)]);
    }
    client.close();
    h2.close();
    const w = await measure(child, SECONDS, () => watchPhase(child, socketPath, pkg));
    const r = w.result;
    rows.push([`Watch ${WATCHERS} clients, ${EVENT_RATE} ev/s`, `${(r.received / SECONDS).toFixed(0)} deliv/s`, pct(r.lat, 50).toFixed(2), pct(r.lat, 99).toFixed(2), r.lat[r.lat.length - 1].toFixed(2), String(r.expected - r.received), w.cpuPct.toFixed(0), w.rssMb.toFixed(0), w.clientCpuPct.toFixed(0)]);
    const headers = ['phase', 'achieved', 'p50 ms', 'p99 ms', 'max ms', 'errors/lost', 'server CPU %', 'server RSS MiB', 'clients CPU %'];
    const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((x) => x[i].length)));
    const line = (cells: string[]): string => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
    console.log(`${os.cpus().length} CPU, Node ${process.versions.node}, ${SECONDS}s per phase; ${WATCHERS} watchers' snapshots took ${r.snapshotMs.toFixed(0)} ms`);
    console.log(line(headers));
    console.log(`|${widths.map((w2, i) => (i === 0 ? '-'.repeat(w2 + 2) : `${'-'.repeat(w2 + 1)}:`)).join('|')}|`);
    for (const row of rows) console.log(line(row));
  } finally {
    child.send({ cmd: 'stop' });
    await new Promise((r) => child.once('exit', r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
