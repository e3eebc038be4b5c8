/**
 * Benchmark: which build of the `knit` CNI plugin starts fastest. Builds every
 * candidate artifact of the same TypeScript source (cni-plugin/src) into a
 * temp dir, plus each toolchain's empty program (its floor: what no plugin
 * built with it can beat), and times them side by side with Debian's
 * reference `bridge` plugin (Go) in ONE run, interleaved: every round runs
 * every command once, in turn, so a load change on this shared machine hits
 * all of them alike.
 *
 * Candidates:
 *   node bin/knit           the checkout's script (CommonJS file per module)
 *   node bundle             the single-file bundle run by an installed node
 *   Node SEA, code cache    node binary + bundle + V8 code cache (build-sea.sh)
 *   Node SEA, snapshot      node binary + V8 startup snapshot of the loaded bundle
 *   Bun compile             bun build --compile
 *   Bun compile, bytecode   bun build --compile --bytecode --minify (build-plugin.sh:
 *                           the artifact deploy/ installs)
 * Per command: VERSION (spawn to exit), ADD against a no-op CniServer (start-up
 * + connect + one request + print), the empty program; peak RSS of one ADD
 * process (/usr/bin/time %M, max over the samples); file size.
 *
 *   node dist/test/bench/cni-plugin-artifacts.js [--rounds 30] [--mem 5]
 *
 * Needs the TypeScript compiled (npm run build:ts) and the npm packages (Bun).
 */
import { execFileSync, spawn } from 'node:child_process';
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

const ROUNDS = arg('rounds', 30);
const MEM_SAMPLES = arg('mem', 5);
const REPO = path.resolve(__dirname, '..', '..', '..');
const BUN = path.join(REPO, 'node_modules', 'bun', 'bin', 'bun.exe');
const REF_BRIDGE = '/usr/lib/cni/bridge';
const TIME = '/usr/bin/time';

/** One way to run a program: the command line (argv[0] is the file). */
type Cmd = string[];

interface Candidate {
  name: string;
  /** the plugin */
  plugin: Cmd;
  /** the toolchain's empty program */
  empty: Cmd;
  /** bytes a host must install (the executable, or the script/bundle without node) */
  size: number;
}

/** One exec, spawn to exit; rejects on a non-zero exit so a broken case cannot look fast. */
function timeOnce(cmd: Cmd, env: Record<string, string>, stdin: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd[0]!, cmd.slice(1), { env, stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`${cmd.join(' ')} (${env.CNI_COMMAND ?? ''}) exited ${code}: ${out}`))));
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
  });
}

/**
 * Peak RSS in KiB of one run: GNU time's %M (the kernel's maxrss of the
 * child); rejects when the run fails. Asynchronous: the no-op knitd answering
 * the ADD lives in this process.
 */
function peakKiB(cmd: Cmd, env: Record<string, string>, stdin: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(TIME, ['-f', 'knit-bench-peak %M', ...cmd], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    child.on('error', reject);
    child.on('close', (code) => {
      const m = /knit-bench-peak (\d+)/.exec(err);
      if (code !== 0 || !m) reject(new Error(`${cmd.join(' ')} under ${TIME}: exit ${code}: ${out} ${err}`));
      else resolve(Number(m[1]));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

function build(dir: string): Candidate[] {
  const sh = (args: string[]): void => { execFileSync(args[0]!, args.slice(1), { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] }); };
  const size = (f: string): number => fs.statSync(f).size;
  const bundle = path.join(dir, 'knit-bundle.js');
  writeBundle(path.join(REPO, 'dist', 'cni-plugin', 'src'), bundle);
  const emptyJs = path.join(dir, 'empty.js');
  fs.writeFileSync(emptyJs, '');
  const out = (n: string): string => path.join(dir, n);
  sh(['bash', 'scripts/build-sea.sh', out('sea-cc')]);
  sh(['bash', 'scripts/build-sea.sh', '--empty', out('sea-cc-empty')]);
  sh(['bash', 'scripts/build-sea.sh', '--snapshot', out('sea-snap')]);
  sh(['bash', 'scripts/build-sea.sh', '--snapshot', '--empty', out('sea-snap-empty')]);
  const entry = path.join(REPO, 'cni-plugin', 'src', 'cli.ts');
  const bunEmpty = path.join(dir, 'empty.ts');
  fs.writeFileSync(bunEmpty, '');
  for (const [name, src, flags] of [['bun', entry, []], ['bun-empty', bunEmpty, []], ['bun-bc', entry, ['--bytecode', '--minify']], ['bun-bc-empty', bunEmpty, ['--bytecode', '--minify']]] as const) {
    fs.mkdirSync(out(name));
    sh([BUN, 'build', '--compile', ...flags, src, '--outfile', path.join(out(name), 'knit')]);
  }
  sh(['bash', 'scripts/build-plugin.sh', out('artifact')]);
  const node = process.execPath;
  const script = path.join(REPO, 'cni-plugin', 'bin', 'knit');
  return [
    { name: 'node bin/knit (checkout script)', plugin: [node, script], empty: [node, emptyJs], size: size(script) },
    { name: 'node bundle (single file)', plugin: [node, bundle], empty: [node, emptyJs], size: size(bundle) },
    { name: 'Node SEA, code cache', plugin: [out('sea-cc')], empty: [out('sea-cc-empty')], size: size(out('sea-cc')) },
    { name: 'Node SEA, startup snapshot', plugin: [out('sea-snap')], empty: [out('sea-snap-empty')], size: size(out('sea-snap')) },
    { name: 'Bun --compile', plugin: [path.join(out('bun'), 'knit')], empty: [path.join(out('bun-empty'), 'knit')], size: size(path.join(out('bun'), 'knit')) },
    { name: 'Bun --compile --bytecode --minify', plugin: [path.join(out('bun-bc'), 'knit')], empty: [path.join(out('bun-bc-empty'), 'knit')], size: size(path.join(out('bun-bc'), 'knit')) },
    { name: 'build:plugin artifact (same as above)', plugin: [out('artifact')], empty: [path.join(out('bun-bc-empty'), 'knit')], size: size(out('artifact')) },
  ];
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'knit-bench-artifacts-'));
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
    const cands = build(dir);
    const conf = JSON.stringify({ cniVersion: '1.1.0', name: 'knit', type: 'knit', agentSocket: socketPath });
    // A runtime's environment: CNI_* only, no PATH to a node (env -i).
    const versionEnv = { CNI_COMMAND: 'VERSION' };
    const addEnv = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'bench', CNI_NETNS: '/run/netns/x', CNI_IFNAME: 'eth0', CNI_PATH: '/usr/lib/cni' };
    const versionIn = '{"cniVersion":"1.1.0"}';
    const ref: Cmd = [REF_BRIDGE];
    const t = { refVersion: [] as number[], version: cands.map(() => [] as number[]), add: cands.map(() => [] as number[]), empty: cands.map(() => [] as number[]) };
    for (let round = -2; round < ROUNDS; round++) {
      const keep = round >= 0; // two warm-up rounds
      const r = await timeOnce(ref, versionEnv, versionIn);
      if (keep) t.refVersion.push(r);
      for (let i = 0; i < cands.length; i++) {
        const c = cands[i]!;
        const v = await timeOnce(c.plugin, versionEnv, versionIn);
        const a = await timeOnce(c.plugin, addEnv, conf);
        const e = await timeOnce(c.empty, {}, '');
        if (keep) { t.version[i]!.push(v); t.add[i]!.push(a); t.empty[i]!.push(e); }
      }
    }
    const mem = async (cmd: Cmd, env: Record<string, string>, stdin: string): Promise<number> => {
      let peak = 0;
      for (let i = 0; i < MEM_SAMPLES; i++) {
        const r = await peakKiB(cmd, env, stdin);
        peak = Math.max(peak, r);
      }
      return peak / 1024;
    };
    const refMem = await mem(ref, versionEnv, versionIn);
    const refMed = median(t.refVersion);
    const lines = [
      `${ROUNDS} interleaved rounds (after 2 warm-up rounds); ms spawn to exit, median; node ${process.version}, bun ${execFileSync(BUN, ['--version'], { encoding: 'utf8' }).trim()}, ${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} at the end`,
      '',
      '| build | size MB | VERSION ms | ×ref VERSION | ADD (no-op knitd) ms | empty program ms | ×ref (empty) | peak RSS ADD MiB |',
      '|---|---:|---:|---:|---:|---:|---:|---:|',
      `| reference bridge (Go) | ${(fs.statSync(REF_BRIDGE).size / 1e6).toFixed(1)} | ${refMed.toFixed(1)} | 1.00 | — | — | — | ${refMem.toFixed(1)} (VERSION) |`,
    ];
    for (let i = 0; i < cands.length; i++) {
      const c = cands[i]!;
      const v = median(t.version[i]!);
      const e = median(t.empty[i]!);
      const m = await mem(c.plugin, addEnv, conf);
      lines.push(`| ${c.name} | ${(c.size / 1e6).toFixed(c.size < 1e6 ? 3 : 1)} | ${v.toFixed(1)} | ${(v / refMed).toFixed(2)} | ${median(t.add[i]!).toFixed(1)} | ${e.toFixed(1)} | ${(e / refMed).toFixed(2)} | ${m.toFixed(1)} |`);
    }
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
