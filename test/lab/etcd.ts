/**
 * A real etcd (Debian's etcd-server, 3.4) for tests, standalone or as the
 * lab's control plane:
 *
 * - `startEtcd()` with no options runs one member in the root namespace on
 *   127.0.0.1 with free ports (found by binding port 0), so parallel test runs
 *   never collide;
 * - with `ns`, it runs inside that network namespace (ip netns exec) on
 *   `host`, by default on the well-known ports 2379/2380, which are private
 *   to the namespace;
 * - `startEtcdCluster(3)` starts members that know each other and waits until
 *   every one is healthy.
 *
 * Every process is tracked by procs.ts (killed by the mocha root hooks even
 * when a test fails) and every data dir it made lives in the run directory
 * (removed on final teardown). Health is probed with GET /health from the
 * root namespace, or with `etcdctl endpoint health` inside the member's
 * namespace, since the root namespace cannot reach a namespace's addresses.
 */
import { execFile } from 'node:child_process';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { RUN_PREFIX } from './netns';
import { type LabProcess, spawnTracked } from './procs';
import { makeTempDir, removeTempDir } from './run-dir';
import { createEtcdClient, type EtcdClient } from '../../agent/src/store/etcd-client';

const execFileP = promisify(execFile);

/** Options of `startEtcd`. */
export interface EtcdOptions {
  /** Run inside this network namespace; default: the root namespace. */
  ns?: string;
  /** Address to listen on; default 127.0.0.1. */
  host?: string;
  /** Client port; default: a free port in the root namespace, 2379 inside `ns`. */
  clientPort?: number;
  /** Peer port; default: a free port in the root namespace, 2380 inside `ns`. */
  peerPort?: number;
  /** Member name; default "etcdN". */
  name?: string;
  /** --initial-cluster; default: this member alone. */
  initialCluster?: string;
  /** --initial-cluster-token; default: unique to this run and cluster. */
  initialClusterToken?: string;
  /** Data directory; default: a fresh temp dir removed on teardown. A given dir is never removed. */
  dataDir?: string;
  /** How long to wait for health, in ms; default 20000. */
  timeoutMs?: number;
}

/** One running (or stopped) etcd member. */
export interface EtcdProcess {
  readonly name: string;
  /** Client URLs, e.g. ["http://127.0.0.1:40123"]. */
  readonly endpoints: string[];
  /** Peer URL, e.g. "http://127.0.0.1:40124". */
  readonly peerUrl: string;
  /** PID of the current process (changes on restart). */
  readonly pid: number;
  readonly dataDir: string;
  readonly ns: string | undefined;
  /** Log file of the current process. */
  readonly logPath: string;
  /** PIDs of every process this member has run as (one per start), for leak checks. */
  pidHistory(): number[];
  /** True while the current process has not exited. */
  running(): boolean;
  /** SIGTERM, wait for exit (SIGKILL after 3 s). */
  stop(): Promise<void>;
  /** SIGKILL, wait for exit. */
  kill(): Promise<void>;
  /** SIGSTOP: the process stays, but answers nothing (an outage without losing state). */
  pause(): void;
  /** SIGCONT after `pause`. */
  resume(): void;
  /** Stop if running, start again with the same data dir and ports; waits for health unless `wait` is false. */
  restart(opts?: { wait?: boolean }): Promise<void>;
  /** Wait until this member reports healthy (needs a quorum in a cluster). */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** Stop it and remove its data dir if this module made it. Idempotent. */
  destroy(): Promise<void>;
}

/** Several members forming one cluster. */
export interface EtcdCluster {
  readonly members: EtcdProcess[];
  /** Client URLs of all members. */
  readonly endpoints: string[];
  /** Destroy every member. Idempotent. */
  destroy(): Promise<void>;
}

/** Options of `startEtcdCluster`: per-member hosts/ports, or a common namespace. */
export interface EtcdClusterOptions {
  ns?: string;
  /** One host per member; default: 127.0.0.1 for all. */
  hosts?: string[];
  /** One client port per member; default: free ports (root namespace) or 2379 (inside `ns` with distinct hosts). */
  clientPorts?: number[];
  peerPorts?: number[];
  timeoutMs?: number;
}

const handedOut = new Set<number>();
let memberCounter = 0;
let clusterCounter = 0;

/** A TCP port on `host` that nobody listens on right now (and that this process has not handed out before). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, host, () => {
        const addr = srv.address();
        const p = typeof addr === 'object' && addr ? addr.port : 0;
        srv.close(() => resolve(p));
      });
    });
    if (port > 0 && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port found on ${host}`);
}

/** The environment for etcd and etcdctl: ours, minus any ETCD_* settings that would override flags. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('ETCD')) env[k] = v;
  env.ETCDCTL_API = '3';
  return env;
}

function url(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** GET <endpoint>/health from the root namespace; true when etcd says healthy. */
function httpHealthy(endpoint: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get(`${endpoint}/health`, { timeout: 1000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(res.statusCode === 200 && /"health":\s*"true"/.test(body)));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/** `etcdctl endpoint health` inside `ns`; true on success. */
async function nsHealthy(ns: string, endpoint: string): Promise<boolean> {
  try {
    await execFileP('ip', ['netns', 'exec', ns, 'etcdctl', `--endpoints=${endpoint}`, '--dial-timeout=1s',
      '--command-timeout=1s', 'endpoint', 'health'], { env: cleanEnv(), timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class Member implements EtcdProcess {
  readonly endpoints: string[];
  readonly peerUrl: string;
  private proc: LabProcess | undefined;
  private destroyed = false;
  private readonly pids: number[] = [];

  constructor(
    readonly name: string,
    readonly ns: string | undefined,
    private readonly args: string[],
    clientUrl: string,
    peerUrl: string,
    readonly dataDir: string,
    private readonly ownsDataDir: boolean,
    private readonly defaultTimeoutMs: number,
  ) {
    this.endpoints = [clientUrl];
    this.peerUrl = peerUrl;
  }

  get pid(): number {
    return this.proc?.pid ?? -1;
  }

  get logPath(): string {
    return this.proc?.logPath ?? '';
  }

  /** Start the process without waiting for health. */
  launch(): void {
    if (this.destroyed) throw new Error(`etcd member ${this.name} was destroyed`);
    this.proc = spawnTracked('etcd', this.args, { ns: this.ns, env: cleanEnv(), tag: `etcd-${this.name}` });
    this.pids.push(this.proc.pid);
  }

  pidHistory(): number[] {
    return [...this.pids];
  }

  running(): boolean {
    return this.proc?.running() ?? false;
  }

  async stop(): Promise<void> {
    await this.proc?.stop(3000);
  }

  async kill(): Promise<void> {
    await this.proc?.kill();
  }

  pause(): void {
    this.proc?.signal('SIGSTOP');
  }

  resume(): void {
    this.proc?.signal('SIGCONT');
  }

  async restart(opts: { wait?: boolean } = {}): Promise<void> {
    await this.stop();
    this.launch();
    if (opts.wait ?? true) await this.waitHealthy();
  }

  async waitHealthy(timeoutMs = this.defaultTimeoutMs): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const endpoint = this.endpoints[0];
    for (;;) {
      const proc = this.proc;
      if (!proc || !proc.running()) {
        throw new Error(`etcd member ${this.name} exited before becoming healthy; log ${this.logPath}:\n${proc?.logTail() ?? ''}`);
      }
      const ok = this.ns ? await nsHealthy(this.ns, endpoint) : await httpHealthy(endpoint);
      if (ok) return;
      if (Date.now() > deadline) {
        throw new Error(`etcd member ${this.name} at ${endpoint} not healthy after ${timeoutMs} ms; log ${this.logPath}:\n${proc.logTail()}`);
      }
      await sleep(100);
    }
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await this.kill();
    if (this.ownsDataDir) removeTempDir(this.dataDir);
  }
}

/** Build a member (not started yet) from options, resolving defaults. */
async function prepareMember(opts: EtcdOptions, token: string): Promise<Member> {
  memberCounter += 1;
  const host = opts.host ?? '127.0.0.1';
  const name = opts.name ?? `etcd${memberCounter}`;
  const clientPort = opts.clientPort ?? (opts.ns ? 2379 : await freePort(host));
  const peerPort = opts.peerPort ?? (opts.ns ? 2380 : await freePort(host));
  const clientUrl = url(host, clientPort);
  const peerUrl = url(host, peerPort);
  const ownsDataDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? makeTempDir(`etcd-${name}`);
  const args = [
    `--name=${name}`,
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${clientUrl}`,
    `--advertise-client-urls=${clientUrl}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=${opts.initialCluster ?? `${name}=${peerUrl}`}`,
    `--initial-cluster-token=${opts.initialClusterToken ?? token}`,
    '--initial-cluster-state=new',
    '--logger=zap',
    '--log-outputs=stderr',
  ];
  return new Member(name, opts.ns, args, clientUrl, peerUrl, dataDir, ownsDataDir, opts.timeoutMs ?? 20000);
}

function nextToken(): string {
  clusterCounter += 1;
  return `${RUN_PREFIX}-${process.pid}-c${clusterCounter}`;
}

/** Start one etcd member and wait until it is healthy. */
export async function startEtcd(opts: EtcdOptions = {}): Promise<EtcdProcess> {
  const m = await prepareMember(opts, nextToken());
  m.launch();
  try {
    await m.waitHealthy();
  } catch (err) {
    await m.destroy();
    throw new Error(`start etcd ${m.name}`, { cause: err });
  }
  return m;
}

/** Start an etcd cluster of `size` members and wait until every member is healthy. */
export async function startEtcdCluster(size: number, opts: EtcdClusterOptions = {}): Promise<EtcdCluster> {
  const token = nextToken();
  const specs: EtcdOptions[] = [];
  for (let i = 0; i < size; i++) {
    const host = opts.hosts?.[i] ?? '127.0.0.1';
    const distinctHosts = opts.hosts !== undefined && new Set(opts.hosts).size === opts.hosts.length;
    // Inside a namespace with one address per member the well-known ports fit; otherwise members need their own ports.
    const useWellKnown = opts.ns !== undefined && distinctHosts;
    specs.push({
      ns: opts.ns,
      host,
      name: `${token.split('-').pop() ?? 'c'}m${i}`,
      clientPort: opts.clientPorts?.[i] ?? (useWellKnown ? 2379 : await freePort(opts.ns ? '127.0.0.1' : host)),
      peerPort: opts.peerPorts?.[i] ?? (useWellKnown ? 2380 : await freePort(opts.ns ? '127.0.0.1' : host)),
      timeoutMs: opts.timeoutMs,
    });
  }
  const peerOf = (s: EtcdOptions): string => `${s.name}=${url(s.host ?? '127.0.0.1', s.peerPort ?? 0)}`;
  const initialCluster = specs.map(peerOf).join(',');
  const members: Member[] = [];
  for (const s of specs) members.push(await prepareMember({ ...s, initialCluster }, token));
  const cluster: EtcdCluster = {
    members,
    endpoints: members.flatMap((m) => m.endpoints),
    async destroy(): Promise<void> {
      await Promise.all(members.map((m) => m.destroy()));
    },
  };
  try {
    for (const m of members) m.launch();
    await Promise.all(members.map((m) => m.waitHealthy()));
  } catch (err) {
    await cluster.destroy();
    throw new Error(`start etcd cluster of ${size} (${initialCluster})`, { cause: err });
  }
  return cluster;
}

/**
 * Mocha fixture: one etcd and one knit etcd client for the enclosing
 * describe, started in `before` and stopped in `after`; `use` receives them.
 */
export function withEtcdClient(use: (client: EtcdClient, etcd: EtcdProcess) => void): void {
  let etcd: EtcdProcess | undefined;
  let client: EtcdClient | undefined;
  before(async () => {
    etcd = await startEtcd();
    client = createEtcdClient({ endpoints: etcd.endpoints });
    use(client, etcd);
  });
  after(async () => {
    client?.close();
    await etcd?.destroy();
  });
}
