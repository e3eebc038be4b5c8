/**
 * Benchmark: what one `knit` invocation costs a runtime, next to bare Node
 * start-up. Times, per process (spawn to exit, as a runtime's exec sees it):
 *   node -e 0              the floor: Node itself
 *   knit VERSION           plugin start-up, answered locally
 *   knit ADD               start-up + connect + one request to a CniServer
 *                          with a no-op handler + printing the result
 * each for bin/knit (the checkout: one CommonJS file per module) and for the
 * single-file bundle (cni-plugin/src/bundle.ts, what an installer copies).
 * hyperfine-like: warm-up runs first, then N measured runs each, reported as
 * median and p90. knit's own overhead is the difference to `node -e 0`.
 *
 *   node dist/test/bench/cni-plugin-startup.js [--runs 100] [--warmup 5]
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CniServer } from '../../agent/src/cni/server';
import type { CniHandlers } from '../../agent/src/cni/types';
import { emptyResult } from '../../agent/src/cni/result';
import { silentLogger } from '../../agent/src/log/logger';
import { writeBundle } from '../../cni-plugin/src/bundle';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

const RUNS = arg('runs', 100);
const WARMUP = arg('warmup', 5);
const KNIT = path.resolve(__dirname, '..', '..', '..', 'cni-plugin', 'bin', 'knit');

/** One exec, spawn to exit; rejects on a non-zero exit so a broken case cannot look fast. */
function timeOnce(cmd: string, args: string[], env: Record<string, string>, stdin: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: ['pipe', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}`))));
    child.stdin.end(stdin);
  });
}

function quantile(sorted: number[], q: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

interface Row {
  name: string;
  median: number;
  p90: number;
  min: number;
}

async function measure(name: string, cmd: string, args: string[], env: Record<string, string>, stdin: string): Promise<Row> {
  for (let i = 0; i < WARMUP; i++) await timeOnce(cmd, args, env, stdin);
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) samples.push(await timeOnce(cmd, args, env, stdin));
  samples.sort((a, b) => a - b);
  return { name, median: quantile(samples, 0.5), p90: quantile(samples, 0.9), min: samples[0] };
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'knit-bench-cni-'));
  const socketPath = path.join(dir, 'cni.sock');
  const noop: CniHandlers = {
    add: async () => ({ ...emptyResult(), interfaces: [{ name: 'eth0', sandbox: '/run/netns/x' }], ips: [{ address: '10.244.1.5/24', gateway: '10.244.1.1', interface: 0 }] }),
    del: async () => undefined,
    check: async () => undefined,
    status: async () => undefined,
    gc: async () => undefined,
  };
  const server = new CniServer({ socketPath, handlers: noop, logger: silentLogger() });
  await server.start();
  try {
    const conf = JSON.stringify({ cniVersion: '1.1.0', name: 'knit', type: 'knit', agentSocket: socketPath });
    const bundle = path.join(dir, 'knit');
    writeBundle(path.resolve(__dirname, '..', '..', 'cni-plugin', 'src'), bundle);
    const addEnv = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'bench', CNI_NETNS: '/run/netns/x', CNI_IFNAME: 'eth0' };
    const rows = [await measure('node -e 0', process.execPath, ['-e', '0'], {}, '')];
    for (const [label, bin] of [['bin/knit', KNIT], ['bundle', bundle]]) {
      rows.push(await measure(`${label} VERSION`, bin, [], { CNI_COMMAND: 'VERSION' }, '{"cniVersion":"1.1.0"}'));
      rows.push(await measure(`${label} ADD (no-op knitd)`, bin, [], addEnv, conf));
    }
    const base = rows[0].median;
    console.log(`${RUNS} runs each after ${WARMUP} warm-up runs; node ${process.version}, ${os.cpus().length} CPUs`);
    console.log('| command | median ms | p90 ms | min ms | median − node ms |');
    console.log('|---|---:|---:|---:|---:|');
    for (const r of rows) console.log(`| ${r.name} | ${r.median.toFixed(1)} | ${r.p90.toFixed(1)} | ${r.min.toFixed(1)} | ${(r.median - base).toFixed(1)} |`);
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
