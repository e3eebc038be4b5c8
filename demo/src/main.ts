/**
 * The local-cluster demo: `bash demo/run.sh [--backend B] [--nodes N]
 * [--containers M] [--keep]` and `bash demo/run.sh --down`.
 *
 * Brings up etcd, N knitd nodes and M containers per node in network
 * namespaces, shows what knit did (subnets, container IPs, a ping matrix,
 * `knitctl status`) and removes everything again unless --keep. Any failure,
 * and Ctrl-C, removes what was made so far (from the state file).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { type DemoArgs, type DemoPlace, demoPlace, parseDemoArgs, usage } from './args';
import {
  KNITCTL_BIN, type DemoContainer, type DemoNode, type PingCell, addContainer, buildUnderlay, kernelHas, ping, sh, startEtcd, startKnitd,
} from './cluster';
import { type Matrix, renderContainers, renderMatrix, renderNodes } from './report';
import { type DemoState, loadState, prefixedNamespaces, saveState, statePath, teardown } from './state';

const execFileP = promisify(execFile);
const CMD = 'bash demo/run.sh';
const out = (s: string): void => { process.stdout.write(`${s}\n`); };

/** A numbered progress line, finished with the time the step took. */
async function step<T>(label: string, fn: () => Promise<T> | T): Promise<T> {
  const t0 = Date.now();
  process.stdout.write(`==> ${label} ... `);
  try {
    const v = await fn();
    process.stdout.write(`ok (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
    return v;
  } catch (err) {
    process.stdout.write('FAILED\n');
    throw err;
  }
}

/** Fails with a clear message when this machine cannot run the demo at all. */
function preflight(place: DemoPlace): void {
  if (process.getuid?.() !== 0) throw new Error('the demo needs root (network namespaces, netlink, nftables): run it with sudo');
  const probe = `${place.prefix}probe`;
  try {
    sh('ip', ['netns', 'add', probe]);
  } catch (cause) {
    throw new Error('this machine cannot create network namespaces (ip netns add failed); the demo needs netns support', { cause });
  } finally {
    if (existsSync(`/var/run/netns/${probe}`)) sh('ip', ['netns', 'del', probe]);
  }
  for (const bin of ['etcd', 'etcdctl', 'ping', 'nft']) {
    try {
      sh('sh', ['-c', `command -v ${bin}`]);
    } catch {
      throw new Error(`${bin} is not installed (bash demo/run.sh installs it: run the demo through it)`);
    }
  }
}

async function pingMatrix(containers: DemoContainer[], prefix: string, family: 4 | 6 = 4): Promise<Matrix> {
  const cells: Matrix['cells'] = containers.map(() => containers.map(() => undefined));
  const jobs: Array<() => Promise<void>> = [];
  containers.forEach((from, i) => containers.forEach((to, j) => {
    const dst = family === 4 ? to.ip : to.ip6;
    // A container without an address of this family is a failed pair, not a skipped one.
    if (i !== j) jobs.push(async () => { cells[i]![j] = dst === undefined ? { pass: false } : await ping(from.ns, dst); });
  }));
  // A few pings at a time: enough to be quick, few enough not to distort RTTs.
  const workers = Array.from({ length: 6 }, async () => {
    for (let job = jobs.shift(); job; job = jobs.shift()) await job();
  });
  await Promise.all(workers);
  return { labels: containers.map((c) => c.name.slice(prefix.length)), cells: cells as Array<Array<PingCell | undefined>> };
}

async function knitctlStatus(node: DemoNode): Promise<string> {
  try {
    const { stdout } = await execFileP(process.execPath, [KNITCTL_BIN, 'status', '--socket', node.apiSocket], { encoding: 'utf8', timeout: 15_000 });
    return stdout.trimEnd();
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (e.code === 3) return `(knitctl could not reach knitd's API on ${node.apiSocket}: ${(e.stderr ?? '').trim()})`;
    return `(knitctl status exited ${String(e.code)}) ${(e.stdout ?? '').trim()} ${(e.stderr ?? '').trim()}`.trim();
  }
}

function keepInstructions(state: DemoState, nodes: DemoNode[], containers: DemoContainer[], etcd: string): string {
  const n1 = nodes[0]!;
  const ul = `${state.prefix}ul`;
  const conf = `${n1.dir}/net.d/10-knit.conflist`;
  const byHand = `${state.prefix}byhand`;
  const [a, b] = [containers[0]!, containers[containers.length - 1]!];
  const knitctl = `node agent/bin/knitctl --socket ${n1.apiSocket}`;
  const tries: Array<[string, string]> = [
    [`ip netns exec ${a.ns} ping -c 3 ${b.ip}`, 'container to container'],
    [`ip netns exec ${a.ns} ip addr show eth0`, 'the container end of the veth'],
    [`ip netns exec ${n1.ns} ip route`, `routes knit programmed on ${n1.name}`],
    ...(state.backend === 'vxlan' ? [[`ip netns exec ${n1.ns} bridge fdb show dev knit.1`, 'VXLAN forwarding entries to the peers'] as [string, string]] : []),
    [`ip netns exec ${n1.ns} nft list table ip knit`, 'masquerade and port-map rules'],
    [`${knitctl} status`, 'this node'],
    [`${knitctl} peers`, 'peers and whether their routes are in sync'],
    [`${knitctl} routes`, 'every kernel object programmed for peers'],
    [`${knitctl} endpoints`, 'containers attached on this node'],
    [`${knitctl} subnets`, 'every subnet lease in etcd'],
    [`${knitctl} top --once`, 'the cluster at a glance: peers alive or DOWN, drift'],
    [`ip netns exec ${ul} node agent/bin/knitctl network show --etcd-endpoints ${etcd}`, 'the network config in etcd (etcd listens in the underlay namespace)'],
  ];
  const width = Math.max(...tries.map(([c]) => c.length));
  return [
    'The cluster keeps running. Things to try (as root, from the repository):',
    '',
    ...tries.map(([c, why]) => `  ${c.padEnd(width)}  # ${why}`),
    '',
    `Other nodes: --socket ${state.dir}/nodeN/run/knitd.sock; a shell in a container: ip netns exec ${a.ns} bash`,
    '',
    `A container by hand, through the real plugin (its network namespace first; ${CMD} --down removes it too):`,
    `  ip netns add ${byHand}`,
    `  ip netns exec ${n1.ns} env CNI_COMMAND=ADD CNI_CONTAINERID=byhand1 CNI_NETNS=/var/run/netns/${byHand} CNI_IFNAME=eth0 CNI_PATH=$PWD/cni-plugin/bin \\`,
    `    cni-plugin/bin/knit < <(node -e 'const c=JSON.parse(require("fs").readFileSync("${conf}","utf8")); process.stdout.write(JSON.stringify({...c.plugins[0], cniVersion: c.cniVersion, name: c.name}))')`,
    `  (CNI_COMMAND=DEL with the same variables removes it again)`,
    `Logs: ${state.dir}/logs/   State: ${statePath(state.dir)}`,
    `Remove it all:  sudo ${CMD} --down`,
  ].join('\n');
}

async function up(args: DemoArgs, place: DemoPlace): Promise<number> {
  preflight(place);
  const existing = loadState(place.dir);
  if (existing) throw new Error(`a demo cluster is already up (state ${statePath(place.dir)}); remove it first: sudo ${CMD} --down`);
  const strays = prefixedNamespaces(place.prefix);
  if (strays.length > 0) throw new Error(`namespaces of an earlier demo exist (${strays.join(', ')}); remove them: sudo ${CMD} --down`);

  const state: DemoState = { prefix: place.prefix, dir: place.dir, createdAt: new Date().toISOString(), backend: args.backend, namespaces: [], processes: [] };
  saveState(state);
  let interrupted = false;
  const onSignal = (): void => { interrupted = true; };
  // An error nobody awaits (there should be none) must still not leave the cluster behind.
  const onCrash = (err: unknown): void => {
    process.stderr.write(`demo: unexpected error, removing what was made: ${describe(err)}\n`);
    void teardown(state).finally(() => process.exit(1));
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, onSignal);
  process.on('uncaughtException', onCrash);
  const check = (): void => { if (interrupted) throw new Error('interrupted'); };
  let ok = false;
  try {
    out(`knit demo: ${args.nodes} nodes x ${args.containers} containers, backend ${args.backend}${args.ipv6Only ? ', IPv6-only' : args.dualStack ? ', dual-stack' : ''}`);
    const v6Underlay = args.dualStack || args.ipv6Only;
    const family = args.ipv6Only ? 'ipv6' as const : args.dualStack ? 'dual-stack' as const : 'ipv4' as const;
    const { ul, nodes } = await step(`underlay network and ${args.nodes} node namespaces`, () => buildUnderlay(state, args.nodes, v6Underlay));
    if (args.backend === 'ipip' && !kernelHas(ul, 'ipip', `${place.prefix}probe`)) {
      throw new Error('this kernel cannot make ipip links (no ipip module: try `modprobe ipip`); use --backend vxlan or host-gw');
    }
    check();
    const etcd = await step(`etcd on ${ul}`, () => startEtcd(state, ul));
    for (const node of nodes) {
      check();
      await step(`knitd on ${node.name} (${node.ns})`, () => startKnitd(state, node, etcd, args.backend, family));
    }
    const containers: DemoContainer[] = [];
    for (const node of nodes) {
      for (let i = 1; i <= args.containers; i++) {
        check();
        containers.push(await step(`container ${node.ns}c${i} via the knit CNI plugin`, () => addContainer(state, node, i)));
      }
    }
    check();
    const matrix = await step(`ping every container from every other${args.ipv6Only ? ' over IPv6' : ''} (${containers.length * (containers.length - 1)} pairs)`,
      () => pingMatrix(containers, place.prefix, args.ipv6Only ? 6 : 4));
    const matrix6 = args.dualStack
      ? await step(`ping every container from every other over IPv6 (${containers.length * (containers.length - 1)} pairs)`, () => pingMatrix(containers, place.prefix, 6))
      : undefined;

    out('');
    out(renderNodes(nodes.map((n) => ({ name: n.name, ns: n.ns, ip: args.ipv6Only ? n.ip6 ?? '?' : n.ip, subnet: n.subnet ?? '?', backend: args.backend, mtu: String(n.mtu ?? '?') }))));
    out('');
    out(renderContainers(containers.map((c) => ({ name: c.ns, node: c.node.name, ip: c.ip6 !== undefined && c.ip6 !== c.ip ? `${c.ip ?? '?'} ${c.ip6}` : c.ip ?? '?' }))));
    out('');
    if (matrix6) out('IPv4:');
    out(renderMatrix(matrix));
    out('');
    if (matrix6) {
      out('IPv6:');
      out(renderMatrix(matrix6));
      out('');
    }
    out(`$ knitctl status --socket ${nodes[0]!.apiSocket}`);
    out(await knitctlStatus(nodes[0]!));
    out('');
    const allPass = [matrix, ...(matrix6 ? [matrix6] : [])].every((m) => m.cells.every((row) => row.every((c) => c === undefined || c.pass)));
    if (args.keep) {
      out(keepInstructions(state, nodes, containers, etcd));
    }
    ok = true;
    return allPass ? 0 : 1;
  } finally {
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(sig, onSignal);
    if (!ok || !args.keep) {
      process.stdout.write(`==> removing the demo cluster ... `);
      const left = await teardown(state);
      out(left.length === 0 ? 'ok' : `could not remove: ${left.join(', ')}`);
    }
    process.off('uncaughtException', onCrash);
  }
}

async function down(place: DemoPlace): Promise<number> {
  if (process.getuid?.() !== 0) throw new Error('removing the demo needs root: run it with sudo');
  const state = loadState(place.dir) ?? { prefix: place.prefix, dir: place.dir, createdAt: '', backend: '', namespaces: [], processes: [] };
  if (state.namespaces.length === 0 && state.processes.length === 0 && prefixedNamespaces(place.prefix).length === 0) {
    out(`no demo cluster is running (no state at ${statePath(place.dir)})`);
    return 0;
  }
  const left = await step(`removing the demo cluster (${state.processes.length} processes, ${state.namespaces.length} namespaces)`, () => teardown(state));
  if (left.length > 0) throw new Error(`could not remove: ${left.join(', ')}`);
  return 0;
}

/** Entry point; resolves with the exit status (0 all good, 1 failure or a failed pair, 2 usage error). */
export async function main(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  // Output to a closed pipe (`… | head`) is dropped; it must not kill the run half-way.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
  let args: DemoArgs;
  let place: DemoPlace;
  try {
    args = parseDemoArgs(argv);
    place = demoPlace(env);
  } catch (err) {
    process.stderr.write(`demo: ${(err as Error).message}\n\n${usage(CMD)}`);
    return 2;
  }
  // run.sh asks this first, before it spends seconds on a build
  if (env.KNIT_DEMO_PARSE_ONLY === '1') return 0;
  if (args.action === 'help') {
    out(usage(CMD));
    return 0;
  }
  try {
    return args.action === 'down' ? await down(place) : await up(args, place);
  } catch (err) {
    process.stderr.write(`demo: ${describe(err)}\n`);
    return 1;
  }
}

/** The error message with its causes, one per line. */
function describe(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error; e = e.cause) parts.push(e.message);
  return parts.length > 0 ? parts.join('\n  caused by: ') : String(err);
}

if (require.main === module) {
  void main(process.argv.slice(2), process.env).then((code) => process.exit(code));
}
