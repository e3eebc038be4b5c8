/**
 * A real knitd (single-node mode) inside a lab node's namespace, and the real
 * `knit` plugin binary to talk to it, for CNI integration tests and benches.
 *
 * knitd runs inside the node namespace (it programs the bridge, veths and
 * nftables there); the plugin may run anywhere, because it only talks to the
 * unix socket. Each knitd gets its own temp directory (state, run, conf)
 * under the lab run directory; `destroy()` (or lab teardown, which kills the
 * process) leaves nothing running.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { forward } from '../../cni-plugin/src/forward';
import type { PluginRequest } from '../../cni-wire/protocol';
import { createLab, type Lab, type LabNode } from './lab';
import type { ExitInfo, LabProcess } from './procs';
import { ensureRunDir } from './run-dir';
import { waitFor } from '../support/wait';

const execFileP = promisify(execFile);

/** Repository root (this file is dist/test/lab/knitd.js once compiled). */
export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
/** The knitd launcher. */
export const KNITD_BIN = join(REPO_ROOT, 'agent', 'bin', 'knitd');
/** The node flags in knitd's shebang (agent/bin/knitd): tests run knitd as deployed. */
export const KNITD_NODE_FLAGS = knitdNodeFlags();

function knitdNodeFlags(): string[] {
  const shebang = readFileSync(KNITD_BIN, 'utf8').split('\n', 1)[0]!;
  const m = /^#!\/usr\/bin\/env -S node(.*)$/.exec(shebang);
  if (!m) throw new Error(`unexpected shebang in ${KNITD_BIN}: ${shebang}`);
  return m[1]!.trim().split(/\s+/).filter(Boolean);
}
/**
 * The real CNI plugin executable: the checkout's script (cni-plugin/bin/knit)
 * unless KNIT_TEST_PLUGIN names another build of it (relative to the
 * repository root), e.g. the compiled artifact dist/cni-plugin/knit, which
 * test/run.sh runs the CNI suites against a second time.
 */
export const KNIT_PLUGIN = pluginUnderTest(process.env.KNIT_TEST_PLUGIN);

function pluginUnderTest(chosen: string | undefined): string {
  if (chosen === undefined || chosen === '') return join(REPO_ROOT, 'cni-plugin', 'bin', 'knit');
  const file = resolve(REPO_ROOT, chosen);
  if (!existsSync(file)) throw new Error(`KNIT_TEST_PLUGIN=${chosen}: ${file} does not exist (npm run build:plugin builds dist/cni-plugin/knit)`);
  return file;
}
/** Debian's reference plugins. */
export const REF_CNI_DIR = '/usr/lib/cni';

/** Options of `startKnitd`. */
export interface KnitdOptions {
  /** Node subnet; default 10.244.1.0/24. */
  subnet?: string;
  mtu?: number;
  bridge?: string;
  /** More knitd flags. */
  args?: string[];
  /** Extra node options before the script, e.g. ['--cpu-prof', '--cpu-prof-dir', DIR] for profiling. */
  nodeArgs?: string[];
  /**
   * Cluster mode: lease the subnet through etcd instead of `subnet`. `network`
   * seeds /knit/v1/network (through knitd's config file) when absent.
   */
  cluster?: { etcdEndpoints: string[]; prefix?: string; network?: Record<string, unknown>; nodeName?: string; leaseTtlSeconds?: number };
  /** How long start/restart waits for "knitd ready"; default 30 s (longer when etcd is away on purpose). */
  readyTimeoutMs?: number;
  /**
   * false: start/restart return as soon as the process is spawned (tests of a
   * start-up that fails or waits; read `proc` for its exit and log).
   */
  waitReady?: boolean;
  /** Log level; default info (the request log carries durationMs). */
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
  /**
   * /metrics, /healthz, /readyz listener (host:port inside the node's
   * namespace, e.g. 127.0.0.1:9464; reach it with `ip netns exec`); default
   * '' = off.
   */
  metricsAddress?: string;
}

/** One plugin run: exit code, stdout, stderr, and stdout parsed when it is JSON. */
export interface PluginRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON, or undefined when empty or not JSON. */
  json: Record<string, unknown> | undefined;
}

/** CNI_* variables without CNI_COMMAND; the helper fills CNI_PATH. */
export interface CniEnv {
  CNI_CONTAINERID?: string;
  CNI_NETNS?: string;
  CNI_IFNAME?: string;
  CNI_ARGS?: string;
  CNI_PATH?: string;
  [k: string]: string | undefined;
}

/** The CNI_* attachment variables for a lab container. */
export function cniEnv(c: { containerId: string; netnsPath: string }, ifname = 'eth0'): CniEnv {
  return { CNI_CONTAINERID: c.containerId, CNI_NETNS: c.netnsPath, CNI_IFNAME: ifname };
}

/** The IPAM state file as knitd writes it. */
export interface IpamFile {
  subnet: string;
  lastAllocated?: string;
  allocations: Array<{ containerId: string; ifname: string; ip: string }>;
}

/** One endpoint record as knitd writes it (the fields tests look at). */
export interface EndpointRecord {
  containerId: string;
  ifname: string;
  netns: string;
  address: string;
  ipv6Address?: string;
  /** absent = the default network */
  network?: string;
}

/** A running knitd. */
export interface Knitd {
  readonly node: LabNode;
  /** the node subnet (in cluster mode: the one leased, known once ready) */
  readonly subnet: string;
  readonly bridge: string;
  readonly dir: string;
  readonly stateDir: string;
  readonly runDir: string;
  readonly confDir: string;
  readonly socket: string;
  /** The gRPC operator API's unix socket (knitd's default, `<runDir>/knitd.sock`). */
  readonly apiSocket: string;
  /** PID of the current incarnation. */
  readonly pid: number;
  /** Log file of the current incarnation. */
  readonly logPath: string;
  /** The current incarnation's process. */
  readonly proc: LabProcess;
  /** SIGTERM (graceful). */
  stop(): Promise<ExitInfo>;
  /** SIGKILL. */
  kill(): Promise<ExitInfo>;
  /** Start again on the same directories (stopping the old one first if it runs); resolves when ready. */
  restart(): Promise<void>;
  /** A minimal knit network config for `cniVersion`, plus `extra` fields. */
  conf(cniVersion: string, extra?: Record<string, unknown>): Record<string, unknown>;
  /** Run the real plugin: CNI_COMMAND=cmd, `env`, `conf` (object → JSON, string as is) on stdin. */
  cni(cmd: string, env: CniEnv, conf: Record<string, unknown> | string): Promise<PluginRun>;
  /**
   * The same request the plugin would send, written straight to the socket
   * with the plugin's own forward() (no process start-up): for load tests
   * that would otherwise spend their time starting Node. Answers like `cni`.
   */
  cniDirect(cmd: 'ADD' | 'DEL' | 'CHECK', env: CniEnv, conf: Record<string, unknown>): Promise<PluginRun>;
  /** The IPAM state file, parsed ({allocations: []} when it does not exist yet). */
  ipam(): IpamFile;
  /** The endpoint records (endpoints.json), [] when the file does not exist. */
  endpoints(): EndpointRecord[];
  /** Number of open file descriptors of the current incarnation. */
  fdCount(): number;
  /** Stop the process and remove its directory. */
  destroy(): Promise<void>;
}

const DEFAULT_SUBNET = '10.244.1.0/24';

/**
 * mocha hooks for the common CNI test setup: `before` makes a one-node lab
 * with a single-node knitd and hands both to `use`; `after` removes them.
 */
export function withOneNodeKnitd(use: (lab: Lab, knitd: Knitd) => void, opts: KnitdOptions = {}): void {
  let lab: Lab | undefined;
  let knitd: Knitd | undefined;
  before(async () => {
    lab = await createLab({ nodes: 1 });
    knitd = await startKnitd(lab, lab.nodes[0]!, opts);
    use(lab, knitd);
  });
  after(async () => {
    await knitd?.destroy();
    await lab?.teardown();
  });
}

/** Start knitd in `node`'s namespace and wait until it serves its CNI socket. */
export async function startKnitd(lab: Lab, node: LabNode, opts: KnitdOptions = {}): Promise<Knitd> {
  const root = join(ensureRunDir(), 'knitd');
  mkdirSync(root, { recursive: true });
  const dir = mkdtempSync(join(root, `${node.name}-`));
  const k = new KnitdImpl(lab, node, dir, opts);
  try {
    await k.restart();
  } catch (err) {
    await k.destroy();
    throw err;
  }
  return k;
}

class KnitdImpl implements Knitd {
  subnet: string;
  readonly bridge: string;
  readonly stateDir: string;
  readonly runDir: string;
  readonly confDir: string;
  readonly socket: string;
  readonly apiSocket: string;
  private current: LabProcess | undefined;

  constructor(private readonly lab: Lab, readonly node: LabNode, readonly dir: string, private readonly opts: KnitdOptions) {
    this.subnet = opts.subnet ?? DEFAULT_SUBNET;
    this.bridge = opts.bridge ?? 'knit0';
    this.stateDir = join(dir, 'state');
    this.runDir = join(dir, 'run');
    this.confDir = join(dir, 'net.d');
    this.socket = join(this.runDir, 'cni.sock');
    this.apiSocket = join(this.runDir, 'knitd.sock');
  }

  get proc(): LabProcess {
    if (!this.current) throw new Error(`knitd on ${this.node.name} was never started`);
    return this.current;
  }

  get pid(): number {
    return this.proc.pid;
  }

  get logPath(): string {
    return this.proc.logPath;
  }

  async stop(): Promise<ExitInfo> {
    return this.proc.stop();
  }

  async kill(): Promise<ExitInfo> {
    return this.proc.kill();
  }

  async restart(): Promise<void> {
    if (this.current?.running()) await this.current.stop();
    const c = this.opts.cluster;
    const mode = c ? this.clusterArgs(c) : ['--subnet', this.subnet];
    const args = [
      ...KNITD_NODE_FLAGS, ...(this.opts.nodeArgs ?? []), KNITD_BIN, ...mode, '--state-dir', this.stateDir, '--run-dir', this.runDir,
      '--cni-conf-dir', this.confDir, '--bridge', this.bridge, '--log-format', 'json',
      '--log-level', this.opts.logLevel ?? 'info', '--metrics-address', this.opts.metricsAddress ?? '',
      ...(this.opts.mtu !== undefined ? ['--mtu', String(this.opts.mtu)] : []),
      ...(this.opts.args ?? []),
    ];
    const proc = this.lab.spawn(this.node.ns, process.execPath, args, { tag: `knitd-${this.node.name}` });
    this.current = proc;
    if (this.opts.waitReady === false) return;
    const ready = await waitReady(proc, this.opts.readyTimeoutMs ?? 30_000);
    if (typeof ready.subnet === 'string') this.subnet = ready.subnet;
  }

  private clusterArgs(c: NonNullable<KnitdOptions['cluster']>): string[] {
    const configFile = join(this.dir, 'knitd.json');
    writeFileSync(configFile, JSON.stringify(c.network ? { network: c.network } : {}));
    return [
      '--config', configFile, '--etcd-endpoints', c.etcdEndpoints.join(','), '--node-name', c.nodeName ?? this.node.name,
      ...(c.prefix ? ['--etcd-prefix', c.prefix] : []),
      ...(c.leaseTtlSeconds ? ['--etcd-lease-ttl-seconds', String(c.leaseTtlSeconds)] : []),
    ];
  }

  conf(cniVersion: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { cniVersion, name: 'knit', type: 'knit', agentSocket: this.socket, ...extra };
  }

  async cni(cmd: string, env: CniEnv, conf: Record<string, unknown> | string): Promise<PluginRun> {
    return runPlugin(KNIT_PLUGIN, { CNI_COMMAND: cmd, CNI_PATH: REF_CNI_DIR, ...env }, typeof conf === 'string' ? conf : JSON.stringify(conf));
  }

  async cniDirect(cmd: 'ADD' | 'DEL' | 'CHECK', env: CniEnv, conf: Record<string, unknown>): Promise<PluginRun> {
    const request: PluginRequest = { command: cmd, config: JSON.stringify(conf) };
    if (env.CNI_CONTAINERID !== undefined) request.containerId = env.CNI_CONTAINERID;
    if (env.CNI_NETNS !== undefined) request.netns = env.CNI_NETNS;
    if (env.CNI_IFNAME !== undefined) request.ifname = env.CNI_IFNAME;
    const o = await forward(request, this.socket, 30_000);
    if (!o.ok) return { code: 1, stdout: '', stderr: `${o.reason}: ${o.cause}`, json: undefined };
    if (!o.reply.ok) return { code: 1, stdout: JSON.stringify(o.reply.error), stderr: '', json: o.reply.error as unknown as Record<string, unknown> };
    const json = o.reply.result as Record<string, unknown> | undefined;
    return { code: 0, stdout: json ? JSON.stringify(json) : '', stderr: '', json };
  }

  ipam(): IpamFile {
    const file = join(this.stateDir, 'ipam.json');
    if (!existsSync(file)) return { subnet: this.subnet, allocations: [] };
    return JSON.parse(readFileSync(file, 'utf8')) as IpamFile;
  }

  endpoints(): EndpointRecord[] {
    const file = join(this.stateDir, 'endpoints.json');
    if (!existsSync(file)) return [];
    return (JSON.parse(readFileSync(file, 'utf8')) as { endpoints: EndpointRecord[] }).endpoints;
  }

  fdCount(): number {
    return readdirSync(`/proc/${this.pid}/fd`).length;
  }

  async destroy(): Promise<void> {
    if (this.current?.running()) await this.current.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Resolves with the "knitd ready" log record; rejects with the log tail when it exits or times out. */
async function waitReady(proc: LabProcess, timeoutMs: number): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void proc.exited.then(() => { exited = true; });
  while (Date.now() < deadline) {
    const line = proc.logTail(1 << 20).split('\n').find((l) => l.includes('"knitd ready"'));
    if (line) return JSON.parse(line) as Record<string, unknown>;
    if (exited) throw new Error(`knitd (pid ${proc.pid}) exited before ready:\n${proc.logTail()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`knitd (pid ${proc.pid}) not ready after ${timeoutMs} ms:\n${proc.logTail()}`);
}

/**
 * Exec a CNI plugin the way a runtime does: `env` merged over a minimal
 * environment (PATH only: a runtime does not leak its own environment),
 * `stdin` as the config. `ns` runs it inside a namespace (portmap programs
 * the namespace it runs in); knit itself can run anywhere.
 */
export async function runPlugin(binary: string, env: Record<string, string | undefined>, stdin: string, ns?: string): Promise<PluginRun> {
  const child = spawnPlugin(binary, env, 'pipe', ns);
  child.proc.stdin?.on('error', () => undefined); // the plugin may exit before reading stdin
  child.proc.stdin?.end(stdin);
  return child.done;
}

function spawnPlugin(binary: string, env: Record<string, string | undefined>, stdin: 'pipe' | number, ns?: string): { proc: ChildProcess; done: Promise<PluginRun> } {
  const cleanEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) cleanEnv[k] = v;
  const [file, argv] = ns ? ['ip', ['netns', 'exec', ns, binary]] : [binary, []];
  const child = spawn(file, argv, { env: cleanEnv, stdio: [stdin, 'pipe', 'pipe'] });
  const done = new Promise<PluginRun>((resolveRun, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    child.once('error', reject);
    child.once('close', (code) => {
      const stdout = Buffer.concat(out).toString('utf8');
      let json: Record<string, unknown> | undefined;
      try {
        json = stdout.trim() === '' ? undefined : JSON.parse(stdout) as Record<string, unknown>;
      } catch {
        json = undefined;
      }
      resolveRun({ code, stdout, stderr: Buffer.concat(err).toString('utf8'), json });
    });
  });
  return { proc: child, done };
}

/** A plugin process that is running and blocked in read(2) on its stdin. */
export interface BlockedPlugin {
  pid: number;
  /** Writes the config and closes stdin (the plugin then proceeds); resolves with its run. */
  release(stdin: string): void;
  done: Promise<PluginRun>;
}

/**
 * Starts the real plugin with a blocking FIFO as stdin and resolves once
 * the process sits in read(0) (seen in /proc/<pid>/syscall), i.e. Node has
 * loaded the plugin and it waits for its configuration. Racing tests start
 * many, then release them all at once.
 */
export async function startBlockedPlugin(dir: string, env: Record<string, string | undefined>, timeoutMs = 20_000): Promise<BlockedPlugin> {
  const fifo = join(dir, `stdin-${process.pid}-${++fifoSeq}`);
  execFileSync('mkfifo', [fifo]);
  // O_RDWR first so that opening the read end does not block; the child gets
  // a blocking read end, and closing our only writer is its EOF.
  const writer = openSync(fifo, 'r+');
  const reader = openSync(fifo, 'r');
  let child;
  try {
    child = spawnPlugin(KNIT_PLUGIN, { CNI_PATH: REF_CNI_DIR, ...env }, reader);
  } finally {
    closeSync(reader);
    rmSync(fifo, { force: true });
  }
  const pid = child.proc.pid!;
  const readSyscall = (): string => {
    try {
      return readFileSync(`/proc/${pid}/syscall`, 'utf8');
    } catch {
      return ''; // not there yet, or already gone (then `done` tells why)
    }
  };
  try {
    await waitFor(`plugin ${pid} blocked in read(0)`, () => /^0 0x0 /.test(readSyscall()), timeoutMs, () => `syscall: ${readSyscall().trim()}`, { intervalMs: 10 });
  } catch (err) {
    closeSync(writer);
    throw err;
  }
  let released = false;
  return {
    pid,
    done: child.done,
    release: (stdin: string) => {
      if (released) return;
      released = true;
      writeSync(writer, stdin);
      closeSync(writer);
    },
  };
}
let fifoSeq = 0;

/** `ip -j <args>` inside `ns`, parsed. */
export async function ipJson<T = unknown>(ns: string, args: string[]): Promise<T> {
  const { stdout } = await execFileP('ip', ['-n', ns, '-j', ...args], { encoding: 'utf8' });
  return JSON.parse(stdout || '[]') as T;
}

/** Names of knit's host veths (knv + 12 hex) in `ns`. */
export async function hostVeths(ns: string): Promise<string[]> {
  const links = await ipJson<Array<{ ifname: string }>>(ns, ['link', 'show']);
  return links.map((l) => l.ifname).filter((n) => /^knv[0-9a-f]{12}$/.test(n));
}

/** Rules and map elements in knit's nft table of `ns` (zeros when the table does not exist). */
export async function nftCounts(ns: string): Promise<{ rules: number; elements: number }> {
  let stdout: string;
  try {
    ({ stdout } = await execFileP('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'table', 'ip', 'knit'], { encoding: 'utf8' }));
  } catch {
    return { rules: 0, elements: 0 };
  }
  const doc = JSON.parse(stdout) as { nftables: Array<{ rule?: unknown; map?: { elem?: unknown[] } }> };
  return {
    rules: doc.nftables.filter((o) => o.rule !== undefined).length,
    elements: doc.nftables.reduce((n, o) => n + (o.map?.elem?.length ?? 0), 0),
  };
}

/** knit's nft table of `ns` as text ('' when absent), for before/after equality. */
export async function nftTableText(ns: string): Promise<string> {
  try {
    const { stdout } = await execFileP('ip', ['netns', 'exec', ns, 'nft', 'list', 'table', 'ip', 'knit'], { encoding: 'utf8' });
    return stdout;
  } catch {
    return '';
  }
}

/** Reply of startTcpReplier that means "the client's address as the server sees it". */
export const PEER_ADDRESS = '@peer-address';

/**
 * Start a tiny TCP server in `ns` on `host`:`port` (default 0.0.0.0) that answers every
 * connection with `reply` (or the client's address, for PEER_ADDRESS) and
 * closes; resolves once it accepts connections.
 */
export async function startTcpReplier(lab: Lab, ns: string, port: number, reply: string, host = '0.0.0.0'): Promise<LabProcess> {
  // PEER_ADDRESS: answer with the source address the server sees (masquerade checks).
  const script = `require('node:net').createServer((s) => s.end(process.argv[1] === '${PEER_ADDRESS}' ? s.remoteAddress : process.argv[1])).listen(${port}, '${host}', () => console.log('listening'))`;
  const p = lab.spawn(ns, process.execPath, ['-e', script, reply], { tag: 'tcp-replier' });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (p.logTail().includes('listening')) return p;
    if (!p.running()) throw new Error(`tcp replier in ${ns} exited: ${p.logTail()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`tcp replier in ${ns} not listening after 10 s: ${p.logTail()}`);
}

/**
 * Connect from `ns` to host:port and read until the peer closes. Resolves
 * with what was read, or with `{ error }` when the connection fails or
 * times out (a refused/dropped connection is a result, not an exception).
 */
export async function tcpGet(ns: string, host: string, port: number, timeoutMs = 2000): Promise<{ data?: string; error?: string }> {
  const script = `const s = require('node:net').connect({ host: process.argv[1], port: Number(process.argv[2]) });
let d = ''; s.on('data', (c) => { d += c; }); s.on('end', () => { process.stdout.write(d); process.exit(0); });
s.on('error', (e) => { process.stdout.write('ERR ' + e.message); process.exit(3); });
s.setTimeout(${timeoutMs}, () => { process.stdout.write('ERR timeout'); process.exit(2); });`;
  try {
    const { stdout } = await execFileP('ip', ['netns', 'exec', ns, process.execPath, '-e', script, host, String(port)], { encoding: 'utf8', timeout: timeoutMs + 5000 });
    return { data: stdout };
  } catch (err) {
    return { error: String((err as { stdout?: string }).stdout ?? err) };
  }
}
