/**
 * Building blocks of the demo cluster, each recording what it made in the
 * state file before it returns, so a failure at any step can be undone:
 *
 *   <p>ul  underlay namespace: bridge <p>br 192.168.77.1/24, etcd on .1:2379
 *   <p>n1  node namespaces: eth0 192.168.77.11/24 … (veth <p>u1 on the bridge),
 *          one knitd each (cluster mode, its own state/run/conf dirs)
 *   <p>n1c1 container namespaces, attached by the real `knit` plugin
 *
 * Nothing is created in the root namespace: processes run inside the
 * namespaces (`ip netns exec`), and every link lives in a demo namespace.
 * The processes are detached (own session, output to a log file), so they
 * outlive the demo with --keep.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { type DemoProcess, type DemoState, alive, procStart, saveState } from './state';

const execFileP = promisify(execFile);

/** Repository root (this file is dist/demo/src/cluster.js once compiled). */
export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
export const KNITD_BIN = join(REPO_ROOT, 'agent', 'bin', 'knitd');
export const KNITCTL_BIN = join(REPO_ROOT, 'agent', 'bin', 'knitctl');
export const KNIT_PLUGIN = join(REPO_ROOT, 'cni-plugin', 'bin', 'knit');

/** Underlay addresses: .1 is the router and etcd, node i is .(10+i). */
export const UNDERLAY = { prefix: '192.168.77', len: 24, router: '192.168.77.1' } as const;
/** The cluster network every demo uses. */
export const CLUSTER_CIDR = '10.244.0.0/16';
/** --dual-stack: the IPv6 cluster CIDR and the IPv6 underlay prefix (router ::1, node i ::1i). */
export const IPV6_CLUSTER_CIDR = 'fd00:10:244::/56';
export const UNDERLAY6 = { prefix: 'fd77::', len: 64 } as const;

/** A node of the demo cluster. */
export interface DemoNode {
  name: string;
  ns: string;
  ip: string;
  /** Its IPv6 underlay address (--dual-stack, --ipv6-only). */
  ip6?: string;
  dir: string;
  /** knitd's gRPC API socket (for knitctl --socket). */
  apiSocket: string;
  /** Filled once knitd is ready. */
  subnet?: string;
  mode?: string;
  mtu?: number;
}

/** A container of the demo cluster. */
export interface DemoContainer {
  name: string;
  ns: string;
  node: DemoNode;
  ip?: string;
  /** --dual-stack: the container's IPv6 address. */
  ip6?: string;
}

/** Runs a command to completion; throws with its stderr. */
export function sh(cmd: string, args: string[], input?: string): string {
  try {
    return execFileSync(cmd, args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: string; status?: number | null };
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${String(e.status)}): ${(e.stderr ?? '').trim()}`, { cause: err });
  }
}

/** Adds a namespace (lo up) and records it before anything can fail after it. */
export function addNamespace(state: DemoState, ns: string): string {
  state.namespaces.push(ns);
  saveState(state);
  sh('ip', ['netns', 'add', ns]);
  sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  return ns;
}

/** True when this kernel can make links of `kind` (tried inside `ns`, removed at once). */
export function kernelHas(ns: string, kind: string, name: string): boolean {
  try {
    sh('ip', ['-n', ns, 'link', 'add', name, 'type', kind, 'remote', '192.0.2.1']);
    sh('ip', ['-n', ns, 'link', 'del', name]);
    return true;
  } catch {
    return false;
  }
}

/** The underlay namespace and bridge, and `count` node namespaces joined to it. */
export function buildUnderlay(state: DemoState, count: number, dualStack = false): { ul: string; nodes: DemoNode[] } {
  const p = state.prefix;
  const ul = addNamespace(state, `${p}ul`);
  const br = `${p}br`;
  sh('ip', ['-n', ul, '-batch', '-'], [`link add ${br} type bridge`, `addr add ${UNDERLAY.router}/${UNDERLAY.len} dev ${br}`, `link set ${br} up`].join('\n') + '\n');
  // The underlay namespace routes between nodes like a top-of-rack switch would.
  sh('ip', ['netns', 'exec', ul, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  // Dual-stack underlay: IPv6 next to IPv4 on every link (nodad: usable at once).
  if (dualStack) sh('ip', ['-n', ul, 'addr', 'add', `${UNDERLAY6.prefix}1/${UNDERLAY6.len}`, 'dev', br, 'nodad']);
  const nodes: DemoNode[] = [];
  for (let i = 1; i <= count; i++) {
    const ns = addNamespace(state, `${p}n${i}`);
    const ip = `${UNDERLAY.prefix}.${10 + i}`;
    sh('ip', ['-n', ul, '-batch', '-'], [`link add ${p}u${i} type veth peer name eth0 netns ${ns}`, `link set ${p}u${i} master ${br}`, `link set ${p}u${i} up`].join('\n') + '\n');
    sh('ip', ['-n', ns, '-batch', '-'], [`addr add ${ip}/${UNDERLAY.len} dev eth0`, 'link set eth0 up', `route add default via ${UNDERLAY.router}`].join('\n') + '\n');
    const ip6 = `${UNDERLAY6.prefix}${10 + i}`;
    if (dualStack) sh('ip', ['-n', ns, 'addr', 'add', `${ip6}/${UNDERLAY6.len}`, 'dev', 'eth0', 'nodad']);
    const dir = join(state.dir, `node${i}`);
    nodes.push({ name: `node${i}`, ns, ip, ...(dualStack ? { ip6 } : {}), dir, apiSocket: join(dir, 'run', 'knitd.sock') });
  }
  return { ul, nodes };
}

/** Starts `cmd` inside `ns`, detached, output to <dir>/logs/<name>.log; recorded in the state. */
export function startProcess(state: DemoState, name: string, ns: string, cmd: string, args: string[]): DemoProcess {
  const logs = join(state.dir, 'logs');
  mkdirSync(logs, { recursive: true });
  const log = join(logs, `${name}.log`);
  const fd = openSync(log, 'a');
  let pid: number | undefined;
  try {
    // ip netns exec execs the command in place: the PID is the command's own.
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { detached: true, stdio: ['ignore', fd, fd], env: cleanEnv() });
    child.unref();
    pid = child.pid;
  } finally {
    closeSync(fd);
  }
  if (pid === undefined) throw new Error(`start ${name} in ${ns}: no pid (see ${log})`);
  const p: DemoProcess = { name, pid, start: procStart(pid) ?? '', log };
  state.processes.push(p);
  saveState(state);
  return p;
}

/** Our environment minus settings (ETCD_*, KNIT_*) that would override the flags we pass. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(ETCD|KNIT)_/.test(k)) env[k] = v;
  return env;
}

function tail(file: string, bytes = 1500): string {
  try {
    return readFileSync(file, 'utf8').slice(-bytes);
  } catch {
    return '';
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** etcd in the underlay namespace on the router address; resolves once it reports healthy. */
export async function startEtcd(state: DemoState, ul: string): Promise<string> {
  const ip = UNDERLAY.router;
  const endpoint = `http://${ip}:2379`;
  const p = startProcess(state, 'etcd', ul, 'etcd', [
    '--name', 'demo', '--data-dir', join(state.dir, 'etcd'),
    '--listen-client-urls', endpoint, '--advertise-client-urls', endpoint,
    '--listen-peer-urls', `http://${ip}:2380`, '--initial-advertise-peer-urls', `http://${ip}:2380`,
    '--initial-cluster', `demo=http://${ip}:2380`, '--initial-cluster-token', `${state.prefix}demo`,
  ]);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (!alive(p)) throw new Error(`etcd exited:\n${tail(p.log)}`);
    try {
      await execFileP('ip', ['netns', 'exec', ul, 'etcdctl', `--endpoints=${endpoint}`, '--dial-timeout=1s', '--command-timeout=1s', 'endpoint', 'health'], { env: cleanEnv(), timeout: 5000 });
      return endpoint;
    } catch {
      await sleep(200);
    }
  }
  throw new Error(`etcd not healthy after 30 s:\n${tail(p.log)}`);
}

/** knitd on `node` in cluster mode; resolves once it logs "knitd ready" (subnet leased, dataplane programmed). */
export async function startKnitd(state: DemoState, node: DemoNode, etcd: string, backend: string, family: 'ipv4' | 'dual-stack' | 'ipv6' = 'ipv4'): Promise<void> {
  mkdirSync(node.dir, { recursive: true });
  const config = join(node.dir, 'knitd.json');
  const network = family === 'ipv6'
    ? { clusterCidr: IPV6_CLUSTER_CIDR, subnetLength: 64, backend: { type: backend } }
    : { clusterCidr: CLUSTER_CIDR, subnetLength: 24, ...(family === 'dual-stack' ? { ipv6ClusterCidr: IPV6_CLUSTER_CIDR } : {}), backend: { type: backend } };
  // IPv6-only: the node's public address is its IPv6 underlay address (the demo's nodes have no IPv6 default route).
  writeFileSync(config, JSON.stringify({ network, ...(family === 'ipv6' ? { publicIp: node.ip6 } : {}) }, null, 2) + '\n');
  // Executed directly so its shebang's node flags apply, as when deployed.
  const p = startProcess(state, `knitd-${node.name}`, node.ns, KNITD_BIN, [
    '--config', config, '--etcd-endpoints', etcd, '--node-name', node.name,
    '--state-dir', join(node.dir, 'state'), '--run-dir', join(node.dir, 'run'), '--cni-conf-dir', join(node.dir, 'net.d'),
    '--log-format', 'json', '--log-level', 'info',
  ]);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const line = tail(p.log, 1 << 20).split('\n').find((l) => l.includes('"knitd ready"'));
    if (line) {
      const rec = JSON.parse(line) as { subnet?: string; mode?: string; mtu?: number };
      node.subnet = rec.subnet;
      node.mode = rec.mode;
      node.mtu = rec.mtu;
      return;
    }
    if (!alive(p)) throw new Error(`knitd on ${node.name} exited before it was ready:\n${tail(p.log)}`);
    await sleep(50);
  }
  throw new Error(`knitd on ${node.name} not ready after 60 s:\n${tail(p.log)}`);
}

/**
 * Attaches a new container namespace on `node` the way a runtime does: the
 * network config comes from the conflist knitd wrote, the real `knit`
 * plugin is executed with CNI_* variables and the config on stdin.
 */
export async function addContainer(state: DemoState, node: DemoNode, index: number): Promise<DemoContainer> {
  const name = `${node.ns}c${index}`;
  const ns = addNamespace(state, name);
  const conflistFile = join(node.dir, 'net.d', '10-knit.conflist');
  if (!existsSync(conflistFile)) throw new Error(`knitd on ${node.name} wrote no ${conflistFile}`);
  const conflist = JSON.parse(readFileSync(conflistFile, 'utf8')) as { cniVersion: string; name: string; plugins: Array<Record<string, unknown>> };
  const conf = { cniVersion: conflist.cniVersion, name: conflist.name, ...conflist.plugins[0] };
  const env = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', CNI_COMMAND: 'ADD', CNI_CONTAINERID: name,
    CNI_NETNS: `/var/run/netns/${ns}`, CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin:/usr/lib/cni',
  };
  const out = await new Promise<string>((resolveRun, reject) => {
    const child = execFile(KNIT_PLUGIN, [], { env, encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`knit ADD for ${name} on ${node.name} failed: ${stdout.trim()} ${stderr.trim()}`, { cause: err }));
      else resolveRun(stdout);
    });
    child.stdin?.end(JSON.stringify(conf));
  });
  const result = JSON.parse(out) as { ips?: Array<{ address: string }> };
  const ip = result.ips?.[0]?.address.split('/')[0];
  if (!ip) throw new Error(`knit ADD for ${name} returned no IP: ${out}`);
  const ip6 = result.ips?.find((x) => x.address.includes(':'))?.address.split('/')[0];
  return { name, ns, node, ip, ...(ip6 !== undefined ? { ip6 } : {}) };
}

/** One ping from a container to an address: pass when a reply came, with the average RTT in ms. */
export interface PingCell {
  pass: boolean;
  rttMs?: number;
}

/** ping -c 3 from `ns` to `ip`; a missing reply is a result, not an error. */
export async function ping(ns: string, ip: string): Promise<PingCell> {
  let output: string;
  try {
    output = (await execFileP('ip', ['netns', 'exec', ns, 'ping', '-n', '-q', '-c', '3', '-i', '0.2', '-W', '1', ip], { encoding: 'utf8', timeout: 15_000 })).stdout;
  } catch (err) {
    output = (err as { stdout?: string }).stdout ?? '';
  }
  const received = /(\d+) (?:packets )?received/.exec(output);
  const rtt = /= [\d.]+\/([\d.]+)\//.exec(output);
  const pass = received !== null && Number(received[1]) > 0;
  return pass && rtt ? { pass, rttMs: Number(rtt[1]) } : { pass };
}
