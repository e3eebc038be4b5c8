/**
 * Benchmark: 1000 route adds + 1000 route deletes in one fresh namespace,
 * through knit's netlink layer (sequential awaits; issued together, so the
 * layer's write batcher puts many in one datagram; and the way the reconciler
 * issues them, a bounded number in flight) and, side by side, through
 * `ip -n NS -batch FILE` (the whole process timed, as a shell-out would cost).
 *
 *   node dist/test/bench/netlink-routes.js [--routes 1000] [--batch 100] [--rounds 5]
 *
 * Prints the best of N interleaved rounds per method and the issue-17 target
 * (the reconciler's way ≤ 1.2× ip -batch). The namespace is removed even on failure.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openHandle, RTPROT_KNIT } from '../../agent/src/netlink';
import type { Handle, Route } from '../../agent/src/netlink';
import { WRITE_CONCURRENCY } from '../../agent/src/dataplane/reconcile/apply';
import { addNetns, netnsPath, nsRun, removeAllNetns } from '../lab/netns';

/** Runs `fn` over `items` with at most `limit` calls pending, as the reconciler's applyOps bounds its writes. */
async function forEachBounded<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

const N = arg('routes', 1000);
const BATCH = arg('batch', 100);
const ROUNDS = arg('rounds', 5);

interface Result { method: string; addMs: number; delMs: number }

async function timeIt(fn: () => Promise<void> | void): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function inBatches(routes: Route[], size: number, op: (r: Route) => Promise<void>): Promise<void> {
  for (let i = 0; i < routes.length; i += size) await Promise.all(routes.slice(i, i + size).map(op));
}

function countKnitRoutes(ns: string): number {
  return nsRun(ns, 'ip', ['route', 'show', 'proto', String(RTPROT_KNIT)]).split('\n').filter(Boolean).length;
}

async function main(): Promise<void> {
  const ns = addNetns('bench');
  const dir = mkdtempSync(join(tmpdir(), 'knit-bench-'));
  let h: Handle | undefined;
  try {
    h = openHandle(netnsPath(ns));
    const dev = await h.vethAdd({ name: 'b0', peerName: 'b0p' });
    await h.addrAdd(dev.index, '10.30.0.1/24');
    await h.linkSetUp(dev.index);
    await h.linkSetUp((await h.linkByName('b0p'))!.index);

    const routes: Route[] = [];
    for (let i = 0; i < N; i++) {
      routes.push({ dst: `10.${100 + (i >> 8)}.${i & 255}.0/24`, gateway: '10.30.0.2', index: dev.index, protocol: RTPROT_KNIT });
    }
    const addFile = join(dir, 'add.batch');
    const delFile = join(dir, 'del.batch');
    writeFileSync(addFile, routes.map((r) => `route add ${r.dst} via ${r.gateway} dev b0 proto ${RTPROT_KNIT}\n`).join(''));
    writeFileSync(delFile, routes.map((r) => `route del ${r.dst} via ${r.gateway} dev b0 proto ${RTPROT_KNIT}\n`).join(''));

    const handle = h;
    const methods: Array<{ method: string; add: () => Promise<void> | void; del: () => Promise<void> | void }> = [
      {
        method: 'layer, sequential await',
        add: async () => { for (const r of routes) await handle.routeAdd(r); },
        del: async () => { for (const r of routes) await handle.routeDel(r); },
      },
      {
        method: `layer, Promise.all batches of ${BATCH}`,
        add: () => inBatches(routes, BATCH, (r) => handle.routeAdd(r)),
        del: () => inBatches(routes, BATCH, (r) => handle.routeDel(r)),
      },
      {
        method: `layer, Promise.all of all ${N}`,
        add: async () => { await Promise.all(routes.map((r) => handle.routeAdd(r))); },
        del: async () => { await Promise.all(routes.map((r) => handle.routeDel(r))); },
      },
      {
        method: `layer, as the reconciler writes (${WRITE_CONCURRENCY} in flight)`,
        add: () => forEachBounded(routes, WRITE_CONCURRENCY, (r) => handle.routeAdd(r)),
        del: () => forEachBounded(routes, WRITE_CONCURRENCY, (r) => handle.routeDel(r)),
      },
      {
        method: 'ip -n NS -batch FILE (process)',
        add: () => { execFileSync('ip', ['-n', ns, '-batch', addFile], { stdio: 'pipe' }); },
        del: () => { execFileSync('ip', ['-n', ns, '-batch', delFile], { stdio: 'pipe' }); },
      },
    ];

    // Rounds interleave the methods, so a busy moment of the machine hits all of them alike.
    const best = new Map<string, Result>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const m of methods) {
        const addMs = await timeIt(m.add);
        if (countKnitRoutes(ns) !== N) throw new Error(`${m.method}: expected ${N} routes after adds`);
        const delMs = await timeIt(m.del);
        if (countKnitRoutes(ns) !== 0) throw new Error(`${m.method}: routes left after deletes`);
        const b = best.get(m.method);
        if (!b || addMs + delMs < b.addMs + b.delMs) best.set(m.method, { method: m.method, addMs, delMs });
      }
    }
    const results = methods.map((m) => best.get(m.method)!);

    const rows = results.map((r) => [
      r.method,
      r.addMs.toFixed(1), ((r.addMs * 1000) / N).toFixed(1),
      r.delMs.toFixed(1), ((r.delMs * 1000) / N).toFixed(1),
      (r.addMs + r.delMs).toFixed(1),
    ]);
    const head = ['method', 'add ms', 'µs/add', 'del ms', 'µs/del', 'total ms'];
    const widths = head.map((c, i) => Math.max(c.length, ...rows.map((row) => row[i].length)));
    const line = (cells: string[]): string => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
    console.log(`${N} route adds + ${N} route deletes, best of ${ROUNDS} rounds (node ${process.version})`);
    console.log(line(head));
    console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
    for (const row of rows) console.log(line(row));
    const reconciler = results[3]!;
    const ip = results[4]!;
    const ratio = (a: number, b: number): string => (a / b).toFixed(2);
    console.log(`\nTarget: ${N} route adds through the layer ≤ 1.2× ip -batch. As the reconciler writes: add ${ratio(reconciler.addMs, ip.addMs)}×, `
      + `del ${ratio(reconciler.delMs, ip.delMs)}× → ${reconciler.addMs <= 1.2 * ip.addMs ? 'met' : 'MISSED'}`);
  } finally {
    h?.close();
    removeAllNetns();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
